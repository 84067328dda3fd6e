package projections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"kpitrail/eventstore"
)

// Automatic snapshots keep every instant near a replay base, so an as-of
// read applies a bounded stretch of the log whatever instant it asks for.
// A serving process takes one at each year end (the last message recorded
// in a year, in the office's calendar) and after every Every events since
// the last. Each is built from the one before (copied, then continued), so
// taking one costs the copy and the stretch since, not the whole log.
//
// They are a cache, not a record: no event is appended for them (the
// office's own `kpitrail snapshot` is the recorded kind), a replay checks a
// base against the log before using it (chooseBase), and files of another
// schema version or another log are removed at start.

// SnapshotCadence says when Live takes snapshots on its own. Zero values
// take the defaults.
type SnapshotCadence struct {
	// Dir holds the automatic snapshots. Default: "snapshots/auto" beside
	// the read-model file.
	Dir string
	// Every is the most events between two snapshots. Default 50,000: an
	// as-of replay applies at most this many past its base.
	Every int
	// MaxBytes bounds the disk the automatic snapshots take. Past it the
	// oldest are removed, every-N ones before year ends; the newest is
	// always kept (the next one is built from it). Default 8 GiB.
	MaxBytes int64
	// Off takes no snapshots (as-of replays still use the ones on disk).
	Off bool
}

func (c *SnapshotCadence) setDefaults(readModels string) {
	if c.Dir == "" {
		c.Dir = filepath.Join(filepath.Dir(readModels), "snapshots", "auto")
	}
	if c.Every <= 0 {
		c.Every = 50_000
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 8 << 30
	}
}

// autoSnapshot is one file of the cadence: "<position>.db" or
// "<position>-year-<year>.db" for a year end.
type autoSnapshot struct {
	path     string
	position uint64
	yearEnd  int // 0: an every-N snapshot
}

func autoSnapshotName(position uint64, yearEnd int) string {
	if yearEnd != 0 {
		return fmt.Sprintf("%012d-year-%d.db", position, yearEnd)
	}
	return fmt.Sprintf("%012d.db", position)
}

// listAutoSnapshots returns the cadence's files in dir by position.
func listAutoSnapshots(dir string) []autoSnapshot {
	var out []autoSnapshot
	for _, path := range SnapshotFiles(dir) {
		name := strings.TrimSuffix(filepath.Base(path), ".db")
		pos, year, _ := strings.Cut(name, "-year-")
		p, err := strconv.ParseUint(pos, 10, 64)
		if err != nil {
			continue
		}
		s := autoSnapshot{path: path, position: p}
		if year != "" {
			if s.yearEnd, err = strconv.Atoi(year); err != nil {
				continue
			}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b autoSnapshot) int { return cmp.Compare(a.position, b.position) })
	return out
}

// snapshotter takes the cadence's snapshots of store into cad.Dir.
type snapshotter struct {
	store Log
	cad   SnapshotCadence
	loc   *time.Location
	log   *slog.Logger
	// once stops at the log's current end instead of following it.
	once bool
}

// errLogEnd ends a scan of a log read once, to its end.
var errLogEnd = errors.New("end of the log")

// TakeSnapshots takes the snapshots cad's cadence calls for on the log as
// it is now, into cad.Dir (required), continuing from the newest one there;
// years end in loc (nil: DefaultLocation). Serve takes them as the log
// grows (Live.TakeSnapshots); this is for a log loaded offline and for the
// benchmark.
func TakeSnapshots(ctx context.Context, store Log, cad SnapshotCadence, loc *time.Location) error {
	if cad.Dir == "" {
		return errors.New("snapshots: a directory is required")
	}
	cad.setDefaults("")
	if loc == nil {
		loc = DefaultLocation
	}
	s := &snapshotter{store: store, cad: cad, loc: loc, log: slog.New(slog.DiscardHandler), once: true}
	if err := s.follow(ctx); !errors.Is(err, errLogEnd) {
		return err
	}
	return nil
}

// cut is where the scan found the next snapshot due.
type cut struct {
	position uint64
	yearEnd  int
}

