package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"kpitrail/auth"
	"kpitrail/demo"
	"kpitrail/projections"
)

// maxDemoUnits bounds --units: each district is some 700 events.
const maxDemoUnits = 3000

// loadDemo loads the seed data set into an empty store. It runs through the
// command service like any client: the office registers, defines, sets
// targets and approves, each department's reporter submits its figures, so
// the demo's events are stamped, chained and authorized like every other.
// The demo freezes 2022; the year's snapshot is then taken as kpitrail
// snapshot takes it. It returns once the read models hold the whole demo,
// so the server is ready only when its first reader sees every task with
// its indicators, not a board half projected.
//
// With units > 0 the demo also loads that many districts of one city (see
// demo.UnitSteps); the seed's district is placed in the city with them.
func loadDemo(ctx context.Context, sys *System, live *projections.Live, dataDir string, units int, log *slog.Logger) error {
	if units < 0 || units > maxDemoUnits {
		return fmt.Errorf("--units: between 0 and %d, got %d", maxDemoUnits, units)
	}
	last, err := sys.Store.LastPosition(ctx)
	if err != nil {
		return err
	}
	if last > 0 {
		log.Info("demo data not loaded: the store is not empty", "position", last)
		return nil
	}
	office := auth.Principal{TokenID: "demo", Name: "demo", Role: auth.RoleOffice}
	if err := demo.RunUnits(ctx, sys.Service, demo.SeedYear, units, demo.Staff(office)); err != nil {
		return err
	}
	a := &admin{dataDir: dataDir, sys: sys, live: live}
	snap, err := a.Snapshot(auth.WithPrincipal(ctx, office), demo.SeedYear, "演示数据：2022年度年终封存")
	if err != nil {
		return err
	}
	if last, err = sys.Store.LastPosition(ctx); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := live.Wait(wctx, last); err != nil {
		return fmt.Errorf("demo data: the read models did not reach position %d: %w", last, err)
	}
	if units > 0 {
		log.Info("demo districts loaded", "city", demo.CityID, "districts", units+1)
	}
	log.Info("demo data loaded", "year", demo.SeedYear, "position", last, "snapshot", snap.File)
	return nil
}
