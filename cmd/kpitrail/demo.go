package main

import (
	"context"
	"log/slog"

	"kpitrail/auth"
	"kpitrail/demo"
)

// loadDemo loads the seed data set into an empty store. It runs through the
// command service like any client, as the office, so the demo's events are
// stamped, chained and authorized like every other.
func loadDemo(ctx context.Context, sys *System, log *slog.Logger) error {
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
	last, _ = sys.Store.LastPosition(ctx)
	log.Info("demo data loaded", "year", demo.SeedYear, "position", last)
	return nil
}
