package intake

import (
	"slices"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestListedHeadersAreRead: every header RequestHeaders lists (and the
// AsyncAPI document therefore describes) reaches the handler.
func TestListedHeadersAreRead(t *testing.T) {
	m := nats.NewMsg(SubjectPrefix + "task.register")
	for _, h := range RequestHeaders {
		m.Header.Set(h.Name, "value of "+h.Name)
	}
	msg, err := requestUnmarshaler{}.Unmarshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, v := range msg.Metadata {
		values = append(values, v)
	}
	for _, h := range RequestHeaders {
		if !slices.Contains(values, "value of "+h.Name) {
			t.Errorf("header %s is listed but not read", h.Name)
		}
	}
	if len(RequestHeaders) < 4 {
		t.Fatalf("only %d request headers listed", len(RequestHeaders))
	}
}
