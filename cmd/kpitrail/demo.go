package main

import (
	"context"
	"log/slog"

	"kpitrail/auth"
	"kpitrail/demo"
	"kpitrail/projections"
)

// loadDemo loads the seed data set into an empty store. It runs through the
// command service like any client: the office registers, defines, sets
// targets and approves, each department's reporter submits its figures, so
// the demo's events are stamped, chained and authorized like every other.
// The demo freezes 2022; the year's snapshot is then taken as kpitrail
// snapshot takes it.
func loadDemo(ctx context.Context, sys *System, live *projections.Live, dataDir string, log *slog.Logger) error {
	last, err := sys.Store.LastPosition(ctx)
	if err != nil {
		return err
	}
	if last > 0 {
		log.Info("demo data not loaded: the store is not empty", "position", last)
		return nil
	}
	office := auth.Principal{TokenID: "demo", Name: "demo", Role: auth.RoleOffice}
	as := func(ctx context.Context, department string) (context.Context, string) {
		if department == "" {
			return auth.WithPrincipal(ctx, office), office.Actor()
		}
		p := auth.Principal{TokenID: "demo-" + department, Name: department + "填报员", Role: auth.RoleReporter, Departments: []string{department}}
		return auth.WithPrincipal(ctx, p), p.Actor()
	}
	if err := demo.Run(ctx, sys.Service, demo.SeedYear, as); err != nil {
		return err
	}
	a := &admin{dataDir: dataDir, sys: sys, live: live}
	snap, err := a.Snapshot(auth.WithPrincipal(ctx, office), demo.SeedYear, "演示数据：2022年度年终封存")
	if err != nil {
		return err
	}
	log.Info("demo data loaded", "year", demo.SeedYear, "position", snap.EventPosition, "snapshot", snap.File)
	return nil
}
