// Package asyncapitest holds kpitrail's AsyncAPI document to real NATS
// messages, for tests: it finds the channel a subject belongs to and
// validates a message's headers and payload against the document's JSON
// Schemas, once as written and once with every object closed, so a field
// the document does not name is caught even though the document leaves
// objects open for readers. Only tests import it: the validator is not
// linked into kpitrail.
package asyncapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"kpitrail/asyncapi"
)

// Doc is the document, compiled for validation, with a record of what
// real messages exercised.
type Doc struct {
	t        testing.TB
	raw      map[string]any
	channels []channel
	open     *jsonschema.Compiler
	strict   *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
	seen     map[string]int // message component name -> messages validated
}

type channel struct {
	id       string
	address  *regexp.Regexp
	messages []string // component message names
}

const openURL, strictURL = "urn:kpitrail:asyncapi", "urn:kpitrail:asyncapi:strict"

// Load builds the document with package asyncapi and compiles it.
func Load(t testing.TB) *Doc {
	t.Helper()
	b, err := asyncapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	d := &Doc{t: t, raw: v.(map[string]any), schemas: map[string]*jsonschema.Schema{}, seen: map[string]int{}}
	strictDoc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	closeObjects(strictDoc)
	d.open, d.strict = compiler(t, openURL, d.raw), compiler(t, strictURL, strictDoc)
	for id, c := range d.raw["channels"].(map[string]any) {
		ch := c.(map[string]any)
		addr, _ := ch["address"].(string)
		if addr == "" {
			continue // the reply inbox: no fixed address
		}
		pattern := regexp.QuoteMeta(addr)
		pattern = regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(pattern, `[^.]+`)
		c := channel{id: id, address: regexp.MustCompile("^" + pattern + "$")}
		for _, m := range ch["messages"].(map[string]any) {
			c.messages = append(c.messages, strings.TrimPrefix(m.(map[string]any)["$ref"].(string), "#/components/messages/"))
		}
		d.channels = append(d.channels, c)
	}
	return d
}

func compiler(t testing.TB, url string, doc any) *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7) // AsyncAPI 3.0.0's default schema format
	c.AssertFormat()
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	return c
}

// closeObjects sets additionalProperties to false on every object schema
// that lists its properties and says nothing about others.
func closeObjects(v any) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["properties"].(map[string]any); ok && x["type"] == "object" {
			if _, set := x["additionalProperties"]; !set {
				x["additionalProperties"] = false
			}
		}
		for _, e := range x {
			closeObjects(e)
		}
	case []any:
		for _, e := range x {
			closeObjects(e)
		}
	}
}

// Raw is the document as a JSON object.
func (d *Doc) Raw() map[string]any { return d.raw }

func (d *Doc) compiled(strict bool, pointer string) *jsonschema.Schema {
	d.t.Helper()
	url, c := openURL, d.open
	if strict {
		url, c = strictURL, d.strict
	}
	key := url + "#" + pointer
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.schemas[key]; ok {
		return s
	}
	s, err := c.Compile(key)
	if err != nil {
		d.t.Fatalf("compile %s: %v", key, err)
	}
	d.schemas[key] = s
	return s
}

// MessagesFor names the document's messages a subject may carry; none
// means no channel of the document has that address.
func (d *Doc) MessagesFor(subject string) []string {
	for _, c := range d.channels {
		if c.address.MatchString(subject) {
			return c.messages
		}
	}
	return nil
}

// Check validates a real message against the named message of the
// document (headers and payload), as written and with objects closed.
func (d *Doc) Check(message string, hdr nats.Header, payload []byte) error {
	m, ok := d.raw["components"].(map[string]any)["messages"].(map[string]any)[message].(map[string]any)
	if !ok {
		return fmt.Errorf("the document has no message %s", message)
	}
	body, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("payload is not JSON: %v", err)
	}
	headers := map[string]any{}
	for k, v := range hdr {
		if len(v) != 1 {
			return fmt.Errorf("header %s has %d values", k, len(v))
		}
		headers[k] = v[0]
	}
	var errs []string
	for _, part := range []struct {
		name  string
		value any
	}{{"headers", headers}, {"payload", body}} {
		if _, ok := m[part.name]; !ok {
			if part.name == "headers" && len(headers) > 0 {
				errs = append(errs, "headers present, none documented")
			}
			continue
		}
		pointer := "/components/messages/" + escape(message) + "/" + part.name
		if err := d.compiled(false, pointer).Validate(part.value); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", part.name, err))
			continue
		}
		if err := d.compiled(true, pointer).Validate(part.value); err != nil {
			errs = append(errs, fmt.Sprintf("%s has fields the document does not name: %v", part.name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: %s", message, strings.Join(errs, "; "))
	}
	d.mu.Lock()
	d.seen[message]++
	d.mu.Unlock()
	return nil
}

// CheckSubject validates a message published on subject against the one
// message of its channel that it matches.
func (d *Doc) CheckSubject(subject string, hdr nats.Header, payload []byte) error {
	names := d.MessagesFor(subject)
	if len(names) == 0 {
		return fmt.Errorf("subject %s is on no channel of the document", subject)
	}
	var errs []string
	for _, n := range names {
		err := d.Check(n, hdr, payload)
		if err == nil {
			return nil
		}
		errs = append(errs, err.Error())
	}
	return fmt.Errorf("subject %s: %s", subject, strings.Join(errs, " | "))
}

// Unseen lists the document's messages no real message was validated
// against.
func (d *Doc) Unseen() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for name := range d.raw["components"].(map[string]any)["messages"].(map[string]any) {
		if d.seen[name] == 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func escape(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1") }

// Pretty is a message for a failure report.
func Pretty(payload []byte) string {
	var v any
	if json.Unmarshal(payload, &v) != nil {
		return string(payload)
	}
	b, _ := json.MarshalIndent(v, "", " ")
	if len(b) > 800 {
		b = append(b[:800], "…"...)
	}
	return string(b)
}
