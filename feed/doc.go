// Package feed publishes kpitrail's integration events for downstream
// systems: a small, versioned set of types (figure.changed,
// indicator.status_changed, task.status_changed, problem.opened,
// rectification.progressed, problem.closed) on the JetStream subjects
// kpitrail.changes.<type>.<task id>, in a stream of their own,
// KPITRAIL_CHANGES, that the feed creates. docs/downstream.md is the
// contract.
//
// # Where the events come from
//
// The feed reads the KPITRAIL log itself, from its own checkpoint, in
// order. It does not hook the read-model runner's Observer: an observer
// sees only what a runner in the same process applies while both are up,
// so whatever happens while the feed is down or behind would be lost, and
// it reports batches, not positions. Figure changes and problems come
// straight from the domain events; the values they replaced and the
// statuses that follow need derived state, which the feed reads from its
// own copy of the read models, stepped to exactly the position being
// translated (see replica for why not the serving process's copy).
//
// # Delivery
//
// Per log message, in log order: translate, publish every integration
// event and wait for each JetStream acknowledgement, then record the
// position and the statuses published in one SQLite transaction (state).
// A crash in between republishes the position with the same message ids
// (position, event index, type and subject id), which JetStream drops
// within its duplicate window; past the window the checkpoint has long
// moved on, except after a crash exactly there, so downstream systems
// process by message id idempotently: delivery is at least once.
//
// # Routing and failures
//
// A reader goroutine hands each message over an in-process watermill
// channel to watermill's router, whose handler does the work behind the
// retry, poison-queue and recoverer middleware (as intake does). A message
// that cannot be translated (or panics) is retried, then set aside on
// kpitrail.changes.poison with its error, and the feed moves on; statuses
// it would have changed are published with the next message that touches
// them. An outage (NATS, the feed's files) is not poison: the message is
// retried until it passes, so nothing is dropped because something was
// down.
package feed
