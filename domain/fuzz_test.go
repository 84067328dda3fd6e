package domain

import (
	"encoding/json"
	"testing"
)

// FuzzDecode feeds arbitrary names, versions and payloads to the event
// decoder: it must never panic, and what it accepts must re-encode.
func FuzzDecode(f *testing.F) {
	f.Add("indicator.figure_reported", 1, []byte(`{"source":"市科委","period":"2022-01..2022-11","value":"3.6","quality":"final"}`))
	f.Add("indicator.figure_reported", 2, []byte(`{"window":{"year":2022},"value":"610","quality":"estimate","source":{"kind":"agency","name":"市科委"}}`))
	f.Add("task.registered", 1, []byte(`{"year":2022,"title":"“两区”建设","lead_department":"区商务局"}`))
	f.Add("task.unknown", 1, []byte(`{}`))
	f.Add("indicator.figure_corrected", 1, []byte(`{"new_value":"1e400"}`))
	f.Fuzz(func(t *testing.T, name string, version int, payload []byte) {
		aggregate := AggregateTask
		if spec, ok := registry[name]; ok {
			aggregate = spec.aggregate
		}
		env := Envelope{Name: name, SchemaVersion: version, AggregateType: aggregate, AggregateID: "x", Payload: payload}
		ev, err := Decode(env)
		if err != nil {
			return
		}
		if _, err := json.Marshal(ev); err != nil {
			// Marshal refuses only values Decimal cannot store; Decode must
			// not have accepted those.
			t.Fatalf("decoded %s but cannot encode it again: %v", name, err)
		}
	})
}
