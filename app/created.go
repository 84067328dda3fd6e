package app

import (
	"strconv"
	"strings"

	"kpitrail/domain"
)

// Created names what a command creates, by the field that carries its id:
// the task of task.register, the indicator of indicator.define, the problem
// of task.record_problem (which lives inside its task, so the reply's
// aggregate does not name it). Every transport returns it with the result,
// so a client that let the server name a thing learns the name from the
// write itself instead of searching for it. Nil for a command that creates
// nothing with an id of its own; a figure is named by its event id, which
// every result carries.
func Created(cmd domain.Command) map[string]string {
	switch c := cmd.(type) {
	case domain.RegisterTask:
		return map[string]string{"task_id": c.TaskID}
	case *domain.RegisterTask:
		return map[string]string{"task_id": c.TaskID}
	case domain.DefineIndicator:
		return map[string]string{"indicator_id": c.IndicatorID}
	case *domain.DefineIndicator:
		return map[string]string{"indicator_id": c.IndicatorID}
	case domain.RecordProblem:
		return map[string]string{"problem_id": c.ProblemID}
	case *domain.RecordProblem:
		return map[string]string{"problem_id": c.ProblemID}
	}
	return nil
}

// ParseExpectedVersion reads the version a write was decided against from
// a header: HTTP's If-Match, or the NATS intake's If-Match or
// Expected-Version. It takes the ETag kpitrail sends ("3"), weak or not,
// and the bare number. field names the header in a refusal.
func ParseExpectedVersion(field, v string) (*uint64, error) {
	n, err := strconv.ParseUint(strings.Trim(strings.TrimPrefix(strings.TrimSpace(v), "W/"), `"`), 10, 64)
	if err != nil {
		return nil, domain.Invalid(field, "version", "must be the aggregate version, e.g. \"3\"; got %q", v)
	}
	return &n, nil
}
