package importer

import (
	"fmt"
	"io"
	"strings"

	"kpitrail/domain"
)

// figureKeyPrefix marks command ids made by the figure import.
const figureKeyPrefix = "fig-"

// PlanFigures reads a structured figure sheet (CSV or XLSX; TSV is read the
// same way) into DefineIndicator, SetTarget and ReportFigure commands, in
// file order. A file describes its indicators itself: the first row of an
// indicator gives task_id, name and direction (and optionally key, unit,
// formula); later rows of it may leave them empty. Validation is all or
// nothing: every row is checked, every refusal is returned as RowErrors with
// its line and column, and a batch with any error plans nothing.
func PlanFigures(r io.Reader, format Format) (*ImportPlan, error) {
	return PlanFiguresWith(r, format, DefaultLimits)
}

// PlanFiguresWith is PlanFigures within lim.
func PlanFiguresWith(r io.Reader, format Format, lim Limits) (*ImportPlan, error) {
	recs, enc, err := readRecords(r, format, lim)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, RowErrors{{Line: 1, Msg: "empty file: the first row must name the columns"}}
	}
	idx, unknown := headerIndex(recs[0].cells)
	if _, ok := idx["indicator_id"]; !ok {
		return nil, RowErrors{{Line: recs[0].line, Column: "indicator_id", Rule: "required", Msg: "the header row has no indicator_id column"}}
	}
	fp := &figurePlanner{idx: idx, b: newBuilder(figureKeyPrefix), defs: map[string]*indicatorDef{}, refused: map[domain.AggregateRef]bool{}}
	// Empty lists, not null: a figure sheet has no dimensions, and usually no
	// warnings, and the API's document says both are arrays.
	p := &ImportPlan{Summary: Summary{Dimensions: []string{}, Warnings: []Warning{}, Encoding: enc}}
	for _, u := range unknown {
		p.Summary.Warnings = append(p.Summary.Warnings, Warning{Line: recs[0].line, Code: WarnUnknownColumn,
			Message: fmt.Sprintf("column %q is not one of %s and is ignored", u, strings.Join(FigureColumns, ", "))})
	}
	for _, rec := range recs[1:] {
		fp.row(rec)
	}
	if fp.b.err != nil {
		return nil, fp.b.err
	}
	// The rows that passed are decided too, so one run reports every row's
	// refusal, not only the field errors.
	fp.errs = append(fp.errs, simulateWith(fp.b.cmds, fp.existingTasks(), fp.refused, figureColumn)...)
	if len(fp.errs) > 0 {
		return nil, fp.errs.sorted()
	}
	p.Commands = groupFigures(fp.b.cmds, fp.b.prefix)
	for _, pc := range p.Commands {
		switch c := pc.Command.(type) {
		case domain.DefineIndicator:
			p.Summary.Indicators++
		case domain.SetTarget:
			p.Summary.Targets++
		case domain.ReportFigure:
			p.Summary.Figures++
			if p.Year == 0 {
				p.Year = c.Window.Year
			}
		case domain.ReportFigures:
			p.Summary.Figures += len(c.Figures)
			if p.Year == 0 {
				p.Year = c.Figures[0].Window.Year
			}
		}
	}
	return p, nil
}

type indicatorDef struct {
	line      int
	cells     map[string]string
	direction domain.Direction
	target    string
	taskYear  int
}

type figurePlanner struct {
	idx     map[string]int
	b       *builder
	defs    map[string]*indicatorDef
	errs    RowErrors
	refused map[domain.AggregateRef]bool // indicators with a refused row
}

func (fp *figurePlanner) get(rec record, col string) string {
	i, ok := fp.idx[col]
	if !ok {
		return ""
	}
	return strings.TrimSpace(cell(rec.cells, i))
}

func (fp *figurePlanner) fail(line int, col, rule, format string, args ...any) {
	fp.errs = append(fp.errs, RowError{Line: line, Column: col, Rule: rule, Msg: fmt.Sprintf(format, args...)})
}

func (fp *figurePlanner) row(rec record) {
	line := rec.line
	id := fp.get(rec, "indicator_id")
	if err := domain.ValidateID("indicator_id", id); err != nil {
		fp.fail(line, "indicator_id", "id", "%v", err)
		return
	}
	def := fp.definition(rec, id)
	if def == nil {
		// Without its definition, every later row of the indicator would
		// fail as "not defined": one error says it.
		fp.refused[domain.AggregateRef{Type: domain.AggregateIndicator, ID: id}] = true
		return
	}
	// Each command of the row is planned if its own cells are sound, so the
	// simulation still decides it and reports the domain's refusals too;
	// the plan is dropped anyway if any error was found.
	target := fp.get(rec, "target")
	hasFigure := fp.get(rec, "value") != "" || fp.get(rec, "numerator") != "" || fp.get(rec, "denominator") != ""
	if def.line != line && target == "" && !hasFigure {
		fp.fail(line, "value", "empty_row", "nothing to import: give a definition, a target or a value")
		return
	}
	add := func(build func() domain.Command) {
		before := len(fp.errs)
		if c := build(); c != nil && len(fp.errs) == before {
			fp.b.add(line, c)
		}
	}
	if def.line == line {
		add(func() domain.Command { return fp.defineCommand(id, def) })
	}
	if target != "" {
		add(func() domain.Command { return fp.targetCommand(rec, id, def, target) })
	}
	if hasFigure {
		add(func() domain.Command { return fp.figureCommand(rec, id, def) })
	}
}

