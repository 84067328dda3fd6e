package export

import (
	"errors"
	"slices"
	"time"

	"kpitrail/domain"
	"kpitrail/projections"
)

// Options say what Run exports and where.
type Options struct {
	// Dir receives the files and manifest.json. It must not exist yet or
	// be empty: an export is written beside it and renamed into place
	// whole, so a Dir with a manifest always holds a complete export.
	Dir string
	// DB is the read models to export. Required unless Position is set.
	DB *projections.DB
	// Log is the event log, the source of stored_events, of events_log's
	// payload and hashes (the read models keep an index of the log, not
	// its contents), and of the replay when Position is set. Required
	// unless Tables leaves out stored_events and events_log and Position
	// is 0.
	Log Log
	// Formats to write, any of Formats. Default: all of them.
	Formats []string
	// Tables to export, any of Tables(DB) and StoredEvents. Default: all.
	Tables []string
	// Position 0 exports the read models as they stand, and the log up to
	// their checkpoint, so both describe the same position. Otherwise the
	// read models are replayed from the log to Position into a temporary
	// file (projections.ReplayToPosition) and the log is cut there too.
	Position uint64
	// CSVBOM starts every CSV file with a UTF-8 byte order mark, for
	// Excel users (see BOM). Off by default: other readers would take it
	// for part of the first column's name.
	CSVBOM bool
	// TempDir holds the replayed read models while an export as of a
	// position runs. Default: the directory that holds Dir, which the
	// caller already chose to have room.
	TempDir string
	// Now is the clock of generated_at. Default time.Now.
	Now func() time.Time
	// Progress, when set, is told now and then how many rows are written
	// of how many: the tables' rows, then the log's events.
	Progress func(done, total int64)
}

func (o *Options) setDefaults() {
	if len(o.Formats) == 0 {
		o.Formats = slices.Clone(Formats)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o Options) validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, domain.Invalid("dir", "required", "an export needs a directory"))
	}
	for i, f := range o.Formats {
		if err := checkFormat(f); err != nil {
			errs = append(errs, err)
		} else if slices.Index(o.Formats, f) != i {
			errs = append(errs, domain.Invalid("formats", "unique", "format %q is listed twice", f))
		}
	}
	if o.Position == 0 && o.DB == nil {
		errs = append(errs, domain.Invalid("db", "required", "the read models are required for an export of the current position"))
	}
	wantsLog := o.Position > 0 || len(o.Tables) == 0 || slices.Contains(o.Tables, StoredEvents) || slices.Contains(o.Tables, eventsLog)
	if wantsLog && o.Log == nil {
		errs = append(errs, domain.Invalid("log", "required", "the event log is required for %s, for %s and for an export as of a position", StoredEvents, eventsLog))
	}
	return errors.Join(errs...)
}
