package domain_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"kpitrail/domain"
)

// Given/when/then for the task and indicator aggregates.
//
// given: past events, applied with Rehydrate. The n-th given event has
// aggregate version n and event id "ev-n", so a figure reported by the third
// event is known as "ev-3". givenTask is the task a DefineIndicator reads.
// when:  one command, run through domain.Decide.
// then:  the events decided, compared by their JSON (what would be stored),
//        or the refusal, compared by Code, Field and Rule.
// after: optional checks on the aggregate once the decided events are
//        applied as "ev-(n+1)", "ev-(n+2)", ...

type gwtCase struct {
	name      string
	given     []domain.Event
	givenTask []domain.Event
	givenYear []domain.Event // the lock of the year the command changes
	when      domain.Command
	then      []domain.Event
	refused   *domain.Error // only Code, Field, Rule and Version are compared
	after     func(t *testing.T, a domain.Aggregate)
}

func refused(code domain.Code, field, rule string) *domain.Error {
	return &domain.Error{Code: code, Field: field, Rule: rule}
}

// gwtRecorded stamps events the way the store would for the aggregate.
func gwtRecorded(ref domain.AggregateRef, from uint64, events []domain.Event) []domain.Recorded {
	out := make([]domain.Recorded, len(events))
	for i, e := range events {
		v := from + uint64(i)
		out[i] = domain.Recorded{
			Envelope: domain.Envelope{ID: fmt.Sprintf("ev-%d", v), Name: e.EventName(),
				AggregateType: ref.Type, AggregateID: ref.ID, AggregateVersion: v},
			Data: e,
		}
	}
	return out
}

func gwtLoad(t *testing.T, ref domain.AggregateRef, events []domain.Event) domain.Aggregate {
	t.Helper()
	a, err := domain.NewAggregate(ref)
	if err != nil {
		t.Fatalf("new aggregate %s: %v", ref, err)
	}
	domain.Rehydrate(a, gwtRecorded(ref, 1, events))
	return a
}

func runGWT(t *testing.T, cases []gwtCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := gwtLoad(t, tc.when.Target(), tc.given)
			var deps []domain.Aggregate
			for _, ref := range tc.when.Requires() {
				if ref.Type != domain.AggregateTask {
					t.Fatalf("no given events for dependency %s", ref)
				}
				deps = append(deps, gwtLoad(t, ref, tc.givenTask))
			}
			for _, ref := range domain.LateRequirements(tc.when, target, deps) {
				deps = append(deps, gwtLoad(t, ref, tc.givenYear))
			}
			got, err := domain.Decide(tc.when, target, deps)
			if tc.refused != nil {
				assertRefused(t, err, tc.refused)
				if len(got) != 0 {
					t.Errorf("refused command still decided %d event(s)", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("decide %s: unexpected error %v", tc.when.CommandName(), err)
			}
			assertEvents(t, got, tc.then)
			if tc.after != nil {
				domain.Rehydrate(target, gwtRecorded(target.Ref(), uint64(len(tc.given))+1, got))
				if want := uint64(len(tc.given) + len(got)); target.Version() != want {
					t.Errorf("version after applying = %d, want %d", target.Version(), want)
				}
				tc.after(t, target)
			}
		})
	}
}

func assertRefused(t *testing.T, err error, want *domain.Error) {
	t.Helper()
	if err == nil {
		t.Fatalf("decided, want refusal %s %s/%s", want.Code, want.Field, want.Rule)
	}
	got, ok := domain.AsError(err)
	if !ok {
		t.Fatalf("error %v is not a *domain.Error (code %s)", err, domain.ErrorCode(err))
	}
	if got.Code != want.Code || got.Field != want.Field || got.Rule != want.Rule || got.Version != want.Version {
		t.Fatalf("refused with code=%s field=%q rule=%q version=%d (%v)\nwant code=%s field=%q rule=%q version=%d",
			got.Code, got.Field, got.Rule, got.Version, err, want.Code, want.Field, want.Rule, want.Version)
	}
	if domain.ErrorCode(err) != want.Code {
		t.Fatalf("ErrorCode = %s, want %s", domain.ErrorCode(err), want.Code)
	}
}

