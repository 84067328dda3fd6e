package domain

// Recorded is a stored event decoded for an aggregate or a projection.
type Recorded struct {
	Envelope
	Data Event
}

// Aggregate is what the command service loads and decides with. Apply never
// fails: every rule was checked when the event was decided, and a stored
// event is a fact.
type Aggregate interface {
	Ref() AggregateRef
	Version() uint64
	Apply(Recorded)
}

// Rehydrate applies recorded events in order.
func Rehydrate(a Aggregate, events []Recorded) {
	for _, e := range events {
		a.Apply(e)
	}
}
