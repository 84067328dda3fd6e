package feed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"kpitrail/eventstore"
)

// encode builds the published message: subject <prefix>.<type>.<task id>,
// so a downstream system can filter by type and by task with wildcards,
// and the poison subject (one token shorter) never matches *.*.*.
func (f *Feed) encode(position uint64, c change) (string, *message.Message, error) {
	if c.taskID == "" {
		return "", nil, fmt.Errorf("%w: %s at %d has no task", errTranslate, c.typ, position)
	}
	data, err := encodeJSON(c.data)
	if err != nil {
		return "", nil, err
	}
	id := c.messageID(position)
	body, err := encodeJSON(Event{Type: c.typ, SchemaVersion: SchemaVersion, MessageID: id, Position: position,
		Index: c.index, EventID: c.event.ID, EventName: c.event.Name, RecordedAt: c.event.RecordedAt.UTC(),
		Actor: c.event.Actor, ActorTokenID: c.event.ActorTokenID, Source: c.event.Source, CorrelationID: c.event.CorrelationID, TaskID: c.taskID, Data: data})
	if err != nil {
		return "", nil, err
	}
	wm := message.NewMessage(id, body)
	wm.Metadata.Set(HeaderType, c.typ)
	wm.Metadata.Set(HeaderSchema, strconv.Itoa(SchemaVersion))
	wm.Metadata.Set(HeaderPosition, strconv.FormatUint(position, 10))
	return f.cfg.SubjectPrefix + "." + c.typ + "." + c.taskID, wm, nil
}

// encodeJSON leaves <, > and & alone: the payload is data, not HTML, and
// Chinese text is written as is.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// logSummary is what the router carries for a log message, and what an
// operator reads on the poison subject: where the message is, not its
// payload (the log keeps that).
type logSummary struct {
	Position uint64         `json:"position"`
	Subject  string         `json:"subject"`
	Events   []eventSummary `json:"events,omitempty"`
	Error    string         `json:"error,omitempty"`
}

type eventSummary struct {
	Index         int    `json:"index"`
	ID            string `json:"id"`
	Name          string `json:"name"`
	AggregateType string `json:"aggregate_type"`
	AggregateID   string `json:"aggregate_id"`
}

func summarize(m eventstore.Message) []byte {
	s := logSummary{Position: m.Position, Subject: m.Subject}
	for i, e := range m.Events {
		s.Events = append(s.Events, eventSummary{Index: i, ID: e.ID, Name: e.Name, AggregateType: e.AggregateType,
			AggregateID: e.AggregateID})
	}
	b, _ := encodeJSON(s)
	return b
}

// poisonPublisher rewrites what the poison middleware publishes: the full
// error (a panic's stack included) goes into the body, because NATS header
// values cannot hold line breaks; the header keeps its first line. The
// message id is fixed per position so a repeated poisoning is dropped.
type poisonPublisher struct {
	pub message.Publisher
}

func (p poisonPublisher) Publish(topic string, msgs ...*message.Message) error {
	for _, m := range msgs {
		var s logSummary
		if err := json.Unmarshal(m.Payload, &s); err != nil {
			s.Subject = string(m.Payload)
		}
		reason := m.Metadata.Get(middleware.ReasonForPoisonedKey)
		s.Error = reason
		body, err := encodeJSON(s)
		if err != nil {
			return err
		}
		pos := m.Metadata.Get(metaPosition)
		out := message.NewMessage(pos+":poison", body)
		out.Metadata.Set(HeaderPosition, pos)
		out.Metadata.Set(middleware.ReasonForPoisonedKey, oneLine(reason, 512))
		out.Metadata.Set(middleware.PoisonedHandlerKey, m.Metadata.Get(middleware.PoisonedHandlerKey))
		if err := p.pub.Publish(topic, out); err != nil {
			return err
		}
	}
	return nil
}

// Close does nothing: the wrapped publisher belongs to the Feed.
func (p poisonPublisher) Close() error { return nil }

func oneLine(s string, max int) string {
	s, _, _ = strings.Cut(s, "\n")
	s = strings.TrimSpace(s)
	if len(s) > max {
		// Cutting may split a character; drop its remains.
		s = strings.ToValidUTF8(s[:max], "")
	}
	return s
}
