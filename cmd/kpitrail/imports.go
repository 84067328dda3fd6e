package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/httpapi"
	"kpitrail/importer"
	"kpitrail/jobs"
	"kpitrail/lease"
	"kpitrail/projections"
)

// imports keeps every uploaded file under <data>/imports/<batch>/ so a
// batch can be undone later from exactly what was imported.
type imports struct {
	dir string
	svc *app.Service
	// limits bound what reading one file may cost.
	limits importer.Limits
	// keys record which upload first used an Idempotency-Key.
	keys app.Keys
	// turn admits one import or undo at a time: two parsing at once doubled
	// the memory, and two applying at once would interleave their batches.
	turn chan struct{}
	// wait is how long a second import waits for its turn before a 409.
	wait  time.Duration
	store interface {
		LastPosition(ctx context.Context) (uint64, error)
	}
	// settleWait returns once the read models include a position: whoever
	// imported a table lists its tasks next.
	settleWait func(ctx context.Context, position uint64) error
	// warnings finds the read models' warnings about figures, to report
	// them with the rows that reported the figures.
	warnings func(ctx context.Context, figures []string) ([]projections.Warning, error)
	// pace slows every slice of an import by this much; tests set it to
	// cancel an import part-way at a moment they can rely on.
	pace time.Duration
	// slice is how many commands run between two chances to stop (0:
	// importSlice); tests make it small.
	slice int
	// leases, on a cluster shared by several instances, make one import
	// at a time the deployment's rule, not only this process's.
	leases *lease.Leases
	log    *slog.Logger
}

