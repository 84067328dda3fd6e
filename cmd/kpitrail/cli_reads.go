package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"kpitrail/projections"
)

// readCommand is a CLI subcommand that reads from a running server. Each
// entry of readCommands becomes a cobra command in readCommandsCobra, with
// --as-of, --json and the client's flags: a read added here needs nothing
// else.
type readCommand struct {
	summary string
	// flags registers the command's own flags and returns a function that
	// builds the request path from them and the positional arguments. A
	// command that takes positional arguments declares them with
	// declareArgs (oneArg does), so its usage line names them.
	flags func(fs *flag.FlagSet) func(args []string) (string, error)
	// human prints the JSON answer for people; nil prints it as a table
	// (printGeneric).
	human func(m *Main, raw json.RawMessage) error
}

func readCommands() map[string]readCommand {
	cmds := map[string]readCommand{
		"tasks": {"list tasks (--year --dimension --department --status)", func(fs *flag.FlagSet) func([]string) (string, error) {
			year := fs.Int("year", 0, "assessment year")
			dim := fs.String("dimension", "", "考评维度")
			dep := fs.String("department", "", "lead or co-department")
			status := fs.String("status", "", "task status")
			return func([]string) (string, error) {
				q := url.Values{}
				setIf(q, "year", *year != 0, strconv.Itoa(*year))
				setIf(q, "dimension", *dim != "", *dim)
				setIf(q, "department", *dep != "", *dep)
				setIf(q, "status", *status != "", *status)
				return "/v1/tasks?" + q.Encode(), nil
			}
		}, printTasks},
		"task": {"one task with its indicators and problems", oneArg("/v1/tasks/"), printTask},
		"indicators": {"list indicators (--task --year --q)", func(fs *flag.FlagSet) func([]string) (string, error) {
			task := fs.String("task", "", "only this task's indicators (a task id)")
			year := fs.Int("year", 0, "assessment year")
			q := fs.String("q", "", "only indicators whose name contains this text")
			return func([]string) (string, error) {
				v := url.Values{}
				setIf(v, "task_id", *task != "", *task)
				setIf(v, "year", *year != 0, strconv.Itoa(*year))
				setIf(v, "q", *q != "", *q)
				return "/v1/indicators?" + v.Encode(), nil
			}
		}, printIndicators},
		"figures":      {"every figure of an indicator, superseded and corrected ones too", oneArg("/v1/indicators/", "/figures"), nil},
		"history":      {"an indicator's year-over-year history", oneArg("/v1/indicators/", "/history"), nil},
		"audit-trail":  {"every change to an indicator's figures: old, new, who, when, why", oneArg("/v1/indicators/", "/audit"), printAudit},
		"events":       {"raw events after a position (--after --limit)", eventsFlags, nil},
		"dead-letters": {"events the read models could not apply (admin)", noArgs("/v1/admin/dead-letters"), nil},
		"snapshots":    {"recorded year-end snapshots", noArgs("/v1/snapshots"), nil},
		"review-queue": {"what awaits me: figures to submit (a department), to approve and proposals to decide (the office) (--year)",
			func(fs *flag.FlagSet) func([]string) (string, error) {
				year := fs.Int("year", 0, "assessment year")
				return func([]string) (string, error) {
					v := url.Values{}
					setIf(v, "year", *year != 0, strconv.Itoa(*year))
					return "/v1/review-queue?" + v.Encode(), nil
				}
			}, printReviewQueue},
		"proposals": {"an indicator's proposed bases and targets and the office's decisions", oneArg("/v1/indicators/", "/proposals"), nil},
		"overdue": {"reporting periods missing or late, and estimates overdue for their final figure (--year --department --on --all)",
			func(fs *flag.FlagSet) func([]string) (string, error) {
				year := fs.Int("year", 0, "assessment year")
				dep := fs.String("department", "", "lead department")
				on := fs.String("on", "", "the day to judge on, YYYY-MM-DD (default today)")
				all := fs.Bool("all", false, "every period, reported and not due ones too")
				return func([]string) (string, error) {
					v := url.Values{}
					setIf(v, "year", *year != 0, strconv.Itoa(*year))
					setIf(v, "department", *dep != "", *dep)
					setIf(v, "on", *on != "", *on)
					setIf(v, "status", !*all, "missing,late")
					return "/v1/completeness?" + v.Encode(), nil
				}
			}, printOverdue},
		"warnings": {"open warnings of the validation rules (--year --indicator --department --state open|explained|all)",
			func(fs *flag.FlagSet) func([]string) (string, error) {
				year := fs.Int("year", 0, "assessment year")
				ind := fs.String("indicator", "", "indicator id")
				dep := fs.String("department", "", "lead or co-department")
				state := fs.String("state", "", "open (default), explained or all")
				return func([]string) (string, error) {
					v := url.Values{}
					setIf(v, "year", *year != 0, strconv.Itoa(*year))
					setIf(v, "indicator_id", *ind != "", *ind)
					setIf(v, "department", *dep != "", *dep)
					setIf(v, "state", *state != "", *state)
					return "/v1/warnings?" + v.Encode(), nil
				}
			}, printWarnings},
		"years": {"frozen years, with each freeze and reopen (--year)", func(fs *flag.FlagSet) func([]string) (string, error) {
			year := fs.Int("year", 0, "assessment year")
			return func([]string) (string, error) {
				v := url.Values{}
				setIf(v, "year", *year != 0, strconv.Itoa(*year))
				return "/v1/years?" + v.Encode(), nil
			}
		}, nil},
	}
	addUnitReads(cmds)
	return cmds
}

