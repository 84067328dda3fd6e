package eventstore

import (
	"testing"

	"github.com/nats-io/nats.go"

	"kpitrail/signing"
)

func mustSigner(f *testing.F) *signing.Signer {
	s, err := signing.Generate()
	if err != nil {
		f.Fatal(err)
	}
	return s
}

// FuzzDecodeMessage feeds arbitrary stored bytes and headers to the
// message decoder and the authenticity rule: foreign and damaged messages
// must come back as Err or refused by Authentic, never as a panic, as
// events on the wrong aggregate, or as kpitrail's.
func FuzzDecodeMessage(f *testing.F) {
	f.Add("kpitrail.events.task.a", []byte(`{"format":1,"events":[{"aggregate_type":"task","aggregate_id":"a","aggregate_version":1,"name":"task.registered","payload":{}}]}`), "1", "")
	f.Add("kpitrail.events.task.a", []byte(`not json`), "", "0123456789abcdef AAAA")
	f.Add("kpitrail.events.task.a", []byte(`{"format":1,"events":[]}`), "", "")
	f.Add("kpitrail.events.task.b", []byte(`{"format":1,"events":[{"aggregate_type":"task","aggregate_id":"a"}]}`), "", " ")
	f.Add("kpitrail.events.huairou.task.a", []byte(`{"format":1,"events":[{"aggregate_type":"task","aggregate_id":"a","aggregate_version":1,"name":"task.registered","payload":{}}]}`), "1", "")
	f.Add("kpitrail.events.huairou.indicator.a", []byte(`{"format":1,"events":[{"aggregate_type":"task","aggregate_id":"a"}]}`), "", "")
	trust := signing.Trusting(mustSigner(f))
	f.Fuzz(func(t *testing.T, subject string, data []byte, version, sig string) {
		hdr := nats.Header{}
		if version != "" {
			hdr.Set(hdrVersion, version)
		}
		if sig != "" {
			hdr.Set(hdrSignature, sig)
		}
		m := decodeMessage(DefaultSubjectPrefix, subject, 7, data, hdr)
		if err := Authentic(trust, m); err == nil {
			t.Fatalf("a fuzzed message passed as kpitrail's: %q %q", data, sig)
		}
		if m.Err != nil {
			if len(m.Events) != 0 {
				t.Fatal("a refused message still carries events")
			}
			return
		}
		for _, e := range m.Events {
			unit := SubjectUnit(DefaultSubjectPrefix, subject)
			want := Subject(DefaultSubjectPrefix, unit, e.Ref())
			if unit == "" {
				want = LegacySubject(DefaultSubjectPrefix, e.Ref())
			}
			if want != subject || e.Position != 7 {
				t.Fatalf("accepted event %s on subject %s at %d", e.Ref(), subject, e.Position)
			}
		}
	})
}
