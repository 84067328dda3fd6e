package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"kpitrail/app"
	"kpitrail/domain"
)

// Executor runs one command; *app.Service satisfies it.
type Executor interface {
	Execute(ctx context.Context, meta domain.Meta, cmd domain.Command, opts app.Options) (app.Result, error)
}

// Outcome is what happened to one planned command.
type Outcome string

const (
	// OutcomeApplied: this run appended the command's events.
	OutcomeApplied Outcome = "applied"
	// OutcomeAlreadyPresent: the command id was already applied (an earlier
	// import of the same content, under any batch id); the store returned
	// the original result and appended nothing.
	OutcomeAlreadyPresent Outcome = "already_present"
	// OutcomeExisting: the task or indicator was created by some other
	// command (the demo, the API); it is left as it is.
	OutcomeExisting Outcome = "existing"
	OutcomeFailed   Outcome = "failed"
)

// CommandResult is the outcome of one planned command.
type CommandResult struct {
	Line     int      `json:"line"`
	Key      string   `json:"key"`
	Command  string   `json:"command"`
	Outcome  Outcome  `json:"outcome"`
	EventIDs []string `json:"event_ids,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// ApplyReport counts what Apply did.
type ApplyReport struct {
	BatchID        string          `json:"batch_id"`
	Applied        int             `json:"applied"`
	AlreadyPresent int             `json:"already_present"`
	Existing       int             `json:"existing"`
	Results        []CommandResult `json:"results"`
}

// Apply executes a plan in order, under meta Source "import:<batchID>" and
// the plan's content-derived keys as command ids, so a repeated import
// appends nothing. It stops at the first command the service refuses and
// returns the report so far with the error: every command before it is
// stored, and running Apply again (after fixing the cause) continues where
// it stopped, because what is stored is recognised as already present.
func Apply(ctx context.Context, exec Executor, plan *ImportPlan, batchID, actor string) (*ApplyReport, error) {
	if err := checkBatch(batchID, actor); err != nil {
		return nil, err
	}
	run, err := runID()
	if err != nil {
		return nil, err
	}
	rep := &ApplyReport{BatchID: batchID}
	for _, pc := range plan.Commands {
		res := CommandResult{Line: pc.Line, Key: pc.Key, Command: pc.Command.CommandName()}
		r, err := exec.Execute(ctx, importMeta(batchID, actor, pc.Key, run), pc.Command, app.Options{})
		switch {
		case err == nil && len(r.Events) > 0 && r.Events[0].CausationID != run:
			res.Outcome, res.EventIDs = OutcomeAlreadyPresent, r.EventIDs
			rep.AlreadyPresent++
		case err == nil:
			res.Outcome, res.EventIDs = OutcomeApplied, r.EventIDs
			rep.Applied++
		case isExists(err):
			res.Outcome, res.Error = OutcomeExisting, err.Error()
			rep.Existing++
		default:
			res.Outcome, res.Error = OutcomeFailed, err.Error()
			rep.Results = append(rep.Results, res)
			return rep, fmt.Errorf("import %s, line %d, %s: %w", batchID, pc.Line, res.Command, err)
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// importMeta stamps a command of the batch. CausationID is this run's id:
// the service answers a repeated command id with the original result and
// its original meta, and the run id is how Apply tells "stored just now"
// from "stored by an earlier import".
func importMeta(batchID, actor, key, run string) domain.Meta {
	return domain.Meta{Actor: actor, CommandID: key, CorrelationID: batchID, CausationID: run, Source: importSource(batchID)}
}

func importSource(batchID string) string { return "import:" + batchID }

// isExists reports a registration or definition refused because the
// aggregate was already created by a different command.
func isExists(err error) bool {
	e, ok := domain.AsError(err)
	return ok && e.Code == domain.ECONFLICT && e.Rule == "exists"
}

func checkBatch(batchID, actor string) error {
	if err := domain.ValidateID("batch_id", batchID); err != nil {
		return err
	}
	if actor == "" {
		return domain.Invalid("actor", "required", "every import needs an actor")
	}
	return nil
}

func runID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return "run-" + hex.EncodeToString(b), nil
}