func setIf(q url.Values, k string, ok bool, v string) {
	if ok {
		q.Set(k, v)
	}
}

func oneArg(prefix string, suffix ...string) func(fs *flag.FlagSet) func([]string) (string, error) {
	return func(fs *flag.FlagSet) func([]string) (string, error) {
		declareArgs(fs, argName(prefix))
		return func(args []string) (string, error) {
			if len(args) != 1 {
				return "", fmt.Errorf("give exactly one id")
			}
			return prefix + url.PathEscape(args[0]) + strings.Join(suffix, "") + "?", nil
		}
	}
}

func noArgs(path string) func(fs *flag.FlagSet) func([]string) (string, error) {
	return func(fs *flag.FlagSet) func([]string) (string, error) {
		return func([]string) (string, error) { return path + "?", nil }
	}
}

func eventsFlags(fs *flag.FlagSet) func([]string) (string, error) {
	after := fs.Uint64("after", 0, "position to read after")
	limit := fs.Int("limit", 100, "messages to read")
	return func([]string) (string, error) {
		return fmt.Sprintf("/v1/events?after=%d&limit=%d&", *after, *limit), nil
	}
}

// declared holds the positional arguments a read's flags function
// declared, until readCommandsCobra picks them up for the usage line.
var declared sync.Map // *flag.FlagSet -> []string

// required holds the flags a read cannot do without, so its usage line
// names them as it names positional arguments.
var required sync.Map // *flag.FlagSet -> []string

// requireFlags names flags a read needs (its path builder refuses without
// them).
func requireFlags(fs *flag.FlagSet, names ...string) {
	required.Store(fs, names)
}

// declareArgs names the positional arguments a read takes, in order:
// exactly these, no more and no fewer.
func declareArgs(fs *flag.FlagSet, names ...string) {
	declared.Store(fs, names)
}

// argName names the argument of a path such as /v1/indicators/{id}:
// "indicator-id".
func argName(prefix string) string {
	parts := strings.Split(strings.Trim(prefix, "/"), "/")
	return strings.TrimSuffix(parts[len(parts)-1], "s") + "-id"
}

