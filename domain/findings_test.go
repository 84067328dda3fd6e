package domain_test

import (
	"strings"
	"testing"

	"kpitrail/domain"
)

func TestAcknowledgeFindingOncePerPositionAndKind(t *testing.T) {
	a := domain.NewAuditFindings("findings")
	ok := domain.AcknowledgeFinding{Position: 12, Kind: "foreign", AggregateType: "task", AggregateID: "t87", Reason: "联调误发，已核实"}
	cases := []struct {
		name string
		cmd  domain.AcknowledgeFinding
		code domain.Code
	}{
		{"unknown kind", domain.AcknowledgeFinding{Position: 12, Kind: "vanished", Reason: "x"}, domain.EINVALID},
		{"no position", domain.AcknowledgeFinding{Kind: "foreign", Reason: "x"}, domain.EINVALID},
		{"no reason", domain.AcknowledgeFinding{Position: 12, Kind: "foreign"}, domain.EINVALID},
		{"bad aggregate", domain.AcknowledgeFinding{Position: 12, Kind: "foreign", AggregateType: "table", AggregateID: "x", Reason: "x"}, domain.EINVALID},
		{"an empty log has no position", domain.AcknowledgeFinding{Kind: "empty", Reason: "新实例，尚无数据"}, ""},
		{"accepted", ok, ""},
	}
	for _, c := range cases {
		events, err := domain.Decide(c.cmd, a, nil)
		if domain.ErrorCode(err) != c.code || (c.code == "" && err != nil) {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err == nil {
			applyAll(a, events)
		}
	}
	_, err := domain.Decide(ok, a, nil)
	if domain.ErrorCode(err) != domain.ERULE {
		t.Fatalf("the same finding twice: %v", err)
	}
	other := ok
	other.Kind = "gap"
	if _, err := domain.Decide(other, a, nil); err != nil {
		t.Fatalf("another kind at the same position: %v", err)
	}
}

func TestRotateKeyFollowsTheCurrentKey(t *testing.T) {
	k := domain.NewKeyringLog("signing")
	pub := "Fq6cWkq9cRk7Yk5V1b3e5Zl2w2CkE0m6bSg1N3YzQ1U="
	first := domain.RotateKey{RetiredKeyID: "3f9a0c51d2e47b86", KeyID: "a1b2c3d4e5f60718", Algorithm: "ed25519", PublicKey: pub, Reason: "年度轮换"}
	events, err := domain.Decide(first, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	applyAll(k, events)
	if k.Current() != "a1b2c3d4e5f60718" {
		t.Fatalf("current key %s", k.Current())
	}
	for name, c := range map[string]domain.RotateKey{
		"retires a key that is not current": {RetiredKeyID: "3f9a0c51d2e47b86", KeyID: "0000000000000001", Algorithm: "ed25519", PublicKey: pub, Reason: "x"},
		"the same key":                      {RetiredKeyID: "a1b2c3d4e5f60718", KeyID: "a1b2c3d4e5f60718", Algorithm: "ed25519", PublicKey: pub, Reason: "x"},
	} {
		if _, err := domain.Decide(c, k, nil); domain.ErrorCode(err) != domain.ERULE {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, c := range map[string]domain.RotateKey{
		"key id":     {RetiredKeyID: "a1b2c3d4e5f60718", KeyID: "XYZ", Algorithm: "ed25519", PublicKey: pub, Reason: "x"},
		"algorithm":  {RetiredKeyID: "a1b2c3d4e5f60718", KeyID: "0000000000000001", Algorithm: "rsa", PublicKey: pub, Reason: "x"},
		"public key": {RetiredKeyID: "a1b2c3d4e5f60718", KeyID: "0000000000000001", Algorithm: "ed25519", PublicKey: strings.Repeat("A", 8), Reason: "x"},
		"reason":     {RetiredKeyID: "a1b2c3d4e5f60718", KeyID: "0000000000000001", Algorithm: "ed25519", PublicKey: pub},
	} {
		if _, err := domain.Decide(c, k, nil); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// applyAll applies decided events as the store would hand them back.
func applyAll(a domain.Aggregate, events []domain.Event) {
	for _, e := range events {
		a.Apply(domain.Recorded{Envelope: domain.Envelope{AggregateVersion: a.Version() + 1}, Data: e})
	}
}
