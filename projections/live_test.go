package projections_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/projections"
)

// TestLiveWaitOutlivesARebuild: a rebuild replaces the runner, and a writer
// waiting for its write to become readable must still be answered.
func TestLiveWaitOutlivesARebuild(t *testing.T) {
	ctx := context.Background()
	store := eventstore.NewMemory(nil)
	live, err := projections.OpenLive(ctx, filepath.Join(t.TempDir(), "readmodels.db"), store, projections.RunnerOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	appendTask := func(id string) uint64 {
		p, _ := domain.NewPending(&domain.TaskRegistered{Year: 2022, Title: "国际消费中心城市建设", LeadDepartment: "区商务局"})
		envs, err := store.Append(ctx, domain.AggregateRef{Type: domain.AggregateTask, ID: id}, 0,
			domain.Meta{Actor: "office:t", CommandID: id, Source: "test"}, p)
		if err != nil {
			t.Fatal(err)
		}
		return envs[0].Position
	}
	first := appendTask("a")
	// The writer starts waiting for the next position before the rebuild
	// swaps the runner, and its write lands after it.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	waited := make(chan error, 1)
	go func() { waited <- live.Wait(wctx, first+1) }()
	time.Sleep(50 * time.Millisecond)
	if err := live.Rebuild(ctx, projections.RebuildOptions{}); err != nil {
		t.Fatal(err)
	}
	if pos := appendTask("b"); pos != first+1 {
		t.Fatalf("position %d", pos)
	}
	if err := <-waited; err != nil {
		t.Fatalf("wait across a rebuild: %v", err)
	}
	err = live.With(ctx, nil, func(db *projections.DB) error {
		tasks, err := db.ListTasks(ctx, projections.TaskFilter{})
		if err == nil && len(tasks) != 2 {
			t.Errorf("%d tasks after the wait", len(tasks))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
