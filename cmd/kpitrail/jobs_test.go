package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// figureSheet is a figure sheet of n indicators on task gdp, one figure
// each: 2n commands.
func figureSheet(n int) string {
	var b strings.Builder
	b.WriteString("indicator_id,task_id,name,unit,direction,window_year,from_month,to_month,value,quality,source_kind\n")
	for i := range n {
		fmt.Fprintf(&b, "ind-%04d,gdp,指标%04d（试）,%%,higher,2022,1,6,%d.5,provisional,self_reported\n", i, i, i%90)
	}
	return b.String()
}

// jobEvent is one server-sent event of a job's stream.
type jobEvent struct {
	name string
	job  map[string]any
}

// readJobStream reads a job's event stream until the server closes it.
func readJobStream(t *testing.T, base, token, id string) []jobEvent {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/jobs/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("job events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var out []jobEvent
	var name string
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			name = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			var j map[string]any
			if err := json.Unmarshal([]byte(v), &j); err != nil {
				t.Fatalf("event data: %v: %s", err, v)
			}
			out = append(out, jobEvent{name, j})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("the stream must end cleanly once the job has: %v", err)
	}
	return out
}

func progressDone(j map[string]any) float64 {
	return j["progress"].(map[string]any)["done"].(float64)
}

func TestJobProgressStreamEndsOnCompletionAndJobsAreScoped(t *testing.T) {
	s := startTestServerWith(t, func(c *ServeConfig) { c.Limits.ImportPace, c.Limits.ImportSlice = 150*time.Millisecond, 40 })
	office := s.token("考评办", "office")
	analyst := s.token("分析员", "analyst")
	other := s.token("另一个分析员", "analyst")
	s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "gdp", "year": 2022, "title": "经济发展", "lead_department": "区科委"})

	// An import run as a job: 202, a Location, the job's record.
	r := s.do("POST", "/v1/imports?kind=figures&format=csv&reason="+"年中补录", office, figureSheet(100), "Prefer", "respond-async")
	job := r.json(t)
	if r.Status != 202 || r.Header.Get("Location") != "/v1/jobs/"+job["id"].(string) || job["kind"] != "import" {
		t.Fatalf("import job: %d %s", r.Status, r.Body)
	}
	if by := job["started_by"].(map[string]any); by["actor"] == "" || by["token_id"] == "" || job["reason"] != "年中补录" {
		t.Fatalf("a job start is attributed, with its reason: %s", r.Body)
	}
	id := job["id"].(string)
	events := readJobStream(t, s.base, office, id)
	last := events[len(events)-1]
	if last.name != "end" || last.job["state"] != "succeeded" {
		t.Fatalf("the stream ends with the final record: %+v", last)
	}
	var seen []float64
	for _, e := range events[:len(events)-1] {
		if e.name != "job" {
			t.Fatalf("event %q before the end", e.name)
		}
		if d := progressDone(e.job); len(seen) == 0 || d != seen[len(seen)-1] {
			seen = append(seen, d)
		}
	}
	total := last.job["progress"].(map[string]any)["total"].(float64)
	if len(seen) < 2 || total != 200 || progressDone(last.job) != total {
		t.Fatalf("progress must advance in steps to the total (200 commands): %v of %v", seen, total)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("progress went back: %v", seen)
		}
	}
	if last.job["result"] != nil {
		t.Fatalf("the stream leaves the result to the record: %v", last.job)
	}
	res := s.mustDo(200, "GET", "/v1/jobs/"+id, office, nil)["result"].(map[string]any)["report"].(map[string]any)
	if res["applied"].(float64) != 200 {
		t.Fatalf("result: %v", res)
	}

	// A replay by an analyst, followed to its end, is that analyst's job.
	r = s.do("POST", "/v1/replays?reason=对账", analyst, map[string]any{"position": 2})
	if r.Status != 202 {
		t.Fatalf("replay job: %d %s", r.Status, r.Body)
	}
	replay := r.json(t)["id"].(string)
	if ev := readJobStream(t, s.base, analyst, replay); ev[len(ev)-1].job["state"] != "succeeded" {
		t.Fatalf("replay: %+v", ev[len(ev)-1])
	}
	// An export run as a job counts its rows: every table's, then the log's.
	r = s.do("POST", "/v1/exports", analyst, map[string]any{"formats": []string{"csv"}}, "Prefer", "respond-async")
	if r.Status != 202 {
		t.Fatalf("export job: %d %s", r.Status, r.Body)
	}
	exportJob := r.json(t)["id"].(string)
	ev := readJobStream(t, s.base, analyst, exportJob)
	end := ev[len(ev)-1].job
	prog := end["progress"].(map[string]any)
	if end["state"] != "succeeded" || prog["unit"] != "rows" || prog["total"].(float64) < float64(s.lastPosition()) || prog["done"] != prog["total"] {
		t.Fatalf("export job: %v", end)
	}
	// Scoping: a token sees its own jobs; the office sees all; another
	// token finds nothing, not even by id, and cannot cancel.
	ids := func(token string) []string {
		var out []string
		for _, j := range s.mustDo(200, "GET", "/v1/jobs", token, nil)["jobs"].([]any) {
			out = append(out, j.(map[string]any)["id"].(string))
		}
		return out
	}
	if got := ids(analyst); len(got) != 2 || got[1] != replay {
		t.Fatalf("the analyst's jobs: %v", got)
	}
	if got := ids(office); len(got) != 3 {
		t.Fatalf("the office sees every job: %v", got)
	}
	if got := ids(other); len(got) != 0 {
		t.Fatalf("another token's jobs: %v", got)
	}
	s.mustDo(404, "GET", "/v1/jobs/"+replay, other, nil)
	s.mustDo(404, "POST", "/v1/jobs/"+replay+"/cancel", other, nil)
	s.mustDo(404, "GET", "/v1/jobs/"+replay+"/events", other, nil)
	// The CLI lists and shows them.
	out, err := s.runCLI(office, "job", "list")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, replay) || !strings.Contains(out, "succeeded") {
		t.Fatalf("job list: %v\n%s", err, out)
	}
	out, err = s.runCLI(analyst, "job", "show", "--json", replay)
	if err != nil || !strings.Contains(out, `"state": "succeeded"`) || !strings.Contains(out, `"reason": "对账"`) {
		t.Fatalf("job show: %v\n%s", err, out)
	}
	// The CLI's rebuild runs as a job counted in log events.
	out, err = s.runCLI(adminToken, "rebuild", "--reason", "核对")
	if err != nil || !strings.Contains(out, "rebuilt to position") || !strings.Contains(out, "(rebuild): succeeded") {
		t.Fatalf("rebuild: %v\n%s", err, out)
	}
	rebuilt := s.mustDo(200, "GET", "/v1/jobs?state=succeeded", adminToken, nil)["jobs"].([]any)[0].(map[string]any)
	if p := rebuilt["progress"].(map[string]any); rebuilt["kind"] != "rebuild" || rebuilt["reason"] != "核对" || p["unit"] != "events" ||
		p["total"].(float64) != float64(s.lastPosition()) || p["done"] != p["total"] {
		t.Fatalf("rebuild job: %v", rebuilt)
	}
	// The CLI's replay runs on the server and checks what it downloads.
	file := filepath.Join(t.TempDir(), "p2.db")
	if out, err = s.runCLI(analyst, "replay", "--position", "2", "--out", file); err != nil || !strings.Contains(out, "replayed on the server") {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	if st, err := os.Stat(file); err != nil || st.Size() == 0 {
		t.Fatalf("replayed file: %v", err)
	}
}

