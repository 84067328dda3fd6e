package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// jobRecord is a job as GET /v1/jobs/{id} shows it.
type jobRecord struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	State     string `json:"state"`
	StartedBy struct {
		Actor   string `json:"actor"`
		TokenID string `json:"token_id"`
	} `json:"started_by"`
	Reason     string     `json:"reason"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Progress   struct {
		Done  int64  `json:"done"`
		Total int64  `json:"total"`
		Unit  string `json:"unit"`
	} `json:"progress"`
	Rate       float64         `json:"rate"`
	ETASeconds *float64        `json:"eta_seconds"`
	Result     json.RawMessage `json:"result"`
	Problem    *apiError       `json:"problem"`
}

func (j jobRecord) finished() bool {
	return j.State == "succeeded" || j.State == "failed" || j.State == "cancelled"
}

// progressText is one plain line of a job's progress.
func (j jobRecord) progressText() string {
	p := j.Progress
	s := fmt.Sprintf("job %s (%s): %s", j.ID, j.Kind, j.State)
	switch {
	case p.Total > 0:
		s += fmt.Sprintf(", %d/%d %s (%.0f%%)", p.Done, p.Total, p.Unit, 100*float64(p.Done)/float64(p.Total))
	case p.Done > 0:
		s += fmt.Sprintf(", %d %s", p.Done, p.Unit)
	}
	if j.Rate > 0 && !j.finished() {
		s += fmt.Sprintf(", %.0f/s", j.Rate)
	}
	if j.ETASeconds != nil && !j.finished() {
		s += ", ETA " + (time.Duration(*j.ETASeconds) * time.Second).Round(time.Second).String()
	}
	return s
}

// startJob sends a request that asks the server to run it as a job, and
// follows the job to its end. It returns the job's result; a failed or
// cancelled job is an error carrying its problem.
func (m *Main) startJob(ctx context.Context, cl *client, method, path string, body any) (jobRecord, error) {
	var j jobRecord
	if err := cl.do(ctx, method, path, body, &j, "Prefer", "respond-async"); err != nil {
		return j, m.interrupted(ctx, err)
	}
	return m.follow(ctx, cl, j.ID)
}

// interrupted says plainly that Ctrl-C came before the server had a job
// to report on, instead of a network error.
func (m *Main) interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errors.New("interrupted before the server accepted the request; nothing was started")
	}
	return err
}

// follow shows a job's progress until it ends: a bar on a terminal, a
// plain line now and then otherwise, both on stderr. Ctrl-C (ctx ending)
// detaches: the job runs on, and the command says how to follow or
// cancel it.
func (m *Main) follow(ctx context.Context, cl *client, id string) (jobRecord, error) {
	var bar *progressbar.ProgressBar
	var lastLine time.Time
	show := func(j jobRecord) {
		if m.interactive() && j.Progress.Total > 0 {
			if bar == nil {
				bar = progressbar.NewOptions64(j.Progress.Total, progressbar.OptionSetWriter(m.Stderr),
					progressbar.OptionSetDescription(j.Kind+" "+j.ID), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
					progressbar.OptionSetItsString(j.Progress.Unit), progressbar.OptionThrottle(200*time.Millisecond),
					progressbar.OptionClearOnFinish())
			}
			_ = bar.Set64(j.Progress.Done)
			return
		}
		if j.finished() || time.Since(lastLine) >= time.Second {
			fmt.Fprintln(m.Stderr, j.progressText())
			lastLine = time.Now()
		}
	}
	for attempt := 0; ; attempt++ {
		j, err := m.watchJob(ctx, cl, id, show)
		if ctx.Err() != nil {
			if bar != nil {
				_ = bar.Clear()
			}
			fmt.Fprintf(m.Stderr, "\ndetached from job %s: it keeps running on the server.\n  follow it: kpitrail job follow %s\n  cancel it: kpitrail job cancel %s\n", id, id, id)
			return j, &DetachedError{JobID: id}
		}
		if err == nil && j.finished() {
			// The stream's last event says how the job ended; the result
			// (and a problem's details) come with the record.
			if err := cl.do(ctx, "GET", "/v1/jobs/"+url.PathEscape(id), nil, &j); err != nil {
				return j, err
			}
			if bar != nil {
				_ = bar.Finish()
			}
			fmt.Fprintln(m.Stderr, j.progressText())
			if j.State != "succeeded" {
				if j.Problem != nil {
					return j, j.Problem
				}
				return j, fmt.Errorf("job %s %s", id, j.State)
			}
			return j, nil
		}
		var p *apiError
		if errors.As(err, &p) || attempt >= 5 {
			return j, err
		}
		// The stream broke (a proxy, a restart): ask again, then resume.
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// watchJob reads the job's event stream until its "end" event.
func (m *Main) watchJob(ctx context.Context, cl *client, id string, show func(jobRecord)) (jobRecord, error) {
	var j jobRecord
	req, err := http.NewRequestWithContext(ctx, "GET", cl.base+"/v1/jobs/"+url.PathEscape(id)+"/events", nil)
	if err != nil {
		return j, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	// No overall timeout: a job may run for minutes; the server's
	// keep-alives show the stream is alive.
	res, err := (&http.Client{}).Do(req)
	if err != nil {
		return j, fmt.Errorf("cannot reach %s: %w", cl.base, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var p apiError
		if json.NewDecoder(res.Body).Decode(&p) == nil && p.Code != "" {
			return j, &p
		}
		return j, fmt.Errorf("GET /v1/jobs/%s/events: %d", id, res.StatusCode)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var event string
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data.WriteString(strings.TrimPrefix(line, "data: "))
		case line == "" && data.Len() > 0:
			if err := json.Unmarshal([]byte(data.String()), &j); err != nil {
				return j, fmt.Errorf("job %s: bad event: %w", id, err)
			}
			data.Reset()
			if event == "end" {
				return j, nil
			}
			show(j)
		}
	}
	if err := sc.Err(); err != nil {
		return j, err
	}
	return j, errors.New("job stream ended early")
}

func (m *Main) jobCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "job",
		Short: "Follow, cancel, list and show the server's jobs (imports, rebuilds, exports, replays)",
	}
	c.AddCommand(m.jobListCommand(), m.jobShowCommand(), m.jobFollowCommand(), m.jobCancelCommand())
	return c
}

func (m *Main) jobListCommand() *cobra.Command {
	c := &cobra.Command{Use: "list", Short: "List the jobs this token may see (its own; the office and admins see all)", Args: exactArgs(0)}
	state := c.Flags().String("state", "", "only jobs in this state: queued, running, succeeded, failed, cancelled")
	newClient := m.clientFlags(c.Flags())
	_ = c.RegisterFlagCompletionFunc("state", cobra.FixedCompletions([]string{"queued", "running", "succeeded", "failed", "cancelled"}, cobra.ShellCompDirectiveNoFileComp))
	c.RunE = func(c *cobra.Command, _ []string) error {
		cl := newClient()
		path := "/v1/jobs"
		if *state != "" {
			path += "?state=" + url.QueryEscape(*state)
		}
		var raw json.RawMessage
		if err := cl.do(c.Context(), "GET", path, nil, &raw); err != nil {
			return err
		}
		if cl.asJSON {
			return m.printIndented(raw)
		}
		var out struct {
			Jobs []jobRecord `json:"jobs"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return err
		}
		t := &table{header: []string{"ID", "KIND", "STATE", "PROGRESS", "STARTED BY", "CREATED", "REASON"}}
		for _, j := range out.Jobs {
			prog := fmt.Sprintf("%d %s", j.Progress.Done, j.Progress.Unit)
			if j.Progress.Total > 0 {
				prog = fmt.Sprintf("%d/%d %s", j.Progress.Done, j.Progress.Total, j.Progress.Unit)
			}
			t.add(j.ID, j.Kind, j.State, prog, j.StartedBy.Actor, j.CreatedAt.Format(time.RFC3339), j.Reason)
		}
		t.write(m.Stdout)
		return nil
	}
	return c
}

