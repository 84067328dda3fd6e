package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/eventstore"
)

// appendSetup registers one task per 10 indicators and defines the
// indicators with their targets, so figure reports have somewhere to go.
func appendSetup(ctx context.Context, svc *app.Service, prefix string, indicators int) ([]string, error) {
	var reqs []app.Request
	var ids []string
	n := 0
	req := func(cmd domain.Command) {
		n++
		reqs = append(reqs, app.Request{Command: cmd, Meta: domain.Meta{Actor: "bench:setup",
			CommandID: fmt.Sprintf("%s-setup-%d", prefix, n), Source: "bench"}})
	}
	for i := range indicators {
		tid := fmt.Sprintf("%s-t%d", prefix, i/10)
		if i%10 == 0 {
			req(domain.RegisterTask{TaskID: tid, Year: 2024, Dimension: "高效率 落实", Title: "基准测试任务", LeadDepartment: "区科委"})
		}
		id := fmt.Sprintf("%s-i%d", prefix, i)
		req(domain.DefineIndicator{IndicatorID: id, TaskID: tid, Name: "高新技术企业保有量", Unit: "家", Direction: domain.HigherIsBetter})
		req(domain.SetTarget{IndicatorID: id, Value: decimal("719")})
		ids = append(ids, id)
	}
	for i, o := range svc.ExecuteMany(ctx, reqs) {
		if o.Err != nil {
			return nil, fmt.Errorf("setup %s: %w", reqs[i].Command.CommandName(), o.Err)
		}
	}
	return ids, nil
}

// figureCommand is the n-th report on an indicator: an estimate of the
// year to date, each superseding the one before, so an aggregate grows by
// one event per command as in real use.
func figureCommand(id string, n int) domain.ReportFigure {
	return domain.ReportFigure{IndicatorID: id, Window: domain.Window{Year: 2024, FromMonth: 1, ToMonth: 1 + n%12},
		Value: decimal(strconv.Itoa(600 + n%100)), Quality: domain.QualityEstimate,
		Source: domain.Source{Kind: domain.SourceSelfReported, Name: "区科委"}, Note: "本数据为月度预计数，最终以市科委反馈为准"}
}

// figureMeta is what serve stamps on a report: the actor and the id of
// its token (which makes the event's hash encoding v2).
func figureMeta(prefix string, n int) domain.Meta {
	return domain.Meta{Actor: "office:区政府督查室", ActorTokenID: "3f9c2a7b1d4e5f60", CommandID: fmt.Sprintf("%s-%d", prefix, n),
		Source: "api", CorrelationID: "bench"}
}

// sampleMessage is a stored kpitrail figure report, to publish the same
// bytes raw.
func sampleMessage(ctx context.Context, n *node) ([]byte, error) {
	last, err := n.store.LastPosition(ctx)
	if err != nil {
		return nil, err
	}
	m, err := n.store.Stream().GetMsg(ctx, last)
	if err != nil {
		return nil, err
	}
	return m.Data, nil
}

// rawPublisher publishes body synchronously to its own subjects, each
// with the expected last subject sequence, as an append does.
type rawPublisher struct {
	js   jetstream.JetStream
	subj []string
	last []uint64
}

func newRawPublisher(n *node, name string, subjects int) *rawPublisher {
	p := &rawPublisher{js: n.store.JetStreamContext(), last: make([]uint64, subjects)}
	for i := range subjects {
		p.subj = append(p.subj, fmt.Sprintf("%s.raw.%s-%d", n.store.Config().SubjectPrefix, name, i))
	}
	return p
}

func (p *rawPublisher) publish(ctx context.Context, k int, body []byte) error {
	i := k % len(p.subj)
	ack, err := p.js.Publish(ctx, p.subj[i], body, jetstream.WithExpectLastSequencePerSubject(p.last[i]))
	if err != nil {
		return err
	}
	p.last[i] = ack.Sequence
	return nil
}

