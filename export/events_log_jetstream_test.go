package export

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/eventstore/storetest"
	"kpitrail/projections"
	"kpitrail/signing"
)

// TestEventsLogExportFromJetStream: on a real stream, the events_log
// export carries each applied event's payload and hashes as the log holds
// them; read through a store that trusts another key, every message is
// foreign and the export fails instead of exporting unchecked payloads.
func TestEventsLogExportFromJetStream(t *testing.T) {
	nc := storetest.Conn(t, "export-test")
	ctx := ctxT(t)
	store, err := eventstore.OpenJetStream(ctx, nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{t: t, store: store}
	w.append(task("hills"), &domain.TaskRegistered{Year: 2022, Dimension: trickyDimension, Title: "“浅山区”违法项目整治", LeadDepartment: "区城管委"})
	w.append(task("hills"), &domain.TaskProblemRecorded{ProblemID: "p87-1", Description: "“浅山区”193宗一般性违法项目拆除整改", TotalItems: 193})
	w.append(task("hills"), &domain.TaskNarrativeRecorded{Items: []string{"已拆除：“两违”项目（第一批），共计12宗；", "全面推进。"}})
	path := filepath.Join(t.TempDir(), "readmodels.db")
	if err := projections.Rebuild(ctx, store, path, projections.RebuildOptions{}); err != nil {
		t.Fatal(err)
	}
	db, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	var want []domain.Envelope
	store.Read(ctx, 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		if m.Foreign != nil {
			t.Errorf("position %d: %v", m.Position, m.Foreign)
		}
		want = append(want, m.Events...)
		return nil
	})
	var b bytes.Buffer
	n, err := WriteTable(ctx, &b, db, store, eventsLog, FormatJSONL)
	if err != nil || n != len(want) || n != 3 {
		t.Fatalf("%d rows of %d events: %v", n, len(want), err)
	}
	for i, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var row struct {
			EventID  string `json:"event_id"`
			Payload  string `json:"payload"` // a TEXT column: the JSON as the log holds it
			Hash     string `json:"hash"`
			PrevHash string `json:"prev_hash"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		e := want[i]
		if row.EventID != e.ID || row.Payload != string(e.Payload) || row.Hash != e.Hash || row.PrevHash != e.PrevHash {
			t.Errorf("row %d: %s %s %s %s, the log holds %s %s %s %s", i, row.EventID, row.Payload, row.Hash, row.PrevHash,
				e.ID, e.Payload, e.Hash, e.PrevHash)
		}
	}

	other, err := signing.Generate()
	if err != nil {
		t.Fatal(err)
	}
	distrusting, err := eventstore.OpenJetStream(ctx, nc, eventstore.Config{Trust: signing.Trusting(other)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteTable(ctx, &bytes.Buffer{}, db, distrusting, eventsLog, FormatCSV); err == nil || !strings.Contains(err.Error(), "not authentic") {
		t.Fatalf("export through a store that trusts another key: %v", err)
	}
}
