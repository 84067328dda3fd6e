package bench

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"kpitrail/app"
	"kpitrail/audit"
	"kpitrail/domain"
	"kpitrail/eventstore"
)

// signingCost breaks out what the signatures in the appends above cost:
// one Ed25519 signature per message (inside every append measured above),
// its check by each reader, and the periodic signed checkpoint root (its
// root over the aggregates' heads, and its own signed durable append),
// which serve adds once per --checkpoint-every.
func signingCost(ctx context.Context, n *node, svc *app.Service, rate float64, appendP50 time.Duration) (Result, error) {
	var last eventstore.Message
	end, err := n.store.LastPosition(ctx)
	if err != nil {
		return Result{}, err
	}
	if err := n.store.Read(ctx, end-1, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		last = m
		return nil
	}); err != nil {
		return Result{}, err
	}
	input := eventstore.SigningInput(last.Events)
	signer, kr := n.store.Signer(), n.store.Keyring()
	// As in an append: one signature, then a wait (an append's sync) in
	// which the signer computes its next nonces.
	const rounds = 500
	var sign time.Duration
	var sig []byte
	for range rounds {
		time.Sleep(200 * time.Microsecond)
		t := time.Now()
		sig = signer.Sign(input)
		sign += time.Since(t)
	}
	sign /= rounds
	// The same signature computed whole, as ed25519.Sign does.
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	for range rounds {
		ed25519.Sign(priv, input)
	}
	whole := time.Since(start) / rounds
	start = time.Now()
	for range rounds {
		if err := kr.Verify(signer.KeyID(), last.Position, input, sig); err != nil {
			return Result{}, err
		}
	}
	check := time.Since(start) / rounds

	// A checkpoint as serve records it: the root over every head, then
	// checkpoint.recorded appended (and signed) like any command.
	heads := map[domain.AggregateRef]string{}
	if err := n.store.Read(ctx, 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		for _, e := range m.Events {
			heads[e.Ref()] = e.Hash
		}
		return nil
	}); err != nil {
		return Result{}, err
	}
	start = time.Now()
	cp := audit.Root(heads, end)
	if _, err := svc.Execute(ctx, domain.Meta{Actor: "bench:checkpointer", CommandID: "bench-checkpoint", Source: "checkpointer"},
		domain.RecordCheckpoint{Position: cp.Position, Root: cp.Root, Aggregates: cp.Aggregates}, app.Options{}); err != nil {
		return Result{}, err
	}
	checkpoint := time.Since(start)
	perHour := rate * 3600
	return Result{Name: "append-durable", What: "Ed25519 signature of one message, inside every append above",
		Value: float64(sign) / float64(time.Microsecond), Unit: "µs",
		Notes: []string{fmt.Sprintf("%.0f%% of the append's p50", 100*float64(sign)/float64(appendP50)),
			fmt.Sprintf("%.0f µs computed whole (ed25519.Sign); nonces are computed ahead", float64(whole)/float64(time.Microsecond)),
			fmt.Sprintf("checked by a reader in %.0f µs", float64(check)/float64(time.Microsecond)),
			fmt.Sprintf("a signed checkpoint root over %d aggregates: %.2f ms, once per hour by default (%.6f ms per append at this rate)",
				cp.Aggregates, msf(checkpoint), msf(checkpoint)/perHour)}}, nil
}
