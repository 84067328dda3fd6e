package asyncapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"kpitrail/asyncapi"
	"kpitrail/asyncapi/asyncapitest"
	"kpitrail/domain"
	"kpitrail/feed"
	"kpitrail/intake"
)

// TestDocumentIsValidAsyncAPI3 validates the document against the
// official AsyncAPI 3.0.0 JSON Schema (vendored in testdata).
func TestDocumentIsValidAsyncAPI3(t *testing.T) {
	b, err := asyncapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/asyncapi-3.0.0.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	meta, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("http://asyncapi.com/definitions/3.0.0/asyncapi.json", meta); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("http://asyncapi.com/definitions/3.0.0/asyncapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("not a valid AsyncAPI 3.0.0 document: %v", err)
	}
	// And the schema is not a formality: a broken document fails it.
	broken, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	broken.(map[string]any)["operations"].(map[string]any)["task.register"].(map[string]any)["action"] = "consume"
	if schema.Validate(broken) == nil {
		t.Fatal("the AsyncAPI schema accepted an operation with action \"consume\"")
	}
}

// TestEveryReferenceResolves: the AsyncAPI schema does not follow $ref;
// here every one must point at something in the document.
func TestEveryReferenceResolves(t *testing.T) {
	doc := asyncapitest.Load(t).Raw()
	n := 0
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				n++
				if resolve(doc, r) == nil {
					t.Errorf("%s: $ref %s resolves to nothing", at, r)
				}
			}
			for k, e := range x {
				walk(e, at+"/"+k)
			}
		case []any:
			for _, e := range x {
				walk(e, at+"[]")
			}
		}
	}
	walk(doc, "")
	if n < 100 {
		t.Fatalf("only %d references: the walk is broken", n)
	}
}

func resolve(doc map[string]any, ref string) any {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var v any = doc
	for _, tok := range strings.Split(p, "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")]
	}
	return v
}

// TestDocumentFollowsTheRegistries: every command, event and feed type the
// code knows has its channel, operation and schema, and nothing else does.
func TestDocumentFollowsTheRegistries(t *testing.T) {
	doc := asyncapitest.Load(t).Raw()
	channels := doc["channels"].(map[string]any)
	ops := doc["operations"].(map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	commands := 0
	for _, name := range domain.CommandNames() {
		ch, ok := channels["command."+name].(map[string]any)
		if !ok || ch["address"] != intake.SubjectPrefix+name {
			t.Errorf("command %s: channel %v", name, ch)
		}
		if _, ok := ops[name]; !ok {
			t.Errorf("command %s has no operation", name)
		}
		commands++
	}
	for id := range channels {
		if name, ok := strings.CutPrefix(id, "command."); ok && name != "reply" {
			if _, known := domain.NewCommand(name); !known {
				t.Errorf("channel %s names no command", id)
			}
		}
	}
	for _, name := range domain.EventNames() {
		if _, ok := schemas["event."+name]; !ok {
			t.Errorf("event %s has no payload schema", name)
		}
		agg, _ := domain.EventAggregate(name)
		if _, ok := channels["events."+agg]; !ok {
			t.Errorf("event %s: no channel for aggregate %s", name, agg)
		}
	}
	for typ := range feed.DataTypes() {
		if ch, ok := channels["changes."+typ].(map[string]any); !ok || ch["address"] != feed.DefaultSubjectPrefix+"."+typ+".{task_id}" {
			t.Errorf("feed type %s: channel %v", typ, ch)
		}
	}
	if commands < 10 || len(domain.EventNames()) < 10 {
		t.Fatalf("%d commands, %d events: the registries were not read", commands, len(domain.EventNames()))
	}
}

// TestSchemasFollowTheGoTypes checks the reflection on messages built
// from Go values: a marshalled event passes its schema, the same event
// with a field renamed does not, and a command with an unknown field is
// refused as the intake refuses it.
func TestSchemasFollowTheGoTypes(t *testing.T) {
	d := asyncapitest.Load(t)
	dec := func(s string) *domain.Decimal { v := domain.MustDecimal(s); return &v }
	ev := domain.FigureReported{Window: domain.YearWindow(2022), Value: domain.MustDecimal("77.50"), Quality: domain.QualityEstimate,
		Source: domain.Source{Kind: domain.SourceAgency, Name: "市科委"}, Numerator: dec("31"), FinalDue: "2023-03-31", Note: "预计"}
	payload, _ := json.Marshal(ev)
	env := map[string]any{"id": "e1", "name": domain.EvFigureReported, "schema_version": 2, "aggregate_type": "indicator",
		"aggregate_id": "i1", "aggregate_version": 3, "recorded_at": "2022-12-31T08:30:00.123456789Z", "actor": "office:x",
		"command_id": "c1", "source": "nats", "payload": json.RawMessage(payload), "prev_hash": "", "hash": "ab"}
	stored := func(env map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"format": 1, "events": []any{env}})
		return b
	}
	hdr := nats.Header{"Kpitrail-Version": {"3"}, "Kpitrail-Command-Id": {"c1"}, "Nats-Msg-Id": {"indicator/i1/c1"},
		"Kpitrail-Signature": {"k1 c2lnbmF0dXJl"}}
	if err := d.CheckSubject("kpitrail.events.huairou.indicator.i1", hdr, stored(env)); err != nil {
		t.Fatalf("a marshalled figure report: %v", err)
	}
	renamed := bytes.Replace(payload, []byte(`"quality"`), []byte(`"qualitee"`), 1)
	env["payload"] = json.RawMessage(renamed)
	if err := d.CheckSubject("kpitrail.events.huairou.indicator.i1", hdr, stored(env)); err == nil {
		t.Error("a payload with a renamed field passed")
	}
	env["payload"], env["name"] = json.RawMessage(payload), domain.EvTaskRegistered
	if err := d.CheckSubject("kpitrail.events.huairou.indicator.i1", hdr, stored(env)); err == nil {
		t.Error("a task event passed on an indicator's subject")
	}

	cmdHdr := nats.Header{intake.HeaderAuthorization: {"Bearer t"}}
	cmd := `{"indicator_id":"i1","window":{"year":2022},"value":77.50,"quality":"estimate","source":{"kind":"agency"}}`
	if err := d.CheckSubject(intake.SubjectPrefix+"indicator.report_figure", cmdHdr, []byte(cmd)); err != nil {
		t.Errorf("a figure report with a JSON number: %v", err)
	}
	if err := d.CheckSubject(intake.SubjectPrefix+"indicator.report_figure", cmdHdr, []byte(strings.Replace(cmd, `"value"`, `"valeu"`, 1))); err == nil {
		t.Error("a command with an unknown field passed")
	}
	if err := d.CheckSubject(intake.SubjectPrefix+"indicator.report_figure", nats.Header{}, []byte(cmd)); err == nil {
		t.Error("a command without Authorization passed")
	}
	if d.MessagesFor("kpitrail.cmd.no_such_command") != nil {
		t.Error("an unknown command has a channel")
	}
	// Every Go field of a command is a property of its schema.
	schemas := d.Raw()["components"].(map[string]any)["schemas"].(map[string]any)
	for _, name := range domain.CommandNames() {
		c, _ := domain.NewCommand(name)
		props := schemas["command."+name].(map[string]any)["properties"].(map[string]any)
		ty := reflect.TypeOf(c).Elem()
		for i := range ty.NumField() {
			if !ty.Field(i).IsExported() {
				continue // never encoded: what the service attaches while deciding
			}
			tag, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
			if _, ok := props[tag]; !ok && tag != "-" {
				t.Errorf("%s: field %s is not in the schema", name, tag)
			}
		}
	}
}
