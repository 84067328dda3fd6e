package domain

import "fmt"

// MaxFiguresPerCommand bounds ReportFigures: one message, well under the
// server's size limit.
const MaxFiguresPerCommand = 50

// ReportFigures reports several windows of one indicator in one command,
// appended as one message: how an import stores an indicator's rows, a
// message per indicator instead of one per figure. Each figure is decided
// exactly as ReportFigure alone would decide it, and produces the same
// indicator.figure_reported event. A figure that replaces another names the
// replaced figure's event id, which does not exist before the command is
// stored, so a command holds at most one figure per window (an importer
// starts another command when a window repeats). All or nothing: one
// refused figure refuses the command, its field saying which.
type ReportFigures struct {
	IndicatorID string         `json:"indicator_id"`
	Figures     []ReportFigure `json:"figures"`
}

func (c ReportFigures) Target() AggregateRef     { return indicatorRef(c.IndicatorID) }
func (c ReportFigures) Requires() []AggregateRef { return nil }
func (c ReportFigures) CommandName() string      { return "indicator.report_figures" }

func (c ReportFigures) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	in := a.(*Indicator)
	var out []Event
	for i, f := range c.Figures {
		evs, err := in.ReportFigure(f)
		if err != nil {
			return nil, figureField(i, err)
		}
		out = append(out, evs...)
	}
	return out, nil
}

// validate checks the command's shape; each figure's own fields are
// checked once, by Indicator.ReportFigure as it decides it.
func (c ReportFigures) validate() error {
	if len(c.Figures) == 0 {
		return Invalid("figures", "required", "at least one figure")
	}
	if len(c.Figures) > MaxFiguresPerCommand {
		return Invalid("figures", "max_items", "at most %d figures in one command, got %d", MaxFiguresPerCommand, len(c.Figures))
	}
	windows := make(map[string]int, len(c.Figures))
	for i, f := range c.Figures {
		if f.IndicatorID != "" && f.IndicatorID != c.IndicatorID {
			return Invalid(fmt.Sprintf("figures[%d].indicator_id", i), "same_indicator", "figure for %s in a command for %s", f.IndicatorID, c.IndicatorID)
		}
		k := f.Window.Normalize().Key()
		if j, dup := windows[k]; dup {
			return Invalid(fmt.Sprintf("figures[%d].window", i), "one_per_window", "window %s is already reported by figures[%d] of this command", k, j)
		}
		windows[k] = i
	}
	return nil
}

// figureField puts "figures[i]." in front of a refused figure's field.
func figureField(i int, err error) error {
	e, ok := AsError(err)
	if !ok || e.Field == "" {
		return err // not about the figure (the indicator is not defined, say)
	}
	out := *e
	out.Field = fmt.Sprintf("figures[%d].%s", i, e.Field)
	return &out
}
