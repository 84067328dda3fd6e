package feed_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// BenchmarkWatermillHop measures what one message costs to pass through a
// watermill router (in-process channel, retry and recoverer middleware, an
// acknowledgement) to a handler that does nothing. The projection runner
// reads the log without this hop: at the rebuild rates kpitrail aims for,
// a few microseconds a message is a large share of the budget, while the
// feed and change notifications can afford it.
//
//	go test ./feed -run '^$' -bench WatermillHop
func BenchmarkWatermillHop(b *testing.B) {
	logger := watermill.NopLogger{}
	pubsub := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, logger)
	router, err := message.NewRouter(message.RouterConfig{}, logger)
	if err != nil {
		b.Fatal(err)
	}
	router.AddMiddleware(middleware.Retry{MaxRetries: 3}.Middleware, middleware.Recoverer)
	var wg sync.WaitGroup
	router.AddConsumerHandler("noop", "log", pubsub, func(*message.Message) error { wg.Done(); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = router.Run(ctx) }()
	<-router.Running()
	payload := []byte(`{"name":"indicator.figure_reported","payload":{"value":"610"}}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		if err := pubsub.Publish("log", message.NewMessage(watermill.NewUUID(), payload)); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	_ = router.Close()
}
