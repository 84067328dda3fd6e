package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"kpitrail/auth"
	"kpitrail/demo"
)

// loadDemo loads the seed data set into an empty store. It runs through the
// command service like any client, as the office, so the demo's events are
// stamped, chained and authorized like every other. It returns once the
// read models hold the whole demo (wait), so the server is ready only when
// its first reader sees every task with its indicators, not a board half
// projected.
func loadDemo(ctx context.Context, sys *System, wait func(context.Context, uint64) error, log *slog.Logger) error {
	last, err := sys.Store.LastPosition(ctx)
	if err != nil {
		return err
	}
	if last > 0 {
		log.Info("demo data not loaded: the store is not empty", "position", last)
		return nil
	}
	p := auth.Principal{TokenID: "demo", Name: "demo", Role: auth.RoleOffice}
	if err := demo.Run(auth.WithPrincipal(ctx, p), sys.Service, demo.SeedYear, p.Attribution()); err != nil {
		return err
	}
	if last, err = sys.Store.LastPosition(ctx); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := wait(wctx, last); err != nil {
		return fmt.Errorf("demo data: the read models did not reach position %d: %w", last, err)
	}
	log.Info("demo data loaded", "year", demo.SeedYear, "position", last)
	return nil
}
