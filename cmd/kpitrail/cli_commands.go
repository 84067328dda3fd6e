package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"kpitrail/domain"
)

// commandFlags derives one flag per field of a domain command from its JSON
// tags (nested fields dotted: --window.year, --source.kind), so every
// command is a subcommand without a hand-written flag list to drift.
type commandFlags struct {
	values map[string]any
}

type fieldSpec struct {
	path string
	kind reflect.Kind
	list bool
}

func walkFields(t reflect.Type, prefix string, out *[]fieldSpec) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := prefix + name
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == reflect.TypeOf(domain.Decimal{}):
			*out = append(*out, fieldSpec{path: path, kind: reflect.String})
		case ft.Kind() == reflect.Struct:
			walkFields(ft, path+".", out)
		case ft.Kind() == reflect.Slice:
			*out = append(*out, fieldSpec{path: path, kind: ft.Elem().Kind(), list: true})
		default:
			*out = append(*out, fieldSpec{path: path, kind: ft.Kind()})
		}
	}
}

type fieldValue struct {
	spec fieldSpec
	set  func(fieldSpec, string) error
}

func (v *fieldValue) String() string     { return "" }
func (v *fieldValue) Set(s string) error { return v.set(v.spec, s) }

func (c *commandFlags) register(fs *flag.FlagSet, cmd domain.Command) {
	var specs []fieldSpec
	walkFields(reflect.TypeOf(cmd), "", &specs)
	for _, spec := range specs {
		usage := string(spec.kind.String())
		if spec.list {
			usage = "repeatable"
		}
		fs.Var(&fieldValue{spec: spec, set: c.set}, spec.path, usage)
	}
}

func (c *commandFlags) set(spec fieldSpec, s string) error {
	var v any = s
	switch spec.kind {
	case reflect.Int, reflect.Int64, reflect.Uint64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%s must be an integer", spec.path)
		}
		v = n
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%s must be true or false", spec.path)
		}
		v = b
	}
	// Nested maps for dotted paths; lists append.
	parts := strings.Split(spec.path, ".")
	m := c.values
	for _, p := range parts[:len(parts)-1] {
		child, ok := m[p].(map[string]any)
		if !ok {
			child = map[string]any{}
			m[p] = child
		}
		m = child
	}
	last := parts[len(parts)-1]
	if spec.list {
		list, _ := m[last].([]any)
		m[last] = append(list, v)
		return nil
	}
	m[last] = v
	return nil
}

// runCommand runs `kpitrail <command.name> [--field value ...]`.
func (m *Main) runCommand(ctx context.Context, name string, args []string) error {
	cmd, _ := domain.NewCommand(name)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	data := fs.String("data", "", "the whole request as JSON (flags override its fields)")
	key := fs.String("idempotency-key", "", "retry-safe key: the same key never applies twice")
	ifMatch := fs.String("if-match", "", "refuse unless the aggregate is at this version")
	wait := fs.Bool("wait", true, "return once the read models include the write")
	cf := &commandFlags{values: map[string]any{}}
	cf.register(fs, cmd)
	if err := fs.Parse(args); err != nil {
		return err
	}
	body := map[string]any{}
	if *data != "" {
		if err := json.Unmarshal([]byte(*data), &body); err != nil {
			return fmt.Errorf("--data is not a JSON object: %w", err)
		}
	}
	merge(body, cf.values)
	c := newClient()
	var out json.RawMessage
	path := "/v1/commands/" + name
	if *wait {
		path += "?wait=true"
	}
	if err := c.do(ctx, "POST", path, body, &out, "Idempotency-Key", *key, "If-Match", *ifMatch); err != nil {
		return err
	}
	if c.asJSON {
		_, err := m.Stdout.Write(append(out, '\n'))
		return err
	}
	var res struct {
		Aggregate domain.AggregateRef `json:"aggregate"`
		Version   uint64              `json:"version"`
		Position  uint64              `json:"position"`
		EventIDs  []string            `json:"event_ids"`
		Created   map[string]string   `json:"created"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s %s → version %d at position %d (events %s)%s\n", name, res.Aggregate, res.Version, res.Position,
		strings.Join(res.EventIDs, ", "), createdText(res.Created, res.Aggregate.ID))
	return nil
}

// createdText lists what a write created inside its aggregate,
// "; created problem_id p-…"; the aggregate itself is named already.
func createdText(created map[string]string, aggregateID string) string {
	fields := make([]string, 0, len(created))
	for f, id := range created {
		if id != aggregateID {
			fields = append(fields, f)
		}
	}
	sort.Strings(fields)
	var b strings.Builder
	for i, f := range fields {
		if i == 0 {
			b.WriteString("; created")
		}
		fmt.Fprintf(&b, " %s %s", f, created[f])
	}
	return b.String()
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if sub, ok := v.(map[string]any); ok {
			if d, ok := dst[k].(map[string]any); ok {
				merge(d, sub)
				continue
			}
		}
		dst[k] = v
	}
}
