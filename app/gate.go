package app

import (
	"context"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// Guard is what Gate asks before every append: the verdict now, and a fresh
// check after an append failed for a reason the store could not name.
// *eventstore.Guard satisfies it.
type Guard interface {
	Err() error
	Check(ctx context.Context) error
}

// gated refuses appends, and the loads a command makes before deciding,
// while the guard reports a fault: kpitrail must not append to a stream
// that is not the log its read models were built from.
type gated struct {
	Store
	guard Guard
}

// Gate wraps a store so every write path (HTTP, NATS intake, imports, the
// checkpointer) is refused with the guard's error, a 503 that names the
// cause.
func Gate(s Store, g Guard) Store { return &gated{Store: s, guard: g} }

func (s *gated) Append(ctx context.Context, ref domain.AggregateRef, expected uint64, meta domain.Meta, events ...domain.Pending) ([]domain.Envelope, error) {
	if err := s.guard.Err(); err != nil {
		return nil, err
	}
	envs, err := s.Store.Append(ctx, ref, expected, meta, events...)
	return envs, s.explain(ctx, err)
}

func (s *gated) Load(ctx context.Context, ref domain.AggregateRef) ([]domain.Envelope, error) {
	if err := s.guard.Err(); err != nil {
		return nil, err
	}
	envs, err := s.Store.Load(ctx, ref)
	return envs, s.explain(ctx, err)
}

func (s *gated) AppendMany(ctx context.Context, reqs []eventstore.AppendRequest) []eventstore.AppendResult {
	out := make([]eventstore.AppendResult, len(reqs))
	if err := s.guard.Err(); err != nil {
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	if bs, ok := s.Store.(BatchStore); ok {
		out = bs.AppendMany(ctx, reqs)
	} else {
		for i, r := range reqs {
			out[i].Envelopes, out[i].Err = s.Store.Append(ctx, r.Ref, r.Expected, r.Meta, r.Events...)
		}
	}
	// One check for the whole batch, not one per failed request.
	for i := range out {
		if domain.ErrorCode(out[i].Err) == domain.EINTERNAL {
			if gerr := s.explain(ctx, out[i].Err); gerr != out[i].Err {
				for j := range out {
					if domain.ErrorCode(out[j].Err) == domain.EINTERNAL {
						out[j].Err = gerr
					}
				}
			}
			break
		}
	}
	return out
}

// explain replaces a failure the store could not name (an internal error:
// the stream gone from under it, say) with the guard's verdict when a check
// now finds a fault, so the caller learns the cause at once.
func (s *gated) explain(ctx context.Context, err error) error {
	if err == nil || domain.ErrorCode(err) != domain.EINTERNAL {
		return err
	}
	if gerr := s.guard.Check(ctx); gerr != nil {
		return gerr
	}
	return err
}