// oneWriter compares Service.Execute with raw synchronous publishes from
// one goroutine, in alternating rounds so drift in the disk's latency, and
// the load of whatever else runs on the machine, hits both alike: twenty
// short rounds, because a few long ones let a burst of other work land on
// one side only.
func oneWriter(ctx context.Context, n *node, svc *app.Service, commands int) (kp, raw *latencies, kpRate, rawRate float64, err error) {
	ids, err := appendSetup(ctx, svc, "one", 100)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	// Warm both paths (and the write model) before timing.
	for i := range 200 {
		if _, err := svc.Execute(ctx, figureMeta("warm", i), figureCommand(ids[i%len(ids)], i), app.Options{}); err != nil {
			return nil, nil, 0, 0, err
		}
	}
	body, err := sampleMessage(ctx, n)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	pub := newRawPublisher(n, "one", len(ids))
	kp, raw = &latencies{}, &latencies{}
	var kpTime, rawTime time.Duration
	const rounds = 20
	per := commands / rounds
	k := 200
	for round := range rounds {
		start := time.Now()
		for i := range per {
			t := time.Now()
			if err := pub.publish(ctx, round*per+i, body); err != nil {
				return nil, nil, 0, 0, fmt.Errorf("raw publish: %w", err)
			}
			raw.add(time.Since(t))
		}
		rawTime += time.Since(start)
		start = time.Now()
		for range per {
			t := time.Now()
			if _, err := svc.Execute(ctx, figureMeta("one", k), figureCommand(ids[k%len(ids)], k), app.Options{}); err != nil {
				return nil, nil, 0, 0, err
			}
			kp.add(time.Since(t))
			k++
		}
		kpTime += time.Since(start)
	}
	return kp, raw, float64(rounds*per) / kpTime.Seconds(), float64(rounds*per) / rawTime.Seconds(), nil
}

func (r *runner) appendDurable(ctx context.Context, dir string) ([]Result, error) {
	n, err := startNode(ctx, dir, false, nil)
	if err != nil {
		return nil, err
	}
	defer n.close()
	svc := app.NewService(n.store)
	kp, raw, kpRate, rawRate, err := oneWriter(ctx, n, svc, r.scale(400, 4000))
	if err != nil {
		return nil, err
	}
	ratio := kpRate / rawRate
	out := []Result{{Name: "append-durable", What: "one writer, Service.Execute (validate, load, decide, sign, append; sync before ack)",
		Value: kpRate, Unit: "cmd/s", P50: msf(kp.percentile(50)), P99: msf(kp.percentile(99)),
		Raw: rawRate, RawWhat: "sync publish with subject check, same stream", RawP50: msf(raw.percentile(50)), RawP99: msf(raw.percentile(99)),
		Ratio: ratio, Target: "≥ 0.70 of raw", Met: met(ratio >= 0.70)}}

	sig, err := signingCost(ctx, n, svc, kpRate, kp.percentile(50))
	if err != nil {
		return out, err
	}
	out = append(out, sig)

	// The same writer through a GroupCommitter: what a lone writer pays
	// if serve commits through one.
	g, err := eventstore.NewGroupCommitter(n.store, eventstore.GroupCommitConfig{})
	if err != nil {
		return out, err
	}
	defer g.Close()
	gsvc := app.NewService(g)
	ids, err := appendSetup(ctx, gsvc, "gc1", 100)
	if err != nil {
		return out, err
	}
	lat := &latencies{}
	count := r.scale(400, 4000) / 2
	start := time.Now()
	for k := range count {
		t := time.Now()
		if _, err := gsvc.Execute(ctx, figureMeta("gc1", k), figureCommand(ids[k%len(ids)], k), app.Options{}); err != nil {
			return out, err
		}
		lat.add(time.Since(t))
	}
	rate := float64(count) / time.Since(start).Seconds()
	out = append(out, Result{Name: "append-durable", What: "one writer, Service.Execute over a GroupCommitter (MaxWait 0)",
		Value: rate, Unit: "cmd/s", P50: msf(lat.percentile(50)), P99: msf(lat.percentile(99)),
		Raw: rawRate, RawWhat: "sync publish with subject check, same stream", Ratio: rate / rawRate})
	return out, nil
}

