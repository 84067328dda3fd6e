package eventstore

import (
	"container/list"
	"sync"

	"kpitrail/domain"
)

// aggState is the write model of one aggregate: its events and the stream
// sequence of its last message (the token for the next subject check).
type aggState struct {
	events  []domain.Envelope
	lastSeq uint64
}

func (a *aggState) version() uint64 { v, _ := head(a.events); return v }
func (a *aggState) hash() string    { _, h := head(a.events); return h }
func (a *aggState) clone() *aggState {
	return &aggState{events: cloneEnvs(a.events), lastSeq: a.lastSeq}
}

// aggCache is a bounded LRU of write models. It is only an accelerator: the
// server's subject check is the authority, and any doubt evicts the entry.
type aggCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recent; values are domain.AggregateRef
	items map[domain.AggregateRef]*cacheItem
}

type cacheItem struct {
	state *aggState
	elem  *list.Element
}

func newAggCache(max int) *aggCache {
	return &aggCache{max: max, order: list.New(), items: map[domain.AggregateRef]*cacheItem{}}
}

// get returns a private copy, so callers never race with later updates.
func (c *aggCache) get(ref domain.AggregateRef) (*aggState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[ref]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(it.elem)
	return it.state.clone(), true
}

func (c *aggCache) put(ref domain.AggregateRef, s *aggState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := c.items[ref]; ok {
		// Keep whichever view is newer: a slow reader must not roll back a
		// faster appender's update.
		if it.state.lastSeq <= s.lastSeq {
			it.state = s.clone()
		}
		c.order.MoveToFront(it.elem)
		return
	}
	c.items[ref] = &cacheItem{state: s.clone(), elem: c.order.PushFront(ref)}
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(domain.AggregateRef))
	}
}

// extend records a successful append made on top of prevSeq.
func (c *aggCache) extend(ref domain.AggregateRef, prevSeq, newSeq uint64, envs []domain.Envelope) {
	c.mu.Lock()
	it, ok := c.items[ref]
	if ok && it.state.lastSeq == prevSeq {
		it.state = &aggState{events: append(cloneEnvs(it.state.events), envs...), lastSeq: newSeq}
		c.order.MoveToFront(it.elem)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if !ok && prevSeq == 0 {
		c.put(ref, &aggState{events: cloneEnvs(envs), lastSeq: newSeq})
		return
	}
	c.forget(ref)
}

func (c *aggCache) forget(ref domain.AggregateRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := c.items[ref]; ok {
		c.order.Remove(it.elem)
		delete(c.items, ref)
	}
}
