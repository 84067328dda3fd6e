package feed_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
	"kpitrail/feed"
	"kpitrail/projections"
)

var agency = domain.Source{Kind: domain.SourceAgency, Name: "市科委"}

// TestDownstreamMissesNothingAcrossRestarts: a downstream system reads
// every event in order; then it stops, more happens, the feed process
// stops too and a new one takes over its checkpoint; when the system comes
// back it finds exactly what it missed, once.
func TestDownstreamMissesNothingAcrossRestarts(t *testing.T) {
	s := newSystem(t)
	dir := t.TempDir()
	f, stopFeed := runFeed(t, s, dir)
	sub := attach(t, s, "mysystem")

	s.exec(t, domain.RegisterTask{TaskID: "t-tech", Year: 2022, Dimension: "高效率 落实",
		Title: "国际科技创新中心建设和高新技术企业发展", LeadDepartment: "区科委", Deadline: "2022-12-31"})
	s.exec(t, domain.DefineIndicator{IndicatorID: "i-hitech", TaskID: "t-tech", Name: "高新技术企业保有量", Unit: "家",
		Direction: domain.HigherIsBetter})
	s.exec(t, domain.SetTarget{IndicatorID: "i-hitech", Value: dec("719")})
	estimate := s.exec(t, domain.ReportFigure{IndicatorID: "i-hitech", Window: domain.YearWindow(2022), Value: dec("610"),
		Quality: domain.QualityEstimate, Source: agency, FinalDue: "2023-03-31", Note: "本数据为年度数据，预计2023年初由市科委反馈"})
	final := s.exec(t, domain.ReportFigure{IndicatorID: "i-hitech", Window: domain.YearWindow(2022), Value: dec("612"),
		Quality: domain.QualityFinal, Source: agency})
	s.exec(t, domain.CorrectFigure{IndicatorID: "i-hitech", Corrects: final.EventIDs[0], Value: dec("615"),
		Reason: "市科委正式反馈"})
	s.exec(t, domain.RecordProblem{TaskID: "t-tech", ProblemID: "p87-1", Description: "“浅山区”193宗一般性违法项目拆除整改完毕。",
		Cause: "剩余未整改到位项目2宗，正在申请认定为养老设施。", TotalItems: 193})
	s.exec(t, domain.ProgressRectification{TaskID: "t-tech", ProblemID: "p87-1", Rectified: 191, Note: "整改到位率99%"})
	s.exec(t, domain.CloseProblem{TaskID: "t-tech", ProblemID: "p87-1", Outcome: domain.RectOngoing, Note: "持续整改"})

	first := sub.receive(12)
	expect(t, first, []string{
		"task.status_changed:t-tech", "indicator.status_changed:i-hitech",
		"figure.changed:i-hitech", "indicator.status_changed:i-hitech", "task.status_changed:t-tech",
		"figure.changed:i-hitech", "indicator.status_changed:i-hitech",
		"figure.changed:i-hitech", "indicator.status_changed:i-hitech",
		"problem.opened:p87-1", "rectification.progressed:p87-1", "problem.closed:p87-1",
	})
	sub.none()

	if ts := data[feed.TaskStatusChanged](t, first[0]); ts.Old != nil || ts.New.Status != "pending" || ts.Title != "国际科技创新中心建设和高新技术企业发展" {
		t.Errorf("first task status: %+v", ts)
	}
	reported := data[feed.FigureChanged](t, first[2])
	if reported.Kind != "reported" || reported.NewValue != "610" || reported.NewQuality != "estimate" || reported.OldValue != "" ||
		reported.Window != (feed.Window{Year: 2022, FromMonth: 1, ToMonth: 12}) || reported.Note != "本数据为年度数据，预计2023年初由市科委反馈" ||
		reported.Source == nil || reported.Source.Name != "市科委" || first[2].event.EventID != estimate.EventIDs[0] ||
		first[2].event.Position != estimate.Position {
		t.Errorf("estimate: %+v %+v", first[2].event, reported)
	}
	st := data[feed.IndicatorStatusChanged](t, first[3])
	if st.Old == nil || st.Old.Status != "pending_data" || st.New.Status != "not_met" || st.New.CompletionPctDisplay != "84.8" ||
		st.New.CompletionRatio != "0.848401" || st.New.QualityBasis != "estimate" || st.Target != "719" || st.Value != "610" {
		t.Errorf("status on the estimate: %+v", st)
	}
	if ts := data[feed.TaskStatusChanged](t, first[4]); ts.Old == nil || ts.Old.Status != "pending" || ts.New.Status != "at_risk" {
		t.Errorf("task at risk: %+v", ts)
	}
	if fc := data[feed.FigureChanged](t, first[5]); fc.Kind != "superseded" || fc.OldValue != "610" || fc.OldQuality != "estimate" ||
		fc.NewValue != "612" || fc.NewQuality != "final" || fc.Replaces != estimate.EventIDs[0] {
		t.Errorf("final: %+v", fc)
	}
	if st := data[feed.IndicatorStatusChanged](t, first[6]); st.Old.CompletionPctDisplay != "84.8" || st.New.CompletionPctDisplay != "85.1" ||
		st.New.QualityBasis != "final" || st.New.Status != "not_met" {
		t.Errorf("status on the final: %+v", st)
	}
	if fc := data[feed.FigureChanged](t, first[7]); fc.Kind != "corrected" || fc.OldValue != "612" || fc.NewValue != "615" ||
		fc.NewQuality != "revised" || fc.Reason != "市科委正式反馈" || fc.Replaces != final.EventIDs[0] {
		t.Errorf("correction: %+v", fc)
	}
	if st := data[feed.IndicatorStatusChanged](t, first[8]); st.New.CompletionPctDisplay != "85.5" || st.New.QualityBasis != "revised" {
		t.Errorf("status on the correction: %+v", st)
	}
	if po := data[feed.ProblemOpened](t, first[9]); po.Description != "“浅山区”193宗一般性违法项目拆除整改完毕。" || po.TotalItems != 193 {
		t.Errorf("problem opened: %+v", po)
	}
	if rp := data[feed.RectificationProgressed](t, first[10]); rp.Rectified != 191 || rp.Remaining != 2 || rp.PreviousRectified != 0 ||
		rp.RateDisplay != "99.0" || rp.State != "in_progress" {
		t.Errorf("rectification: %+v", rp)
	}
	if pc := data[feed.ProblemClosed](t, first[11]); pc.Outcome != "ongoing" || pc.Total != 193 || pc.Rectified != 191 || pc.Note != "持续整改" {
		t.Errorf("problem closed: %+v", pc)
	}

	// The downstream system goes away, and so does the feed's process.
	waitFeed(t, f, s.last(t))
	stopFeed()
	s.exec(t, domain.DefineIndicator{IndicatorID: "i-zones", TaskID: "t-tech", Name: "“两区”入库项目", Unit: "个",
		Direction: domain.HigherIsBetter})
	s.exec(t, domain.SetTarget{IndicatorID: "i-zones", Value: dec("71")})
	zones := s.exec(t, domain.ReportFigure{IndicatorID: "i-zones", Window: domain.YearWindow(2022), Value: dec("169"),
		Quality: domain.QualityFinal, Source: domain.Source{Kind: domain.SourceSelfReported}})
	s.exec(t, domain.RecordProblem{TaskID: "t-tech", ProblemID: "p2", Description: "部分项目手续未办结"})
	s.exec(t, domain.CloseProblem{TaskID: "t-tech", ProblemID: "p2", Outcome: domain.RectNotRectified})
	s.exec(t, domain.CompleteTask{TaskID: "t-tech", CompletedOn: "2023-01-15", Note: "均按计划完成任务"})

	f2, stopFeed2 := runFeed(t, s, dir)
	waitFeed(t, f2, s.last(t))
	sub = attach(t, s, "mysystem")
	second := sub.receive(6)
	expect(t, second, []string{
		"indicator.status_changed:i-zones",
		"figure.changed:i-zones", "indicator.status_changed:i-zones",
		"problem.opened:p2", "problem.closed:p2",
		"task.status_changed:t-tech",
	})
	sub.none()
	if st := data[feed.IndicatorStatusChanged](t, second[2]); st.New.Status != "exceeded" || st.Old.Status != "pending_data" {
		t.Errorf("zones: %+v", st)
	}
	if ts := data[feed.TaskStatusChanged](t, second[5]); ts.Old.Status != "at_risk" || ts.New.Status != "done_late" ||
		ts.New.Lifecycle != "completed" || ts.CompletedOn != "2023-01-15" || ts.OriginalDeadline != "2022-12-31" {
		t.Errorf("completed late: %+v", ts)
	}

	all := append(first, second...)
	ordered(t, all)
	agreesWithReadModels(t, s, all)
	if n := streamMsgs(t, s); n != uint64(len(all)) {
		t.Errorf("stream holds %d messages, downstream received %d", n, len(all))
	}

	// A feed started from nothing on another directory derives the same
	// ids for the same log, so JetStream drops every one of them.
	f3, _ := runFeed(t, s, t.TempDir())
	waitFeed(t, f3, s.last(t))
	if n := streamMsgs(t, s); n != uint64(len(all)) {
		t.Errorf("a republish from scratch added %d messages", n-uint64(len(all)))
	}

	// Losing the checkpoint file but not the private read models: they are
	// ahead of the checkpoint, so the feed starts them again from nothing.
	stopFeed2()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(dir, "feed.db"+suffix)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	f4, stopFeed4 := runFeed(t, s, dir)
	waitFeed(t, f4, s.last(t))
	if n := streamMsgs(t, s); n != uint64(len(all)) {
		t.Errorf("a republish after losing the checkpoint added %d messages", n-uint64(len(all)))
	}
	sub.none()

	// Losing the private read models instead: the feed rebuilds them from
	// the log up to its checkpoint before the next message, and publishes
	// only what that message changed.
	stopFeed4()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(dir, "readmodels.db"+suffix)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	s.exec(t, domain.CorrectFigure{IndicatorID: "i-zones", Corrects: zones.EventIDs[0], Value: dec("170"), Reason: "复核"})
	f5, _ := runFeed(t, s, dir)
	waitFeed(t, f5, s.last(t))
	third := sub.receive(2)
	expect(t, third, []string{"figure.changed:i-zones", "indicator.status_changed:i-zones"})
	sub.none()
	if fc := data[feed.FigureChanged](t, third[0]); fc.OldValue != "169" || fc.NewValue != "170" {
		t.Errorf("correction after the rebuild: %+v", fc)
	}
}

