package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"kpitrail/app"
	"kpitrail/audit"
	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/projections"
)

// checkpointer records the log's checkpoint root on a timer, as a
// checkpoint.recorded event and a log line: both are places an auditor can
// copy it from, and a later `audit verify --root` proves the log up to it
// unchanged. The root comes from the chain heads the read models keep, so
// a checkpoint costs one small query, not a walk of the log.
func checkpointer(ctx context.Context, every time.Duration, live *projections.Live, svc *app.Service, log *slog.Logger) {
	if every <= 0 {
		return
	}
	p := auth.Principal{TokenID: "system", Name: "checkpointer", Role: auth.RoleAdmin}
	ctx = auth.WithPrincipal(ctx, p)
	t := time.NewTicker(every)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var pos uint64
		var cp audit.Checkpoint
		err := live.With(ctx, nil, func(db *projections.DB) error {
			var heads map[domain.AggregateRef]string
			var err error
			pos, heads, err = db.ChainHeads(ctx)
			cp = audit.Root(heads, pos)
			return err
		})
		if err != nil || pos == 0 || pos <= last {
			continue
		}
		_, err = svc.Execute(ctx, domain.Meta{Actor: p.Actor(), ActorTokenID: p.TokenID, CommandID: fmt.Sprintf("checkpoint-%d", pos), Source: "checkpointer"},
			domain.RecordCheckpoint{Position: pos, Root: cp.Root, Aggregates: cp.Aggregates}, app.Options{})
		if err != nil && domain.ErrorCode(err) != domain.ERULE {
			log.Error("checkpoint not recorded", "position", pos, "err", err)
			continue
		}
		last = pos
		log.Info("checkpoint", "position", pos, "root", cp.Root, "aggregates", cp.Aggregates)
	}
}
