package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"kpitrail/app"
	"kpitrail/eventstore"
	"kpitrail/signing"
)

// The multi-instance line: append throughput of three kpitrail instances
// against one, on the same three-node cluster. Each instance is what serve
// runs on a shared cluster (its own connection, a store with
// eventstore.Config.Shared, a group committer, a service); the 64 writers
// are spread over the instances as a load balancer would spread requests.
// Everything (three servers, the instances, the writers) shares this
// machine's cores, so the line measures what coordination through the
// cluster costs, not what more machines would add.

// startCluster runs a three-node JetStream cluster in this process, each
// node syncing before it acknowledges.
func startCluster(dir string, nodes int) ([]*server.Server, string, error) {
	ports := make([]int, 2*nodes)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, "", err
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	var srvs []*server.Server
	stop := func() {
		for _, s := range srvs {
			s.Shutdown()
		}
	}
	var urls []string
	for i := range nodes {
		var routes []string
		for j := range nodes {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[nodes+j]))
			}
		}
		opts := &server.Options{ServerName: fmt.Sprintf("b%d", i+1), Host: "127.0.0.1", Port: ports[i], NoSigs: true, NoLog: true,
			JetStream: true, StoreDir: filepath.Join(dir, fmt.Sprintf("b%d", i+1)), SyncAlways: true,
			Cluster: server.ClusterOpts{Name: "bench", Host: "127.0.0.1", Port: ports[nodes+i]}, Routes: server.RoutesFromStr(strings.Join(routes, ","))}
		s, err := server.NewServer(opts)
		if err != nil {
			stop()
			return nil, "", err
		}
		go s.Start()
		srvs = append(srvs, s)
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	for _, s := range srvs {
		if !s.ReadyForConnections(30 * time.Second) {
			stop()
			return nil, "", errors.New("bench cluster: a node did not start")
		}
	}
	return srvs, strings.Join(urls, ","), nil
}

// benchInstance is one kpitrail instance on the cluster.
type benchInstance struct {
	nc      *nats.Conn
	commits *eventstore.GroupCommitter
	svc     *app.Service
}

func openInstance(ctx context.Context, url string, signer *signing.Signer) (*benchInstance, error) {
	nc, err := nats.Connect(url, nats.Name("kpitrail-bench"))
	if err != nil {
		return nil, err
	}
	var store *eventstore.JetStream
	// The stream is placed once the meta leader knows every peer.
	for deadline := time.Now().Add(30 * time.Second); ; {
		store, err = eventstore.OpenJetStream(ctx, nc, eventstore.Config{Replicas: 3, Shared: true, Signer: signer, Trust: signing.Trusting(signer)})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	g, err := eventstore.NewGroupCommitter(store, eventstore.GroupCommitConfig{})
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &benchInstance{nc: nc, commits: g, svc: app.NewService(g)}, nil
}

func (b *benchInstance) close() {
	b.commits.Close()
	b.nc.Close()
}

func (r *runner) appendInstances(ctx context.Context, dir string) ([]Result, error) {
	srvs, url, err := startCluster(dir, 3)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range srvs {
			s.Shutdown()
		}
	}()
	signer, err := signing.Generate()
	if err != nil {
		return nil, err
	}
	var ins []*benchInstance
	defer func() {
		for _, in := range ins {
			in.close()
		}
	}()
	for range 3 {
		in, err := openInstance(ctx, url, signer)
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	ids, err := appendSetup(ctx, ins[0].svc, "inst", writers)
	if err != nil {
		return nil, err
	}
	perWriter := r.scale(8, 100)
	run := func(name string, n, from int) (float64, *latencies, error) {
		lat := &latencies{}
		var seq atomic.Int64
		rate, err := parallelWriters(perWriter, func(w, i int) error {
			k := int(seq.Add(1))
			t := time.Now()
			// Writer w's requests always reach the same instance, and
			// every writer has its indicator: the line measures
			// instances, not conflicts.
			_, err := ins[w%n].svc.Execute(ctx, figureMeta(name, k), figureCommand(ids[w], from+i), app.Options{})
			lat.add(time.Since(t))
			return err
		})
		return rate, lat, err
	}
	// Three, then one, then three again: neither side gets only the
	// warm (or only the cold) cluster; the three-instance figure is the
	// mean of its two runs.
	threeA, latA, err := run("inst3a", 3, 1)
	if err != nil {
		return nil, fmt.Errorf("three instances: %w", err)
	}
	one, oneLat, err := run("inst1", 1, 1+perWriter)
	if err != nil {
		return nil, fmt.Errorf("one instance: %w", err)
	}
	threeB, latB, err := run("inst3b", 3, 1+2*perWriter)
	if err != nil {
		return nil, fmt.Errorf("three instances: %w", err)
	}
	three := (threeA + threeB) / 2
	threeLat := &latencies{d: append(latA.d, latB.d...)}
	return []Result{{Name: "append-instances", What: fmt.Sprintf("%d writers over 3 instances on a 3-node R3 cluster", writers),
		Value: three, Unit: "cmd/s", P50: msf(threeLat.percentile(50)), P99: msf(threeLat.percentile(99)),
		Raw: one, RawWhat: "the same writers through 1 instance", RawP50: msf(oneLat.percentile(50)), RawP99: msf(oneLat.percentile(99)),
		Ratio: three / one,
		Notes: []string{"servers, instances and writers share this machine's cores: the ratio is the cost of coordination, not the gain of more machines"}}}, nil
}