func (r *runner) appendNoSync(ctx context.Context, dir string) ([]Result, error) {
	n, err := startNode(ctx, dir, true, nil)
	if err != nil {
		return nil, err
	}
	defer n.close()
	svc := app.NewService(n.store)
	kp, raw, kpRate, rawRate, err := oneWriter(ctx, n, svc, r.scale(4000, 40000))
	if err != nil {
		return nil, err
	}
	ratio := kpRate / rawRate
	return []Result{{Name: "append-nosync", What: "one writer, Service.Execute, server without sync (NoSync)",
		Value: kpRate, Unit: "cmd/s", P50: msf(kp.percentile(50)), P99: msf(kp.percentile(99)),
		Raw: rawRate, RawWhat: "sync publish with subject check", RawP50: msf(raw.percentile(50)), RawP99: msf(raw.percentile(99)),
		Ratio: ratio, Target: "≥ 0.70 of raw", Met: met(ratio >= 0.70)}}, nil
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

const writers = 64

// appendConcurrent runs 64 writers, each on its own indicators, through
// the full command path over a GroupCommitter, and compares with 64 raw
// publishers and with one raw publisher of atomic batches of 100. As in
// oneWriter, every path runs a share in each of several rounds, so the
// disk's sync latency, which drifts several-fold within a minute on a
// shared machine, is the same for the figures a ratio divides.
func (r *runner) appendConcurrent(ctx context.Context, dir string) ([]Result, error) {
	n, err := startNode(ctx, dir, false, nil)
	if err != nil {
		return nil, err
	}
	defer n.close()
	const rounds = 5
	perRound := r.scale(30, 150) / rounds
	direct := app.NewService(n.store)
	ids, err := appendSetup(ctx, direct, "conc", writers)
	if err != nil {
		return nil, err
	}
	if _, err := direct.Execute(ctx, figureMeta("conc-warm", 0), figureCommand(ids[0], 0), app.Options{}); err != nil {
		return nil, err
	}
	body, err := sampleMessage(ctx, n)
	if err != nil {
		return nil, err
	}

	// A path is measured in shares, one per round: its time and latencies
	// add up across rounds.
	type path struct {
		name  string
		lat   *latencies
		took  time.Duration
		ops   int
		share func(round int) (int, error) // runs one round's share, returns its operations
	}
	writersPath := func(name string, fn func(w, i int) error) *path {
		p := &path{name: name, lat: &latencies{}}
		p.share = func(round int) (int, error) {
			err := timedWriters(perRound, func(w, i int) error {
				t := time.Now()
				err := fn(w, round*perRound+i)
				p.lat.add(time.Since(t))
				return err
			})
			return writers * perRound, err
		}
		return p
	}
	service := func(name string, store app.Store) *path {
		svc := app.NewService(store)
		var seq atomic.Int64
		return writersPath(name, func(w, i int) error {
			_, err := svc.Execute(ctx, figureMeta(name, int(seq.Add(1))), figureCommand(ids[w], 1+i), app.Options{})
			return err
		})
	}

	// Raw: 64 goroutines, one synchronous publish at a time each.
	pubs := make([]*rawPublisher, writers)
	for w := range pubs {
		pubs[w] = newRawPublisher(n, fmt.Sprintf("conc%d", w), 1)
	}
	raw := writersPath("raw publish", func(w, i int) error { return pubs[w].publish(ctx, i, body) })
	// Raw: atomic batches of 100, one publisher.
	batches := &path{name: "raw atomic batch", lat: &latencies{}}
	perRoundBatches := max(1, r.scale(20, 100)/rounds)
	batches.share = func(round int) (int, error) {
		_, err := rawAtomicBatches(ctx, n, body, 100, perRoundBatches, round*perRoundBatches)
		return 100 * perRoundBatches, err
	}
	waits := []time.Duration{0, 2 * time.Millisecond}
	committers := make([]*eventstore.GroupCommitter, len(waits))
	paths := []*path{raw, batches}
	for k, wait := range waits {
		g, err := eventstore.NewGroupCommitter(n.store, eventstore.GroupCommitConfig{MaxWait: wait})
		if err != nil {
			return nil, err
		}
		defer g.Close()
		committers[k] = g
		paths = append(paths, service(fmt.Sprintf("conc-gc%d", wait.Milliseconds()), g))
	}
	paths = append(paths, service("conc-direct", n.store))
	for round := range rounds {
		for _, p := range paths {
			start := time.Now()
			ops, err := p.share(round)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.name, err)
			}
			p.took += time.Since(start)
			p.ops += ops
		}
	}
	rate := func(p *path) float64 { return float64(p.ops) / p.took.Seconds() }
	rawRate, batchRate := rate(raw), rate(batches)

	var out []Result
	for k, wait := range waits {
		p := paths[2+k]
		st := committers[k].Stats()
		ratio := rate(p) / rawRate
		perSync := float64(st.Appends) / float64(max(st.Batches, 1))
		out = append(out, Result{Name: "append-concurrent", What: fmt.Sprintf("%d writers, Service.Execute over GroupCommitter (MaxWait %s)", writers, wait),
			Value: rate(p), Unit: "cmd/s", P50: msf(p.lat.percentile(50)), P99: msf(p.lat.percentile(99)),
			Raw: rawRate, RawWhat: fmt.Sprintf("%d writers, sync publish each, alternating in %d rounds", writers, rounds), RawP50: msf(raw.lat.percentile(50)), RawP99: msf(raw.lat.percentile(99)),
			Ratio: ratio, Target: "≥ 2× raw per-message", Met: met(ratio >= 2),
			Notes: []string{fmt.Sprintf("%.1f appends per sync", perSync), fmt.Sprintf("%.2f of raw atomic batches of 100 (%s msg/s)", rate(p)/batchRate, num(batchRate))}})
	}
	p := paths[len(paths)-1]
	out = append(out, Result{Name: "append-concurrent", What: fmt.Sprintf("%d writers, Service.Execute straight on JetStream (no group commit)", writers),
		Value: rate(p), Unit: "cmd/s", P50: msf(p.lat.percentile(50)), P99: msf(p.lat.percentile(99)),
		Raw: rawRate, RawWhat: fmt.Sprintf("%d writers, sync publish each, alternating in %d rounds", writers, rounds), Ratio: rate(p) / rawRate})
	return out, nil
}

