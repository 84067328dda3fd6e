package feed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// errTranslate marks a message the feed cannot turn into integration
// events because of what it holds, not because something is down. Only
// such failures (and panics) go to the poison subject; a database or NATS
// failure is retried until it passes, so nothing is dropped for an outage.
var errTranslate = errors.New("cannot translate")

// change is one integration event before it is published.
type change struct {
	typ    string
	index  int             // the source event's place in its message
	event  domain.Envelope // the source event
	taskID string
	// key tells apart the events one source event yields (the indicator,
	// task or problem id); it ends the message id.
	key  string
	data any
	// update is the status to remember once this is published.
	update *stateUpdate
}

// messageID is the Nats-Msg-Id: a function of the log position and of
// what was derived, so a feed that republishes a position after a crash
// sends the same ids and JetStream drops the copies.
func (c change) messageID(position uint64) string {
	return fmt.Sprintf("%d:%d:%s:%s", position, c.index, c.typ, c.key)
}

// translate derives the integration events of one message from its
// domain events, reading old values from the private read models, which
// stand at exactly this message.
func (f *Feed) translate(ctx context.Context, m eventstore.Message) ([]change, error) {
	if len(m.Events) == 0 {
		return nil, nil // not a kpitrail message; the read models dead-lettered it
	}
	var dead int
	if err := f.replica.db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM dead_letters WHERE position = ?`,
		m.Position).Scan(&dead); err != nil {
		return nil, err
	}
	if dead > 0 {
		// The read models refused the whole command; so does the feed, or
		// downstream systems would see a change kpitrail itself does not show.
		f.log.Warn("feed: message is dead-lettered in the read models, nothing published", "position", m.Position)
		return nil, nil
	}
	var out []change
	for i, e := range m.Events {
		var c *change
		var err error
		switch e.Name {
		case domain.EvFigureReported, domain.EvFigureCorrected, domain.EvFigureRetracted:
			c, err = f.figureChanged(ctx, m.Position, e)
		case domain.EvTaskProblemRecorded, domain.EvTaskRectificationUpdated, domain.EvTaskProblemClosed:
			c, err = f.problemEvent(ctx, e)
		}
		if err != nil {
			return nil, fmt.Errorf("position %d event %s (%s): %w", m.Position, e.ID, e.Name, err)
		}
		if c != nil {
			c.index, c.event = i, e
			out = append(out, *c)
		}
	}
	return out, nil
}

// figureChanged reads the event's change by figure_changes' key (the
// indicator, the position, the event).
func (f *Feed) figureChanged(ctx context.Context, position uint64, e domain.Envelope) (*change, error) {
	var d FigureChanged
	var taskID, period, srcKind, srcName string
	err := f.replica.db.Reader().QueryRowContext(ctx, `SELECT c.indicator_id, c.task_id, c.period, c.kind,
		COALESCE(c.old_value, ''), COALESCE(c.new_value, ''), COALESCE(c.old_quality, ''), COALESCE(c.new_quality, ''),
		COALESCE(c.reason, ''), COALESCE(c.note, ''), COALESCE(c.figure_source_kind, ''), COALESCE(c.figure_source_name, ''),
		COALESCE(c.corrects, f.supersedes, ''), i.name, COALESCE(i.unit, ''), i.year
		FROM figure_changes c JOIN indicators i ON i.id = c.indicator_id LEFT JOIN figures f ON f.event_id = c.event_id
		WHERE c.indicator_id = ? AND c.position = ? AND c.event_id = ?`, e.AggregateID, position, e.ID).Scan(&d.IndicatorID, &taskID, &period, &d.Kind, &d.OldValue, &d.NewValue,
		&d.OldQuality, &d.NewQuality, &d.Reason, &d.Note, &srcKind, &srcName, &d.Replaces, &d.IndicatorName, &d.Unit, &d.Year)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: the read models hold no figure change for it", errTranslate)
	}
	if err != nil {
		return nil, err
	}
	w, err := domain.ParseWindowKey(period)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errTranslate, err)
	}
	d.Window, d.WindowKey = Window{Year: w.Year, FromMonth: w.FromMonth, ToMonth: w.ToMonth}, period
	if srcKind != "" {
		d.Source = &Source{Kind: srcKind, Name: srcName}
	}
	return &change{typ: TypeFigureChanged, taskID: taskID, key: d.IndicatorID, data: d}, nil
}

// ledger is a problem's row in the read models.
type ledger struct {
	total, rectified, remaining  int
	rate, rateDisplay, lastEvent string
}

func (f *Feed) problemEvent(ctx context.Context, e domain.Envelope) (*change, error) {
	ev, err := domain.Decode(e)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errTranslate, err)
	}
	c := &change{taskID: e.AggregateID}
	switch p := ev.(type) {
	case *domain.TaskProblemRecorded:
		c.typ, c.key = TypeProblemOpened, p.ProblemID
		c.data = ProblemOpened{ProblemID: p.ProblemID, Description: p.Description, Cause: p.Cause, TotalItems: p.TotalItems}
	case *domain.TaskRectificationProgressed:
		d := RectificationProgressed{ProblemID: p.ProblemID, Total: p.Total, Rectified: p.Rectified,
			Remaining: p.Total - p.Rectified, PreviousTotal: p.PreviousTotal, PreviousRectified: p.PreviousRectified,
			State: string(p.State), Note: p.Note}
		l, err := f.ledger(ctx, e.AggregateID, p.ProblemID)
		if err != nil {
			return nil, err
		}
		// The row's rate is this event's only if no later event of the same
		// command moved the ledger again.
		if l.lastEvent == e.ID {
			d.Rate, d.RateDisplay = l.rate, l.rateDisplay
		}
		c.typ, c.key, c.data = TypeRectificationProgressed, p.ProblemID, d
	case *domain.TaskProblemClosed:
		l, err := f.ledger(ctx, e.AggregateID, p.ProblemID)
		if err != nil {
			return nil, err
		}
		c.typ, c.key = TypeProblemClosed, p.ProblemID
		c.data = ProblemClosed{ProblemID: p.ProblemID, Outcome: string(p.Outcome), Total: l.total, Rectified: l.rectified,
			Remaining: l.remaining, Rate: l.rate, RateDisplay: l.rateDisplay, Note: p.Note}
	default:
		return nil, fmt.Errorf("%w: unexpected payload %T", errTranslate, ev)
	}
	return c, nil
}

func (f *Feed) ledger(ctx context.Context, taskID, problemID string) (ledger, error) {
	var l ledger
	err := f.replica.db.Reader().QueryRowContext(ctx, `SELECT total, rectified, remaining, COALESCE(rate, ''),
		COALESCE(rate_display, ''), last_event_id FROM problems WHERE task_id = ? AND problem_id = ?`, taskID, problemID).
		Scan(&l.total, &l.rectified, &l.remaining, &l.rate, &l.rateDisplay, &l.lastEvent)
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("%w: the read models hold no problem %s on task %s", errTranslate, problemID, taskID)
	}
	return l, err
}
