package projections

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
)

const indicatorColumns = `id, task_id, year, key, name, COALESCE(unit, ''), direction, COALESCE(formula, ''), additive,
	is_rate, rounding, lifecycle, COALESCE(target, ''), COALESCE(target_low, ''), COALESCE(target_high, ''),
	COALESCE(target_milestone, ''), COALESCE(value, ''), COALESCE(value_window, ''), COALESCE(quality, ''),
	COALESCE(source_kind, ''), COALESCE(source_name, ''), COALESCE(final_due, ''), COALESCE(year_closed, 0),
	COALESCE(completion_ratio, ''), COALESCE(completion_pct_display, ''), COALESCE(completion_case, ''),
	COALESCE(formula_used, ''), met, status, COALESCE(expected_to_date, ''), COALESCE(expected_share_display, ''),
	COALESCE(quality_basis, ''), COALESCE(derive_error, ''), COALESCE(position, 0), version, updated_at,
	COALESCE(review_state, '')`

// ListIndicators returns indicators ordered by task, year and id.
func (db *DB) ListIndicators(ctx context.Context, f IndicatorFilter) ([]Indicator, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	var where []string
	var args []any
	if f.ID != "" {
		where, args = append(where, "id = ?"), append(args, f.ID)
	}
	if f.TaskID != "" {
		where, args = append(where, "task_id = ?"), append(args, f.TaskID)
	}
	if f.Year != 0 {
		where, args = append(where, "year = ?"), append(args, f.Year)
	}
	if f.Q != "" {
		where = append(where, `(name LIKE ? ESCAPE '\' OR key LIKE ? ESCAPE '\')`)
		like := "%" + likeEscaper.Replace(f.Q) + "%"
		args = append(args, like, like)
	}
	q := `SELECT ` + indicatorColumns + ` FROM indicators`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := db.reader.QueryContext(ctx, q+` ORDER BY task_id, year, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Indicator{}
	for rows.Next() {
		var in Indicator
		var met sql.NullBool
		if err := rows.Scan(&in.ID, &in.TaskID, &in.Year, &in.Key, &in.Name, &in.Unit, &in.Direction, &in.Formula,
			&in.Additive, &in.IsRate, &in.Rounding, &in.Lifecycle, &in.Target, &in.TargetLow, &in.TargetHigh,
			&in.TargetMilestone, &in.Value, &in.ValueWindow, &in.Quality, &in.SourceKind, &in.SourceName, &in.FinalDue,
			&in.YearClosed, &in.CompletionRatio, &in.CompletionPctDisplay, &in.CompletionCase, &in.FormulaUsed, &met,
			&in.Status, &in.ExpectedToDate, &in.ExpectedShareDisplay, &in.QualityBasis, &in.DeriveError, &in.Position,
			&in.Version, &in.UpdatedAt, &in.ReviewState); err != nil {
			return nil, err
		}
		in.Met = boolPtr(met)
		out = append(out, in)
	}
	return out, rows.Err()
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func boolPtr(b sql.NullBool) *bool {
	if !b.Valid {
		return nil
	}
	return &b.Bool
}

// Figures returns every figure ever reported or corrected for an
// indicator, superseded, corrected and retracted ones included, by window
// and then in log order.
func (db *DB) Figures(ctx context.Context, indicatorID string) ([]Figure, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	rows, err := db.reader.QueryContext(ctx, `SELECT event_id, indicator_id, kind, window_key, from_month, to_month, value,
		COALESCE(numerator, ''), COALESCE(denominator, ''), quality, COALESCE(source_kind, ''), COALESCE(source_name, ''),
		COALESCE(final_due, ''), state, COALESCE(supersedes, ''), COALESCE(corrects, ''), COALESCE(replaced_by, ''),
		COALESCE(note, ''), COALESCE(reason, ''), recorded_at, actor, position, review_state, COALESCE(submitted_by, ''),
		COALESCE(submitted_at, ''), COALESCE(reviewed_by, ''), COALESCE(reviewed_at, ''), COALESCE(review_reason, '')
		FROM figures WHERE indicator_id = ? ORDER BY window_key, position`, indicatorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Figure{}
	for rows.Next() {
		var f Figure
		if err := rows.Scan(&f.EventID, &f.IndicatorID, &f.Kind, &f.Window, &f.FromMonth, &f.ToMonth, &f.Value,
			&f.Numerator, &f.Denominator, &f.Quality, &f.SourceKind, &f.SourceName, &f.FinalDue, &f.State, &f.Supersedes,
			&f.Corrects, &f.ReplacedBy, &f.Note, &f.Reason, &f.RecordedAt, &f.Actor, &f.Position, &f.ReviewState, &f.SubmittedBy,
			&f.SubmittedAt, &f.ReviewedBy, &f.ReviewedAt, &f.ReviewReason); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// History returns an indicator's years, oldest first. keyOrID is an
// indicator key, or the id of any indicator with that key.
func (db *DB) History(ctx context.Context, keyOrID string) ([]IndicatorYear, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	key := keyOrID
	err := db.reader.QueryRowContext(ctx, `SELECT key FROM indicators WHERE id = ?`, keyOrID).Scan(&key)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT key, year, indicator_id, task_id, name, COALESCE(unit, ''), is_rate,
		COALESCE(value, ''), COALESCE(value_window, ''), COALESCE(quality, ''), COALESCE(target, ''), met, status,
		COALESCE(base, ''), COALESCE(base_window, ''), COALESCE(base_quality, ''), COALESCE(base_source, ''),
		COALESCE(change_abs, ''), COALESCE(change_pct, ''), COALESCE(change_pct_display, ''), COALESCE(change_pp, ''),
		COALESCE(is_new, 0), COALESCE(review_state, ''), COALESCE(approved_value, ''), COALESCE(approved_value_window, ''),
		COALESCE(approved_base, ''), COALESCE(approved_base_source, ''), COALESCE(approved_change_abs, ''),
		COALESCE(approved_change_pct, ''), COALESCE(approved_change_pct_display, ''), COALESCE(approved_change_pp, ''),
		COALESCE(approved_is_new, 0) FROM indicator_years WHERE key = ? ORDER BY year`, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []IndicatorYear{}
	for rows.Next() {
		var y IndicatorYear
		var met sql.NullBool
		if err := rows.Scan(&y.Key, &y.Year, &y.IndicatorID, &y.TaskID, &y.Name, &y.Unit, &y.IsRate, &y.Value,
			&y.ValueWindow, &y.Quality, &y.Target, &met, &y.Status, &y.Base, &y.BaseWindow, &y.BaseQuality,
			&y.BaseSource, &y.ChangeAbs, &y.ChangePct, &y.ChangePctDisplay, &y.ChangePP, &y.IsNew, &y.ReviewState, &y.ApprovedValue,
			&y.ApprovedValueWindow, &y.ApprovedBase, &y.ApprovedBaseSource, &y.ApprovedChangeAbs, &y.ApprovedChangePct,
			&y.ApprovedChangePctDisplay, &y.ApprovedChangePP, &y.ApprovedIsNew); err != nil {
			return nil, err
		}
		y.Met = boolPtr(met)
		out = append(out, y)
	}
	return out, rows.Err()
}

// AuditTrail returns every change to an indicator's figures, bases and
// targets, and every freeze and reopen of its year, in log order.
func (db *DB) AuditTrail(ctx context.Context, indicatorID string) ([]FigureChange, error) {
	gen, cached := db.answers.generation()
	if !cached {
		return db.auditTrail(ctx, indicatorID)
	}
	if cs, ok := db.answers.auditTrail(indicatorID); ok {
		return cs, nil
	}
	v, err := db.answers.once(ctx, auditKey(indicatorID), gen, func() (any, error) {
		cs, err := db.auditTrail(ctx, indicatorID)
		if err == nil {
			db.answers.keepAuditTrail(gen, indicatorID, cs)
		}
		return cs, err
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]FigureChange)), nil
}