// definition returns the indicator's definition, recording it on its first
// row; later rows must agree with it.
func (fp *figurePlanner) definition(rec record, id string) *indicatorDef {
	cells := map[string]string{}
	for _, c := range definitionColumns {
		if v := fp.get(rec, c); v != "" {
			cells[c] = v
		}
	}
	if def, ok := fp.defs[id]; ok {
		for c, v := range cells {
			if def.cells[c] != v {
				fp.fail(rec.line, c, "differs", "indicator %s has %s %q on line %d, not %q", id, c, def.cells[c], def.line, v)
			}
		}
		return def
	}
	missing := false
	for _, c := range []string{"task_id", "name", "direction"} {
		if cells[c] == "" {
			fp.fail(rec.line, c, "required", "indicator %s is first named here: %s is required (a file defines the indicators it reports)", id, c)
			missing = true
		}
	}
	if missing {
		return nil
	}
	dir, err := domain.ParseDirection(cells["direction"])
	if err != nil {
		fp.fail(rec.line, "direction", "enum", "%v", err)
		return nil
	}
	if f := cells["formula"]; f != "" {
		if _, err := domain.ParseFormula(f); err != nil {
			fp.fail(rec.line, "formula", "enum", "%v", err)
			return nil
		}
	}
	def := &indicatorDef{line: rec.line, cells: cells, direction: dir}
	fp.defs[id] = def
	return def
}

func (fp *figurePlanner) defineCommand(id string, def *indicatorDef) domain.Command {
	return domain.DefineIndicator{IndicatorID: id, TaskID: def.cells["task_id"], Key: def.cells["key"],
		Name: def.cells["name"], Unit: def.cells["unit"], Direction: def.direction, Formula: domain.Formula(def.cells["formula"])}
}

// targetCommand reads the target as the direction needs it: "low..high"
// for a range, the milestone text for a qualitative indicator, a decimal
// otherwise. One target per indicator per file.
func (fp *figurePlanner) targetCommand(rec record, id string, def *indicatorDef, text string) domain.Command {
	if def.target != "" {
		if def.target != text {
			fp.fail(rec.line, "target", "differs", "indicator %s already has target %q in this file", id, def.target)
		}
		return nil
	}
	def.target = text
	c := domain.SetTarget{IndicatorID: id}
	switch def.direction {
	case domain.Qualitative:
		c.Milestone = text
	case domain.WithinRange:
		lo, hi, ok := strings.Cut(text, "..")
		if !ok {
			fp.fail(rec.line, "target", "range", "a range target is written low..high, got %q", text)
			return nil
		}
		c.Low, c.High = fp.decimal(rec.line, "target", lo), fp.decimal(rec.line, "target", hi)
	default:
		c.Value = fp.decimal(rec.line, "target", text)
	}
	return c
}

func (fp *figurePlanner) figureCommand(rec record, id string, def *indicatorDef) domain.Command {
	line := rec.line
	c := domain.ReportFigure{IndicatorID: id, Note: fp.get(rec, "note")}
	c.Window.Year = fp.integer(line, "window_year", fp.get(rec, "window_year"), 0, true)
	c.Window.FromMonth = fp.integer(line, "from_month", fp.get(rec, "from_month"), 1, false)
	c.Window.ToMonth = fp.integer(line, "to_month", fp.get(rec, "to_month"), 12, false)
	if c.Window.Year != 0 {
		if err := c.Window.Validate("window"); err != nil {
			fp.domainFail(line, c, err)
		}
	}
	if def.taskYear == 0 {
		def.taskYear = c.Window.Year
	}
	if v := fp.get(rec, "value"); v != "" {
		c.Value = fp.decimal(line, "value", v)
	}
	if v := fp.get(rec, "numerator"); v != "" {
		c.Numerator = fp.decimal(line, "numerator", v)
	}
	if v := fp.get(rec, "denominator"); v != "" {
		c.Denominator = fp.decimal(line, "denominator", v)
	}
	c.Quality = domain.Quality(fp.get(rec, "quality"))
	if c.Quality == "" || c.Quality.Validate("quality") != nil || c.Quality == domain.QualityRevised {
		fp.fail(line, "quality", "enum", "want estimate, approximate, provisional or final, got %q", c.Quality)
	}
	c.Source = domain.Source{Kind: domain.SourceKind(fp.get(rec, "source_kind")), Name: fp.get(rec, "source_name")}
	if c.Source.Kind == "" {
		// A unit's own sheet is its own report unless it names another source.
		c.Source.Kind = domain.SourceSelfReported
	}
	if err := c.Source.Validate("source"); err != nil {
		fp.fail(line, "source_kind", "enum", "want self_reported, statistics_bureau, agency or publication, got %q", c.Source.Kind)
	}
	c.FinalDue = fp.date(line, "final_due", fp.get(rec, "final_due"))
	return c
}