// expect compares the sequence of type:subject id.
func expect(t *testing.T, got []received, want []string) {
	t.Helper()
	var keys []string
	for _, r := range got {
		keys = append(keys, r.event.Type+":"+lastField(r.msgID))
	}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Fatalf("events:\n got %v\nwant %v%s", keys, want, describe(got))
	}
}

func lastField(id string) string {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == ':' {
			return id[i+1:]
		}
	}
	return id
}

// ordered: log order, one delivery per id, and the envelope agrees with
// the headers and the subject.
func ordered(t *testing.T, rs []received) {
	t.Helper()
	seen := map[string]bool{}
	var last uint64
	for _, r := range rs {
		e := r.event
		if seen[r.msgID] {
			t.Errorf("duplicate message id %s", r.msgID)
		}
		seen[r.msgID] = true
		if e.Position < last {
			t.Errorf("%s: position %d after %d", r.msgID, e.Position, last)
		}
		last = e.Position
		if r.msgID != e.MessageID || r.msgID != fmt.Sprintf("%d:%d:%s:%s", e.Position, e.Index, e.Type, lastField(r.msgID)) {
			t.Errorf("message id %s, payload says %s", r.msgID, e.MessageID)
		}
		if r.subject != feed.DefaultSubjectPrefix+"."+e.Type+"."+e.TaskID || e.SchemaVersion != feed.SchemaVersion ||
			e.EventID == "" || e.Actor != "office:考评办" || e.CorrelationID != "feed-test" || e.RecordedAt.IsZero() {
			t.Errorf("envelope of %s on %s: %+v", r.msgID, r.subject, e)
		}
	}
}