// auditKey keeps audit-trail queries apart from boards in answers.running.
type auditKey string

func (db *DB) auditTrail(ctx context.Context, indicatorID string) ([]FigureChange, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	rows, err := db.reader.QueryContext(ctx, `SELECT event_id, indicator_id, task_id, period, kind, COALESCE(old_value, ''),
		COALESCE(new_value, ''), COALESCE(old_quality, ''), COALESCE(new_quality, ''), COALESCE(reason, ''),
		COALESCE(note, ''), COALESCE(figure_source_kind, ''), COALESCE(figure_source_name, ''), COALESCE(corrects, ''),
		actor, COALESCE(actor_token_id, ''), recorded_at, source, command_id, position, COALESCE(old_state, ''), COALESCE(new_state, '')
		FROM figure_changes WHERE indicator_id = ?
		UNION ALL
		SELECT y.event_id, i.id, i.task_id, CAST(y.year AS TEXT), 'year_' || y.kind, '', '', '', '', COALESCE(y.reason, ''),
		COALESCE(y.note, ''), '', '', '', y.actor, COALESCE(y.actor_token_id, ''), y.recorded_at, y.source, y.command_id, y.position,
		CASE y.kind WHEN 'frozen' THEN 'open' WHEN 'reopened' THEN 'frozen' ELSE '' END,
		CASE y.kind WHEN 'frozen' THEN 'frozen' WHEN 'reopened' THEN 'open' ELSE '' END
		FROM year_changes y JOIN indicators i ON i.year = y.year WHERE i.id = ?
		ORDER BY position, event_id`, indicatorID, indicatorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// One change scanned into, with its destinations bound once (see
	// taskScan): a fresh one and its argument list per row escaped.
	out := make([]FigureChange, 0, 64)
	c := new(FigureChange)
	dest := []any{&c.EventID, &c.IndicatorID, &c.TaskID, &c.Period, &c.Kind, &c.OldValue, &c.NewValue,
		&c.OldQuality, &c.NewQuality, &c.Reason, &c.Note, &c.FigureSourceKind, &c.FigureSourceName, &c.Corrects,
		&c.Actor, &c.ActorTokenID, &c.RecordedAt, &c.Source, &c.CommandID, &c.Position, &c.OldState, &c.NewState}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// DeadLetters returns the most recent dead letters first; limit <= 0
// means 100.
func (db *DB) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT position, subject, kind, COALESCE(event_id, ''), COALESCE(name, ''),
		COALESCE(aggregate_type, ''), COALESCE(aggregate_id, ''), error, raw, COALESCE(recorded_at, ''), dead_lettered_at
		FROM dead_letters ORDER BY position DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DeadLetter{}
	for rows.Next() {
		var d DeadLetter
		if err := rows.Scan(&d.Position, &d.Subject, &d.Kind, &d.EventID, &d.Name, &d.AggregateType, &d.AggregateID,
			&d.Error, &d.Raw, &d.RecordedAt, &d.DeadLetteredAt); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// GetIndicator returns one indicator, or a not-found domain error.
func (db *DB) GetIndicator(ctx context.Context, id string) (Indicator, error) {
	list, err := db.ListIndicators(ctx, IndicatorFilter{ID: id})
	if err != nil {
		return Indicator{}, err
	}
	if len(list) == 0 {
		return Indicator{}, IndicatorNotFound(id)
	}
	return list[0], nil
}

// DeadLetterCount counts dead letters, for metrics.
func (db *DB) DeadLetterCount(ctx context.Context) (int, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	var n int
	err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM dead_letters`).Scan(&n)
	return n, err
}
