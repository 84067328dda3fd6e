// Package demotest runs the demo data set on a real embedded JetStream
// server with live SQLite read models, for the tests of what reads them
// (the console, the self-check export). Writes go through the command
// service with the real authorization matrix.
package demotest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/demo"
	"kpitrail/eventstore"
	"kpitrail/projections"
)

// Fixture is a store holding the demo and the read models following it.
type Fixture struct {
	Dir     string
	Store   *eventstore.JetStream
	Service *app.Service
	Live    *projections.Live
}

// Office is the principal the demo is loaded as.
var Office = auth.Principal{TokenID: "demo", Name: "demo", Role: auth.RoleOffice}

// Start loads the demo year and waits until the read models hold it.
// Everything stops when the test ends.
func Start(t testing.TB) *Fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: filepath.Join(dir, "jetstream")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	nc, err := emb.Connect("demotest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	store, err := eventstore.OpenJetStream(ctx, nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc := app.NewService(store)
	svc.Authorize = auth.Authorizer(svc.Load)
	if err := demo.Run(ctx, svc, demo.SeedYear, demo.Staff(Office)); err != nil {
		t.Fatal(err)
	}
	live, err := projections.OpenLive(ctx, filepath.Join(dir, "readmodels.db"), store, projections.RunnerOptions{},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Close() })
	last, err := store.LastPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := live.Wait(ctx, last); err != nil {
		t.Fatal(err)
	}
	return &Fixture{Dir: dir, Store: store, Service: svc, Live: live}
}

// Read runs fn on the live read models.
func (f *Fixture) Read(t testing.TB, fn func(*projections.DB) error) {
	t.Helper()
	if err := f.Live.With(context.Background(), nil, fn); err != nil {
		t.Fatal(err)
	}
}
