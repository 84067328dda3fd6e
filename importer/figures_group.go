package importer

import (
	"strings"

	"kpitrail/domain"
)

// groupFigures stores an indicator's figure rows in few messages: its
// consecutive-in-effect indicator.report_figure commands become
// indicator.report_figures commands of up to domain.MaxFiguresPerCommand
// windows each, one message per command instead of one per row. Rows of
// one window keep their order: a row goes to a later command than the
// last one holding its window (an estimate, then the final figure that
// replaces it). Rows of different windows do not affect each other's
// decision, so they may be stored in another order than the sheet's. A
// command of another kind on the indicator (a target) is a fence: rows
// after it go to commands after it. A lone row stays an
// indicator.report_figure, with the key it always had.
func groupFigures(cmds []PlannedCommand, prefix string) []PlannedCommand {
	type wave struct {
		at      int // index in out
		members []PlannedCommand
		windows map[string]bool
	}
	type open struct {
		waves    []*wave
		lastWave map[string]int // window -> index in waves of its last row
	}
	out := make([]PlannedCommand, 0, len(cmds))
	var all []*wave
	byIndicator := map[string]*open{}
	for _, pc := range cmds {
		rf, ok := pc.Command.(domain.ReportFigure)
		if !ok {
			if ref := pc.Command.Target(); ref.Type == domain.AggregateIndicator {
				delete(byIndicator, ref.ID) // the fence
			}
			out = append(out, pc)
			continue
		}
		o := byIndicator[rf.IndicatorID]
		if o == nil {
			o = &open{lastWave: map[string]int{}}
			byIndicator[rf.IndicatorID] = o
		}
		w := rf.Window.Normalize().Key()
		from := 0
		if last, seen := o.lastWave[w]; seen {
			from = last + 1
		}
		i := from
		for i < len(o.waves) && len(o.waves[i].members) >= domain.MaxFiguresPerCommand {
			i++
		}
		if i == len(o.waves) {
			wv := &wave{at: len(out), windows: map[string]bool{}}
			o.waves = append(o.waves, wv)
			all = append(all, wv)
			out = append(out, PlannedCommand{}) // filled in below
		}
		wv := o.waves[i]
		wv.members = append(wv.members, pc)
		wv.windows[w] = true
		o.lastWave[w] = i
	}
	for _, wv := range all {
		if len(wv.members) == 1 {
			out[wv.at] = wv.members[0]
			continue
		}
		c := domain.ReportFigures{IndicatorID: wv.members[0].Command.(domain.ReportFigure).IndicatorID}
		keys := make([]string, len(wv.members))
		for k, m := range wv.members {
			c.Figures = append(c.Figures, m.Command.(domain.ReportFigure))
			keys[k] = m.Key
		}
		out[wv.at] = PlannedCommand{Command: c, Line: wv.members[0].Line,
			Key: prefix + digest(c.CommandName(), strings.Join(keys, ","))[:32]}
	}
	return out
}
