package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Output for people is a table or "field  value" lines, made from the
// JSON the server answers in the order it sends its fields; --json prints
// that JSON itself. A command with no printer of its own gets these, so
// every command prints a table by default.

// printJSONOr prints v as JSON when asked, else runs human, else prints v
// as a table.
func (m *Main) printJSONOr(asJSON bool, v any, human func()) error {
	if asJSON || human == nil {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if asJSON {
			return m.printIndented(b)
		}
		return m.printGeneric(b)
	}
	human()
	return nil
}

// printIndented prints JSON indented, its fields in the order given.
func (m *Main) printIndented(raw []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, bytes.TrimSpace(raw), "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := m.Stdout.Write(b.Bytes())
	return err
}

// printGeneric prints a JSON answer for people: an object's plain fields
// as "field  value" lines, and its first list of objects as a table with a
// column per field.
func (m *Main) printGeneric(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return err
	}
	writeGeneric(m.Stdout, v)
	return nil
}

func writeGeneric(w io.Writer, v any) {
	switch x := v.(type) {
	case []any:
		writeRows(w, "", x)
	case *object:
		lines := &table{}
		var listKey string
		var list []any
		for _, k := range x.keys {
			if l, ok := x.vals[k].([]any); ok && listKey == "" && (len(l) == 0 || isObject(l[0])) {
				listKey, list = k, l
				continue
			}
			flatten(lines, k, x.vals[k])
		}
		lines.write(w)
		if listKey != "" {
			if len(lines.rows) > 0 {
				fmt.Fprintln(w)
			}
			writeRows(w, listKey, list)
		}
	default:
		fmt.Fprintln(w, cell(v))
	}
}

func isObject(v any) bool { _, ok := v.(*object); return ok }

// flatten adds "field  value" rows, nested objects as dotted fields.
func flatten(t *table, key string, v any) {
	if o, ok := v.(*object); ok {
		for _, k := range o.keys {
			flatten(t, key+"."+k, o.vals[k])
		}
		return
	}
	t.add(key, cell(v))
}

func writeRows(w io.Writer, what string, rows []any) {
	if len(rows) == 0 {
		fmt.Fprintf(w, "no %s\n", strings.ReplaceAll(what, "_", " "))
		return
	}
	var cols []string
	seen := map[string]bool{}
	for _, r := range rows {
		if o, ok := r.(*object); ok {
			for _, k := range o.keys {
				if !seen[k] {
					seen[k] = true
					cols = append(cols, k)
				}
			}
		}
	}
	if len(cols) == 0 {
		for _, r := range rows {
			fmt.Fprintln(w, cell(r))
		}
		return
	}
	t := &table{header: cols}
	for _, r := range rows {
		o, _ := r.(*object)
		cells := make([]string, len(cols))
		for i, c := range cols {
			if o != nil {
				cells[i] = cell(o.vals[c])
			}
		}
		t.add(cells...)
	}
	t.write(w)
}

// cell is a value as one table cell: text as it is, lists joined, objects
// as compact JSON.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.ReplaceAll(x, "\n", " ")
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cell(e)
		}
		return strings.Join(parts, ", ")
	case *object:
		parts := make([]string, len(x.keys))
		for i, k := range x.keys {
			parts[i] = k + "=" + cell(x.vals[k])
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return fmt.Sprint(v)
}

// object is a JSON object with its fields in the order they came.
type object struct {
	keys []string
	vals map[string]any
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				if _, dup := o.vals[k]; !dup {
					o.keys = append(o.keys, k)
				}
				o.vals[k] = v
			}
			_, err := dec.Token()
			return o, err
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token()
			return list, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return tok, nil
}
