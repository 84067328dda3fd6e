package demo

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"strings"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/importer"
)

// SeedYear is the year the seed table reports on.
const SeedYear = 2022

// seedTSV is a byte-for-byte copy of the shared seed table; a test keeps
// the two equal.
//
//go:embed seed.tsv
var seedTSV []byte

// SeedTable returns the seed table's bytes (TSV).
func SeedTable() []byte { return bytes.Clone(seedTSV) }

// Step is one command of the demo and the command id it runs under.
type Step struct {
	Key     string
	Command domain.Command
	// Department, when set, is the department whose reporter runs the
	// step (a submission); otherwise the office runs it.
	Department string
	// FigureOf is the key of the step whose figure the step reviews: the
	// figure's id is the event id that step's command produced, known only
	// once it ran.
	FigureOf string
}

// keyPrefix marks the demo's own command ids. Tasks, narratives and
// problems keep the importer's keys, so importing the seed after the demo
// (or the other way round) changes nothing.
const keyPrefix = "demo-"

// Commands returns the demo's steps for an assessment year. For a year
// other than 2022 the dates and windows move with it (bases to year−1, the
// day of a milestone to the same day of that year); the texts stay as
// written.
func Commands(year int) ([]Step, error) {
	tb, err := importer.ParseTable(bytes.NewReader(seedTSV), importer.TSV)
	if err != nil {
		return nil, fmt.Errorf("demo seed: %w", err)
	}
	plan, err := importer.Plan(tb, importer.PlanOptions{Year: year})
	if err != nil {
		return nil, fmt.Errorf("demo seed: %w", err)
	}
	b := &stepBuilder{year: year, tasks: map[string]string{}, leads: map[string]string{}}
	for _, pc := range plan.Commands {
		b.steps = append(b.steps, Step{Key: pc.Key, Command: pc.Command})
		switch c := pc.Command.(type) {
		case domain.RegisterTask:
			b.tasks[c.Title] = c.TaskID
			b.leads[c.TaskID] = c.LeadDepartment
		case domain.RecordProblem:
			if strings.HasPrefix(c.Description, "87-1项") {
				b.problem87 = c
			}
		}
	}
	for _, list := range [][]ind{indicatorsA, indicatorsB, indicatorsC} {
		for _, in := range list {
			b.indicator(in)
		}
	}
	for _, m := range milestones {
		b.milestone(m)
	}
	b.add(domain.ProgressRectification{TaskID: b.problem87.TaskID, ProblemID: b.problem87.ProblemID,
		Total: ledger87.total, Rectified: ledger87.rectified, State: domain.RectInProgress, Note: ledger87.phrase})
	b.review()
	// The year-end sign-off: the year is frozen (serve --demo then takes
	// its snapshot).
	b.add(domain.FreezeYear{Year: year, Note: "自查表数据经各部门报送、考评办审核，年终封存"})
	if b.err != nil {
		return nil, b.err
	}
	return b.steps, nil
}

// As gives the context and attribution a step runs under: the office's
// for department "", else a reporter's of that department (the one who
// submits its figures). The server puts the matching principal in the
// context, so the demo passes the same authorization as anyone.
type As func(ctx context.Context, department string) (context.Context, domain.Attribution)

// Run executes the demo through a command service, in order, under meta
// Source "demo". Re-running it changes nothing.
func Run(ctx context.Context, exec importer.Executor, year int, as As) error {
	steps, err := Commands(year)
	if err != nil {
		return err
	}
	return runSteps(ctx, exec, steps, as)
}

// runSteps executes steps in order; a review step names the figure the
// step it reviews produced.
func runSteps(ctx context.Context, exec importer.Executor, steps []Step, as As) error {
	produced := map[string][]string{} // step key -> event ids
	for i, s := range steps {
		cmd := s.Command
		if s.FigureOf != "" {
			ids := produced[s.FigureOf]
			if len(ids) == 0 {
				return fmt.Errorf("demo step %d (%s): step %s produced no figure", i+1, cmd.CommandName(), s.FigureOf)
			}
			cmd = reviewing(cmd, ids[0])
		}
		sctx, by := as(ctx, s.Department)
		meta := domain.Meta{Actor: by.Actor, ActorTokenID: by.TokenID, CommandID: s.Key, Source: "demo"}
		res, err := exec.Execute(sctx, meta, cmd, app.Options{})
		if err != nil {
			return fmt.Errorf("demo step %d (%s): %w", i+1, cmd.CommandName(), err)
		}
		produced[s.Key] = res.EventIDs
	}
	return nil
}

// reviewing names the figure a review step is about.
func reviewing(cmd domain.Command, figure string) domain.Command {
	switch c := cmd.(type) {
	case domain.SubmitFigure:
		c.Figure = figure
		return c
	case domain.ApproveFigure:
		c.Figure = figure
		return c
	case domain.ExplainWarning:
		c.Figure = figure
		return c
	}
	return cmd
}

// IndicatorID is the id the demo gives an indicator of a year.
func IndicatorID(year int, slug string) string { return fmt.Sprintf("i%d-%s", year, slug) }