func assertEvents(t *testing.T, got, want []domain.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("decided %d event(s) %s, want %d %s", len(got), eventsJSON(t, got), len(want), eventsJSON(t, want))
	}
	for i := range got {
		if got[i].EventName() != want[i].EventName() {
			t.Errorf("event %d is %s, want %s", i, got[i].EventName(), want[i].EventName())
			continue
		}
		if g, w := eventsJSON(t, got[i:i+1]), eventsJSON(t, want[i:i+1]); g != w {
			t.Errorf("event %d %s\n got %s\nwant %s", i, got[i].EventName(), g, w)
		}
	}
}

func eventsJSON(t *testing.T, events []domain.Event) string {
	t.Helper()
	parts := make([]string, len(events))
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("marshal %s: %v", e.EventName(), err)
		}
		parts[i] = string(b)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func asTask(t *testing.T, a domain.Aggregate) *domain.Task {
	t.Helper()
	task, ok := a.(*domain.Task)
	if !ok {
		t.Fatalf("aggregate is %T, want *domain.Task", a)
	}
	return task
}

// Fixtures from the seed: the district's 2022 self-check table.

const (
	taskID       = "t2022-planning"
	seedDim      = "高效率 落实" // the stray space is data, kept as written
	seedTitle    = "城市总体规划实施"
	seedLead     = "区规划和自然资源委"
	seedProblem  = "“浅山区”193宗一般性违法项目拆除整改完毕。"
	seedCause    = "剩余未整改到位项目2宗，正在申请认定为养老设施，待取得相关认定材料后，提交区专班予以审定。"
	problemID    = "p87-1"
	seedDeadline = domain.Date("2022-12-31")
)

func registered() *domain.TaskRegistered {
	return &domain.TaskRegistered{Year: 2022, Dimension: seedDim, Title: seedTitle, LeadDepartment: seedLead,
		CoDepartments: []string{"区城管执法局", "各镇乡"}, Deadline: seedDeadline}
}

func problem87() *domain.TaskProblemRecorded {
	return &domain.TaskProblemRecorded{ProblemID: problemID, Description: seedProblem, Cause: seedCause, TotalItems: 193}
}

func progressed(prevTotal, prevRect, total, rect int, state domain.RectState) *domain.TaskRectificationProgressed {
	return &domain.TaskRectificationProgressed{ProblemID: problemID, Total: total, Rectified: rect,
		PreviousTotal: prevTotal, PreviousRectified: prevRect, State: state}
}

func problemState(t *testing.T, a domain.Aggregate, total, rectified int, state domain.RectState) {
	t.Helper()
	p, ok := asTask(t, a).Problem(problemID)
	if !ok {
		t.Fatalf("problem %s not found", problemID)
	}
	if p.Total != total || p.Rectified != rectified || p.State != state {
		t.Errorf("problem = %d/%d %s, want %d/%d %s", p.Rectified, p.Total, p.State, rectified, total, state)
	}
	if remaining := p.Total - p.Rectified; remaining != total-rectified {
		t.Errorf("remaining = %d, want %d", remaining, total-rectified)
	}
}

