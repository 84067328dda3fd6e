package audit

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"kpitrail/signing"
)

// StatementLabel names the root statement's format.
const StatementLabel = "kpitrail.root.v1"

// Statement is kpitrail's signed word that the log up to Position has the
// given root: what `kpitrail audit root` prints for an auditor to keep
// outside the system, and `audit verify --root-file` checks the log against.
type Statement struct {
	Statement string `json:"statement"`
	Checkpoint
	// StoredAt is the server's time of storing the message at Position.
	StoredAt time.Time `json:"stored_at,omitzero"`
	// Time is when the statement was made.
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"` // standard base64
}

// NewStatement signs a checkpoint.
func NewStatement(s *signing.Signer, cp Checkpoint, storedAt, now time.Time) Statement {
	st := Statement{Statement: StatementLabel, Checkpoint: cp, StoredAt: storedAt.UTC(), Time: now.UTC(), KeyID: s.KeyID()}
	st.Signature = base64.StdEncoding.EncodeToString(s.Sign(st.signed()))
	return st
}

// signed is what the signature covers: every field but the signature,
// framed like the event hash's fields.
func (st Statement) signed() []byte {
	b := signing.Frame(nil, StatementLabel)
	b = signing.FrameNumber(b, st.Position)
	b = signing.Frame(b, st.Root)
	b = signing.FrameNumber(b, uint64(st.Aggregates))
	b = signing.Frame(b, formatTime(st.StoredAt))
	b = signing.Frame(b, formatTime(st.Time))
	return signing.Frame(b, st.KeyID)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Verify checks the statement's signature against the keyring.
func (st Statement) Verify(kr *signing.Keyring) error {
	if st.Statement != StatementLabel {
		return fmt.Errorf("not a %s statement", StatementLabel)
	}
	sig, err := base64.StdEncoding.DecodeString(st.Signature)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	return kr.VerifyStatement(st.KeyID, st.signed(), sig)
}

// Claim is the statement as a root to check the log against; it counts
// only if its signature verifies.
func (st Statement) Claim(source string) Claim {
	s := st
	return Claim{Source: source, Checkpoint: st.Checkpoint, StoredAt: st.StoredAt, statement: &s}
}

// ReadStatement reads a statement file.
func ReadStatement(path string) (Statement, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Statement{}, fmt.Errorf("root statement: %w", err)
	}
	var st Statement
	if err := json.Unmarshal(data, &st); err != nil {
		return Statement{}, fmt.Errorf("root statement %s: %w", path, err)
	}
	return st, nil
}
