// Package natstest starts real NATS JetStream servers for tests and
// benchmarks: in-process (RunEmbedded), as a separate OS process that can be
// SIGKILLed (RunProcess), or as a small multi-process cluster (RunCluster).
//
// Every server binds to 127.0.0.1 only, keeps its data under t.TempDir() and
// is torn down by t.Cleanup. JetStream fsyncs before acknowledging a publish
// unless WithoutSync is given, because crash tests are only meaningful when an
// acknowledged event is really on disk.
package natstest

import (
	"github.com/nats-io/nats.go"
)

// Option changes how a server is configured. The same options apply to
// embedded servers, processes and every node of a cluster.
type Option func(*config)

type config struct {
	user     string
	password string
	token    string

	tlsCert string
	tlsKey  string
	tlsCA   string

	noSync bool
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithUserPassword requires clients to authenticate with user and password.
// It replaces an earlier WithToken, since the server accepts only one of the
// two single-user schemes.
func WithUserPassword(user, password string) Option {
	return func(c *config) {
		c.user, c.password, c.token = user, password, ""
	}
}

// WithToken requires clients to authenticate with token. It replaces an
// earlier WithUserPassword.
func WithToken(token string) Option {
	return func(c *config) {
		c.token, c.user, c.password = token, "", ""
	}
}

// WithTLS makes the server require TLS on client connections using the given
// PEM certificate and key. caFile is the CA that signed the certificate; the
// helpers use it to verify the server when they connect, and ClientOptions
// hands it to tests. Client certificates are not requested.
func WithTLS(certFile, keyFile, caFile string) Option {
	return func(c *config) {
		c.tlsCert, c.tlsKey, c.tlsCA = certFile, keyFile, caFile
	}
}

// WithoutSync lets JetStream acknowledge before fsync (the server's default
// two-minute sync interval). Use it for throughput runs that do not test
// crash durability.
func WithoutSync() Option {
	return func(c *config) { c.noSync = true }
}

func (c config) tlsEnabled() bool { return c.tlsCert != "" }

func (c config) scheme() string {
	if c.tlsEnabled() {
		return "tls"
	}
	return "nats"
}

// clientOptions are the nats.go options a client needs to get past the
// configured authentication and TLS.
func (c config) clientOptions() []nats.Option {
	var out []nats.Option
	switch {
	case c.user != "":
		out = append(out, nats.UserInfo(c.user, c.password))
	case c.token != "":
		out = append(out, nats.Token(c.token))
	}
	if c.tlsCA != "" {
		out = append(out, nats.RootCAs(c.tlsCA))
	}
	return out
}
