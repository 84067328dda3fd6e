package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// jetstreamPubAck is how jetstream's PublishMsg reads a reply: the
// reference parsePubAck must agree with.
func jetstreamPubAck(data []byte) (*jetstream.PubAck, error) {
	var ack struct {
		Type  string              `json:"type"`
		Error *jetstream.APIError `json:"error,omitempty"`
		*jetstream.PubAck
	}
	if err := json.Unmarshal(data, &ack); err != nil {
		return nil, jetstream.ErrInvalidJSAck
	}
	if ack.Error != nil {
		return nil, fmt.Errorf("nats: %w", ack.Error)
	}
	if ack.PubAck == nil || ack.PubAck.Stream == "" {
		return nil, jetstream.ErrInvalidJSAck
	}
	return ack.PubAck, nil
}

func checkPubAck(t *testing.T, s *JetStream, data string) {
	t.Helper()
	got, err := s.parsePubAck([]byte(data))
	want, wantErr := jetstreamPubAck([]byte(data))
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%s: error %v, jetstream %v", data, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: %+v, jetstream %+v", data, got, want)
	}
	var apiErr *jetstream.APIError
	if errors.As(wantErr, &apiErr) {
		var gotAPI *jetstream.APIError
		if !errors.As(err, &gotAPI) || gotAPI.ErrorCode != apiErr.ErrorCode {
			t.Fatalf("%s: API error %v not found in %v", data, apiErr, err)
		}
	}
}

func TestParsePubAckIsJetstreams(t *testing.T) {
	s := &JetStream{cfg: Config{Stream: "KPITRAIL"}}
	for _, data := range []string{
		`{"stream":"KPITRAIL","seq":1}`, `{"stream":"KPITRAIL","seq":18446744073709551615}`,
		fmt.Sprintf(`{"stream":"KPITRAIL","seq":%d}`, uint64(math.MaxUint64)/3),
		`{"stream":"KPITRAIL","seq":18446744073709551616}`, `{"stream":"KPITRAIL","seq":0}`, `{"stream":"KPITRAIL","seq":01}`,
		`{"stream":"KPITRAIL","seq":-1}`, `{"stream":"KPITRAIL","seq":1.5}`, `{"stream":"KPITRAIL","seq":}`, `{"stream":"KPITRAIL","seq":1} `,
		`{"stream":"KPITRAIL","domain":"hub","seq":7}`, `{"stream":"KPITRAIL","seq":7,"duplicate": true}`,
		`{"stream":"OTHER","seq":7}`, `{"stream":"KPITRAILX","seq":7}`, `{"stream":"","seq":7}`, `{"seq":7}`, `{}`, ``, `nonsense`,
		`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"}}`,
		`{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"KPITRAIL","seq":1}`,
		`{"type":"io.nats.jetstream.api.v1.pub_ack","stream":"KPITRAIL","seq":3}`,
		`{ "stream" : "KPITRAIL" , "seq" : 9 }`,
	} {
		checkPubAck(t, s, data)
	}
}

func FuzzParsePubAck(f *testing.F) {
	f.Add([]byte(`{"stream":"KPITRAIL","seq":12}`))
	f.Add([]byte(`{"stream":"KPITRAIL","seq":7,"duplicate": true}`))
	f.Add([]byte(`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"}}`))
	s := &JetStream{cfg: Config{Stream: "KPITRAIL"}}
	f.Fuzz(func(t *testing.T, data []byte) { checkPubAck(t, s, string(data)) })
}
