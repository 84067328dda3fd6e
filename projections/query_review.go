package projections

import (
	"context"
	"strings"
)

// ReviewItem is one thing awaiting someone's review step: a figure to
// approve or return, a figure to submit (first time, returned or reopened),
// or a proposal to decide.
type ReviewItem struct {
	// Action is what awaits: approve (a submitted figure), submit (a
	// figure reported, returned or reopened), decide (a pending proposal).
	Action         string `json:"action"`
	Kind           string `json:"kind"` // figure | proposal
	EventID        string `json:"event_id"`
	IndicatorID    string `json:"indicator_id"`
	IndicatorName  string `json:"indicator_name"`
	TaskID         string `json:"task_id"`
	Year           int    `json:"year"`
	LeadDepartment string `json:"lead_department"`
	Window         string `json:"window"`
	Value          string `json:"value,omitempty"`
	Quality        string `json:"quality,omitempty"`
	// State is the figure's review state, or the proposal's kind (base,
	// target) for a proposal.
	State  string `json:"state"`
	By     string `json:"by"`    // who submitted, recorded or proposed it
	Since  string `json:"since"` // when
	Reason string `json:"reason,omitempty"`
}

// ReviewFilter says whose queue: Approver lists what awaits the office
// (submitted figures and pending proposals, but never Person's own),
// otherwise the figures Departments still have to submit. Year 0 is every
// year.
type ReviewFilter struct {
	Approver bool
	// Person is the caller's name: what a person submitted or proposed,
	// under any of its tokens or roles, is not theirs to approve
	// (auth.SamePerson), so it is not in their queue.
	Person      string
	Departments []string
	Year        int
}

// actorName is the name part of an actor ("role:name") in SQL, the part
// auth.SamePerson compares.
func actorName(column string) string {
	return `substr(` + column + `, instr(` + column + `, ':') + 1)`
}

// ReviewQueue lists what awaits a review step, oldest first.
func (db *DB) ReviewQueue(ctx context.Context, f ReviewFilter) ([]ReviewItem, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	var q string
	var args []any
	if f.Approver {
		q = `SELECT 'approve', 'figure', f.event_id, i.id, i.name, i.task_id, i.year, t.lead_department, f.window_key, f.value,
			f.quality, f.review_state, COALESCE(f.submitted_by, ''), COALESCE(f.submitted_at, ''), COALESCE(f.review_reason, '')
			FROM figures f JOIN indicators i ON i.id = f.indicator_id JOIN tasks t ON t.id = i.task_id
			WHERE f.state = 'current' AND f.review_state = 'submitted' AND i.lifecycle = 'active'
				AND (f.submitted_by IS NULL OR ` + actorName("f.submitted_by") + ` <> ?) AND (? = 0 OR i.year = ?)
			UNION ALL
			SELECT 'decide', 'proposal', p.event_id, i.id, i.name, i.task_id, i.year, t.lead_department, COALESCE(p.window_key, ''),
			COALESCE(` + proposalText("p") + `, ''), COALESCE(p.quality, ''), p.kind, p.proposed_by, p.proposed_at, p.reason
			FROM proposals p JOIN indicators i ON i.id = p.indicator_id JOIN tasks t ON t.id = i.task_id
			WHERE p.state = 'pending' AND i.lifecycle = 'active' AND ` + actorName("p.proposed_by") + ` <> ? AND (? = 0 OR i.year = ?)
			ORDER BY 14, 3`
		args = []any{f.Person, f.Year, f.Year, f.Person, f.Year, f.Year}
	} else {
		if len(f.Departments) == 0 {
			return []ReviewItem{}, nil
		}
		in := strings.TrimSuffix(strings.Repeat("?, ", len(f.Departments)), ", ")
		q = `SELECT 'submit', 'figure', f.event_id, i.id, i.name, i.task_id, i.year, t.lead_department, f.window_key, f.value,
			f.quality, f.review_state, f.actor, COALESCE(f.reviewed_at, f.recorded_at), COALESCE(f.review_reason, '')
			FROM figures f JOIN indicators i ON i.id = f.indicator_id JOIN tasks t ON t.id = i.task_id
			WHERE f.state = 'current' AND f.review_state IN ('reported', 'returned', 'reopened') AND i.lifecycle = 'active'
				AND (? = 0 OR i.year = ?)
				AND (t.lead_department IN (` + in + `) OR EXISTS (SELECT 1 FROM json_each(t.co_departments) WHERE value IN (` + in + `)))
			ORDER BY 14, 3`
		args = []any{f.Year, f.Year}
		for range 2 {
			for _, d := range f.Departments {
				args = append(args, d)
			}
		}
	}
	rows, err := db.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ReviewItem{}
	for rows.Next() {
		var it ReviewItem
		if err := rows.Scan(&it.Action, &it.Kind, &it.EventID, &it.IndicatorID, &it.IndicatorName, &it.TaskID, &it.Year, &it.LeadDepartment,
			&it.Window, &it.Value, &it.Quality, &it.State, &it.By, &it.Since, &it.Reason); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Proposal is a department's proposed base or target and the office's
// decision.
type Proposal struct {
	EventID         string `json:"event_id"`
	IndicatorID     string `json:"indicator_id"`
	Kind            string `json:"kind"`
	Window          string `json:"window"`
	Value           string `json:"value,omitempty"`
	Quality         string `json:"quality,omitempty"`
	Reason          string `json:"reason"`
	State           string `json:"state"`
	ProposedBy      string `json:"proposed_by"`
	ProposedAt      string `json:"proposed_at"`
	DecidedBy       string `json:"decided_by,omitempty"`
	DecidedAt       string `json:"decided_at,omitempty"`
	DecisionReason  string `json:"decision_reason,omitempty"`
	DecisionEventID string `json:"decision_event_id,omitempty"`
}

// Proposals lists an indicator's proposals in log order.
func (db *DB) Proposals(ctx context.Context, indicatorID string) ([]Proposal, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	rows, err := db.reader.QueryContext(ctx, `SELECT event_id, indicator_id, kind, COALESCE(window_key, ''), COALESCE(`+proposalText("p")+`, ''),
		COALESCE(quality, ''), reason, state, proposed_by, proposed_at, COALESCE(decided_by, ''), COALESCE(decided_at, ''),
		COALESCE(decision_reason, ''), COALESCE(decision_event_id, '') FROM proposals p WHERE indicator_id = ? ORDER BY position`, indicatorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Proposal{}
	for rows.Next() {
		var p Proposal
		if err := rows.Scan(&p.EventID, &p.IndicatorID, &p.Kind, &p.Window, &p.Value, &p.Quality, &p.Reason, &p.State, &p.ProposedBy,
			&p.ProposedAt, &p.DecidedBy, &p.DecidedAt, &p.DecisionReason, &p.DecisionEventID); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