// Begin waits up to im.wait for the running import to finish.
func (im *imports) Begin(ctx context.Context) (func(), error) {
	start := time.Now()
	t := time.NewTimer(im.wait)
	defer t.Stop()
	select {
	case im.turn <- struct{}{}:
		release, err := importLease(ctx, im.leases, time.Until(start.Add(im.wait)), im.log)
		if err != nil {
			<-im.turn
			return nil, err
		}
		return func() { release(); <-im.turn }, nil
	case <-t.C:
		return nil, &domain.Error{Code: domain.EBUSY, Rule: "one_import_at_a_time",
			Message: "another import or undo is running in this data directory; retry when it has finished"}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (im *imports) settle(ctx context.Context) {
	last, err := im.store.LastPosition(ctx)
	if err != nil {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = im.settleWait(wctx, last)
}

var _ httpapi.Imports = (*imports)(nil)

type batchMeta struct {
	Kind     string           `json:"kind"`
	Format   importer.Format  `json:"format"`
	Filename string           `json:"filename"`
	Year     int              `json:"year"`
	Lead     string           `json:"lead"`
	Actor    string           `json:"actor"`
	SHA256   string           `json:"sha256"`
	Summary  importer.Summary `json:"summary"`
}

// ImportResult answers an import.
type ImportResult struct {
	BatchID string                `json:"batch_id,omitempty"`
	DryRun  bool                  `json:"dry_run"`
	Summary importer.Summary      `json:"summary"`
	Report  *importer.ApplyReport `json:"report,omitempty"`
}

func (im *imports) plan(req httpapi.ImportRequest) (*importer.ImportPlan, importer.Format, error) {
	format, err := importer.ParseFormat(req.Format)
	if req.Format == "" {
		format, err = importer.DetectFormat(req.Filename, req.Data)
	}
	if err != nil {
		return nil, "", domain.Invalid("format", "enum", "%v", err)
	}
	switch req.Kind {
	case "table":
		t, err := importer.ParseTableWith(bytes.NewReader(req.Data), format, im.limits)
		if err != nil {
			return nil, "", asInvalid(err)
		}
		p, err := importer.Plan(t, importer.PlanOptions{Year: req.Year, LeadDepartment: req.Lead})
		return p, format, asInvalid(err)
	case "figures":
		p, err := importer.PlanFiguresWith(bytes.NewReader(req.Data), format, im.limits)
		return p, format, asInvalid(err)
	}
	return nil, "", domain.Invalid("kind", "enum", "must be table or figures, got %q", req.Kind)
}

// asInvalid presents importer errors (row and column named in the text)
// as invalid input unless they already carry a code.
func asInvalid(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := domain.AsError(err); ok {
		return err
	}
	return &domain.Error{Code: domain.EINVALID, Field: "file", Rule: "import", Message: err.Error()}
}

func (im *imports) Import(ctx context.Context, req httpapi.ImportRequest) (any, error) {
	plan, format, err := im.plan(req)
	if err != nil {
		return nil, err
	}
	p, _ := auth.FromContext(ctx)
	// A dry run answers for the caller too: a plan with rows its role may
	// never apply is refused, not shown as if it would go through.
	for _, pc := range plan.Commands {
		if name := pc.Command.CommandName(); !auth.MayIssue(p.Role, name) {
			e := domain.Forbidden("line %d: role %s may not %s", pc.Line, p.Role, name)
			e.Field, e.Rule = "file", "role_may_issue"
			return nil, e
		}
	}
	if req.DryRun {
		// A table's targets and figures are its year's: a frozen year
		// refuses them at apply, so the check says so now.
		if plan.Year != 0 {
			y, err := im.svc.Load(ctx, domain.YearRef(plan.Year))
			if err != nil {
				return nil, err
			}
			if err := domain.CheckYearOpen(y); err != nil {
				return nil, err
			}
		}
		return ImportResult{DryRun: true, Summary: plan.Summary}, nil
	}
	sum := sha256.Sum256(req.Data)
	if req.Key != "" && im.keys != nil {
		digest := importDigest(req, format, sum[:])
		first, err := im.keys.Claim(ctx, p.TokenID+"/"+req.Key, digest)
		if err != nil {
			return nil, domain.Internal(err, "idempotency key")
		}
		if first != "" && first != digest {
			return nil, app.ReusedKey(p.TokenID + "/" + req.Key)
		}
	}
	batch := batchID(p, req.Key, sum[:])
	dir := filepath.Join(im.dir, batch)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	meta := batchMeta{Kind: req.Kind, Format: format, Filename: filepath.Base(req.Filename), Year: req.Year, Lead: req.Lead,
		Actor: p.Actor(), SHA256: hex.EncodeToString(sum[:]), Summary: plan.Summary}
	mb, _ := json.MarshalIndent(meta, "", "  ")
	if err := writeFileSync(filepath.Join(dir, "file"), req.Data); err != nil {
		return nil, err
	}
	if err := writeFileSync(filepath.Join(dir, "batch.json"), mb); err != nil {
		return nil, err
	}
	// The commands run in slices, each whole: a cancelled job (or a client
	// gone) stops between two, so the report says exactly which commands
	// are stored, and running the same import again runs the rest.
	total := len(plan.Commands)
	jobs.Report(ctx, 0, int64(total), "commands")
	report, err := importer.ApplyWith(context.WithoutCancel(ctx), im.svc, plan, batch, p.Attribution(), importer.ApplyOptions{
		Slice:    cmp.Or(im.slice, importSlice),
		Progress: func(done, total int) { jobs.Report(ctx, int64(done), int64(total), "commands") },
		Stop: func() bool {
			if im.pace > 0 {
				time.Sleep(im.pace)
			}
			return ctx.Err() != nil
		},
	})
	if errors.Is(err, importer.ErrStopped) {
		im.settle(context.WithoutCancel(ctx))
		return nil, jobs.CancelledError(stoppedText(report, total), ImportResult{BatchID: batch, Summary: plan.Summary, Report: report})
	}
	if err != nil {
		return nil, withDetails(err, ImportResult{BatchID: batch, Summary: plan.Summary, Report: report})
	}
	im.settle(ctx)
	if err := im.attachWarnings(ctx, report); err != nil {
		return nil, err
	}
	return ImportResult{BatchID: batch, Summary: plan.Summary, Report: report}, nil
}

// importSlice is how many commands run between two chances to stop: the
// store's largest atomic batch, so slicing costs no extra syncs.
const importSlice = 1000

// stoppedText says what a stopped import stored and what it did not.
func stoppedText(rep *importer.ApplyReport, total int) string {
	run := total - rep.NotRun
	if rep.NotRun == 0 {
		return fmt.Sprintf("import cancelled after all %d commands had run", total)
	}
	if len(rep.Results) == 0 {
		return fmt.Sprintf("import cancelled before any command ran: nothing was stored; "+
			"all %d commands, from line %d on, were not run; import the same file again to run them", total, rep.NextLine)
	}
	return fmt.Sprintf("import cancelled: %d of %d commands ran (lines up to %d; %d applied now, %d already present, %d existing); "+
		"%d commands from line %d on were not run; import the same file again to run them (nothing is applied twice)",
		run, total, rep.Results[len(rep.Results)-1].Line, rep.Applied, rep.AlreadyPresent, rep.Existing, rep.NotRun, rep.NextLine)
}

var batchIDPattern = regexp.MustCompile(`^b-[0-9a-f]{16}$`)

func (im *imports) Undo(ctx context.Context, batch string) (any, error) {
	if !batchIDPattern.MatchString(batch) {
		return nil, domain.Invalid("batch", "format", "a batch id looks like b-0123456789abcdef")
	}
	dir := filepath.Join(im.dir, batch)
	mb, err := os.ReadFile(filepath.Join(dir, "batch.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, domain.NotFound("import batch %s", batch)
	}
	if err != nil {
		return nil, err
	}
	var meta batchMeta
	if err := json.Unmarshal(mb, &meta); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "file"))
	if err != nil {
		return nil, err
	}
	plan, _, err := im.plan(httpapi.ImportRequest{Kind: meta.Kind, Format: string(meta.Format), Data: data, Year: meta.Year, Lead: meta.Lead})
	if err != nil {
		return nil, err
	}
	p, _ := auth.FromContext(ctx)
	rep, err := importer.Undo(ctx, im.svc, plan, batch, p.Attribution())
	if err != nil {
		return nil, withDetails(err, rep)
	}
	im.settle(ctx)
	return rep, nil
}

// withDetails keeps what a partly applied import or undo stored: the
// commands before the one refused are in the log, and the caller must be
// able to see which (running it again continues from there).
func withDetails(err error, details any) error {
	e, ok := domain.AsError(err)
	if !ok {
		e = domain.Internal(err, "import stopped")
	}
	out := *e
	out.Details = details
	return &out
}

func (im *imports) Template(format string) ([]byte, string, error) {
	if format == "xlsx" {
		b, err := importer.TemplateXLSX()
		return b, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", err
	}
	return importer.TemplateCSV(), "text/csv; charset=utf-8", nil
}

// importDigest identifies an upload for its idempotency key: the same
// file with the same parameters is a retry.
func importDigest(req httpapi.ImportRequest, format importer.Format, fileSum []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "POST\n/v1/imports\n%s\n%s\n%d\n%s\n", req.Kind, format, req.Year, req.Lead)
	h.Write(fileSum)
	return hex.EncodeToString(h.Sum(nil))
}

// batchID derives the batch from the caller's idempotency key when given,
// so a retried upload is the same batch; otherwise it is random.
func batchID(p auth.Principal, key string, sum []byte) string {
	if key != "" {
		h := sha256.Sum256([]byte(p.TokenID + "\x00import\x00" + key))
		return "b-" + hex.EncodeToString(h[:8])
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "b-" + hex.EncodeToString(b)
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

// attachWarnings puts the warnings about each reported figure on the result
// of the command (the row, or an indicator's rows) that reported it.
func (im *imports) attachWarnings(ctx context.Context, report *importer.ApplyReport) error {
	if im.warnings == nil || report == nil {
		return nil
	}
	var figures []string
	for _, r := range report.Results {
		if r.Command == "indicator.report_figure" || r.Command == "indicator.report_figures" {
			figures = append(figures, r.EventIDs...)
		}
	}
	if len(figures) == 0 {
		return nil
	}
	list, err := im.warnings(ctx, figures)
	if err != nil {
		return err
	}
	byFigure := map[string][]importer.RowWarning{}
	for _, w := range list {
		byFigure[w.Figure] = append(byFigure[w.Figure], importer.RowWarning{Rule: w.Rule, Severity: w.Severity, Figure: w.Figure,
			Window: w.Window, Message: w.Message})
	}
	for i, r := range report.Results {
		for _, id := range r.EventIDs {
			report.Results[i].Warnings = append(report.Results[i].Warnings, byFigure[id]...)
		}
	}
	return nil
}

// liveWarnings reads the warnings about figures from the live read models,
// explained ones included.
func liveWarnings(live *projections.Live) func(ctx context.Context, figures []string) ([]projections.Warning, error) {
	return func(ctx context.Context, figures []string) ([]projections.Warning, error) {
		var out []projections.Warning
		err := live.With(ctx, nil, func(db *projections.DB) error {
			for start := 0; start < len(figures); start += 500 {
				list, err := db.Warnings(ctx, projections.WarningFilter{State: "all", Figures: figures[start:min(start+500, len(figures))]})
				if err != nil {
					return err
				}
				out = append(out, list...)
			}
			return nil
		})
		return out, err
	}
}
