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
	b := &stepBuilder{year: year, tasks: map[string]string{}}
	for _, pc := range plan.Commands {
		b.steps = append(b.steps, Step{Key: pc.Key, Command: pc.Command})
		switch c := pc.Command.(type) {
		case domain.RegisterTask:
			b.tasks[c.Title] = c.TaskID
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
	if b.err != nil {
		return nil, b.err
	}
	return b.steps, nil
}

// Run executes the demo through a command service, in order, under meta
// Source "demo". Re-running it changes nothing.
func Run(ctx context.Context, exec importer.Executor, year int, by domain.Attribution) error {
	steps, err := Commands(year)
	if err != nil {
		return err
	}
	for i, s := range steps {
		meta := domain.Meta{Actor: by.Actor, ActorTokenID: by.TokenID, CommandID: s.Key, Source: "demo"}
		if _, err := exec.Execute(ctx, meta, s.Command, app.Options{}); err != nil {
			return fmt.Errorf("demo step %d (%s): %w", i+1, s.Command.CommandName(), err)
		}
	}
	return nil
}

// IndicatorID is the id the demo gives an indicator of a year.
func IndicatorID(year int, slug string) string { return fmt.Sprintf("i%d-%s", year, slug) }
