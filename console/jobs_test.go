package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kpitrail/auth"
	"kpitrail/importer"
	"kpitrail/jobs"
)

// issuePrincipal issues a token and returns it with its principal, to
// start jobs as that token.
func (e *env) issuePrincipal(name string, role auth.Role, deps ...string) (string, auth.Principal) {
	e.t.Helper()
	is, err := e.toks.Issue(context.Background(), auth.Principal{Name: "admin", Role: auth.RoleAdmin},
		auth.IssueRequest{Name: name, Role: role, Departments: deps})
	if err != nil {
		e.t.Fatal(err)
	}
	return is.Token, is.Principal
}

// steppedImport is a job that reports progress when told to and ends with
// an import's answer (or, cancelled, with what it had stored), as the
// importer's job does; the test decides when each step happens.
func steppedImport(step <-chan int64, total int64) jobs.Func {
	return func(ctx context.Context) (any, error) {
		var done int64
		report := func() *importer.ApplyReport {
			r := &importer.ApplyReport{Applied: int(done)}
			for i := int64(0); i < done; i++ {
				r.Results = append(r.Results, importer.CommandResult{Line: int(i) + 2, Command: "indicator.report_figure", Outcome: "applied",
					Warnings: []importer.RowWarning{{Rule: "jump", Severity: "warning", Message: "较上期变动 250%"}}})
			}
			if done < total {
				r.NotRun, r.NextLine = int(total-done), int(done)+2
			}
			return r
		}
		jobs.Report(ctx, 0, total, "commands")
		for done < total {
			select {
			case n := <-step:
				done = n
				jobs.Report(ctx, done, total, "commands")
			case <-ctx.Done():
				return nil, jobs.CancelledError("import cancelled: some commands were not run; import the same file again to run them",
					importResult{BatchID: "b-0123456789abcdef", Report: report()})
			}
		}
		return importResult{BatchID: "b-0123456789abcdef", Summary: importer.Summary{Figures: int(total)}, Report: report()}, nil
	}
}

func (e *env) waitJob(id string, ok func(jobs.Snapshot) bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s, _ := e.jobs.Get(id); ok(s) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	s, _ := e.jobs.Get(id)
	e.t.Fatalf("job %s did not get there: %+v", id, s)
}

// An import job's page shows its progress while it runs (reloading itself
// without a script), then the result with each row's warnings; it is its
// owner's and the office's, nobody else's.
func TestJobPageFollowsAnImport(t *testing.T) {
	e := newEnv(t)
	tok, p := e.issuePrincipal("怀柔区政府填报员", auth.RoleReporter, "怀柔区政府")
	step := make(chan int64)
	snap, err := e.jobs.Start(jobs.Owner{Actor: p.Actor(), TokenID: p.TokenID, Role: string(p.Role)}, "import", "补录", steppedImport(step, 4))
	if err != nil {
		t.Fatal(err)
	}
	step <- 3
	e.waitJob(snap.ID, func(s jobs.Snapshot) bool { return s.Progress.Done == 3 })

	b := e.client()
	b.signIn(tok)
	a := b.do("GET", "/console/jobs/"+snap.ID, nil)
	for _, want := range []string{`<meta http-equiv="refresh" content="1">`, `<progress max="4" value="3"`, "已完成 3 / 4 条命令（75%）",
		`data-state="running"`, `id="cancel-form"`, "取消", "补录", "每秒"} {
		if a.status != http.StatusOK || !strings.Contains(a.body, want) {
			t.Fatalf("the running job's page (%d) lacks %q:\n%s", a.status, want, a.body)
		}
	}
	if !strings.Contains(a.header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Error("the job page's CSP was loosened")
	}

	// Another reporter does not see it; the office does.
	other, _ := e.issuePrincipal("密云区政府填报员", auth.RoleReporter, "密云区政府")
	ob := e.client()
	ob.signIn(other)
	if a := ob.do("GET", "/console/jobs/"+snap.ID, nil); a.status != http.StatusNotFound || strings.Contains(a.body, "补录") {
		t.Fatalf("another reporter opened the job: %d", a.status)
	}
	if a := ob.do("POST", "/console/jobs/"+snap.ID+"/cancel", url.Values{"csrf": {ob.csrf}}); a.status != http.StatusNotFound {
		t.Fatalf("another reporter cancelled the job: %d", a.status)
	}
	office := e.client()
	office.signIn(e.issue("考评办", auth.RoleOffice))
	if a := office.do("GET", "/console/jobs/"+snap.ID, nil); a.status != http.StatusOK || !strings.Contains(a.body, snap.ID) {
		t.Fatalf("the office cannot follow the job: %d", a.status)
	}

	step <- 4
	e.waitJob(snap.ID, func(s jobs.Snapshot) bool { return s.State == jobs.Succeeded })
	a = b.do("GET", "/console/jobs/"+snap.ID, nil)
	for _, want := range []string{`data-state="succeeded"`, "已完成", `id="import-results"`, "较上期变动 250%", "b-0123456789abcdef", `value="4"`} {
		if !strings.Contains(a.body, want) {
			t.Fatalf("the finished job's page lacks %q:\n%s", want, a.body)
		}
	}
	for _, gone := range []string{`http-equiv="refresh"`, `id="cancel-form"`} {
		if strings.Contains(a.body, gone) {
			t.Errorf("the finished job's page still has %s", gone)
		}
	}
	if a := b.do("GET", "/console/jobs/j-0000000000000000", nil); a.status != http.StatusNotFound {
		t.Errorf("an unknown job: %d", a.status)
	}
}