// parallelWriters runs fn(w, i) for i < perWriter on each of 64 writers
// and returns operations per second.
func parallelWriters(perWriter int, fn func(w, i int) error) (float64, error) {
	start := time.Now()
	if err := timedWriters(perWriter, fn); err != nil {
		return 0, err
	}
	return float64(writers*perWriter) / time.Since(start).Seconds(), nil
}

// timedWriters runs fn(w, i) for i < perWriter on each of 64 writers and
// waits for them all.
func timedWriters(perWriter int, fn func(w, i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if err := fn(w, i); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// rawAtomicBatches publishes ADR-50 atomic batches of per messages with no
// checks and no kpitrail code: the server's own price of a batch.
func rawAtomicBatches(ctx context.Context, n *node, body []byte, per, batches, first int) (float64, error) {
	nc := n.nc
	start := time.Now()
	for b := range batches {
		id := fmt.Sprintf("bench-%d-%d", per, first+b)
		for k := range per {
			m := nats.NewMsg(fmt.Sprintf("%s.raw.batch%d", n.store.Config().SubjectPrefix, k))
			m.Data = body
			m.Header.Set("Nats-Batch-Id", id)
			m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(k+1))
			if k < per-1 {
				if err := nc.PublishMsg(m); err != nil {
					return 0, err
				}
				continue
			}
			m.Header.Set("Nats-Batch-Commit", "1")
			resp, err := nc.RequestMsgWithContext(ctx, m)
			if err != nil {
				return 0, err
			}
			var ack struct {
				Error *jetstream.APIError `json:"error"`
			}
			if err := json.Unmarshal(resp.Data, &ack); err != nil || ack.Error != nil {
				return 0, fmt.Errorf("commit: %v %v", err, ack.Error)
			}
		}
	}
	return float64(per*batches) / time.Since(start).Seconds(), nil
}
