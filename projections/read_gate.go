package projections

import "context"

// readGate admits queries to the reader pool in the order they arrive.
// database/sql hands a connection that comes free to a random waiter
// (connRequestSet.TakeRandom), so with more clients than connections an
// unlucky query waits for many others' turns: eight clients on two
// readers had a page of the board at p99 several times its median. Here a
// query waits in a channel's send queue, which Go serves first come,
// first served, and only as many run as the pool has connections.
type readGate struct{ slots chan struct{} }

func newReadGate(n int) *readGate { return &readGate{slots: make(chan struct{}, n)} }

// slotKey marks a context that holds a slot of a gate, so a read that
// calls another read (a task with its indicators) does not wait for a
// second slot behind the queue it already passed.
type slotKey struct{}

// enter waits for a slot and returns the context to run the queries with
// and the call that gives the slot back once their rows are closed. A
// context done while it waits gets no slot: its queries fail at once with
// the context's error.
func (g *readGate) enter(ctx context.Context) (context.Context, func()) {
	if ctx.Value(slotKey{}) == g {
		return ctx, func() {}
	}
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx, func() {}
	}
	return context.WithValue(ctx, slotKey{}, g), func() { <-g.slots }
}
