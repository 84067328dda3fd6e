package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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
	// Warnings are what the validation rules flag about the figures the
	// command reported, once the read models have them (the server fills
	// them in after an import).
	Warnings []RowWarning `json:"warnings,omitempty"`
}

// RowWarning is one validation rule's warning about a figure an import
// reported (see domain.WarningRules).
type RowWarning struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Figure   string `json:"figure"`
	Window   string `json:"window,omitempty"`
	Message  string `json:"message"`
}

// ApplyReport counts what Apply did.
type ApplyReport struct {
	BatchID        string          `json:"batch_id"`
	Applied        int             `json:"applied"`
	AlreadyPresent int             `json:"already_present"`
	Existing       int             `json:"existing"`
	Results        []CommandResult `json:"results"`
	// NotRun counts the plan's commands a stopped import did not run; they
	// begin at line NextLine. Running the same import again runs them (and
	// finds the ones in Results already present).
	NotRun   int `json:"not_run,omitempty"`
	NextLine int `json:"next_line,omitempty"`
}

// BulkExecutor runs many commands with few syncs; *app.Service satisfies
// it. Apply prefers it when the executor has it.
type BulkExecutor interface {
	Executor
	ExecuteMany(ctx context.Context, reqs []app.Request) []app.Outcome
}

// bulkSlice is how many commands Apply hands to ExecuteMany at once. A
// refusal stops the import at the end of the slice it is in, so the slice
// bounds how much may be stored after a refused command.
const bulkSlice = 20000

// Apply executes a plan in order, under meta Source "import:<batchID>" and
// the plan's content-derived keys as command ids, so a repeated import
// appends nothing. It stops at the first refused command and returns the
// report so far with the error: running Apply again (after fixing the
// cause) continues where it stopped, because what is stored is recognised
// as already present.
//
// With a BulkExecutor the plan runs in slices of bulkSlice commands through
// ExecuteMany (atomic batches, one sync per thousand commands instead of
// one per command). Every command before the refused one is stored, as one
// by one; commands after it in the same slice, on other indicators, may be
// stored too, and the report lists each of them with its outcome.
func Apply(ctx context.Context, exec Executor, plan *ImportPlan, batchID string, by domain.Attribution) (*ApplyReport, error) {
	return ApplyWith(ctx, exec, plan, batchID, by, ApplyOptions{})
}

// ApplyOptions shape a long import run as a job.
type ApplyOptions struct {
	// Slice is how many commands go to ExecuteMany at once (default
	// bulkSlice). Smaller slices report progress, and can stop, more often.
	Slice int
	// Progress, when set, is told after each slice how many of the plan's
	// commands have been run.
	Progress func(done, total int)
	// Stop, when set, is asked before each slice whether to stop there. A
	// stop is clean: every slice run is wholly reported, none after it is
	// begun, and the error returned is ErrStopped.
	Stop func() bool
}

// ErrStopped ends an ApplyWith that opts.Stop stopped; the report says
// which commands ran (Results) and where to continue (Next).
var ErrStopped = errors.New("import stopped before it was complete")

// ApplyWith is Apply with opts.
func ApplyWith(ctx context.Context, exec Executor, plan *ImportPlan, batchID string, by domain.Attribution, opts ApplyOptions) (*ApplyReport, error) {
	if err := checkBatch(batchID, by); err != nil {
		return nil, err
	}
	run, err := runID()
	if err != nil {
		return nil, err
	}
	rep := &ApplyReport{BatchID: batchID}
	bulk, isBulk := exec.(BulkExecutor)
	for start := 0; start < len(plan.Commands); {
		n := 1
		if isBulk {
			n = bulkSlice
			if opts.Slice > 0 {
				n = opts.Slice
			}
		}
		if opts.Stop != nil && opts.Stop() {
			rep.stopAt(plan, start)
			return rep, ErrStopped
		}
		cmds := plan.Commands[start:min(start+n, len(plan.Commands))]
		start += len(cmds)
		var outs []app.Outcome
		if isBulk {
			reqs := make([]app.Request, len(cmds))
			for i, pc := range cmds {
				reqs[i] = app.Request{Meta: importMeta(batchID, by, pc.Key, run), Command: pc.Command}
			}
			outs = bulk.ExecuteMany(ctx, reqs)
		} else {
			r, err := exec.Execute(ctx, importMeta(batchID, by, cmds[0].Key, run), cmds[0].Command, app.Options{})
			outs = []app.Outcome{{Result: r, Err: err}}
		}
		var firstErr error
		for i, o := range outs {
			res := rep.record(cmds[i], o, run)
			if res.Outcome == OutcomeFailed && firstErr == nil {
				firstErr = fmt.Errorf("import %s, line %d, %s: %w", batchID, res.Line, res.Command, o.Err)
			}
		}
		if opts.Progress != nil {
			opts.Progress(start, len(plan.Commands))
		}
		if firstErr != nil {
			return rep, firstErr
		}
	}
	return rep, nil
}

// stopAt records where a stopped import ends: the commands from index i
// on were not run.
func (rep *ApplyReport) stopAt(plan *ImportPlan, i int) {
	rep.NotRun = len(plan.Commands) - i
	if i < len(plan.Commands) {
		rep.NextLine = plan.Commands[i].Line
	}
}

// record classifies one command's outcome and adds it to the report.
func (rep *ApplyReport) record(pc PlannedCommand, o app.Outcome, run string) CommandResult {
	res := CommandResult{Line: pc.Line, Key: pc.Key, Command: pc.Command.CommandName()}
	r, err := o.Result, o.Err
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
	}
	rep.Results = append(rep.Results, res)
	return res
}

// importMeta stamps a command of the batch. CausationID is this run's id:
// the service answers a repeated command id with the original result and
// its original meta, and the run id is how Apply tells "stored just now"
// from "stored by an earlier import".
func importMeta(batchID string, by domain.Attribution, key, run string) domain.Meta {
	return domain.Meta{Actor: by.Actor, ActorTokenID: by.TokenID, CommandID: key, CorrelationID: batchID, CausationID: run,
		Source: importSource(batchID)}
}

func importSource(batchID string) string { return "import:" + batchID }

// isExists reports a registration or definition refused because the
// aggregate was already created by a different command.
func isExists(err error) bool {
	e, ok := domain.AsError(err)
	return ok && e.Code == domain.ECONFLICT && e.Rule == "exists"
}

func checkBatch(batchID string, by domain.Attribution) error {
	if err := domain.ValidateID("batch_id", batchID); err != nil {
		return err
	}
	if by.Actor == "" {
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
