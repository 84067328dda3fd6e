// Package asyncapi builds the AsyncAPI 3.0.0 document of kpitrail's NATS
// side: the command intake (kpitrail.cmd.<command>, request and reply),
// the event log's subjects (kpitrail.events.<unit>.<aggregate>.<id>) and the
// downstream change feed (kpitrail.changes.<type>.<task id>). It is served
// at GET /v1/asyncapi.json beside the HTTP side's OpenAPI document.
//
// Nothing in it is written by hand per command or event: the channels,
// messages and JSON Schemas come from the registries and Go types the code
// itself runs on (domain's command and event registries, the intake's and
// the store's header lists, feed.DataTypes), reflected as encoding/json
// reads and writes them (schema.go). A command or an event added to the
// domain is in the document without a change here.
package asyncapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"sync"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/feed"
	"kpitrail/intake"
	"kpitrail/internal/problem"
)

// Version is the AsyncAPI version of the document.
const Version = "3.0.0"

// Document returns the document as indented JSON, built once.
var Document = sync.OnceValues(func() ([]byte, error) {
	d, err := Build()
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(d, "", "  ")
})

// doc is a document being built.
type doc struct {
	channels, operations, schemas, messages Schema
}

// Build returns the document as a JSON object.
func Build() (Schema, error) {
	d := &doc{channels: Schema{}, operations: Schema{}, schemas: Schema{}, messages: Schema{}}
	for _, step := range []func() error{d.intake, d.events, d.feed} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("asyncapi: %w", err)
		}
	}
	return Schema{
		"asyncapi":           Version,
		"id":                 "urn:kpitrail:nats",
		"defaultContentType": "application/json",
		"info": Schema{
			"title":   "kpitrail on NATS",
			"version": "1.0.0",
			"description": "The NATS side of kpitrail: departments' systems submit commands as NATS requests on " +
				"`" + intake.SubjectPrefix + "<command>` and get a reply; every accepted command is one message of the event log in " +
				"the JetStream stream KPITRAIL on `" + eventstore.DefaultSubjectPrefix + ".<unit>.<aggregate type>.<aggregate id>` (the unit " +
				"`" + eventstore.DeploymentUnit + "` for what belongs to the whole deployment; docs/events.md); downstream " +
				"systems read integration events from the stream " + feed.DefaultStream + " on `" + feed.DefaultSubjectPrefix +
				".<type>.<task id>` (docs/downstream.md). The HTTP side is described by /v1/openapi.json.\n\n" +
				"Bodies are JSON in UTF-8; Chinese text is written as is. Decimals are exact: kpitrail writes them as strings in " +
				"plain notation with the reported scale kept. Requests are decoded strictly (unknown fields, a second JSON value and " +
				"invalid UTF-8 are refused); messages kpitrail writes only ever gain fields, so readers must ignore fields they do " +
				"not know.",
		},
		"servers": Schema{
			"kpitrail": Schema{
				"host":     "127.0.0.1:4222",
				"protocol": "nats",
				"description": "`kpitrail serve --nats-listen 127.0.0.1:4222` exposes the embedded server (with --nats-user and " +
					"KPITRAIL_NATS_PASSWORD when set); with --nats-url, the NATS cluster kpitrail is connected to.",
			},
		},
		"channels":   d.channels,
		"operations": d.operations,
		"components": Schema{"schemas": d.schemas, "messages": d.messages},
	}, nil
}

func ref(path string) Schema { return Schema{"$ref": path} }

