package domain

// NewEvent returns an empty payload of the named event, in its current
// schema version, for code that describes events (the AsyncAPI
// document) from the same registry the store and the readers use.
func NewEvent(name string) (Event, bool) {
	s, ok := registry[name]
	if !ok {
		return nil, false
	}
	return s.new(), true
}

// EventAggregate returns the aggregate type a named event belongs to.
func EventAggregate(name string) (string, bool) {
	s, ok := registry[name]
	return s.aggregate, ok
}
