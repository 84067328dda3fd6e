package intake

import (
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// requestUnmarshaler turns a NATS request into a watermill message, keeping
// what the handler needs (subject, reply inbox, auth and idempotency
// headers) as metadata.
type requestUnmarshaler struct{}

func (requestUnmarshaler) Unmarshal(m *nats.Msg) (*message.Message, error) {
	msg := message.NewMessage(watermill.NewUUID(), m.Data)
	msg.Metadata.Set(metaSubject, m.Subject)
	msg.Metadata.Set(metaReply, m.Reply)
	if m.Header != nil {
		msg.Metadata.Set(metaAuth, m.Header.Get(HeaderAuthorization))
		msg.Metadata.Set(metaKey, m.Header.Get(HeaderIdempotencyKey))
		msg.Metadata.Set(metaCorr, m.Header.Get(HeaderCorrelationID))
		msg.Metadata.Set(metaExpected, m.Header.Get(HeaderExpectedVersion))
		msg.Metadata.Set(metaIfMatch, m.Header.Get(HeaderIfMatch))
		if tp := m.Header.Get(HeaderTraceParent); tp != "" {
			msg.Metadata.Set(metaTraceParent, tp)
			msg.Metadata.Set(metaTraceState, m.Header.Get(HeaderTraceState))
		}
	}
	// The handler answers the inbox itself. Clearing it here keeps the
	// subscriber's ack step from also sending a "+ACK" to the requester,
	// which it does for any message that has a reply subject.
	m.Reply = ""
	return msg, nil
}
