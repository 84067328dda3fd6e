package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"kpitrail/auth"
	"kpitrail/internal/problem"
)

// Startup says what is wrong first. The HTTP port is bound and the NATS
// port tried before anything starts, so a taken port is one line naming the
// address and the cause, not the last of the shutdown logs of everything
// that had started; a server no token could use is refused before it opens
// the event log.

// listen binds the HTTP address and tries the embedded NATS server's; it
// checks the TLS files first, as the listener is no use without them.
func listen(cfg ServeConfig) (net.Listener, error) {
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if cfg.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
	}
	if cfg.NATSURL == "" && cfg.NATSListen != "" {
		// The embedded server binds its port itself, once JetStream has
		// opened its store: try it now. (Should another process take it in
		// between, the server's own failure is reported as promptly.)
		l, err := net.Listen("tcp", cfg.NATSListen)
		if err != nil {
			return nil, listenError("--nats-listen", cfg.NATSListen, err)
		}
		l.Close()
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, listenError("--http", cfg.HTTPAddr, err)
	}
	return ln, nil
}

// listenError is one line: the flag, the address, the cause, and what to
// do about the usual ones.
func listenError(flag, addr string, err error) error {
	cause := err
	var se *os.SyscallError
	if errors.As(err, &se) {
		cause = se.Err
	}
	hint := ""
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		hint = "; another process is listening there: stop it, or choose another address with " + flag
	case errors.Is(err, syscall.EACCES):
		hint = "; ports below 1024 need privileges: choose a higher port with " + flag
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		hint = "; no interface of this machine has that address"
	}
	return fmt.Errorf("%s %s: %v%s", flag, addr, cause, hint)
}

// checkTokens refuses a server nobody could use: no bootstrap token in the
// environment and no live token in the store, as on a fresh data
// directory. It refuses rather than print a one-time bootstrap token
// because a secret printed at startup lands in whatever keeps the logs
// (journald, docker logs, a CI transcript) and lives there with admin
// rights, while an operator who missed it has no way to see it again;
// KPITRAIL_ADMIN_TOKEN is already how an operator gets in and gets back in.
// Tokens that still work without an admin among them only get a warning:
// the departments keep working while the operator recovers.
func checkTokens(ctx context.Context, cfg ServeConfig, tokens *auth.Tokens, log *slog.Logger) error {
	if cfg.AdminToken != "" {
		log.Info("bootstrap admin token enabled: it never expires; unset KPITRAIL_ADMIN_TOKEN once an admin token is issued")
		return nil
	}
	live, admins, err := tokens.LiveCounts(ctx)
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	if live == 0 {
		store := filepath.Join(cfg.DataDir, "auth.db")
		if cfg.shared() {
			store = "the cluster's token bucket " + auth.TokensBucket
		}
		return fmt.Errorf("no token could use this server: KPITRAIL_ADMIN_TOKEN is not set and %s holds no live token; "+
			"start it with KPITRAIL_ADMIN_TOKEN set to a secret of your choosing (e.g. KPITRAIL_ADMIN_TOKEN=$(openssl rand -hex 32)), "+
			"issue an admin token with it (kpitrail token issue --name NAME --role admin), then restart without it",
			store)
	}
	if admins == 0 {
		log.Warn("no admin token is live and KPITRAIL_ADMIN_TOKEN is not set: nobody can issue, rotate or revoke tokens; " +
			"restart with KPITRAIL_ADMIN_TOKEN set to recover")
	}
	return nil
}

// starting answers on the bound port until the API is ready: a client
// that connects meanwhile gets a 503 to retry, not a connection that hangs
// for as long as the event log takes to open.
type starting struct{ api atomic.Pointer[http.Handler] }

func (s *starting) ready(h http.Handler) { s.api.Store(&h) }

func (s *starting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := s.api.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	p := problem.New(http.StatusServiceUnavailable, "unavailable", "kpitrail is starting", r.URL.Path)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
