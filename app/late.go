package app

import (
	"context"

	"kpitrail/domain"
)

// late loads, once per call, the aggregates a decision reads beyond the
// command's Requires (a year's lock: few, and rarely changed); nil when
// there are none or one could not be loaded.
func (b *bulk) late(ctx context.Context, c domain.Command, target domain.Aggregate, deps []domain.Aggregate) []domain.Aggregate {
	refs := domain.LateRequirements(c, target, deps)
	if len(refs) == 0 {
		return nil
	}
	out := make([]domain.Aggregate, 0, len(refs))
	for _, ref := range refs {
		a, ok := b.aggs[ref]
		if !ok {
			agg, history, err := b.svc.load(ctx, ref)
			if err != nil {
				return nil
			}
			a = &bulkAgg{agg: agg, commands: make(map[string]bool, len(history))}
			for _, e := range history {
				a.commands[e.CommandID] = true
			}
			b.aggs[ref] = a
		}
		out = append(out, a.agg)
	}
	return out
}
