package importer

import (
	"errors"
	"fmt"

	"kpitrail/domain"
)

// PlanOptions complete what a table does not say.
type PlanOptions struct {
	// Year overrides the year the title names (2022年度). Needed when the
	// title names none.
	Year int
	// LeadDepartment is the 牵头单位 of tasks whose row names none. Default:
	// the unit the title names (怀柔区政府): the table is that unit's own
	// self-check, so the unit answers for every task in it.
	LeadDepartment string
}

// ImportPlan is what an import would do. A dry run stops here.
type ImportPlan struct {
	Year           int
	LeadDepartment string
	Summary        Summary
	Commands       []PlannedCommand
}

// PlannedCommand is one command with the line it came from and its
// idempotency key (the command id it is executed under).
type PlannedCommand struct {
	Command domain.Command
	Line    int
	Key     string
}

// Summary counts what a plan contains, for the dry-run report.
type Summary struct {
	Dimensions        []string  `json:"dimensions"`
	Tasks             int       `json:"tasks"`
	NarrativeItems    int       `json:"narrative_items"`
	Problems          int       `json:"problems"`
	TasksWithProblems int       `json:"tasks_with_problems"`
	Indicators        int       `json:"indicators,omitempty"`
	Targets           int       `json:"targets,omitempty"`
	Figures           int       `json:"figures,omitempty"`
	Warnings          []Warning `json:"warnings"`
	// Encoding is the text encoding found in a TSV or CSV file: utf-8 or
	// utf-8-bom (others are refused); absent for XLSX.
	Encoding Encoding `json:"encoding,omitempty"`
}

// tableKeyPrefix marks command ids made by the table import.
const tableKeyPrefix = "imp-"

// Plan turns a parsed table into commands: one RegisterTask per task, one
// RecordNarrative per 落实情况 cell, one RecordProblem per problem. Every
// command is decided against in-memory aggregates before the plan is
// returned, so a plan that comes back is one the domain accepts on an empty
// store; otherwise the error lists every refusal with its line.
func Plan(t *Table, opts PlanOptions) (*ImportPlan, error) {
	p := &ImportPlan{Year: t.Year, LeadDepartment: opts.LeadDepartment}
	p.Summary.Encoding = t.Encoding
	p.Summary.Warnings = append(p.Summary.Warnings, t.Warnings...)
	if opts.Year != 0 {
		if t.Year != 0 && t.Year != opts.Year {
			p.Summary.Warnings = append(p.Summary.Warnings, Warning{Line: t.TitleLine, Code: WarnYearOverride,
				Message: fmt.Sprintf("the title says %d; planned for %d as asked", t.Year, opts.Year)})
		}
		p.Year = opts.Year
	}
	if p.LeadDepartment == "" {
		p.LeadDepartment = t.Unit
	}
	var errs []error
	if p.Year == 0 {
		errs = append(errs, errors.New("no year: the title names none (……2022年度……) and PlanOptions.Year is not set"))
	}
	if p.LeadDepartment == "" && needsDefaultLead(t) {
		errs = append(errs, errors.New("no lead department: the title names no unit and PlanOptions.LeadDepartment is not set"))
	}
	if len(t.Rows) == 0 {
		errs = append(errs, errors.New("the table has no task rows"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	b := newBuilder(tableKeyPrefix)
	dims := map[string]bool{}
	tasks := map[string]int{} // task id -> line registered
	withProblems := map[string]bool{}
	for _, r := range t.Rows {
		id := TaskID(p.Year, r.Dimension, r.Task)
		if first, dup := tasks[id]; dup {
			p.Summary.Warnings = append(p.Summary.Warnings, Warning{Line: r.Line, Code: WarnDuplicateTask,
				Message: fmt.Sprintf("task %q is already on line %d: this row adds to it", r.Task, first)})
		} else {
			tasks[id] = r.Line
			lead := r.LeadDepartment
			if lead == "" {
				lead = p.LeadDepartment
			}
			b.add(r.Line, domain.RegisterTask{TaskID: id, Year: p.Year, Dimension: r.Dimension, Title: r.Task,
				LeadDepartment: lead, CoDepartments: r.CoDepartments})
		}
		if !dims[r.Dimension] {
			dims[r.Dimension] = true
			p.Summary.Dimensions = append(p.Summary.Dimensions, r.Dimension)
		}
		if len(r.Items) > 0 {
			texts := make([]string, len(r.Items))
			for i, it := range r.Items {
				texts[i] = it.Text
			}
			b.add(r.Line, domain.RecordNarrative{TaskID: id, Items: texts})
			p.Summary.NarrativeItems += len(texts)
		}
		for _, pr := range r.Problems {
			b.add(r.Line, domain.RecordProblem{TaskID: id, ProblemID: ProblemID(id, pr.Description),
				Description: pr.Description, Cause: pr.Cause})
			p.Summary.Problems++
			withProblems[id] = true
		}
	}
	p.Summary.Tasks, p.Summary.TasksWithProblems = len(tasks), len(withProblems)
	if b.err != nil {
		return nil, b.err
	}
	if errs := simulate(b.cmds, nil); len(errs) > 0 {
		return nil, errs
	}
	p.Commands = b.cmds
	return p, nil
}

func needsDefaultLead(t *Table) bool {
	for _, r := range t.Rows {
		if r.LeadDepartment == "" {
			return true
		}
	}
	return false
}

// builder collects planned commands and their keys.
type builder struct {
	prefix string
	cmds   []PlannedCommand
	seen   map[string]int
	err    error
}

func newBuilder(prefix string) *builder { return &builder{prefix: prefix, seen: map[string]int{}} }

func (b *builder) add(line int, cmd domain.Command) {
	if b.err != nil {
		return
	}
	base, err := CommandKey(b.prefix, cmd, 0)
	if err != nil {
		b.err = fmt.Errorf("line %d: %w", line, err)
		return
	}
	key := base
	if n := b.seen[base]; n > 0 {
		key, _ = CommandKey(b.prefix, cmd, n)
	}
	b.seen[base]++
	b.cmds = append(b.cmds, PlannedCommand{Command: cmd, Line: line, Key: key})
}
