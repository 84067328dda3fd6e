package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/feed"
)

// changes follows the feed's stream with an ordered consumer per listener:
// no acknowledgements, nothing left behind on the server when it goes.
type changes struct {
	js jetstream.JetStream
}

func (c changes) Follow(ctx context.Context, after uint64, follow bool, fn func(seq uint64, subject string, data []byte) error) error {
	var end uint64
	if !follow {
		st, err := c.js.Stream(ctx, feed.DefaultStream)
		if err != nil {
			return err
		}
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if end = info.State.LastSeq; end <= after {
			return nil
		}
	}
	// A consumer left behind by a stream that ended is removed by the
	// server soon, not after the library's default five minutes: clients
	// that connect and drop again would otherwise pile them up.
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{feed.DefaultSubjectPrefix + ".*.*.*"}, InactiveThreshold: 15 * time.Second}
	if after > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, after+1
	}
	cons, err := c.js.OrderedConsumer(ctx, feed.DefaultStream, cfg)
	if err != nil {
		return fmt.Errorf("follow changes: %w", err)
	}
	// A small pull window: every open stream holds one, and a subscriber
	// reads its changes one by one anyway.
	it, err := cons.Messages(jetstream.PullMaxMessages(64))
	if err != nil {
		return err
	}
	defer it.Stop()
	go func() { <-ctx.Done(); it.Stop() }()
	for {
		m, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return err
		}
		meta, err := m.Metadata()
		if err != nil {
			return err
		}
		if err := fn(meta.Sequence.Stream, m.Subject(), m.Data()); err != nil {
			return err
		}
		if !follow && meta.Sequence.Stream >= end {
			return nil
		}
	}
}
