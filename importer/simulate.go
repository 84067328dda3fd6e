package importer

import (
	"fmt"
	"sort"
	"strings"

	"kpitrail/domain"
)

// RowError is one refusal, with where it is in the file.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Rule   string `json:"rule,omitempty"`
	Msg    string `json:"message"`
}

func (e RowError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d, column %s: %s", e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// RowErrors is every refusal of a batch; a batch with any plans nothing.
type RowErrors []RowError

func (es RowErrors) Error() string {
	lines := make([]string, 0, len(es))
	for _, e := range es {
		lines = append(lines, e.Error())
	}
	return fmt.Sprintf("%d row error(s):\n%s", len(es), strings.Join(lines, "\n"))
}

func (es RowErrors) sorted() RowErrors {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return es
}

// simulate decides every command, in order, against in-memory aggregates
// and applies what it decides, so later commands see earlier ones, exactly
// as the service would on an empty store. existing seeds aggregates that the
// batch refers to but does not create. columnOf names the file column of a
// refused field (nil: the table import's columns).
func simulate(cmds []PlannedCommand, existing map[domain.AggregateRef]domain.Aggregate) RowErrors {
	return simulateWith(cmds, existing, nil, tableColumn)
}

// simulateWith skips commands on the aggregates in refused: their rows were
// already refused, and a second "not defined" error would only repeat it.
func simulateWith(cmds []PlannedCommand, existing map[domain.AggregateRef]domain.Aggregate,
	refused map[domain.AggregateRef]bool, columnOf func(cmd domain.Command, field string) string) RowErrors {
	if refused == nil {
		refused = map[domain.AggregateRef]bool{}
	}
	aggs := map[domain.AggregateRef]domain.Aggregate{}
	for ref, a := range existing {
		aggs[ref] = a
	}
	load := func(ref domain.AggregateRef) (domain.Aggregate, error) {
		if a, ok := aggs[ref]; ok {
			return a, nil
		}
		a, err := domain.NewAggregate(ref)
		if err != nil {
			return nil, err
		}
		aggs[ref] = a
		return a, nil
	}
	var errs RowErrors
	// A refused registration or definition would make every later command
	// on that aggregate fail as "not registered": one error says it.
	for _, pc := range cmds {
		if refused[pc.Command.Target()] || anyRefused(refused, pc.Command.Requires()) {
			refused[pc.Command.Target()] = true
			continue
		}
		fail := func(err error) {
			if isCreate(pc.Command) {
				refused[pc.Command.Target()] = true
			}
			re := RowError{Line: pc.Line, Msg: err.Error()}
			if de, ok := domain.AsError(err); ok {
				re.Rule, re.Msg = de.Rule, de.Message
				re.Column = columnOf(pc.Command, de.Field)
				if re.Column == "" && de.Field != "" {
					re.Msg = de.Field + ": " + de.Message
				}
			}
			errs = append(errs, re)
		}
		target, err := load(pc.Command.Target())
		if err != nil {
			fail(err)
			continue
		}
		var deps []domain.Aggregate
		for _, ref := range pc.Command.Requires() {
			d, err := load(ref)
			if err != nil {
				break
			}
			deps = append(deps, d)
		}
		for _, ref := range domain.LateRequirements(pc.Command, target, deps) {
			if d, err := load(ref); err == nil {
				deps = append(deps, d)
			}
		}
		events, err := domain.Decide(pc.Command, target, deps)
		if err != nil {
			fail(err)
			continue
		}
		for _, e := range events {
			target.Apply(domain.Recorded{
				Envelope: domain.Envelope{ID: pc.Key, AggregateVersion: target.Version() + 1},
				Data:     e,
			})
		}
	}
	return errs.sorted()
}

func isCreate(c domain.Command) bool {
	switch c.(type) {
	case domain.RegisterTask, domain.DefineIndicator:
		return true
	}
	return false
}

func anyRefused(refused map[domain.AggregateRef]bool, refs []domain.AggregateRef) bool {
	for _, r := range refs {
		if refused[r] {
			return true
		}
	}
	return false
}

// tableColumn names the table column a refused field came from.
func tableColumn(cmd domain.Command, field string) string {
	switch {
	case field == "dimension":
		return "考评维度"
	case field == "title":
		return "自查内容（专项任务）"
	case field == "lead_department":
		return "牵头单位"
	case strings.HasPrefix(field, "co_departments"):
		return "配合单位"
	case strings.HasPrefix(field, "items"):
		return "落实情况"
	case field == "description" || field == "cause":
		return "存在问题及原因"
	}
	return ""
}