func (m *Main) jobShowCommand() *cobra.Command {
	c := &cobra.Command{Use: "show <job-id>", Short: "Show one job: state, progress, rate, ETA, result or problem", Args: exactArgs(1)}
	newClient := m.clientFlags(c.Flags())
	c.RunE = func(c *cobra.Command, args []string) error {
		cl := newClient()
		var raw json.RawMessage
		if err := cl.do(c.Context(), "GET", "/v1/jobs/"+url.PathEscape(args[0]), nil, &raw); err != nil {
			return err
		}
		if cl.asJSON {
			return m.printIndented(raw)
		}
		var j jobRecord
		if err := json.Unmarshal(raw, &j); err != nil {
			return err
		}
		m.printJob(j)
		return nil
	}
	return c
}

func (m *Main) printJob(j jobRecord) {
	fmt.Fprintln(m.Stdout, j.progressText())
	fmt.Fprintf(m.Stdout, "started by %s (token %s) at %s", j.StartedBy.Actor, j.StartedBy.TokenID, j.CreatedAt.Format(time.RFC3339))
	if j.Reason != "" {
		fmt.Fprintf(m.Stdout, ": %s", j.Reason)
	}
	fmt.Fprintln(m.Stdout)
	if j.Problem != nil {
		fmt.Fprintf(m.Stdout, "problem: %s\n", j.Problem.Error())
	}
	if len(j.Result) > 0 && string(j.Result) != "null" {
		fmt.Fprintln(m.Stdout, "result:")
		_ = m.printIndented(j.Result)
	}
}

func (m *Main) jobFollowCommand() *cobra.Command {
	c := &cobra.Command{Use: "follow <job-id>", Short: "Follow a job's progress until it ends (Ctrl-C detaches; the job runs on)", Args: exactArgs(1)}
	newClient := m.clientFlags(c.Flags())
	c.RunE = func(c *cobra.Command, args []string) error {
		cl := newClient()
		j, err := m.follow(c.Context(), cl, args[0])
		if err != nil {
			return err
		}
		if cl.asJSON {
			return m.printJSONOr(true, j, nil)
		}
		m.printJob(j)
		return nil
	}
	return c
}

func (m *Main) jobCancelCommand() *cobra.Command {
	c := &cobra.Command{Use: "cancel <job-id>", Short: "Cancel a job; an import stops between two slices and says what it stored", Args: exactArgs(1)}
	newClient := m.clientFlags(c.Flags())
	c.RunE = func(c *cobra.Command, args []string) error {
		cl := newClient()
		var j jobRecord
		if err := cl.do(c.Context(), "POST", "/v1/jobs/"+url.PathEscape(args[0])+"/cancel", nil, &j); err != nil {
			return err
		}
		return m.printJSONOr(cl.asJSON, j, func() {
			if j.finished() {
				fmt.Fprintf(m.Stdout, "job %s had already ended: %s\n", j.ID, j.State)
				return
			}
			fmt.Fprintf(m.Stdout, "cancel requested for job %s; it stops at its next safe point (kpitrail job show %s)\n", j.ID, j.ID)
		})
	}
	return c
}
