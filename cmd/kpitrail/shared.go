package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/idempotency"
	"kpitrail/lease"
)

// Several instances on one cluster. On an external NATS cluster
// (--nats-url) kpitrail assumes it may share the cluster with other serve
// processes, each with its own --data and read models, all fed from the
// one event stream:
//
//   - tokens, console sessions and idempotency keys live in replicated KV
//     buckets (auth.OpenTokensKV, idempotency.OpenKV), not in the data
//     directory, so whichever instance a load balancer picks knows them;
//   - the jobs of which a deployment runs one (the checkpointer, the
//     change-feed publisher, imports) run under a lease in KV (package
//     lease), so exactly one instance runs each and another takes over
//     within --lease-ttl when it dies;
//   - the event store re-reads an aggregate's subject on every load
//     (eventstore.Config.Shared), so rules decided on a dependency see
//     what another instance appended; the append's subject check keeps
//     optimistic concurrency exact across instances either way.
//
// With the embedded server (no --nats-url) nothing changes: auth.db and
// idempotency.db in the data directory, and every job runs in-process.

// shared reports whether this serve shares its NATS with other instances.
func (c ServeConfig) shared() bool { return c.NATSURL != "" }

// holderName is how this instance appears in the lease bucket.
func holderName(c ServeConfig, httpAddr string) string {
	if c.Instance != "" {
		return c.Instance
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s pid %d http %s", host, os.Getpid(), httpAddr)
}

// openTokens opens the token store: auth.db, or the cluster's bucket.
func (s *Server) openTokens(ctx context.Context) error {
	cfg := auth.TokenConfig{AdminToken: s.cfg.AdminToken, DefaultTTL: s.cfg.TokenTTL, MaxTTL: s.cfg.TokenMaxTTL}
	var err error
	if s.cfg.shared() {
		s.tokens, err = auth.OpenTokensKV(ctx, s.sys.Store.JetStreamContext(), auth.KVConfig{Replicas: s.cfg.Replicas}, cfg)
	} else {
		s.tokens, err = auth.OpenTokens(filepath.Join(s.cfg.DataDir, "auth.db"), cfg)
	}
	if err != nil {
		return err
	}
	return checkTokens(ctx, s.cfg, s.tokens, s.log)
}

// openKeys opens the idempotency record: idempotency.db, or the bucket.
func (s *Server) openIdempotency(ctx context.Context) (err error) {
	if s.cfg.shared() {
		s.keys, err = idempotency.OpenKV(ctx, s.sys.Store.JetStreamContext(), s.cfg.Replicas)
	} else {
		s.keys, err = idempotency.Open(filepath.Join(s.cfg.DataDir, "idempotency.db"))
	}
	return err
}

// openLeases opens the lease bucket on a shared cluster (nil otherwise:
// every job runs here).
func (s *Server) openLeases(ctx context.Context) (err error) {
	if !s.cfg.shared() {
		return nil
	}
	s.holder = holderName(s.cfg, s.ln.Addr().String())
	s.leases, err = lease.Open(ctx, s.sys.Store.JetStreamContext(), lease.Config{Replicas: s.cfg.Replicas, TTL: s.cfg.LeaseTTL,
		Holder: s.holder, Logger: s.log})
	return err
}

// singleton runs job in the background: under the lease name on a shared
// cluster, so one instance at a time runs it, or here directly.
// Close waits for it (singletons), so a lease is released while the
// connection is still open and another instance takes the job at once.
func (s *Server) singleton(ctx context.Context, name string, job func(ctx context.Context)) {
	s.singletons.Add(1)
	go func() {
		defer s.singletons.Done()
		if s.leases == nil {
			job(ctx)
			return
		}
		s.leases.Run(ctx, name, 0, job)
	}()
}

// stopSingletons ends the singleton jobs and waits, a bounded time, for
// them to release their leases.
func (s *Server) stopSingletons() {
	if s.background == nil {
		return
	}
	s.background()
	done := make(chan struct{})
	go func() { s.singletons.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.log.Warn("singleton jobs did not stop within 10 s; their leases expire on their own")
	}
}

// Lease names of the singleton jobs.
const (
	leaseCheckpointer = "checkpointer"
	leaseFeed         = "feed"
	leaseImports      = "imports"
)

// importLease holds the deployment's import lease while an import or undo
// runs on a shared cluster, waiting up to wait for it.
func importLease(ctx context.Context, l *lease.Leases, wait time.Duration, log *slog.Logger) (func(), error) {
	if l == nil {
		return func() {}, nil
	}
	deadline := time.Now().Add(wait)
	for {
		h, ok, err := l.TryAcquire(ctx, leaseImports)
		if err != nil {
			return nil, domain.Internal(err, "import lease")
		}
		if ok {
			return h.Release, nil
		}
		if time.Now().After(deadline) {
			who, _ := l.Holder(ctx, leaseImports)
			log.Info("import refused: another instance is importing", "holder", who)
			return nil, &domain.Error{Code: domain.EBUSY, Rule: "one_import_at_a_time",
				Message: "another import or undo is running on another instance of this deployment; retry when it has finished"}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
