package console

import (
	"context"
	"net/http"
	"strings"
	"time"

	"kpitrail/domain"
	"kpitrail/projections"
)

// The compare view: one indicator as the read models knew it at two
// instants, field by field, and the audit-trail entries recorded between
// them: what changed, who changed it, and why.

type comparePage struct {
	ID         string
	Name       string
	From, To   string // as typed, for the form
	FromText   string
	ToText     string
	Ready      bool
	Rows       []compareRow
	Changes    []projections.FigureChange
	FromAbsent bool
	ToAbsent   bool
}

type compareRow struct {
	Label, From, To string
	Changed         bool
}

func (c *Console) compare(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	p := comparePage{ID: r.PathValue("id"), From: q.Get("from"), To: q.Get("to")}
	// The name, and every change, from the log as it is now.
	var all []projections.FigureChange
	err := c.cfg.Reads.With(r.Context(), nil, func(db *projections.DB) error {
		if err := v.readableIndicator(r.Context(), db, p.ID); err != nil {
			return err
		}
		in, err := db.GetIndicator(r.Context(), p.ID)
		if err != nil {
			return err
		}
		p.Name = in.Name
		all, err = db.AuditTrail(r.Context(), p.ID)
		return err
	})
	if err != nil {
		return err
	}
	if p.From == "" || p.To == "" {
		if p.To == "" {
			p.To = time.Now().In(c.cfg.Location).Format("2006-01-02T15:04:05")
		}
		return c.render(w, v, http.StatusOK, "compare", p.Name+" · 对比", p)
	}
	from, err := parseInstant(p.From, c.cfg.Location)
	if err != nil {
		return domain.Invalid("from", "instant", "must be a date and time such as 2022-12-31T23:59, got %q", p.From)
	}
	to, err := parseInstant(p.To, c.cfg.Location)
	if err != nil {
		return domain.Invalid("to", "instant", "must be a date and time such as 2022-12-31T23:59, got %q", p.To)
	}
	if !from.Before(to) {
		from, to = to, from
	}
	a, aok, err := c.indicatorAt(r.Context(), p.ID, from)
	if err != nil {
		return err
	}
	b, bok, err := c.indicatorAt(r.Context(), p.ID, to)
	if err != nil {
		return err
	}
	p.Ready, p.FromAbsent, p.ToAbsent = true, !aok, !bok
	p.FromText = from.In(c.cfg.Location).Format("2006-01-02 15:04:05")
	p.ToText = to.In(c.cfg.Location).Format("2006-01-02 15:04:05")
	for _, f := range compareFields {
		x, y := f.get(a), f.get(b)
		p.Rows = append(p.Rows, compareRow{Label: f.label, From: x, To: y, Changed: x != y})
	}
	for _, ch := range all {
		t, err := time.Parse(time.RFC3339Nano, ch.RecordedAt)
		if err == nil && t.After(from) && !t.After(to) {
			p.Changes = append(p.Changes, ch)
		}
	}
	return c.render(w, v, http.StatusOK, "compare", p.Name+" · 对比", p)
}

func (c *Console) indicatorAt(ctx context.Context, id string, t time.Time) (projections.Indicator, bool, error) {
	var in projections.Indicator
	err := c.cfg.Reads.With(ctx, &t, func(db *projections.DB) error {
		var err error
		in, err = db.GetIndicator(ctx, id)
		return err
	})
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return in, false, nil
	}
	return in, err == nil, err
}

var compareFields = []struct {
	label string
	get   func(projections.Indicator) string
}{
	{"目标", func(i projections.Indicator) string { return i.Target }},
	{"最新数值", func(i projections.Indicator) string { return i.Value }},
	{"口径", func(i projections.Indicator) string { return windowLabel(i.ValueWindow) }},
	{"质量", func(i projections.Indicator) string { return qualityLabel(i.Quality) }},
	{"来源", func(i projections.Indicator) string {
		return strings.TrimSpace(sourceLabel(i.SourceKind) + " " + i.SourceName)
	}},
	{"完成率", func(i projections.Indicator) string { return pct(i.CompletionPctDisplay) }},
	{"状态", func(i projections.Indicator) string {
		if i.ID == "" {
			return ""
		}
		return statusLabel(i.Status)
	}},
	{"序时进度", func(i projections.Indicator) string { return pct(i.ExpectedShareDisplay) }},
	{"版本", func(i projections.Indicator) string {
		if i.Version == 0 {
			return ""
		}
		return "v" + itoa(int(i.Version))
	}},
}