func TestTaskRegister(t *testing.T) {
	register := domain.RegisterTask{TaskID: taskID, Year: 2022, Dimension: seedDim, Title: seedTitle,
		LeadDepartment: seedLead, CoDepartments: []string{"区城管执法局", "各镇乡"}, Deadline: seedDeadline}
	with := func(f func(*domain.RegisterTask)) domain.RegisterTask { c := register; f(&c); return c }

	runGWT(t, []gwtCase{
		{
			name: "registers with the seed's text as written",
			when: register,
			then: []domain.Event{registered()},
			after: func(t *testing.T, a domain.Aggregate) {
				task := asTask(t, a)
				if !task.Exists() || task.Status() != domain.TaskStatusActive || task.Dimension() != seedDim ||
					task.Deadline() != seedDeadline || task.OriginalDeadline() != seedDeadline {
					t.Errorf("task after register: exists=%v status=%s dimension=%q deadline=%s original=%s",
						task.Exists(), task.Status(), task.Dimension(), task.Deadline(), task.OriginalDeadline())
				}
				if got := task.Departments(); len(got) != 3 || got[0] != seedLead {
					t.Errorf("departments = %v, want lead first then co-departments", got)
				}
			},
		},
		{
			name:    "a second register is a conflict carrying the current version",
			given:   []domain.Event{registered(), &domain.TaskNarrativeRecorded{Items: []string{"已制定并印发工作方案。"}}},
			when:    register,
			refused: &domain.Error{Code: domain.ECONFLICT, Field: "task_id", Rule: "exists", Version: 2},
		},
		{
			name:    "year out of range",
			when:    with(func(c *domain.RegisterTask) { c.Year = 1989 }),
			refused: refused(domain.EINVALID, "year", "range"),
		},
		{
			name:    "title required",
			when:    with(func(c *domain.RegisterTask) { c.Title = "  " }),
			refused: refused(domain.EINVALID, "title", "required"),
		},
		{
			name:    "title of 201 characters is too long even though 200 would fit",
			when:    with(func(c *domain.RegisterTask) { c.Title = strings.Repeat("落", 201) }),
			refused: refused(domain.EINVALID, "title", "max_length"),
		},
		{
			name:    "control characters refused",
			when:    with(func(c *domain.RegisterTask) { c.Title = "城市\x00更新" }),
			refused: refused(domain.EINVALID, "title", "control_character"),
		},
		{
			name:    "lead department required",
			when:    with(func(c *domain.RegisterTask) { c.LeadDepartment = "" }),
			refused: refused(domain.EINVALID, "lead_department", "required"),
		},
		{
			name:    "empty co-department named by index",
			when:    with(func(c *domain.RegisterTask) { c.CoDepartments = []string{"区城管执法局", ""} }),
			refused: refused(domain.EINVALID, "co_departments[1]", "required"),
		},
		{
			name:    "deadline must be a calendar date",
			when:    with(func(c *domain.RegisterTask) { c.Deadline = "2022-13-01" }),
			refused: refused(domain.EINVALID, "deadline", "date"),
		},
		{
			name:    "task id must be subject-safe",
			when:    with(func(c *domain.RegisterTask) { c.TaskID = "城市更新" }),
			refused: refused(domain.EINVALID, "task_id", "id_charset"),
		},
	})

	t.Run("200 Chinese characters fit", func(t *testing.T) {
		c := with(func(c *domain.RegisterTask) { c.Title = strings.Repeat("落", 200) })
		if _, err := domain.Decide(c, domain.NewTask(taskID), nil); err != nil {
			t.Fatalf("200-character title refused: %v", err)
		}
	})
}

func TestTaskDeadline(t *testing.T) {
	extend := domain.ChangeDeadline{TaskID: taskID, Deadline: "2023-03-31", Reason: "待市政府批复后完成"}
	noDeadline := registered()
	noDeadline.Deadline = ""

	runGWT(t, []gwtCase{
		{
			name:  "an extension keeps the original date",
			given: []domain.Event{registered()},
			when:  extend,
			then: []domain.Event{&domain.TaskDeadlineChanged{Previous: seedDeadline, Deadline: "2023-03-31",
				Original: seedDeadline, Reason: "待市政府批复后完成"}},
			after: func(t *testing.T, a domain.Aggregate) {
				task := asTask(t, a)
				if task.Deadline() != "2023-03-31" || task.OriginalDeadline() != seedDeadline {
					t.Errorf("deadline %s original %s, want 2023-03-31 original %s", task.Deadline(), task.OriginalDeadline(), seedDeadline)
				}
			},
		},
		{
			name: "a second extension still carries the first promise",
			given: []domain.Event{registered(), &domain.TaskDeadlineChanged{Previous: seedDeadline, Deadline: "2023-01-31",
				Original: seedDeadline, Reason: "疫情影响"}},
			when: extend,
			then: []domain.Event{&domain.TaskDeadlineChanged{Previous: "2023-01-31", Deadline: "2023-03-31",
				Original: seedDeadline, Reason: "待市政府批复后完成"}},
			after: func(t *testing.T, a domain.Aggregate) {
				if got := asTask(t, a).OriginalDeadline(); got != seedDeadline {
					t.Errorf("original = %s, want %s", got, seedDeadline)
				}
			},
		},
		{
			name:  "the first deadline of a task registered without one becomes the original",
			given: []domain.Event{noDeadline},
			when:  extend,
			then:  []domain.Event{&domain.TaskDeadlineChanged{Deadline: "2023-03-31", Original: "2023-03-31", Reason: "待市政府批复后完成"}},
			after: func(t *testing.T, a domain.Aggregate) {
				if got := asTask(t, a).OriginalDeadline(); got != "2023-03-31" {
					t.Errorf("original = %s, want 2023-03-31", got)
				}
			},
		},
		{
			name:    "the same date is no change",
			given:   []domain.Event{registered()},
			when:    domain.ChangeDeadline{TaskID: taskID, Deadline: seedDeadline, Reason: "重复提交"},
			refused: refused(domain.ERULE, "deadline", "unchanged"),
		},
		{
			name:    "an extension needs a reason",
			given:   []domain.Event{registered()},
			when:    domain.ChangeDeadline{TaskID: taskID, Deadline: "2023-03-31"},
			refused: refused(domain.EINVALID, "reason", "required"),
		},
		{
			name:    "a deadline is required",
			given:   []domain.Event{registered()},
			when:    domain.ChangeDeadline{TaskID: taskID, Reason: "延期"},
			refused: refused(domain.EINVALID, "deadline", "required"),
		},
		{
			name:    "unknown task",
			when:    extend,
			refused: refused(domain.ENOTFOUND, "", ""),
		},
	})
}

