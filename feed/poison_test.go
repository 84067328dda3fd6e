package feed_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/feed"
)

// TestPoisonedMessageIsSetAsideAndTheFeedGoesOn: a message whose
// translation keeps failing, and one whose translation panics, end on the
// poison subject with their errors; the feed publishes what comes after,
// and the status the first one would have changed arrives with the next
// message that touches the indicator.
func TestPoisonedMessageIsSetAsideAndTheFeedGoesOn(t *testing.T) {
	s := newSystem(t)
	var failAt, panicAt atomic.Uint64
	failAt.Store(4)
	panicAt.Store(6)
	var attempts atomic.Int32
	f, _ := runFeed(t, s, t.TempDir(), func(f *feed.Feed) {
		feed.SetTranslateHook(f, func(m eventstore.Message) error {
			switch m.Position {
			case failAt.Load():
				attempts.Add(1)
				return fmt.Errorf("%w: injected translator failure", feed.ErrTranslate)
			case panicAt.Load():
				panic("injected panic")
			}
			return nil
		})
	})
	sub := attach(t, s, "mysystem")
	poison := poisonConsumer(t, s)

	s.exec(t, domain.RegisterTask{TaskID: "t1", Year: 2022, Title: "城市总体规划实施", LeadDepartment: "区规划和自然资源委"})
	s.exec(t, domain.DefineIndicator{IndicatorID: "i1", TaskID: "t1", Name: "高新技术企业保有量", Unit: "家",
		Direction: domain.HigherIsBetter})
	s.exec(t, domain.SetTarget{IndicatorID: "i1", Value: dec("719")})
	estimate := s.exec(t, domain.ReportFigure{IndicatorID: "i1", Window: domain.YearWindow(2022), Value: dec("610"),
		Quality: domain.QualityEstimate, Source: agency})
	s.exec(t, domain.ReportFigure{IndicatorID: "i1", Window: domain.YearWindow(2022), Value: dec("612"),
		Quality: domain.QualityFinal, Source: agency})
	problem := s.exec(t, domain.RecordProblem{TaskID: "t1", ProblemID: "p1", Description: "手续未办结"})
	s.exec(t, domain.CloseProblem{TaskID: "t1", ProblemID: "p1", Outcome: domain.RectNotRectified})
	if estimate.Position != failAt.Load() || problem.Position != panicAt.Load() {
		t.Fatalf("positions moved: estimate %d, problem %d", estimate.Position, problem.Position)
	}
	waitFeed(t, f, s.last(t))

	got := sub.receive(6)
	expect(t, got, []string{
		"task.status_changed:t1", "indicator.status_changed:i1",
		// position 4 is poisoned: no figure.changed for the estimate
		"figure.changed:i1", "indicator.status_changed:i1", "task.status_changed:t1",
		// position 6 is poisoned: no problem.opened
		"problem.closed:p1",
	})
	sub.none()
	if st := data[feed.IndicatorStatusChanged](t, got[3]); st.Old == nil || st.Old.Status != "pending_data" ||
		st.New.Status != "not_met" || st.New.QualityBasis != "final" {
		t.Errorf("the status change caught up with the next message: %+v", st)
	}
	if fc := data[feed.FigureChanged](t, got[2]); fc.Kind != "superseded" || fc.OldValue != "610" {
		t.Errorf("the figure after the poisoned one still knows what it replaced: %+v", fc)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("translated %d times, want 1 + 1 retry", n)
	}

	letters := poison.receive(2)
	for i, want := range []struct {
		pos    uint64
		reason string
		event  string
	}{{failAt.Load(), "injected translator failure", domain.EvFigureReported}, {panicAt.Load(), "injected panic", domain.EvTaskProblemRecorded}} {
		l := letters[i]
		var body struct {
			Position uint64 `json:"position"`
			Events   []struct {
				Name string `json:"name"`
			} `json:"events"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(l.Data(), &body); err != nil {
			t.Fatal(err)
		}
		header := l.Headers().Get("reason_poisoned")
		if l.Subject() != "kpitrail.changes.poison" || body.Position != want.pos || len(body.Events) != 1 ||
			body.Events[0].Name != want.event || !strings.Contains(body.Error, want.reason) ||
			!strings.Contains(header, want.reason) || strings.Contains(header, "\n") ||
			l.Headers().Get(feed.HeaderPosition) != fmt.Sprint(want.pos) {
			t.Errorf("poison %d: %s %v %s", i, l.Subject(), l.Headers(), l.Data())
		}
	}
	if !strings.Contains(string(letters[1].Data()), "goroutine") {
		t.Errorf("the panic's stack is not in the poison body: %s", letters[1].Data())
	}
}

// TestRepublishAfterACrashBeforeTheCheckpointIsDeduplicated: the feed
// publishes a position's events and fails before recording it, as a crash
// would; the retry publishes them again under the same ids and JetStream
// keeps one copy.
func TestRepublishAfterACrashBeforeTheCheckpointIsDeduplicated(t *testing.T) {
	s := newSystem(t)
	s.exec(t, domain.RegisterTask{TaskID: "t1", Year: 2022, Title: "城市总体规划实施", LeadDepartment: "区规划和自然资源委"})
	s.exec(t, domain.DefineIndicator{IndicatorID: "i1", TaskID: "t1", Name: "降尘量", Unit: "吨/平方公里·月",
		Direction: domain.LowerIsBetter, Formula: domain.FormulaReduction, Baseline: dec("4.1")})
	s.exec(t, domain.SetTarget{IndicatorID: "i1", Value: dec("3.8")})
	report := s.exec(t, domain.ReportFigure{IndicatorID: "i1", Window: domain.Window{Year: 2022, FromMonth: 1, ToMonth: 11},
		Value: dec("3.6"), Quality: domain.QualityProvisional, Source: agency})
	var failed atomic.Int32
	f, _ := runFeed(t, s, t.TempDir(), func(f *feed.Feed) {
		feed.SetBeforeCommitHook(f, func(p uint64) error {
			if p == report.Position && failed.Add(1) == 1 {
				return errors.New("crash between publish and checkpoint")
			}
			return nil
		})
	})
	waitFeed(t, f, s.last(t))
	if failed.Load() < 2 {
		t.Fatalf("the position was not retried")
	}
	sub := attach(t, s, "mysystem")
	got := sub.receive(5)
	expect(t, got, []string{
		"task.status_changed:t1", "indicator.status_changed:i1",
		"figure.changed:i1", "indicator.status_changed:i1", "task.status_changed:t1",
	})
	sub.none()
	ordered(t, got)
	if n := streamMsgs(t, s); n != 5 {
		t.Errorf("stream holds %d messages, want 5", n)
	}
}

type poisonSub struct {
	t    *testing.T
	cons jetstream.Consumer
}

func poisonConsumer(t *testing.T, s *system) *poisonSub {
	t.Helper()
	cons, err := s.js.CreateOrUpdateConsumer(context.Background(), feed.DefaultStream, jetstream.ConsumerConfig{
		Durable: "operator", AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: "kpitrail.changes.poison"})
	if err != nil {
		t.Fatal(err)
	}
	return &poisonSub{t: t, cons: cons}
}

func (p *poisonSub) receive(n int) []jetstream.Msg {
	p.t.Helper()
	var out []jetstream.Msg
	deadline := time.Now().Add(10 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		batch, err := p.cons.Fetch(n-len(out), jetstream.FetchMaxWait(300*time.Millisecond))
		if err != nil {
			p.t.Fatal(err)
		}
		for m := range batch.Messages() {
			out = append(out, m)
			_ = m.Ack()
		}
	}
	if len(out) != n {
		p.t.Fatalf("%d poison messages, want %d", len(out), n)
	}
	return out
}