// headers builds a message's headers schema from a list of names with
// descriptions; refine adds constraints to some of them.
func headers(list []intake.Header, refine map[string]Schema) Schema {
	props, required := Schema{}, []any{}
	for _, h := range list {
		p := Schema{"type": "string", "description": h.Description}
		for k, v := range refine[h.Name] {
			p[k] = v
		}
		props[h.Name] = p
		if h.Required {
			required = append(required, h.Name)
		}
	}
	s := Schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// intake: one channel and one receive operation per command, replies on
// the requester's inbox.
func (d *doc) intake() error {
	d.schemas["CommandHeaders"] = headers(intake.RequestHeaders, map[string]Schema{
		intake.HeaderAuthorization:   {"pattern": "^Bearer .+"},
		intake.HeaderIdempotencyKey:  {"maxLength": intake.MaxIdempotencyKey},
		intake.HeaderExpectedVersion: {"pattern": "^(W/)?\"?[0-9]+\"?$"},
		intake.HeaderIfMatch:         {"pattern": "^(W/)?\"?[0-9]+\"?$"},
	})
	result, err := reflectSchema(reflect.TypeFor[intake.Response](), out)
	if err != nil {
		return err
	}
	d.schemas["CommandResult"] = result
	prob, err := reflectSchema(reflect.TypeFor[problem.Problem](), out)
	if err != nil {
		return err
	}
	prob["description"] = "An RFC 9457 problem document: `code`, and for a refused field `field` and `rule`, say what to fix; " +
		"`current_version` comes with a conflict. The same document as over HTTP."
	d.schemas["Problem"] = prob
	replyHeaders := func(status Schema) Schema {
		return headers(intake.ReplyHeaders, map[string]Schema{intake.StatusHeader: status})
	}
	d.messages["CommandResult"] = Schema{
		"name": "CommandResult", "title": "Command executed", "contentType": "application/json",
		"summary": "The command's events are stored: the aggregate, its new version, the log position and the event ids.",
		"headers": replyHeaders(Schema{"const": "200"}), "payload": ref("#/components/schemas/CommandResult"),
	}
	d.messages["CommandProblem"] = Schema{
		"name": "CommandProblem", "title": "Command refused", "contentType": "application/problem+json",
		"summary": "Nothing was stored. 400 bad input, 401 no or unknown token, 403 not allowed, 404 no such command or " +
			"aggregate, 409 stale If-Match (or Expected-Version), 413 too large, 422 a domain rule refuses it, 500 failed after retries.",
		"headers": replyHeaders(Schema{"pattern": "^[45][0-9]{2}$"}), "payload": ref("#/components/schemas/Problem"),
	}
	d.channels["command.reply"] = Schema{
		"address": nil,
		"title":   "Command reply",
		"description": "The requester's inbox, the reply subject of its NATS request (nats request, or RequestMsg in a " +
			"client library). A command published without a reply subject is executed all the same, and answered to no one.",
		"messages": Schema{
			"result":  ref("#/components/messages/CommandResult"),
			"problem": ref("#/components/messages/CommandProblem"),
		},
	}
	for _, name := range domain.CommandNames() {
		cmd, _ := domain.NewCommand(name)
		s, err := reflectSchema(reflect.TypeOf(cmd), in)
		if err != nil {
			return fmt.Errorf("command %s: %w", name, err)
		}
		s["title"] = name
		s["description"] = "The body of " + name + ". Unknown fields are refused. Which fields must be sent is for the " +
			"command's rules to say: a refusal is a 400 or 422 problem naming the field and the rule."
		id := "command." + name
		d.schemas[id] = s
		d.messages[id] = Schema{
			"name": name, "title": name, "contentType": "application/json",
			"headers": ref("#/components/schemas/CommandHeaders"), "payload": ref("#/components/schemas/" + id),
		}
		d.channels[id] = Schema{
			"address": intake.SubjectPrefix + name,
			"title":   name,
			"description": "Submit the command " + name + " as a NATS request. At most 512 KiB; the same command as " +
				"POST /v1/commands/" + name + " over HTTP.",
			"messages": Schema{"request": ref("#/components/messages/" + id)},
		}
		d.operations[name] = Schema{
			"action":   "receive",
			"channel":  ref("#/channels/" + id),
			"summary":  "kpitrail executes " + name + " and replies",
			"messages": []any{ref("#/channels/" + id + "/messages/request")},
			"reply": Schema{
				"channel": ref("#/channels/command.reply"),
				"messages": []any{ref("#/channels/command.reply/messages/result"),
					ref("#/channels/command.reply/messages/problem")},
			},
			// Several kpitrail instances share the intake through this queue group.
			"bindings": Schema{"nats": Schema{"queue": "kpitrail-intake", "bindingVersion": "0.1.0"}},
		}
	}
	return nil
}

// events: the event log, one channel per aggregate type; every message is
// one command's events.
func (d *doc) events() error {
	envelope, err := reflectSchema(reflect.TypeFor[domain.Envelope](), out)
	if err != nil {
		return err
	}
	byAggregate := map[string][]string{}
	for _, name := range domain.EventNames() {
		agg, _ := domain.EventAggregate(name)
		byAggregate[agg] = append(byAggregate[agg], name)
		e, _ := domain.NewEvent(name)
		s, err := reflectSchema(reflect.TypeOf(e), out)
		if err != nil {
			return fmt.Errorf("event %s: %w", name, err)
		}
		version, _ := domain.SchemaVersion(name)
		s["title"] = name
		s["description"] = "The payload of " + name + " at schema version " + strconv.Itoa(version) + "."
		d.schemas["event."+name] = s
		d.schemas["envelope."+name] = eventEnvelope(envelope, name, agg, version)
	}
	storedProps, storedRequired := Schema{}, []any{}
	for _, h := range eventstore.StoredHeaders {
		storedProps[h.Name] = Schema{"type": "string", "description": h.Description}
		storedRequired = append(storedRequired, h.Name)
	}
	for _, h := range eventstore.TraceHeaders {
		storedProps[h.Name] = Schema{"type": "string", "description": h.Description}
	}
	storedProps[eventstore.HeaderVersion] = Schema{"type": "string", "pattern": "^[0-9]+$", "description": storedProps[eventstore.HeaderVersion].(Schema)["description"]}
	d.schemas["StoredHeaders"] = Schema{
		"type": "object", "properties": storedProps, "required": storedRequired,
		"patternProperties": Schema{"^Nats-": Schema{"type": "string",
			"description": "JetStream's own headers on the append (Nats-Msg-Id: aggregate/command id for deduplication; Nats-Expected-*: the concurrency checks)"}},
	}
	aggregates := make([]string, 0, len(byAggregate))
	for a := range byAggregate {
		aggregates = append(aggregates, a)
	}
	sort.Strings(aggregates)
	for _, agg := range aggregates {
		var variants []any
		for _, name := range byAggregate[agg] {
			variants = append(variants, ref("#/components/schemas/envelope."+name))
		}
		id := "events." + agg
		d.schemas["stored."+agg] = Schema{
			"type": "object", "required": []any{"format", "events"},
			"description": "One stored message: every event one command decided, stored whole or not at all.",
			"properties": Schema{
				"format": Schema{"const": eventstore.WireFormat},
				"events": Schema{"type": "array", "minItems": 1, "items": Schema{"oneOf": variants}},
			},
		}
		d.messages["stored."+agg] = Schema{
			"name": "stored." + agg, "title": "Events of a " + agg, "contentType": "application/json",
			"headers": ref("#/components/schemas/StoredHeaders"), "payload": ref("#/components/schemas/stored." + agg),
		}
		d.channels[id] = Schema{
			"address": eventstore.DefaultSubjectPrefix + ".{unit}." + agg + ".{aggregate_id}",
			"title":   "The log of one " + agg,
			"description": "The messages of one " + agg + " in the stream KPITRAIL, in order: the subject's sequence is the " +
				"aggregate's optimistic-concurrency token and its events are hash-chained (docs/events.md). Read it with a " +
				"JetStream consumer; only kpitrail writes here, and a foreign message is dead-lettered by the read models.",
			"parameters": Schema{"aggregate_id": Schema{"description": "the " + agg + "'s id"},
				"unit": Schema{"description": "the assessed unit the " + agg + " belongs to (a task's or an indicator's), or `" +
					eventstore.DeploymentUnit + "` for an aggregate of the whole deployment; logs written before units were in " +
					"subjects keep their aggregates on `" + eventstore.DefaultSubjectPrefix + "." + agg + ".{aggregate_id}` (docs/events.md)"}},
			"messages": Schema{"stored": ref("#/components/messages/stored." + agg)},
		}
		d.operations["append."+agg] = Schema{
			"action":   "send",
			"channel":  ref("#/channels/" + id),
			"summary":  "kpitrail appends an accepted command's events",
			"messages": []any{ref("#/channels/" + id + "/messages/stored")},
		}
	}
	return nil
}

// eventEnvelope is the stored envelope of one named event: its name and
// aggregate fixed, its payload that event's schema at the current version.
// An event stored at an older version has the payload of that version;
// readers upcast it (docs/events.md).
func eventEnvelope(envelope Schema, name, agg string, version int) Schema {
	s := clone(envelope)
	props := s["properties"].(Schema)
	props["name"] = Schema{"const": name}
	props["aggregate_type"] = Schema{"const": agg}
	current := ref("#/components/schemas/event." + name)
	if version == 1 {
		props["schema_version"] = Schema{"const": 1}
		props["payload"] = current
	} else {
		props["schema_version"] = Schema{"type": "integer", "minimum": 1, "maximum": version}
		props["payload"] = Schema{"type": "object", "description": "at schema_version " + strconv.Itoa(version) +
			" the event's current payload; at an older version that version's payload"}
		s["if"] = Schema{"properties": Schema{"schema_version": Schema{"const": version}}}
		s["then"] = Schema{"properties": Schema{"payload": current}}
	}
	s["title"] = name
	return s
}

// feed: one channel per integration event type.
func (d *doc) feed() error {
	event, err := reflectSchema(reflect.TypeFor[feed.Event](), out)
	if err != nil {
		return err
	}
	types := feed.DataTypes()
	names := make([]string, 0, len(types))
	for t := range types {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, typ := range names {
		data, err := reflectSchema(reflect.TypeOf(types[typ]), out)
		if err != nil {
			return fmt.Errorf("feed type %s: %w", typ, err)
		}
		data["title"] = typ
		d.schemas["change."+typ+".data"] = data
		s := clone(event)
		props := s["properties"].(Schema)
		props["type"] = Schema{"const": typ}
		props["schema_version"] = Schema{"const": feed.SchemaVersion}
		props["data"] = ref("#/components/schemas/change." + typ + ".data")
		s["title"] = typ
		d.schemas["change."+typ] = s
		hdrs := Schema{}
		required := []any{}
		for _, h := range feed.Headers {
			hdrs[h.Name] = Schema{"type": "string", "description": h.Description}
			required = append(required, h.Name)
		}
		hdrs[feed.HeaderType] = Schema{"const": typ}
		hdrs[feed.HeaderSchema] = Schema{"const": strconv.Itoa(feed.SchemaVersion)}
		hdrs[feed.HeaderPosition] = Schema{"type": "string", "pattern": "^[0-9]+$"}
		id := "changes." + typ
		d.messages["change."+typ] = Schema{
			"name": typ, "title": typ, "contentType": "application/json",
			"headers": Schema{"type": "object", "properties": hdrs, "required": required},
			"payload": ref("#/components/schemas/change." + typ),
		}
		d.channels[id] = Schema{
			"address": feed.DefaultSubjectPrefix + "." + typ + ".{task_id}",
			"title":   typ,
			"description": "Integration events of type " + typ + " in the stream " + feed.DefaultStream + ", published in " +
				"log order, at least once: process by message_id (also Nats-Msg-Id) idempotently. Attach a durable consumer " +
				"(docs/downstream.md). Messages that cannot be translated are set aside on " + feed.DefaultSubjectPrefix +
				".poison, which a filter of " + feed.DefaultSubjectPrefix + ".*.*.* never matches.",
			"parameters": Schema{"task_id": Schema{"description": "the task the change belongs to"}},
			"messages":   Schema{"change": ref("#/components/messages/change." + typ)},
		}
		d.operations["publish."+typ] = Schema{
			"action":   "send",
			"channel":  ref("#/channels/" + id),
			"summary":  "kpitrail publishes " + typ,
			"messages": []any{ref("#/channels/" + id + "/messages/change")},
		}
	}
	return nil
}

// clone deep-copies a schema, so one reflected envelope can be refined
// per event.
func clone(s Schema) Schema {
	out := make(Schema, len(s))
	for k, v := range s {
		switch x := v.(type) {
		case Schema:
			out[k] = clone(x)
		case []any:
			c := make([]any, len(x))
			for i, e := range x {
				if m, ok := e.(Schema); ok {
					c[i] = clone(m)
				} else {
					c[i] = e
				}
			}
			out[k] = c
		default:
			out[k] = v
		}
	}
	return out
}
