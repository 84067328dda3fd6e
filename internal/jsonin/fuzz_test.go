package jsonin_test

import (
	"testing"

	"kpitrail/domain"
	"kpitrail/internal/jsonin"
)

// FuzzDecodeCommands decodes arbitrary bytes into every command type: no
// panics, and every refusal is a domain error naming a field and a rule.
func FuzzDecodeCommands(f *testing.F) {
	f.Add([]byte(`{"indicator_id":"x","window":{"year":2022},"value":"610","quality":"estimate","source":{"kind":"agency","name":"市科委"}}`))
	f.Add([]byte(`{"value":1e400}`))
	f.Add([]byte(`{"value":NaN}`))
	f.Add([]byte("{\"items\":[\"\xff\"]}"))
	f.Add([]byte(`{"task_id":"a","items":["1. （1）遴选推荐50家企业"]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, name := range domain.CommandNames() {
			cmd, _ := domain.NewCommand(name)
			err := jsonin.Decode(body, cmd)
			if err == nil {
				continue
			}
			e, ok := domain.AsError(err)
			if !ok || e.Code != domain.EINVALID || e.Field == "" || e.Rule == "" {
				t.Fatalf("%s: refusal without field and rule: %#v", name, err)
			}
		}
	})
}
