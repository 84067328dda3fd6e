package domain

import "sort"

// commandFactories maps stable command names to empty commands, for
// transports that receive the name separately from the body (NATS intake
// subjects, import rows).
var commandFactories = map[string]func() Command{
	"task.register":               func() Command { return &RegisterTask{} },
	"task.change_deadline":        func() Command { return &ChangeDeadline{} },
	"task.record_narrative":       func() Command { return &RecordNarrative{} },
	"task.record_milestone":       func() Command { return &RecordMilestone{} },
	"task.record_problem":         func() Command { return &RecordProblem{} },
	"task.progress_rectification": func() Command { return &ProgressRectification{} },
	"task.close_problem":          func() Command { return &CloseProblem{} },
	"task.complete":               func() Command { return &CompleteTask{} },
	"task.withdraw":               func() Command { return &WithdrawTask{} },
	"indicator.define":            func() Command { return &DefineIndicator{} },
	"indicator.set_target":        func() Command { return &SetTarget{} },
	"indicator.record_base":       func() Command { return &RecordBase{} },
	"indicator.report_figure":     func() Command { return &ReportFigure{} },
	"indicator.correct_figure":    func() Command { return &CorrectFigure{} },
	"indicator.retract_figure":    func() Command { return &RetractFigure{} },
	"indicator.withdraw":          func() Command { return &WithdrawIndicator{} },
	"indicator.submit_figure":     func() Command { return &SubmitFigure{} },
	"indicator.approve_figure":    func() Command { return &ApproveFigure{} },
	"indicator.return_figure":     func() Command { return &ReturnFigure{} },
	"indicator.reopen_figure":     func() Command { return &ReopenFigure{} },
	"indicator.propose_base":      func() Command { return &ProposeBase{} },
	"indicator.propose_target":    func() Command { return &ProposeTarget{} },
	"indicator.approve_proposal":  func() Command { return &ApproveProposal{} },
	"indicator.reject_proposal":   func() Command { return &RejectProposal{} },
	"indicator.explain_warning":   func() Command { return &ExplainWarning{} },
	"unit.register":               func() Command { return &RegisterUnit{} },
	"year.reopen":                 func() Command { return &ReopenYear{} },
	"year.set_calendar":           func() Command { return &SetCalendar{} },
}

// NewCommand returns a pointer to an empty command of the given name, ready
// to decode into.
func NewCommand(name string) (Command, bool) {
	f, ok := commandFactories[name]
	if !ok {
		return nil, false
	}
	return f(), true
}

// CommandNames lists every command name, sorted.
func CommandNames() []string {
	out := make([]string, 0, len(commandFactories))
	for n := range commandFactories {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