// readCommandsCobra turns every entry of readCommands into a command.
func (m *Main) readCommandsCobra() []*cobra.Command {
	var out []*cobra.Command
	for name, rc := range readCommands() {
		out = append(out, m.readCommand(name, rc))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

func (m *Main) readCommand(name string, rc readCommand) *cobra.Command {
	own := flag.NewFlagSet(name, flag.ContinueOnError)
	build := rc.flags(own)
	names, _ := declared.LoadAndDelete(own)
	args, _ := names.([]string)
	use := name
	if flags, ok := required.LoadAndDelete(own); ok {
		for _, f := range flags.([]string) {
			use += " --" + f + " <" + f + ">"
		}
	}
	for _, a := range args {
		use += " <" + a + ">"
	}
	c := &cobra.Command{Use: use, Short: rc.summary, Args: exactArgs(len(args))}
	fs := c.Flags()
	fs.AddGoFlagSet(own)
	asOf := fs.String("as-of", "", "read the data as known at this instant of record time (RFC 3339), e.g. 2022-12-31T23:59:59+08:00")
	newClient := m.clientFlags(fs)
	c.RunE = func(c *cobra.Command, args []string) error {
		path, err := build(args)
		if err != nil {
			return usageErrorf(c, "%v", err)
		}
		if *asOf != "" {
			path += "&as_of=" + url.QueryEscape(*asOf)
		}
		cl := newClient()
		var raw json.RawMessage
		if err := cl.do(c.Context(), "GET", strings.TrimSuffix(strings.TrimSuffix(path, "?"), "&"), nil, &raw); err != nil {
			return err
		}
		if cl.asJSON {
			return m.printIndented(raw)
		}
		if rc.human == nil {
			return m.printGeneric(raw)
		}
		return rc.human(m, raw)
	}
	return c
}

func printTasks(m *Main, raw json.RawMessage) error {
	var res struct{ Tasks []projections.Task }
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	t := &table{header: []string{"ID", "年度", "维度", "专项任务", "牵头单位", "状态", "指标 达标/正常/滞后/未达标/待定", "问题"}}
	for _, x := range res.Tasks {
		t.add(x.ID, strconv.Itoa(x.Year), x.Dimension, x.Title, x.LeadDepartment, x.Status,
			fmt.Sprintf("%d/%d/%d/%d/%d", x.IndicatorsMet, x.IndicatorsOnTrack, x.IndicatorsBehind, x.IndicatorsNotMet, x.IndicatorsPending),
			strconv.Itoa(x.OpenProblems))
	}
	t.write(m.Stdout)
	return nil
}

func printTask(m *Main, raw json.RawMessage) error {
	var d projections.TaskDetail
	if err := json.Unmarshal(raw, &d); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s  %s（%d，%s）\n牵头单位：%s  状态：%s  截止：%s\n", d.ID, d.Title, d.Year, d.Dimension, d.LeadDepartment, d.Status, d.Deadline)
	for i, item := range d.Narrative {
		fmt.Fprintf(m.Stdout, "  %d. %s\n", i+1, item)
	}
	if len(d.Indicators) > 0 {
		fmt.Fprintln(m.Stdout)
		printIndicatorTable(m, d.Indicators)
	}
	for _, p := range d.Problems {
		fmt.Fprintf(m.Stdout, "\n问题 %s：%s\n  原因：%s\n  整改：%d/%d（%s%%），剩余 %d，%s\n", p.ProblemID, p.Description, p.Cause,
			p.Rectified, p.Total, p.RateDisplay, p.Remaining, p.State)
	}
	return nil
}

func printIndicators(m *Main, raw json.RawMessage) error {
	var res struct{ Indicators []projections.Indicator }
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	printIndicatorTable(m, res.Indicators)
	return nil
}

func printIndicatorTable(m *Main, list []projections.Indicator) {
	t := &table{header: []string{"ID", "指标", "目标", "数值", "单位", "口径", "质量", "完成率%", "状态"}}
	for _, x := range list {
		t.add(x.ID, x.Name, x.Target, x.Value, x.Unit, x.ValueWindow, x.Quality, x.CompletionPctDisplay, x.Status)
	}
	t.write(m.Stdout)
}

func printAudit(m *Main, raw json.RawMessage) error {
	var res struct{ Changes []projections.FigureChange }
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	t := &table{header: []string{"时间", "类型", "口径", "原值", "新值", "质量", "操作人", "令牌", "原因", "位置"}}
	for _, c := range res.Changes {
		t.add(c.RecordedAt, c.Kind, c.Period, c.OldValue, c.NewValue, qualityChange(c.OldQuality, c.NewQuality), c.Actor, c.ActorTokenID, c.Reason,
			strconv.FormatUint(c.Position, 10))
	}
	t.write(m.Stdout)
	return nil
}

func printReviewQueue(m *Main, raw json.RawMessage) error {
	var res struct{ Items []projections.ReviewItem }
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	t := &table{header: []string{"待办", "对象", "编号", "指标", "牵头单位", "口径", "数值", "状态", "提交/提议人", "时间", "原因"}}
	for _, x := range res.Items {
		t.add(x.Action, x.Kind, x.EventID, x.IndicatorName, x.LeadDepartment, x.Window, x.Value, x.State, x.By, x.Since, x.Reason)
	}
	t.write(m.Stdout)
	return nil
}

func printWarnings(m *Main, raw json.RawMessage) error {
	var res struct{ Warnings []projections.Warning }
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	t := &table{header: []string{"年度", "指标", "牵头单位", "规则", "级别", "口径", "说明", "状态", "解释"}}
	for _, w := range res.Warnings {
		t.add(strconv.Itoa(w.Year), w.IndicatorName, w.LeadDepartment, w.Rule, w.Severity, w.Window, w.Message, w.State, w.Explanation)
	}
	t.write(m.Stdout)
	return nil
}

func printOverdue(m *Main, raw json.RawMessage) error {
	var res projections.Completeness
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "截至 %s\n", res.On)
	t := &table{header: []string{"牵头单位", "报送期", "截止", "指标", "状态", "报送时间"}}
	for _, p := range res.Periods {
		t.add(p.Department, p.Period, p.Due, p.IndicatorName, p.Status, p.ReportedAt)
	}
	t.write(m.Stdout)
	if len(res.OverdueFinals) > 0 {
		fmt.Fprintln(m.Stdout)
		f := &table{header: []string{"牵头单位", "指标", "口径", "数值", "质量", "最终数应于"}}
		for _, o := range res.OverdueFinals {
			f.add(o.Department, o.IndicatorName, o.Window, o.Value, o.Quality, o.FinalDue)
		}
		f.write(m.Stdout)
	}
	return nil
}

// qualityChange is "estimate→final" for a change, the quality alone for a
// first report, and nothing for a change that has none (a target).
func qualityChange(old, new string) string {
	switch {
	case old == "" || old == new:
		return new
	case new == "":
		return old
	}
	return old + "→" + new
}