// run takes snapshots until ctx ends, resuming after errors with a
// backoff.
func (s *snapshotter) run(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := s.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Error("snapshots: stopped, restarting", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// follow starts from the newest usable snapshot and takes each one as the
// log reaches it.
func (s *snapshotter) follow(ctx context.Context) error {
	if err := os.MkdirAll(s.cad.Dir, 0o750); err != nil {
		return err
	}
	base, err := s.start(ctx)
	if err != nil {
		return err
	}
	for {
		c, err := s.scan(ctx, base)
		if err != nil {
			return err
		}
		next, err := s.take(ctx, base, c)
		if err != nil {
			return err
		}
		base = next
		s.prune()
	}
}

// start returns the newest snapshot of this log and schema, removing the
// files that are neither.
func (s *snapshotter) start(ctx context.Context) (*baseFile, error) {
	have := listAutoSnapshots(s.cad.Dir)
	for i := len(have) - 1; i >= 0; i-- {
		b, err := inspectBase(ctx, have[i].path, "")
		if err == nil && b != nil && b.version == SchemaVersion() {
			ok, merr := b.matches(ctx, s.store)
			if merr != nil {
				return nil, merr
			}
			if ok {
				return b, nil
			}
		} else if err != nil && ctx.Err() != nil {
			return nil, err
		}
		// Another log's, another schema's, or unreadable: of no use.
		removeDBFiles(have[i].path)
	}
	return nil, nil
}

// scan reads the log after base (following its end) until the next
// snapshot is due: the last message of a year, once the next year's first
// arrives, or the message that makes Every events since base. It reads
// without judging signatures: it only decides where to cut; the build
// that follows checks every message.
func (s *snapshotter) scan(ctx context.Context, base *baseFile) (cut, error) {
	var after uint64
	if base != nil {
		after = base.position
	}
	// Read the base's last message too, for the year it ends in. A year
	// that ends at the base (an every-N snapshot on a year's last message)
	// needs no second snapshot there.
	from := after
	if from > 0 {
		from--
	}
	var (
		found    cut
		prevPos  uint64
		prevYear int
		events   int
	)
	err := s.store.Read(ctx, from, eventstore.ReadOptions{Follow: !s.once, Unjudged: true}, func(m eventstore.Message) error {
		year := 0
		if len(m.Events) > 0 && m.Foreign == nil {
			year = m.Events[0].RecordedAt.In(s.loc).Year()
		}
		if m.Position <= after {
			prevPos, prevYear = m.Position, year
			return nil
		}
		if year != 0 && prevYear != 0 && year > prevYear && prevPos > after {
			found = cut{position: prevPos, yearEnd: prevYear}
			return errStop
		}
		events += max(1, len(m.Events))
		prevPos = m.Position
		if year != 0 {
			prevYear = year
		}
		if events >= s.cad.Every {
			found = cut{position: m.Position}
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return found, nil
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = errLogEnd
	}
	return cut{}, err
}

// take builds the snapshot at c from base (nil: from position 1).
func (s *snapshotter) take(ctx context.Context, base *baseFile, c cut) (*baseFile, error) {
	path := filepath.Join(s.cad.Dir, autoSnapshotName(c.position, c.yearEnd))
	start := time.Now()
	if err := build(ctx, s.store, path, RebuildOptions{Location: s.loc}, buildSpec{upTo: c.position, base: base}); err != nil {
		return nil, fmt.Errorf("snapshot at %d: %w", c.position, err)
	}
	next, err := inspectBase(ctx, path, "")
	if err != nil || next == nil {
		return nil, errors.Join(fmt.Errorf("snapshot at %d: unreadable after the build", c.position), err)
	}
	s.log.Info("snapshots: taken", "position", c.position, "year_end", c.yearEnd, "took", time.Since(start).Round(time.Millisecond))
	return next, nil
}

// prune removes the oldest snapshots past MaxBytes: every-N ones first,
// then year ends; never the newest.
func (s *snapshotter) prune() {
	have := listAutoSnapshots(s.cad.Dir)
	var total int64
	sizes := map[string]int64{}
	for _, a := range have {
		sizes[a.path] = fileSize(a.path)
		total += sizes[a.path]
	}
	for _, yearEnds := range []bool{false, true} {
		for _, a := range have[:max(0, len(have)-1)] {
			if total <= s.cad.MaxBytes {
				return
			}
			if (a.yearEnd != 0) != yearEnds {
				continue
			}
			removeDBFiles(a.path)
			total -= sizes[a.path]
		}
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
