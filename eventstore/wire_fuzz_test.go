package eventstore

import (
	"testing"

	"github.com/nats-io/nats.go"
)

// FuzzDecodeMessage feeds arbitrary stored bytes to the message decoder:
// foreign and damaged messages must come back as Err, never as a panic or
// as events on the wrong aggregate.
func FuzzDecodeMessage(f *testing.F) {
	f.Add("kpitrail.events.task.a", []byte(`{"format":1,"events":[{"aggregate_type":"task","aggregate_id":"a","aggregate_version":1,"name":"task.registered","payload":{}}]}`), "1")
	f.Add("kpitrail.events.task.a", []byte(`not json`), "")
	f.Add("kpitrail.events.task.a", []byte(`{"format":1,"events":[]}`), "")
	f.Add("kpitrail.events.task.b", []byte(`{"format":1,"events":[{"aggregate_type":"task","aggregate_id":"a"}]}`), "")
	f.Fuzz(func(t *testing.T, subject string, data []byte, version string) {
		hdr := nats.Header{}
		if version != "" {
			hdr.Set(hdrVersion, version)
		}
		m := decodeMessage(DefaultSubjectPrefix, subject, 7, data, hdr)
		if m.Err != nil {
			if len(m.Events) != 0 {
				t.Fatal("a refused message still carries events")
			}
			return
		}
		for _, e := range m.Events {
			if Subject(DefaultSubjectPrefix, e.Ref()) != subject || e.Position != 7 {
				t.Fatalf("accepted event %s on subject %s at %d", e.Ref(), subject, e.Position)
			}
		}
	})
}
