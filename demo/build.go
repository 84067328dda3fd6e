package demo

import (
	"fmt"

	"kpitrail/domain"
	"kpitrail/importer"
)

type stepBuilder struct {
	year      int
	tasks     map[string]string // title -> task id
	leads     map[string]string // task id -> lead department
	problem87 domain.RecordProblem
	steps     []Step
	figures   []reported // the figures reported, to submit and approve
	// explanations of the warnings the figures raise, run once reported
	explanations []Step
	err          error
}

// reported is a figure step: its key, its indicator and its task.
type reported struct {
	key, indicator, task string
}

func (b *stepBuilder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf(format, args...)
	}
}

func (b *stepBuilder) add(cmd domain.Command) {
	key, err := importer.CommandKey(keyPrefix, cmd, 0)
	if err != nil {
		b.fail("%v", err)
		return
	}
	b.steps = append(b.steps, Step{Key: key, Command: cmd})
}

func (b *stepBuilder) task(title string) string {
	id, ok := b.tasks[title]
	if !ok {
		b.fail("demo: no task %q in the seed", title)
	}
	return id
}

func (b *stepBuilder) dec(s string) *domain.Decimal {
	d, err := domain.ParseDecimal(s)
	if err != nil {
		b.fail("demo: %v", err)
		return nil
	}
	return &d
}

func (b *stepBuilder) window(from, to int) domain.Window {
	if from == 0 && to == 0 {
		return domain.YearWindow(b.year)
	}
	return domain.Window{Year: b.year, FromMonth: from, ToMonth: to}
}

func (b *stepBuilder) indicator(in ind) {
	id := IndicatorID(b.year, in.slug)
	def := domain.DefineIndicator{IndicatorID: id, TaskID: b.task(in.task), Key: in.slug, Name: in.name, Unit: in.unit,
		Direction: in.dir, Formula: in.formula, AllowNegative: in.allowNeg}
	if in.partOf != "" {
		def.PartOf = IndicatorID(b.year, in.partOf)
	}
	b.add(def)
	switch {
	case in.target != "":
		b.add(domain.SetTarget{IndicatorID: id, Value: b.dec(in.target), Reason: in.targetPhrase})
	case in.pct != "" && in.fig != nil:
		value := b.dec(in.fig.value)
		if value == nil {
			return
		}
		t, ok := deriveTarget(*value, in.pct, in.unit)
		if !ok {
			b.fail("demo: %s: no target reproduces %s%%", in.slug, in.pct)
			return
		}
		b.add(domain.SetTarget{IndicatorID: id, Value: &t,
			Reason: fmt.Sprintf("%s\n推算：%s ÷ %s%% = %s", in.targetPhrase, value, in.pct, t)})
	}
	if pb := in.baseValue; pb != nil {
		if v := b.dec(pb.value); v != nil {
			src := pb.source
			b.add(domain.RecordBase{IndicatorID: id, Window: domain.YearWindow(b.year - 1), Value: v,
				Quality: domain.QualityFinal, Source: &src, Reason: pb.phrase})
		}
	}
	if f := in.fig; f != nil {
		if in.base != nil {
			b.inferredBase(id, in.base, f)
		}
		note := f.phrase
		if f.derivation != "" {
			note += "\n推算：" + f.derivation
		}
		c := domain.ReportFigure{IndicatorID: id, Window: b.window(f.from, f.to), Value: b.dec(f.value),
			Quality: f.quality, Source: f.source, Note: note}
		if f.num != "" {
			c.Numerator, c.Denominator = b.dec(f.num), b.dec(f.den)
		}
		b.add(c)
		if b.err == nil {
			key := b.steps[len(b.steps)-1].Key
			b.figures = append(b.figures, reported{key: key, indicator: id, task: b.task(in.task)})
			if ex := in.explain; ex != nil {
				b.explanations = append(b.explanations, Step{Command: domain.ExplainWarning{IndicatorID: id, Rule: ex.rule, Reason: ex.reason}, FigureOf: key})
			}
		}
	}
}

// review has every reported figure submitted by its task's lead
// department and approved by the office, as the year-end review does.
func (b *stepBuilder) review() {
	for _, f := range b.figures {
		b.addAs(domain.SubmitFigure{IndicatorID: f.indicator, Reason: "部门报送，请考评办审核"}, b.leads[f.task], f.key)
	}
	for _, f := range b.figures {
		b.addAs(domain.ApproveFigure{IndicatorID: f.indicator, Reason: "与自查表一致"}, "", f.key)
	}
	for _, e := range b.explanations {
		b.addAs(e.Command, "", e.FigureOf)
	}
}

func (b *stepBuilder) addAs(cmd domain.Command, department, figureOf string) {
	key, err := importer.CommandKey(keyPrefix, cmd, 0)
	if err != nil {
		b.fail("%v", err)
		return
	}
	b.steps = append(b.steps, Step{Key: key, Command: cmd, Department: department, FigureOf: figureOf})
}

// inferredBase records last year's figure for the same window, recovered
// from the printed change: 13起, 减少3起 → 16.
func (b *stepBuilder) inferredBase(id string, bs *base, f *fig) {
	cur, abs := b.dec(f.value), b.dec(bs.changeAbs)
	if cur == nil || abs == nil {
		return
	}
	w := b.window(f.from, f.to)
	w.Year--
	v := domain.InferBase(*cur, *abs)
	b.add(domain.RecordBase{IndicatorID: id, Window: w, Value: &v, Quality: domain.QualityFinal,
		Reason: fmt.Sprintf("%s\n推算：%s − (%s) = %s", bs.phrase, cur, abs, v)})
}

func (b *stepBuilder) milestone(m milestone) {
	c := domain.RecordMilestone{TaskID: b.task(m.task), Milestone: m.name, Note: m.phrase}
	if m.date != "" {
		c.ReachedOn = domain.Date(fmt.Sprintf("%d-%s", b.year, m.date))
	}
	b.add(c)
}
