package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"kpitrail/eventstore"
	"kpitrail/projections"
)

// streamRecordFile is where the event stream's identity is recorded.
const streamRecordFile = "stream.json"

// readModelsMark tells the guard what the read models at path hold of the
// log, read through a read-only connection.
func readModelsMark(path string) func(context.Context) (eventstore.Mark, error) {
	return func(ctx context.Context) (eventstore.Mark, error) {
		m, err := projections.ReadLogMark(ctx, path)
		return eventstore.Mark{Position: m.Position, EventPosition: m.EventPosition, EventIndex: m.EventIndex, EventID: m.EventID}, err
	}
}

// openGuard checks the event stream against the record in the data
// directory before anything uses the store. serve runs on with a fault
// (reads served, writes refused with 503, /readyz failing) so an operator
// sees the cause and can restore the stream through its NATS; a tool
// refuses to work on a stream that failed its check. A tool that reads a
// cluster without a data directory has nothing to compare with and only
// needs the stream to exist.
func (s *System) openGuard(ctx context.Context, c ServeConfig, log *slog.Logger) error {
	if c.DataDir == "" {
		if s.Store.Stream() == nil {
			return fmt.Errorf("there is no event stream %s on %s", s.Store.Config().Stream, c.NATSURL)
		}
		return nil
	}
	by := fmt.Sprintf("kpitrail serve (pid %d)", os.Getpid())
	if c.offline {
		by = ""
	}
	var err error
	s.Guard, err = eventstore.OpenGuard(ctx, s.Store, eventstore.GuardConfig{
		File: filepath.Join(c.DataDir, streamRecordFile), Mark: readModelsMark(filepath.Join(c.DataDir, "readmodels.db")),
		ReadOnly: c.offline, Every: c.StreamCheckEvery, By: by, Logger: log,
	})
	if err != nil {
		return err
	}
	if gerr := s.Guard.Err(); gerr != nil && c.offline {
		return fmt.Errorf("%w\n`kpitrail stream status --data %s` shows the stream and its record", gerr, c.DataDir)
	}
	if c.offline {
		return nil
	}
	return s.Guard.Watch(context.WithoutCancel(ctx), s.Conn)
}

// logReader is what the projector and the feed read the log through.
type logReader interface {
	Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error
	LastPosition(ctx context.Context) (uint64, error)
}

// Log is the event log for its readers (the projector, the feed, as-of
// replays): while the guard reports a fault they stop at the next message,
// so nothing from a stream that is not the recorded one reaches the read
// models or downstream systems. Reads of the read models go on.
func (s *System) Log() logReader {
	if s.Guard == nil {
		return s.Store
	}
	return guardedLog{s.Store, s.Guard}
}

type guardedLog struct {
	log   *eventstore.JetStream
	guard *eventstore.Guard
}

func (g guardedLog) Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error {
	if err := g.guard.Err(); err != nil {
		return err
	}
	return g.log.Read(ctx, after, opts, func(m eventstore.Message) error {
		if err := g.guard.Err(); err != nil {
			return err
		}
		return fn(m)
	})
}

func (g guardedLog) LastPosition(ctx context.Context) (uint64, error) { return g.log.LastPosition(ctx) }
