package projections

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// TestDeadLettersNeverStopTheRunner feeds one bad message of every kind,
// each followed by good ones, through live catch-up and rebuild.
func TestDeadLettersNeverStopTheRunner(t *testing.T) {
	clock := newClock("2022-03-01")
	mem := eventstore.NewMemory(clock.now)
	w := &writer{t: t, store: mem}
	reg := func(title string) *domain.TaskRegistered {
		return &domain.TaskRegistered{Year: 2022, Dimension: "高质量 发展", Title: title, LeadDepartment: "区发改委"}
	}
	pos := func(envs []domain.Envelope) uint64 { return envs[0].Position }

	w.append(taskRef("t1"), reg("营商环境"))
	undecodable := pos(w.appendPending(taskRef("t-bad"), domain.Pending{Name: domain.EvTaskRegistered, SchemaVersion: 1,
		Payload: json.RawMessage(`{"year":"二〇二二","title":"年份写成了汉字"}`)}))
	unknown := pos(w.append(taskRef("t-renamed"), reg("将被改名的事件")))
	altered := pos(w.append(taskRef("t1"), &domain.TaskNarrativeRecorded{Items: []string{"原始文本"}}))
	orphan := pos(w.append(indRef("ghost"), &domain.FigureReported{Window: domain.YearWindow(2022),
		Value: domain.MustDecimal("1"), Quality: domain.QualityFinal, Source: domain.Source{Kind: domain.SourceSelfReported}}))
	// One command, two events: the second breaks an invariant (a figure for
	// another year), so neither is applied.
	halfBad := pos(w.append(indRef("i1"),
		&domain.IndicatorDefined{TaskID: "t1", Year: 2022, Name: "新增市场主体", Unit: "户", Direction: domain.HigherIsBetter},
		&domain.FigureReported{Window: domain.YearWindow(2021), Value: domain.MustDecimal("5"), Quality: domain.QualityFinal,
			Source: domain.Source{Kind: domain.SourceSelfReported}}))
	w.append(taskRef("t1"), &domain.TaskNarrativeRecorded{Items: []string{"断链之后的叙述"}})
	malformed := pos(w.append(taskRef("t-foreign"), reg("被替换成乱码的消息")))
	w.append(taskRef("t2"), reg("最后一个好事件"))

	var forged uint64 // written later, to test a restarted runner
	store := tamperStore{Store: mem, mutate: func(m *eventstore.Message) {
		switch m.Position {
		case forged: // a link to a head that does not exist
			if err := m.Events[0].Seal("0000"); err != nil {
				t.Fatal(err)
			}
		case unknown: // a name this build does not know, correctly sealed
			e := &m.Events[0]
			e.Name = "task.teleported"
			if err := e.Seal(""); err != nil {
				t.Fatal(err)
			}
		case altered: // the payload changed after sealing
			m.Events[0].Payload = json.RawMessage(`{"items":["篡改后的文本"]}`)
		case malformed:
			m.Events, m.Raw, m.Err = nil, []byte("\x00不是JSON"), eventstore.ErrMalformed
		}
	}}
	wantKinds := map[uint64]string{undecodable: DeadUndecodable, unknown: DeadUnknown, altered: DeadChainBreak,
		orphan: DeadInvariant, halfBad: DeadInvariant, malformed: DeadMalformed}

	db := tempDB(t)
	r := catchUp(t, db, store, RunnerOptions{BatchSize: 3})
	letters, err := db.DeadLetters(ctxT(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != len(wantKinds) {
		t.Errorf("%d dead letters, want %d: %+v", len(letters), len(wantKinds), letters)
	}
	for _, d := range letters {
		if wantKinds[d.Position] != d.Kind || d.Error == "" || len(d.Raw) == 0 {
			t.Errorf("dead letter at %d: kind %s (want %s), error %q, %d raw bytes", d.Position, d.Kind, wantKinds[d.Position], d.Error, len(d.Raw))
		}
	}
	if d := letters[0]; d.Position != malformed || string(d.Raw) != "\x00不是JSON" {
		t.Errorf("malformed letter keeps its bytes: %+v", d)
	}

	// The good events around them are all in.
	if got := queryString(t, db, `SELECT group_concat(id, ',') FROM (SELECT id FROM tasks ORDER BY id)`); got != "t1,t2" {
		t.Errorf("tasks %s", got)
	}
	if got := queryString(t, db, `SELECT narrative FROM tasks WHERE id = 't1'`); got != `["断链之后的叙述"]` {
		t.Errorf("t1 narrative %s: the chain must continue after the altered event", got)
	}
	if got := queryString(t, db, `SELECT CAST(COUNT(*) AS TEXT) FROM indicators`); got != "0" {
		t.Errorf("%s indicators: half a command was applied", got)
	}
	if cp, _ := r.Checkpoint(ctxT(t)); cp.Position != malformed+1 {
		t.Errorf("checkpoint %d", cp.Position)
	}

	// Persisted chain heads let a restarted runner keep verifying: the next
	// good event on t1 applies, a forged one is caught.
	w.append(taskRef("t1"), &domain.TaskMilestoneReached{Milestone: "印发实施方案", ReachedOn: "2022-03-20"})
	forged = pos(w.append(taskRef("t2"), &domain.TaskNarrativeRecorded{Items: []string{"伪造"}}))
	db2 := openDB(t, db.Path())
	db.Close()
	catchUp(t, db2, store, RunnerOptions{})
	if got := queryString(t, db2, `SELECT json_extract(milestones, '$[0].milestone') FROM tasks WHERE id = 't1'`); got != "印发实施方案" {
		t.Errorf("milestone after restart: %s", got)
	}
	if got := queryString(t, db2, `SELECT kind FROM dead_letters WHERE position = ?`, forged); got != DeadChainBreak {
		t.Errorf("forged link after restart: %s", got)
	}

	// A rebuild dead-letters exactly the same messages.
	path := filepath.Join(t.TempDir(), "rebuilt.db")
	if err := Rebuild(ctxT(t), store, path, RebuildOptions{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	sameContent(t, db2, openDB(t, path))
}