func TestTaskNarrativeAndMilestones(t *testing.T) {
	items := []string{
		"累计安装60221户，管道天然气用户累计已更换12752户，共计完成73973户，已经超额完成任务。",
		"已完成2条无灯路段路灯补建并于4月底亮灯。",
		"截至2022年12月，我区居民自主分类投放准确率为79.03%，高于全市平均值75.03%，在全市排名第3。",
	}
	bureau := &domain.Source{Kind: domain.SourceStatistics, Name: "区统计局"}

	runGWT(t, []gwtCase{
		{
			name:  "numbered items are kept apart and verbatim",
			given: []domain.Event{registered()},
			when:  domain.RecordNarrative{TaskID: taskID, Items: items, AsOf: "2022-12-31", Source: bureau},
			then:  []domain.Event{&domain.TaskNarrativeRecorded{Items: items, AsOf: "2022-12-31", Source: bureau}},
		},
		{
			name:    "at least one item",
			given:   []domain.Event{registered()},
			when:    domain.RecordNarrative{TaskID: taskID},
			refused: refused(domain.EINVALID, "items", "required"),
		},
		{
			name:    "a blank item is named by index",
			given:   []domain.Event{registered()},
			when:    domain.RecordNarrative{TaskID: taskID, Items: []string{items[0], " "}},
			refused: refused(domain.EINVALID, "items[1]", "required"),
		},
		{
			name:    "at most 200 items",
			given:   []domain.Event{registered()},
			when:    domain.RecordNarrative{TaskID: taskID, Items: make([]string, 201)},
			refused: refused(domain.EINVALID, "items", "max_items"),
		},
		{
			name:    "source kind must be known",
			given:   []domain.Event{registered()},
			when:    domain.RecordNarrative{TaskID: taskID, Items: items, Source: &domain.Source{Kind: "bureau", Name: "区统计局"}},
			refused: refused(domain.EINVALID, "source.kind", "enum"),
		},
		{
			name:  "a milestone is reached once",
			given: []domain.Event{registered()},
			when:  domain.RecordMilestone{TaskID: taskID, Milestone: "主体结构封顶", ReachedOn: "2022-11-30", Note: "全国文化中心建设相关15栋楼"},
			then:  []domain.Event{&domain.TaskMilestoneReached{Milestone: "主体结构封顶", ReachedOn: "2022-11-30", Note: "全国文化中心建设相关15栋楼"}},
			after: func(t *testing.T, a domain.Aggregate) {
				if got := asTask(t, a).Milestones(); len(got) != 1 || got[0] != "主体结构封顶" {
					t.Errorf("milestones = %v", got)
				}
			},
		},
		{
			name:    "the same milestone twice is refused",
			given:   []domain.Event{registered(), &domain.TaskMilestoneReached{Milestone: "主体结构封顶"}},
			when:    domain.RecordMilestone{TaskID: taskID, Milestone: "主体结构封顶"},
			refused: refused(domain.ERULE, "milestone", "duplicate"),
		},
		{
			name:  "another milestone is fine",
			given: []domain.Event{registered(), &domain.TaskMilestoneReached{Milestone: "开工"}},
			when:  domain.RecordMilestone{TaskID: taskID, Milestone: "验收"},
			then:  []domain.Event{&domain.TaskMilestoneReached{Milestone: "验收"}},
		},
		{
			name:    "milestone date must be a date",
			given:   []domain.Event{registered()},
			when:    domain.RecordMilestone{TaskID: taskID, Milestone: "验收", ReachedOn: "6月28日"},
			refused: refused(domain.EINVALID, "reached_on", "date"),
		},
	})
}

