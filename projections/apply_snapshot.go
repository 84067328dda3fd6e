package projections

import "kpitrail/domain"

func (p *projector) applySnapshot(b *batchTx, r domain.Recorded) error {
	e, ok := r.Data.(*domain.SnapshotRecorded)
	if !ok {
		return broken("%s is not a snapshot event", r.Name)
	}
	// The domain's rule, as the command was decided with it.
	var last uint64
	if err := b.queryRow(`SELECT COALESCE(MAX(position), 0) FROM snapshots WHERE year = ?`, e.Year).Scan(&last); err != nil {
		return err
	}
	if err := domain.CheckSnapshot(r.AggregateID, last, *e); err != nil {
		return broken("snapshot %s: %v", r.ID, err)
	}
	return b.exec(`INSERT INTO snapshots (event_id, year, position, content_hash, root, aggregates, file, note, actor,
		recorded_at, event_position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, e.Year, e.Position, e.ContentHash, e.Root, e.Aggregates, nullStr(e.File), nullStr(e.Note), r.Actor,
		formatTime(r.RecordedAt), r.Position)
}

// Snapshot is a recorded year-end snapshot.
type Snapshot struct {
	EventID     string `json:"event_id"`
	Year        int    `json:"year"`
	Position    uint64 `json:"position"`
	ContentHash string `json:"content_hash"`
	Root        string `json:"root"`
	Aggregates  int    `json:"aggregates"`
	File        string `json:"file,omitempty"`
	Note        string `json:"note,omitempty"`
	Actor       string `json:"actor"`
	RecordedAt  string `json:"recorded_at"`
}