// Cancelling is a form post with the session's CSRF value, as every
// write; a cancelled import's page lists what it stored and says that
// importing the file again resumes.
func TestJobCancelNeedsCSRF(t *testing.T) {
	e := newEnv(t)
	tok, p := e.issuePrincipal("考评办", auth.RoleOffice)
	step := make(chan int64)
	snap, err := e.jobs.Start(jobs.Owner{Actor: p.Actor(), TokenID: p.TokenID, Role: string(p.Role)}, "import", "", steppedImport(step, 5))
	if err != nil {
		t.Fatal(err)
	}
	step <- 2
	e.waitJob(snap.ID, func(s jobs.Snapshot) bool { return s.Progress.Done == 2 })
	b := e.client()
	b.signIn(tok)
	for _, form := range []url.Values{{}, {"csrf": {strings.Repeat("0", len(b.csrf))}}} {
		if a := b.do("POST", "/console/jobs/"+snap.ID+"/cancel", form); a.status != http.StatusForbidden {
			t.Fatalf("a cancel without the session's CSRF value: %d", a.status)
		}
	}
	time.Sleep(20 * time.Millisecond)
	if s, _ := e.jobs.Get(snap.ID); s.State != jobs.Running {
		t.Fatalf("a refused cancel stopped the job: %s", s.State)
	}
	b.do("GET", "/console/jobs/"+snap.ID, nil)
	a := b.do("POST", "/console/jobs/"+snap.ID+"/cancel", url.Values{"csrf": {b.csrf}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/jobs/"+snap.ID {
		t.Fatalf("cancel: %d %s", a.status, a.header.Get("Location"))
	}
	e.waitJob(snap.ID, func(s jobs.Snapshot) bool { return s.State == jobs.Cancelled })
	a = b.do("GET", "/console/jobs/"+snap.ID, nil)
	for _, want := range []string{`data-state="cancelled"`, "导入已取消", `id="job-resume"`, "3 条命令（自第 4 行起）", `id="import-results"`} {
		if !strings.Contains(a.body, want) {
			t.Fatalf("the cancelled job's page lacks %q:\n%s", want, a.body)
		}
	}
}

func TestETAText(t *testing.T) {
	for in, want := range map[float64]string{0.2: "1 秒", 59: "59 秒", 125: "2 分 5 秒"} {
		if got := etaText(in); got != want {
			t.Errorf("etaText(%v) = %q, want %q", in, got, want)
		}
	}
}