func TestTaskProblemsAndRectification(t *testing.T) {
	runGWT(t, []gwtCase{
		{
			name:  "a problem opens with its ledger total",
			given: []domain.Event{registered()},
			when: domain.RecordProblem{TaskID: taskID, ProblemID: problemID, Description: seedProblem,
				Cause: seedCause, TotalItems: 193},
			then:  []domain.Event{problem87()},
			after: func(t *testing.T, a domain.Aggregate) { problemState(t, a, 193, 0, domain.RectOpen) },
		},
		{
			name:    "a problem id is recorded once",
			given:   []domain.Event{registered(), problem87()},
			when:    domain.RecordProblem{TaskID: taskID, ProblemID: problemID, Description: "重复"},
			refused: refused(domain.ERULE, "problem_id", "duplicate"),
		},
		{
			name:    "problem ids are subject-safe",
			given:   []domain.Event{registered()},
			when:    domain.RecordProblem{TaskID: taskID, ProblemID: "87-1项", Description: seedProblem},
			refused: refused(domain.EINVALID, "problem_id", "id_charset"),
		},
		{
			name:    "negative totals refused",
			given:   []domain.Event{registered()},
			when:    domain.RecordProblem{TaskID: taskID, ProblemID: problemID, Description: seedProblem, TotalItems: -1},
			refused: refused(domain.EINVALID, "total_items", "non_negative"),
		},
		{
			name:  "191 of 193 rectified: in progress, previous counts carried",
			given: []domain.Event{registered(), problem87()},
			when:  domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Rectified: 191},
			then:  []domain.Event{progressed(193, 0, 193, 191, domain.RectInProgress)},
			after: func(t *testing.T, a domain.Aggregate) { problemState(t, a, 193, 191, domain.RectInProgress) },
		},
		{
			name:    "rectified above the total is refused",
			given:   []domain.Event{registered(), problem87()},
			when:    domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Rectified: 194},
			refused: refused(domain.ERULE, "rectified", "max_total"),
		},
		{
			name:    "rectified above a restated total is refused",
			given:   []domain.Event{registered(), problem87()},
			when:    domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Total: 190, Rectified: 191},
			refused: refused(domain.ERULE, "rectified", "max_total"),
		},
		{
			name:    "state rectified needs every item rectified",
			given:   []domain.Event{registered(), problem87()},
			when:    domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Rectified: 191, State: domain.RectRectified},
			refused: refused(domain.ERULE, "state", "all_rectified"),
		},
		{
			name:    "in progress cannot return to open",
			given:   []domain.Event{registered(), problem87(), progressed(193, 0, 193, 191, domain.RectInProgress)},
			when:    domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Rectified: 191, State: domain.RectOpen},
			refused: refused(domain.ERULE, "state", "transition"),
		},
		{
			name:    "unknown state",
			given:   []domain.Event{registered(), problem87()},
			when:    domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Rectified: 1, State: "done"},
			refused: refused(domain.EINVALID, "state", "enum"),
		},
		{
			name:    "negative counts refused",
			given:   []domain.Event{registered(), problem87()},
			when:    domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Rectified: -1},
			refused: refused(domain.EINVALID, "rectified", "non_negative"),
		},
		{
			name:    "unknown problem",
			given:   []domain.Event{registered()},
			when:    domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Rectified: 1},
			refused: refused(domain.ENOTFOUND, "", ""),
		},
		{
			name:    "closing as rectified with 191 of 193 is refused",
			given:   []domain.Event{registered(), problem87(), progressed(193, 0, 193, 191, domain.RectInProgress)},
			when:    domain.CloseProblem{TaskID: taskID, ProblemID: problemID, Outcome: domain.RectRectified},
			refused: refused(domain.ERULE, "outcome", "all_rectified"),
		},
		{
			name:  "closing 191 of 193 as ongoing (持续整改) is allowed",
			given: []domain.Event{registered(), problem87(), progressed(193, 0, 193, 191, domain.RectInProgress)},
			when:  domain.CloseProblem{TaskID: taskID, ProblemID: problemID, Outcome: domain.RectOngoing, Note: "2宗正在申请认定为养老设施"},
			then:  []domain.Event{&domain.TaskProblemClosed{ProblemID: problemID, Outcome: domain.RectOngoing, Note: "2宗正在申请认定为养老设施"}},
			after: func(t *testing.T, a domain.Aggregate) { problemState(t, a, 193, 191, domain.RectOngoing) },
		},
		{
			name: "closing as rectified once all 193 are rectified",
			given: []domain.Event{registered(), problem87(), progressed(193, 0, 193, 191, domain.RectInProgress),
				progressed(193, 191, 193, 193, domain.RectInProgress)},
			when:  domain.CloseProblem{TaskID: taskID, ProblemID: problemID, Outcome: domain.RectRectified},
			then:  []domain.Event{&domain.TaskProblemClosed{ProblemID: problemID, Outcome: domain.RectRectified}},
			after: func(t *testing.T, a domain.Aggregate) { problemState(t, a, 193, 193, domain.RectRectified) },
		},
		{
			name:  "progress to rectified with every item closes the ledger",
			given: []domain.Event{registered(), problem87(), progressed(193, 0, 193, 191, domain.RectInProgress)},
			when:  domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Rectified: 193, State: domain.RectRectified},
			then:  []domain.Event{progressed(193, 191, 193, 193, domain.RectRectified)},
			after: func(t *testing.T, a domain.Aggregate) { problemState(t, a, 193, 193, domain.RectRectified) },
		},
		{
			name: "a closed problem cannot progress",
			given: []domain.Event{registered(), problem87(), progressed(193, 0, 193, 191, domain.RectInProgress),
				&domain.TaskProblemClosed{ProblemID: problemID, Outcome: domain.RectOngoing}},
			when:    domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Rectified: 192},
			refused: refused(domain.ERULE, "problem_id", "problem_closed"),
		},
		{
			name: "a closed problem cannot close again",
			given: []domain.Event{registered(), problem87(),
				&domain.TaskProblemClosed{ProblemID: problemID, Outcome: domain.RectNotRectified}},
			when:    domain.CloseProblem{TaskID: taskID, ProblemID: problemID, Outcome: domain.RectOngoing},
			refused: refused(domain.ERULE, "problem_id", "problem_closed"),
		},
		{
			name:    "a close outcome must be terminal",
			given:   []domain.Event{registered(), problem87()},
			when:    domain.CloseProblem{TaskID: taskID, ProblemID: problemID, Outcome: domain.RectInProgress},
			refused: refused(domain.EINVALID, "outcome", "enum"),
		},
		{
			name:    "closing an unknown problem",
			given:   []domain.Event{registered()},
			when:    domain.CloseProblem{TaskID: taskID, ProblemID: problemID, Outcome: domain.RectOngoing},
			refused: refused(domain.ENOTFOUND, "", ""),
		},
	})
}

