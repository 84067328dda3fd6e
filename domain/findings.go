package domain

import "slices"

// AggregateAudit holds auditors' acknowledgements of verification findings
// (one aggregate, id "findings").
const AggregateAudit = "audit"

// EvFindingAcknowledged records that an auditor looked at a finding of
// `audit verify` and accepted it, with the reason: the finding stays in
// every report, listed as acknowledged, and no longer fails verification.
const EvFindingAcknowledged = "audit.finding_acknowledged"

// FindingKinds are the kinds of finding `audit verify` reports. Stable:
// acknowledgements name them.
var FindingKinds = []string{
	"malformed",           // stored bytes that are not a kpitrail message
	"foreign",             // a message kpitrail did not sign
	"deleted",             // positions missing from the stream
	"altered",             // an event whose content no longer matches its hash
	"gap",                 // an aggregate's versions skip
	"reordered",           // a version at or below the aggregate's head
	"inserted",            // an event that does not link to its aggregate's head
	"root_mismatch",       // the log's root at a position differs from a root kept elsewhere
	"checkpoint_mismatch", // a checkpoint or snapshot in the log names a root the log does not give
	"truncated",           // the log ends before a position verified, projected or published before
	"empty",               // the log holds no messages
	"republished",         // the stream or its messages were stored again since they were verified
	"statement_invalid",   // a root statement whose signature no trusted key vouches for
	"key_mismatch",        // a key rotation in the log contradicts the keyring
}

type FindingAcknowledged struct {
	Position      uint64 `json:"position"`
	Kind          string `json:"kind"`
	AggregateType string `json:"aggregate_type,omitempty"`
	AggregateID   string `json:"aggregate_id,omitempty"`
	Reason        string `json:"reason"`
}

func (FindingAcknowledged) EventName() string { return EvFindingAcknowledged }

func init() {
	register(AggregateAudit, 1, func() Event { return &FindingAcknowledged{} }, nil)
}

type findingKey struct {
	position uint64
	kind     string
}

// AuditFindings is the list of acknowledged findings.
type AuditFindings struct {
	id      string
	version uint64
	acked   map[findingKey]bool
}

func NewAuditFindings(id string) *AuditFindings {
	return &AuditFindings{id: id, acked: map[findingKey]bool{}}
}
func (a *AuditFindings) Ref() AggregateRef { return AggregateRef{Type: AggregateAudit, ID: a.id} }
func (a *AuditFindings) Version() uint64   { return a.version }
func (a *AuditFindings) Apply(r Recorded) {
	a.version = r.AggregateVersion
	if e, ok := r.Data.(*FindingAcknowledged); ok {
		a.acked[findingKey{e.Position, e.Kind}] = true
	}
}

// Acknowledge decides audit.finding_acknowledged. A finding is known by
// its position and kind; each is acknowledged once.
func (a *AuditFindings) Acknowledge(c AcknowledgeFinding) ([]Event, error) {
	if !slices.Contains(FindingKinds, c.Kind) {
		return nil, Invalid("kind", "enum", "must be one of %v, got %q", FindingKinds, c.Kind)
	}
	if c.Position == 0 && c.Kind != "empty" {
		return nil, Invalid("position", "required", "a %s finding has a position >= 1", c.Kind)
	}
	if c.AggregateType != "" || c.AggregateID != "" {
		if err := (AggregateRef{Type: c.AggregateType, ID: c.AggregateID}).Validate(); err != nil {
			return nil, err
		}
	}
	if err := CheckText("reason", c.Reason, true, MaxLongText); err != nil {
		return nil, err
	}
	if a.acked[findingKey{c.Position, c.Kind}] {
		return nil, RuleViolation("position", "once", "the %s finding at position %d is acknowledged already", c.Kind, c.Position)
	}
	return []Event{&FindingAcknowledged{Position: c.Position, Kind: c.Kind, AggregateType: c.AggregateType,
		AggregateID: c.AggregateID, Reason: c.Reason}}, nil
}

// AcknowledgeFinding is an auditor's acceptance of one finding.
type AcknowledgeFinding struct {
	Position      uint64 `json:"position"`
	Kind          string `json:"kind"`
	AggregateType string `json:"aggregate_type,omitempty"`
	AggregateID   string `json:"aggregate_id,omitempty"`
	Reason        string `json:"reason"`
}

func (c AcknowledgeFinding) Target() AggregateRef {
	return AggregateRef{Type: AggregateAudit, ID: "findings"}
}
func (c AcknowledgeFinding) Requires() []AggregateRef { return nil }
func (c AcknowledgeFinding) CommandName() string      { return "audit.acknowledge_finding" }
func (c AcknowledgeFinding) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*AuditFindings).Acknowledge(c)
}
