package main

import (
	"context"

	"kpitrail/domain"
	"kpitrail/projections"
)

// wireControl gives the command service what it decides with from the
// read models: how other years measure an indicator key.
func wireControl(sys *System, live *projections.Live) {
	sys.Service.KeyUses = func(ctx context.Context, key string) ([]domain.KeyUse, error) {
		var uses []domain.KeyUse
		err := live.With(ctx, nil, func(db *projections.DB) error {
			var err error
			uses, err = db.KeyUses(ctx, key)
			return err
		})
		return uses, err
	}
}
