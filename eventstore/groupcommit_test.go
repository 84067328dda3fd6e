package eventstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// TestGroupCommitWaitEndsWhenWritersAreBack: writers that send their next
// append as soon as the last is answered are all back long before MaxWait,
// and the batch goes then instead of waiting it out. Only the first batch,
// with nothing yet to expect, waits the whole MaxWait; so does the first
// append of a lone writer after a larger batch, and none of its next ones.
// MaxWait is long enough that waiting it out each time could not pass.
func TestGroupCommitWaitEndsWhenWritersAreBack(t *testing.T) {
	_, s := embeddedStore(t)
	const maxWait = 2 * time.Second
	g, err := eventstore.NewGroupCommitter(s, eventstore.GroupCommitConfig{MaxWait: maxWait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	const writers, rounds = 8, 6
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := domain.AggregateRef{Type: domain.AggregateTask, ID: fmt.Sprintf("back%d", w)}
			for i := range rounds {
				if _, err := g.Append(ctxFor(t), ref, uint64(i), metaFor(fmt.Sprintf("back%d-%d", w, i)), pendingOf(t, narrativeEvent("回来"))...); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	took := time.Since(start)
	st := g.Stats()
	if st.Appends != writers*rounds {
		t.Fatalf("stats %+v: want %d appends", st, writers*rounds)
	}
	// Each round is one batch of all writers: none left for a round of its own.
	if st.Batches != rounds {
		t.Fatalf("stats %+v: want %d batches of %d", st, rounds, writers)
	}
	if took >= 2*maxWait {
		t.Fatalf("%d rounds took %v: batches waited out MaxWait %v with every writer back", rounds, took, maxWait)
	}

	ref := domain.AggregateRef{Type: domain.AggregateTask, ID: "lone"}
	start = time.Now()
	const lone = 5
	for i := range lone {
		if _, err := g.Append(ctxFor(t), ref, uint64(i), metaFor(fmt.Sprintf("lone-%d", i)), pendingOf(t, narrativeEvent("独自"))...); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took >= 2*maxWait {
		t.Fatalf("a lone writer's %d appends took %v: it waited out MaxWait %v more than once", lone, took, maxWait)
	}
	if st := g.Stats(); st.Batches != rounds+lone {
		t.Fatalf("stats %+v: want the lone writer's %d appends in batches of their own", st, lone)
	}
}
