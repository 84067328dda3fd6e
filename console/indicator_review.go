package console

import (
	"context"

	"kpitrail/projections"
)

// The indicator page's part of the figure's life: whether the year is
// frozen, every warning about the indicator or its figures (open and
// explained), and the bases and targets proposed on it.
func (p *indicatorPage) readLifecycle(ctx context.Context, db *projections.DB) error {
	years, err := db.Years(ctx, p.Year)
	if err != nil {
		return err
	}
	for _, y := range years {
		p.Frozen = p.Frozen || y.State == "frozen"
	}
	if p.Warnings, err = db.Warnings(ctx, projections.WarningFilter{State: "all", IndicatorID: p.ID}); err != nil {
		return err
	}
	p.Proposals, err = db.Proposals(ctx, p.ID)
	return err
}

// CanWrite is whether a figure of the indicator may change at all: not in
// a frozen year.
func (p indicatorPage) CanWrite() bool { return !p.Frozen }
