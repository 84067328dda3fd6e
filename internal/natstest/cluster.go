package natstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster is a set of nats-server processes joined by cluster routes,
// forming one JetStream cluster.
type Cluster struct {
	cfg   config
	nodes []*Process
}

// RunCluster starts n nats-server processes named n1..nN on 127.0.0.1, with
// routes between all of them and JetStream enabled on each. It returns once
// every node answers JetStream requests and a stream with n replicas can be
// placed, i.e. the meta leader knows all peers. Everything is killed when
// the test ends.
func RunCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("natstest: cluster needs at least one node, got %d", n)
	}
	bin := BuildServerBinary(t)
	c := &Cluster{cfg: newConfig(opts)}
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		p := &Process{
			bin:         bin,
			cfg:         c.cfg,
			name:        fmt.Sprintf("n%d", i+1),
			dir:         dir,
			storeDir:    filepath.Join(dir, "store"),
			clusterName: "natstest",
			readyWithin: clusterReadyTimeout,
		}
		p.cleanupWith(t)
		c.nodes = append(c.nodes, p)
	}

	var err error
	for attempt := 0; attempt < startAttempts; attempt++ {
		if err = c.start(); !errors.Is(err, errExited) {
			break
		}
		// A node lost a port race; start over on fresh ports.
		for _, p := range c.nodes {
			p.Kill()
		}
	}
	if err != nil {
		t.Fatalf("natstest: start cluster: %v", err)
	}
	return c
}

func (c *Cluster) start() error {
	n := len(c.nodes)
	ports, err := freePorts(2 * n)
	if err != nil {
		return err
	}
	for i, p := range c.nodes {
		p.clusterPort = ports[n+i]
		p.routes = p.routes[:0]
		for j := 0; j < n; j++ {
			if j != i {
				p.routes = append(p.routes, "nats-route://"+hostPort(ports[n+j]))
			}
		}
	}
	for i, p := range c.nodes {
		if err := p.start(ports[i]); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(clusterReadyTimeout)
	for _, p := range c.nodes {
		if err := p.waitReady(deadline); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return c.waitPlacement(deadline)
}

// waitPlacement creates and deletes a throwaway stream with one replica per
// node. A meta leader can be elected before it has heard from every peer,
// and until then creating an R-n stream fails with insufficient resources.
func (c *Cluster) waitPlacement(deadline time.Time) error {
	nc, err := nats.Connect(c.URL(), c.cfg.clientOptions()...)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "NATSTEST_PROBE_" + strings.ToUpper(hex.EncodeToString(b[:]))
	cfg := jetstream.StreamConfig{
		Name:     name,
		Subjects: []string{"natstest.probe." + hex.EncodeToString(b[:])},
		Storage:  jetstream.MemoryStorage,
		Replicas: len(c.nodes),
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = js.CreateStream(ctx, cfg)
		if err == nil {
			err = js.DeleteStream(ctx, name)
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cannot place a stream with %d replicas: %w", len(c.nodes), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// URLs are the client URLs of the nodes, in node order.
func (c *Cluster) URLs() []string {
	urls := make([]string, len(c.nodes))
	for i, p := range c.nodes {
		urls[i] = p.URL()
	}
	return urls
}

// URL is all node URLs joined by commas, the form nats.Connect accepts for
// failing over between servers.
func (c *Cluster) URL() string { return strings.Join(c.URLs(), ",") }

// Node returns node i, counted from 0; its server name is n<i+1>.
func (c *Cluster) Node(i int) *Process { return c.nodes[i] }

// Size is the number of nodes.
func (c *Cluster) Size() int { return len(c.nodes) }

// ClientOptions returns the nats.go options needed for the configured
// authentication and TLS.
func (c *Cluster) ClientOptions() []nats.Option { return c.cfg.clientOptions() }

// Connect opens a client connection to the whole cluster that is closed when
// the test ends.
func (c *Cluster) Connect(t testing.TB, extra ...nats.Option) *nats.Conn {
	t.Helper()
	return connect(t, c.URL(), c.cfg, extra)
}

// StreamLeader returns the index (as for Node) of the node that currently
// leads stream. It makes one stream info request; while a leader election
// is in progress that request fails or reports no leader, and callers that
// wait for a new leader should retry.
func (c *Cluster) StreamLeader(ctx context.Context, js jetstream.JetStream, stream string) (int, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return -1, err
	}
	info := s.CachedInfo()
	if info.Cluster == nil || info.Cluster.Leader == "" {
		return -1, fmt.Errorf("stream %s has no leader", stream)
	}
	for i, p := range c.nodes {
		if p.name == info.Cluster.Leader {
			return i, nil
		}
	}
	return -1, fmt.Errorf("stream %s is led by unknown server %q", stream, info.Cluster.Leader)
}