// agreesWithReadModels: the last status published for each indicator and
// task is what the serving process's read models show.
func agreesWithReadModels(t *testing.T, s *system, rs []received) {
	t.Helper()
	ctx := context.Background()
	if err := s.live.Wait(ctx, s.last(t)); err != nil {
		t.Fatal(err)
	}
	indicators, tasks := map[string]feed.Assessment{}, map[string]feed.Standing{}
	for _, r := range rs {
		switch r.event.Type {
		case feed.TypeIndicatorStatusChanged:
			d := data[feed.IndicatorStatusChanged](t, r)
			indicators[d.IndicatorID] = d.New
		case feed.TypeTaskStatusChanged:
			tasks[r.event.TaskID] = data[feed.TaskStatusChanged](t, r).New
		}
	}
	err := s.live.With(ctx, nil, func(db *projections.DB) error {
		for id, a := range indicators {
			in, err := db.GetIndicator(ctx, id)
			if err != nil {
				return err
			}
			if in.Status != a.Status || in.CompletionRatio != a.CompletionRatio || in.QualityBasis != a.QualityBasis {
				t.Errorf("%s: feed says %+v, read models %s %s %s", id, a, in.Status, in.CompletionRatio, in.QualityBasis)
			}
		}
		for id, st := range tasks {
			task, err := db.GetTask(ctx, id)
			if err != nil {
				return err
			}
			if task.Lifecycle != st.Lifecycle || task.ProgressStatus != st.ProgressStatus {
				t.Errorf("%s: feed says %+v, read models %s %s", id, st, task.Lifecycle, task.ProgressStatus)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func streamMsgs(t *testing.T, s *system) uint64 {
	t.Helper()
	st, err := s.js.Stream(context.Background(), feed.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestStreamIsCreatedWithExplicitLimits(t *testing.T) {
	s := newSystem(t)
	f, err := feed.Open(context.Background(), feed.Config{Conn: s.nc, Log: s.store, Dir: t.TempDir(), Logger: quiet,
		MaxAge: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := s.js.Stream(context.Background(), feed.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	c := st.CachedInfo().Config
	if fmt.Sprint(c.Subjects) != "[kpitrail.changes.>]" || c.Retention != jetstream.LimitsPolicy ||
		c.Storage != jetstream.FileStorage || c.MaxAge != 30*24*time.Hour || c.Duplicates != feed.DefaultDuplicateWindow ||
		c.Discard != jetstream.DiscardOld || !c.DenyDelete || !c.DenyPurge {
		t.Fatalf("stream config: %+v", c)
	}
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name string
		cfg  feed.Config
	}{
		{"nothing", feed.Config{}},
		{"wildcard prefix", feed.Config{Dir: "x", SubjectPrefix: "kpitrail.*"}},
		{"window beyond age", feed.Config{Dir: "x", MaxAge: time.Minute, DuplicateWindow: time.Hour}},
		{"negative", feed.Config{Dir: "x", Retries: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); err == nil {
				t.Fatal("accepted")
			}
			if _, err := feed.Open(context.Background(), tc.cfg); err == nil {
				t.Fatal("opened")
			}
		})
	}
}
