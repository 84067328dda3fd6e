package projections

import (
	"context"
	"database/sql"
	"errors"

	"kpitrail/domain"
)

// TaskNotFound is the answer for a task the read models do not hold. A
// caller who may not read a task gets exactly this answer too, so the
// answer never says whether the task exists.
func TaskNotFound(id string) error { return domain.NotFound("task %s is not in the read models", id) }

// IndicatorNotFound is TaskNotFound for indicators.
func IndicatorNotFound(id string) error { return domain.NotFound("indicator %s", id) }

// IndicatorTask returns the id of the task an indicator belongs to.
func (db *DB) IndicatorTask(ctx context.Context, indicatorID string) (string, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	var task string
	err := db.reader.QueryRowContext(ctx, `SELECT task_id FROM indicators WHERE id = ?`, indicatorID).Scan(&task)
	if errors.Is(err, sql.ErrNoRows) {
		return "", IndicatorNotFound(indicatorID)
	}
	return task, err
}
