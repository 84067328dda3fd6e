package projections

import (
	"context"
	"encoding/json"
	"strings"

	"kpitrail/domain"
)

// Warning is one rule's finding, as stored with its figure.
type Warning struct {
	IndicatorID        string   `json:"indicator_id"`
	IndicatorName      string   `json:"indicator_name"`
	TaskID             string   `json:"task_id"`
	LeadDepartment     string   `json:"lead_department"`
	Year               int      `json:"year"`
	Rule               string   `json:"rule"`
	Severity           string   `json:"severity"`
	Figure             string   `json:"figure,omitempty"`
	Window             string   `json:"window,omitempty"`
	Message            string   `json:"message"`
	Related            []string `json:"related"`
	State              string   `json:"state"` // open | explained
	Explanation        string   `json:"explanation,omitempty"`
	ExplainedBy        string   `json:"explained_by,omitempty"`
	ExplainedAt        string   `json:"explained_at,omitempty"`
	ExplanationEventID string   `json:"explanation_event_id,omitempty"`
}

// WarningFilter selects warnings; empty fields select all. State "" is
// open only; "all" is every state.
type WarningFilter struct {
	State       string
	Year        int
	IndicatorID string
	Department  string
	Figures     []string // only the warnings about these figures
}

// Warnings lists warnings by year, indicator, rule and figure.
func (db *DB) Warnings(ctx context.Context, f WarningFilter) ([]Warning, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	where := []string{"1 = 1"}
	var args []any
	switch f.State {
	case "", "open":
		where = append(where, "w.state = 'open'")
	case "explained":
		where = append(where, "w.state = 'explained'")
	case "all":
	default:
		return nil, domain.Invalid("state", "enum", "must be open, explained or all; got %q", f.State)
	}
	if f.Year != 0 {
		where, args = append(where, "w.year = ?"), append(args, f.Year)
	}
	if f.IndicatorID != "" {
		where, args = append(where, "w.indicator_id = ?"), append(args, f.IndicatorID)
	}
	if f.Department != "" {
		where = append(where, "(t.lead_department = ? OR EXISTS (SELECT 1 FROM json_each(t.co_departments) WHERE value = ?))")
		args = append(args, f.Department, f.Department)
	}
	if len(f.Figures) > 0 {
		where = append(where, "w.subject IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.Figures)), ", ")+")")
		for _, id := range f.Figures {
			args = append(args, id)
		}
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT w.indicator_id, i.name, w.task_id, t.lead_department, w.year, w.rule, w.severity,
		w.subject, COALESCE(w.window_key, ''), w.message, w.related, w.state, COALESCE(w.explanation, ''), COALESCE(w.explained_by, ''),
		COALESCE(w.explained_at, ''), COALESCE(w.explanation_event_id, '')
		FROM warnings w JOIN indicators i ON i.id = w.indicator_id JOIN tasks t ON t.id = w.task_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY w.year, w.indicator_id, w.rule, w.subject`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Warning{}
	for rows.Next() {
		var w Warning
		var related string
		if err := rows.Scan(&w.IndicatorID, &w.IndicatorName, &w.TaskID, &w.LeadDepartment, &w.Year, &w.Rule, &w.Severity, &w.Figure,
			&w.Window, &w.Message, &related, &w.State, &w.Explanation, &w.ExplainedBy, &w.ExplainedAt, &w.ExplanationEventID); err != nil {
			return nil, err
		}
		w.Related = []string{}
		_ = json.Unmarshal([]byte(related), &w.Related)
		out = append(out, w)
	}
	return out, rows.Err()
}

// KeyUses lists the active indicators of a key, for the write side's
// check that every year measures it alike (domain.CheckKeyUse).
func (db *DB) KeyUses(ctx context.Context, key string) ([]domain.KeyUse, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	rows, err := db.reader.QueryContext(ctx, `SELECT id, year, COALESCE(unit, ''), direction FROM indicators
		WHERE key = ? AND lifecycle = 'active' ORDER BY year, id`, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.KeyUse
	for rows.Next() {
		var u domain.KeyUse
		if err := rows.Scan(&u.IndicatorID, &u.Year, &u.Unit, &u.Direction); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
