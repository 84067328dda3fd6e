package main

import (
	"runtime/debug"
	"time"

	"github.com/spf13/pflag"

	"kpitrail/httpapi"
	"kpitrail/importer"
	"kpitrail/jobs"
	"kpitrail/projections"
)

// Limits are serve's budgets against hostile or careless clients: what a
// change stream, an as-of replay, an import and an export may cost. The
// zero value takes every default (README, "Configuration").
type Limits struct {
	Streams httpapi.StreamLimits
	// ImportMaxBytes bounds an uploaded file, ImportMaxUnzipped what an
	// XLSX may unzip to; ImportWait is how long an import waits for the
	// running one before a 409.
	ImportMaxBytes    int64
	ImportMaxUnzipped int64
	ImportWait        time.Duration
	Exports           ExportLimits
	AsOf              projections.AsOfLimits
	// Jobs bound the long operations run as jobs (/v1/jobs).
	Jobs jobs.Limits
	// ImportPace slows each slice of an import, and ImportSlice sets its
	// size (hidden flags for tests that cancel an import part-way).
	ImportPace  time.Duration
	ImportSlice int
	// Snapshots is the cadence of automatic snapshots, which as-of
	// replays start from.
	Snapshots projections.SnapshotCadence
	// MemoryLimit is Go's soft memory limit for the serve process (0: none;
	// GOMEMLIMIT in the environment wins). The budgets above are what keep
	// memory bounded; the soft limit makes the collector work harder and
	// return freed memory sooner as the process nears it.
	MemoryLimit int64
}

// flags registers the budgets on serve's flag set.
func (l *Limits) flags(fs *pflag.FlagSet) {
	fs.IntVar(&l.Streams.Max, "max-streams", 256, "change streams (GET /v1/changes) open at once, over all tokens")
	fs.IntVar(&l.Streams.PerToken, "max-streams-per-token", 8, "change streams one token may hold open")
	fs.IntVar(&l.Streams.Buffer, "stream-buffer", 256, "changes buffered for one change stream")
	fs.DurationVar(&l.Streams.BehindAfter, "stream-behind-after", 10*time.Second, "how long a change stream's buffer may stay full before the stream ends with a 'behind' event")
	fs.Int64Var(&l.ImportMaxBytes, "import-max-bytes", httpapi.MaxImportBytes, "largest import file accepted, in bytes")
	fs.Int64Var(&l.ImportMaxUnzipped, "import-max-unzipped", importer.DefaultLimits.MaxUnzipped, "most an XLSX import may unzip to, in bytes (all its parts together)")
	fs.DurationVar(&l.ImportWait, "import-wait", 5*time.Second, "how long an import waits for the running one before it is refused (one import at a time)")
	fs.DurationVar(&l.Exports.MaxAge, "export-max-age", 7*24*time.Hour, "how long a finished export (POST /v1/exports) is kept")
	fs.Int64Var(&l.Exports.MaxBytes, "export-max-bytes", 4<<30, "disk budget of the exports directory, in bytes")
	fs.DurationVar(&l.Exports.MinKeep, "export-min-keep", time.Hour, "a finished export younger than this is not removed to make room for another")
	fs.IntVar(&l.Exports.Concurrent, "export-concurrency", 2, "exports that run at once")
	fs.IntVar(&l.AsOf.Concurrent, "asof-concurrency", 2, "as-of replays (?as_of=) built at once")
	fs.IntVar(&l.Jobs.Concurrent, "job-concurrency", 2, "jobs (imports, rebuilds, exports, replays run with Prefer: respond-async) running at once")
	fs.IntVar(&l.Jobs.Queued, "job-queue", 16, "jobs waiting to run; past it a new job is refused with 429")
	fs.IntVar(&l.Jobs.KeepFinished, "job-keep", 200, "finished jobs remembered (GET /v1/jobs)")
	fs.DurationVar(&l.Jobs.KeepFor, "job-keep-for", 24*time.Hour, "how long a finished job is remembered")
	fs.Int64Var(&l.Jobs.KeepBytes, "job-keep-bytes", 64<<20, "memory the finished jobs' results may hold, in bytes; past it the oldest are forgotten")
	fs.DurationVar(&l.ImportPace, "import-pace", 0, "pause between import slices (for tests)")
	_ = fs.MarkHidden("import-pace")
	fs.IntVar(&l.ImportSlice, "import-slice", 0, "commands per import slice (for tests; default 1000)")
	_ = fs.MarkHidden("import-slice")
	fs.DurationVar(&l.AsOf.QueueWait, "asof-queue-wait", 5*time.Second, "how long an as-of replay waits for a turn before its readers get 429")
	fs.Int64Var(&l.AsOf.CacheBytes, "asof-cache-bytes", 2<<30, "disk kept for finished as-of replays, least recently read removed first, in bytes")
	fs.IntVar(&l.Snapshots.Every, "snapshot-every", 50_000, "events between two automatic snapshots (one is also taken at each year end); an as-of replay applies at most this many past its snapshot")
	fs.Int64Var(&l.Snapshots.MaxBytes, "snapshot-bytes", 8<<30, "disk kept for automatic snapshots, in bytes; the oldest go first, year ends last, the newest never")
	fs.BoolVar(&l.Snapshots.Off, "no-auto-snapshots", false, "take no automatic snapshots (as-of replays still start from those on disk)")
	fs.Int64Var(&l.MemoryLimit, "memory-limit", 1<<30, "Go's soft memory limit for serve, in bytes (0: none; GOMEMLIMIT wins)")
	fs.DurationVar(&l.Streams.WriteTimeout, "stream-write-timeout", 30*time.Second, "how long one write to a change stream may block before the stream ends")
}

func (l Limits) importer() importer.Limits {
	max := l.ImportMaxBytes
	if max <= 0 {
		max = httpapi.MaxImportBytes
	}
	return importer.Limits{MaxBytes: max, MaxUnzipped: l.ImportMaxUnzipped}
}

func (l Limits) importWait() time.Duration {
	if l.ImportWait <= 0 {
		return 5 * time.Second
	}
	return l.ImportWait
}

// applyMemoryLimit sets the process's soft memory limit; only the serve
// command calls it (tests start servers inside their own process).
func (l Limits) applyMemoryLimit(getenv func(string) string) {
	if l.MemoryLimit > 0 && getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(l.MemoryLimit)
	}
}
