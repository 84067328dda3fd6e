package bench

import (
	"context"
	"path/filepath"
	"time"

	"kpitrail/app"
)

// StoreInfo describes a generated store.
type StoreInfo struct {
	Events  int
	Figures int
	// FirstYear is the year the history starts; record times run from
	// early in it to early in the next.
	FirstYear int
}

// WriteStore generates a history of about figures reported figures (and
// the tasks, indicators, corrections and narratives around them, as in
// Workload) into dataDir/jetstream, where `kpitrail serve --data dataDir`
// finds it. It is written with the sync off: a fixture, not a measurement.
func WriteStore(ctx context.Context, dataDir string, figures int) (StoreInfo, error) {
	const perIndicator = 36 // a month's estimate, provisional and final
	w := Workload{FirstYear: 2016, Years: 1, IndicatorsPerTask: 5}
	w.Tasks = max(1, figures/(perIndicator*w.IndicatorsPerTask))
	clock := &simClock{}
	n, err := startNode(ctx, filepath.Join(dataDir, "jetstream"), true, clock.now)
	if err != nil {
		return StoreInfo{}, err
	}
	defer n.close()
	events, err := generate(ctx, app.NewService(n.store), clock, w, nil)
	if err != nil {
		return StoreInfo{}, err
	}
	return StoreInfo{Events: events, Figures: w.Tasks * w.IndicatorsPerTask * perIndicator, FirstYear: w.FirstYear}, nil
}

// RecordedBy is an instant late in the generated history's year: an as-of
// replay of it reads nearly all of the log.
func (s StoreInfo) RecordedBy(day int) time.Time {
	return time.Date(s.FirstYear, 12, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, day)
}
