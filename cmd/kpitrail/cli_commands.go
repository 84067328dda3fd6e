package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

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
	// typ names the value in help: string, int, bool, decimal, date.
	typ string
}

var (
	decimalType = reflect.TypeOf(domain.Decimal{})
	dateType    = reflect.TypeOf(domain.Date(""))
)

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
		case ft == decimalType:
			*out = append(*out, fieldSpec{path: path, kind: reflect.String, typ: "decimal"})
		case ft == dateType:
			*out = append(*out, fieldSpec{path: path, kind: reflect.String, typ: "date"})
		case ft.Kind() == reflect.Struct:
			walkFields(ft, path+".", out)
		case ft.Kind() == reflect.Slice:
			*out = append(*out, fieldSpec{path: path, kind: ft.Elem().Kind(), list: true, typ: typeName(ft.Elem().Kind())})
		default:
			*out = append(*out, fieldSpec{path: path, kind: ft.Kind(), typ: typeName(ft.Kind())})
		}
	}
}

func typeName(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Bool:
		return "bool"
	}
	return "string"
}

// fieldValue is a pflag.Value that sets one field of the request body.
type fieldValue struct {
	spec fieldSpec
	set  func(fieldSpec, string) error
}

func (v *fieldValue) String() string     { return "" }
func (v *fieldValue) Set(s string) error { return v.set(v.spec, s) }
func (v *fieldValue) Type() string       { return v.spec.typ }

// register adds one flag per field, described by the OpenAPI document.
func (c *commandFlags) register(cc *cobra.Command, cmd domain.Command, doc commandDoc) {
	var specs []fieldSpec
	walkFields(reflect.TypeOf(cmd), "", &specs)
	for _, spec := range specs {
		desc, enum, required := doc.fieldDoc(spec.path)
		usage := desc
		if len(enum) > 0 {
			usage += " One of: " + strings.Join(enum, ", ") + "."
		}
		if spec.list {
			usage += " Repeat the flag for each value."
		}
		if required {
			usage += " Required."
		}
		f := cc.Flags().VarPF(&fieldValue{spec: spec, set: c.set}, spec.path, "", strings.TrimSpace(usage))
		if spec.kind == reflect.Bool {
			f.NoOptDefVal = "true"
		}
		if len(enum) > 0 {
			_ = cc.RegisterFlagCompletionFunc(spec.path, cobra.FixedCompletions(enum, cobra.ShellCompDirectiveNoFileComp))
		}
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

// domainCommands are `kpitrail <command.name> [--field value ...]`, one per
// command the domain registers: a command added there is a CLI command
// with its flags, descriptions and completion, and no code here.
func (m *Main) domainCommands() []*cobra.Command {
	var out []*cobra.Command
	for _, name := range domain.CommandNames() {
		out = append(out, m.domainCommand(name))
	}
	return out
}

func (m *Main) domainCommand(name string) *cobra.Command {
	cmd, _ := domain.NewCommand(name)
	doc := commandDocOf(name)
	short := doc.summary
	if short == "" {
		short = "run " + name
	}
	cc := &cobra.Command{
		Use:   name,
		Short: short,
		Long: short + ": the command " + name + ", sent to POST /v1/commands/" + name + ".\n\n" + commandNotes(name, doc) +
			"Give the fields as flags (nested ones dotted: --window.year), or the whole command as JSON with --data.",
		Args: exactArgs(0),
	}
	fs := cc.Flags()
	cf := &commandFlags{values: map[string]any{}}
	cf.register(cc, cmd, doc)
	data := fs.String("data", "", "the whole command as a JSON object (flags override its fields)")
	key := fs.String("idempotency-key", "", "retry-safe key: the same key never applies twice")
	ifMatch := fs.String("if-match", "", "refuse unless the aggregate is at this version")
	wait := fs.Bool("wait", true, "return once the read models include the write")
	newClient := m.clientFlags(fs)
	cc.RunE = func(cc *cobra.Command, _ []string) error {
		body := map[string]any{}
		if *data != "" {
			if err := json.Unmarshal([]byte(*data), &body); err != nil {
				return usageErrorf(cc, "--data is not a JSON object: %v", err)
			}
		}
		merge(body, cf.values)
		return m.sendCommand(cc.Context(), newClient(), name, body, *key, *ifMatch, *wait)
	}
	return cc
}

// commandNotes is the schema's description without its leading name and
// the sentences about the per-command route's path, which the CLI does not
// use.
func commandNotes(name string, doc commandDoc) string {
	desc := strings.TrimPrefix(text(doc.schema, "description"), name)
	var keep []string
	for _, s := range strings.SplitAfter(strings.TrimLeft(desc, ". "), ". ") {
		if s = strings.TrimSpace(s); s != "" && !strings.Contains(s, "path") && !strings.Contains(s, "the server names") {
			keep = append(keep, s)
		}
	}
	if len(keep) == 0 {
		return ""
	}
	return strings.Join(keep, " ") + "\n\n"
}

func (m *Main) sendCommand(ctx context.Context, c *client, name string, body map[string]any, key, ifMatch string, wait bool) error {
	var out json.RawMessage
	path := "/v1/commands/" + name
	if wait {
		path += "?wait=true"
	}
	if err := c.do(ctx, "POST", path, body, &out, "Idempotency-Key", key, "If-Match", ifMatch); err != nil {
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