func TestTaskCompleteAndWithdraw(t *testing.T) {
	withdrawn := &domain.TaskWithdrawn{Reason: "重复登记"}
	runGWT(t, []gwtCase{
		{
			name:  "complete",
			given: []domain.Event{registered()},
			when:  domain.CompleteTask{TaskID: taskID, CompletedOn: "2022-12-20", Note: "19项任务中有1项任务未完成"},
			then:  []domain.Event{&domain.TaskCompleted{CompletedOn: "2022-12-20", Note: "19项任务中有1项任务未完成"}},
			after: func(t *testing.T, a domain.Aggregate) {
				if s := asTask(t, a).Status(); s != domain.TaskStatusCompleted {
					t.Errorf("status = %s", s)
				}
			},
		},
		{
			name:    "complete twice",
			given:   []domain.Event{registered(), &domain.TaskCompleted{CompletedOn: "2022-12-20"}},
			when:    domain.CompleteTask{TaskID: taskID, CompletedOn: "2022-12-21"},
			refused: refused(domain.ERULE, "task_id", "completed"),
		},
		{
			name:    "completion needs a date",
			given:   []domain.Event{registered()},
			when:    domain.CompleteTask{TaskID: taskID},
			refused: refused(domain.EINVALID, "completed_on", "required"),
		},
		{
			name:  "withdraw",
			given: []domain.Event{registered()},
			when:  domain.WithdrawTask{TaskID: taskID, Reason: "重复登记"},
			then:  []domain.Event{withdrawn},
			after: func(t *testing.T, a domain.Aggregate) {
				task := asTask(t, a)
				if task.Status() != domain.TaskStatusWithdrawn || !task.Exists() {
					t.Errorf("status = %s exists = %v, want withdrawn and still existing", task.Status(), task.Exists())
				}
			},
		},
		{
			name:    "withdraw needs a reason",
			given:   []domain.Event{registered()},
			when:    domain.WithdrawTask{TaskID: taskID},
			refused: refused(domain.EINVALID, "reason", "required"),
		},
		{
			name:    "withdraw twice",
			given:   []domain.Event{registered(), withdrawn},
			when:    domain.WithdrawTask{TaskID: taskID, Reason: "再次撤回"},
			refused: refused(domain.ERULE, "task_id", "task_withdrawn"),
		},
		{
			name:    "withdraw an unknown task",
			when:    domain.WithdrawTask{TaskID: taskID, Reason: "重复登记"},
			refused: refused(domain.ENOTFOUND, "", ""),
		},
	})

	// A withdrawn task takes no further change of any kind.
	for _, c := range []domain.Command{
		domain.ChangeDeadline{TaskID: taskID, Deadline: "2023-03-31", Reason: "延期"},
		domain.RecordNarrative{TaskID: taskID, Items: []string{"已完成"}},
		domain.RecordMilestone{TaskID: taskID, Milestone: "验收"},
		domain.RecordProblem{TaskID: taskID, ProblemID: "p2", Description: "问题"},
		domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Rectified: 192},
		domain.CloseProblem{TaskID: taskID, ProblemID: problemID, Outcome: domain.RectOngoing},
		domain.CompleteTask{TaskID: taskID, CompletedOn: "2022-12-31"},
	} {
		runGWT(t, []gwtCase{{
			name:    "withdrawn task refuses " + c.CommandName(),
			given:   []domain.Event{registered(), problem87(), withdrawn},
			when:    c,
			refused: refused(domain.ERULE, "task_id", "task_withdrawn"),
		}})
	}
}

func TestDecideChecksWhatWasLoaded(t *testing.T) {
	c := domain.RecordMilestone{TaskID: taskID, Milestone: "验收"}
	other := gwtLoad(t, domain.AggregateRef{Type: domain.AggregateTask, ID: "t-other"}, []domain.Event{registered()})
	if _, err := domain.Decide(c, other, nil); domain.ErrorCode(err) != domain.EINTERNAL {
		t.Errorf("deciding on another aggregate: code %s (%v), want %s", domain.ErrorCode(err), err, domain.EINTERNAL)
	}
	def := domain.DefineIndicator{IndicatorID: "i1", TaskID: taskID, Name: "指标", Direction: domain.HigherIsBetter}
	if _, err := domain.Decide(def, domain.NewIndicator("i1"), nil); domain.ErrorCode(err) != domain.EINTERNAL {
		t.Errorf("missing dependency: code %s (%v), want %s", domain.ErrorCode(err), err, domain.EINTERNAL)
	}
	if _, err := domain.NewAggregate(domain.AggregateRef{Type: "department", ID: "d1"}); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("unknown aggregate type: code %s, want %s", domain.ErrorCode(err), domain.EINVALID)
	}
}