func TestCancelledImportSaysWhatItStoredAndResumes(t *testing.T) {
	s := startTestServerWith(t, func(c *ServeConfig) { c.Limits.ImportPace, c.Limits.ImportSlice = time.Second, 50 })
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "gdp", "year": 2022, "title": "经济发展", "lead_department": "区科委"})
	file := filepath.Join(t.TempDir(), "figures.csv")
	if err := os.WriteFile(file, []byte(figureSheet(150)), 0o644); err != nil {
		t.Fatal(err)
	}
	before := s.lastPosition()

	// The CLI follows the import; Ctrl-C (its context ending) detaches
	// and says how to follow or cancel the job, which runs on.
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	var stdout, stderr bytes.Buffer
	m := NewMain(&stdout, &stderr, func(k string) string {
		return map[string]string{"KPITRAIL_SERVER": s.base, "KPITRAIL_TOKEN": office}[k]
	})
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"import", "--kind", "figures", file}) }()
	var id string
	deadline := time.Now().Add(time.Minute)
	for id == "" && time.Now().Before(deadline) {
		for _, j := range s.mustDo(200, "GET", "/v1/jobs?state=running", office, nil)["jobs"].([]any) {
			if progressDone(j.(map[string]any)) > 0 {
				id = j.(map[string]any)["id"].(string)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if id == "" {
		t.Fatal("no import job made progress")
	}
	interrupt()
	err := <-done
	var detached *DetachedError
	msg := stderr.String()
	if !errors.As(err, &detached) || detached.JobID != id || !strings.Contains(msg, "kpitrail job follow "+id) ||
		!strings.Contains(msg, "kpitrail job cancel "+id) || strings.Contains(msg, "cannot reach") {
		t.Fatalf("detach: %v\n%s", err, msg)
	}
	if st := s.mustDo(200, "GET", "/v1/jobs/"+id, office, nil)["state"]; st != "running" {
		t.Fatalf("a detached job runs on: %v", st)
	}

	// Cancel it, then follow it to its end: it says what it stored.
	out, err := s.runCLI(office, "job", "cancel", id)
	if err != nil || !strings.Contains(out, "cancel requested for job "+id) {
		t.Fatalf("cancel: %v\n%s", err, out)
	}
	out, err = s.runCLI(office, "job", "follow", id)
	if err == nil || !strings.Contains(err.Error(), "import cancelled") {
		t.Fatalf("follow a cancelled import: %v\n%s", err, out)
	}
	rec := s.mustDo(200, "GET", "/v1/jobs/"+id, office, nil)
	prob := rec["problem"].(map[string]any)
	report := prob["details"].(map[string]any)["report"].(map[string]any)
	ran := len(report["results"].([]any))
	notRun := int(report["not_run"].(float64))
	if rec["state"] != "cancelled" || prob["rule"] != "cancelled" || notRun == 0 || ran == 0 || ran+notRun != 300 ||
		int(report["applied"].(float64)) != ran {
		t.Fatalf("a cancelled import's record: %v", rec)
	}
	next := int(report["next_line"].(float64))
	want := fmt.Sprintf("%d of 300 commands ran", ran)
	if d := prob["detail"].(string); !strings.Contains(d, want) || !strings.Contains(d, fmt.Sprintf("from line %d on were not run", next)) {
		t.Fatalf("the problem must say what ran and where the rest begins: %s", d)
	}
	// Every command reported as run is stored (one event each), no more.
	stored := s.lastPosition() - before
	if stored != uint64(ran) {
		t.Fatalf("%d events stored, %d commands reported run", stored, ran)
	}

	// Running the same import again runs the rest, and nothing twice.
	out, err = s.runCLI(office, "import", "--kind", "figures", "--json", file)
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	var res ImportResult
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&res); err != nil {
		t.Fatalf("resume output: %v\n%s", err, out)
	}
	if res.Report.AlreadyPresent != ran || res.Report.Applied != notRun || s.lastPosition()-before != 300 {
		t.Fatalf("resume: %d already present (want %d), %d applied (want %d), %d stored in all",
			res.Report.AlreadyPresent, ran, res.Report.Applied, notRun, s.lastPosition()-before)
	}
}

// TestCtrlCDetachesTheCLIProcess runs the real binary as a shell would and
// interrupts it as Ctrl-C does: it detaches, says so with the job's id,
// exits 130, and the job runs on until it is cancelled.
func TestCtrlCDetachesTheCLIProcess(t *testing.T) {
	s := startTestServerWith(t, func(c *ServeConfig) { c.Limits.ImportPace, c.Limits.ImportSlice = time.Second, 50 })
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "gdp", "year": 2022, "title": "经济发展", "lead_department": "区科委"})
	file := filepath.Join(t.TempDir(), "figures.csv")
	if err := os.WriteFile(file, []byte(figureSheet(150)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The test binary runs main() itself when asked (TestMain): the same
	// program as the built kpitrail, signals and exit codes included.
	cmd := exec.Command(os.Args[0], "import", "--kind", "figures", "--reason", "补录", file)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "KPITRAIL_SERVER="+s.base, "KPITRAIL_TOKEN="+office)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var id string
	for deadline := time.Now().Add(time.Minute); id == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, j := range s.mustDo(200, "GET", "/v1/jobs?state=running", office, nil)["jobs"].([]any) {
			if progressDone(j.(map[string]any)) > 0 {
				id = j.(map[string]any)["id"].(string)
			}
		}
	}
	if id == "" {
		t.Fatal("no import job made progress")
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	msg := stderr.String()
	if !errors.As(err, &exit) || exit.ExitCode() != 130 || !strings.Contains(msg, "detached from job "+id) ||
		!strings.Contains(msg, "kpitrail job cancel "+id) || strings.Contains(msg, "cannot reach") {
		t.Fatalf("Ctrl-C: %v\nstderr:\n%s", err, msg)
	}
	// Not a terminal: plain progress lines, none of a bar's redraws.
	if !strings.Contains(msg, "job "+id+" (import): running") || strings.Contains(msg, "\r") {
		t.Fatalf("plain progress lines expected:\n%q", msg)
	}
	j := s.mustDo(200, "GET", "/v1/jobs/"+id, office, nil)
	if j["state"] != "running" || j["reason"] != "补录" {
		t.Fatalf("the job runs on after the client detached: %v", j)
	}
	s.mustDo(202, "POST", "/v1/jobs/"+id+"/cancel", office, nil)
	if ev := readJobStream(t, s.base, office, id); ev[len(ev)-1].job["state"] != "cancelled" {
		t.Fatalf("after cancel: %v", ev[len(ev)-1].job)
	}
}
