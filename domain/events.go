package domain

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Event is a domain event payload. Its name is an explicit constant, never
// derived from the Go type: stored events outlive type names.
type Event interface {
	EventName() string
}

// Event names. Stable forever: a rename would orphan every stored event.
// Payload fields are added, never renamed; a change of shape is a new schema
// version with an upcaster below.
const (
	EvTaskRegistered           = "task.registered"
	EvTaskDeadlineChanged      = "task.deadline_changed"
	EvTaskNarrativeRecorded    = "task.narrative_recorded"
	EvTaskMilestoneReached     = "task.milestone_reached"
	EvTaskProblemRecorded      = "task.problem_recorded"
	EvTaskRectificationUpdated = "task.rectification_progressed"
	EvTaskProblemClosed        = "task.problem_closed"
	EvTaskCompleted            = "task.completed"
	EvTaskWithdrawn            = "task.withdrawn"

	EvIndicatorDefined      = "indicator.defined"
	EvIndicatorTargetSet    = "indicator.target_set"
	EvIndicatorBaseRecorded = "indicator.base_recorded"
	EvFigureReported        = "indicator.figure_reported"
	EvFigureCorrected       = "indicator.figure_corrected"
	EvFigureRetracted       = "indicator.figure_retracted"
	EvIndicatorWithdrawn    = "indicator.withdrawn"
)

// upcaster turns a payload of schema version N into version N+1.
type upcaster func(json.RawMessage) (json.RawMessage, error)

type eventSpec struct {
	version   int // current schema version
	aggregate string
	new       func() Event
	upcasters map[int]upcaster // from version -> to version+1
}

var registry = map[string]eventSpec{}

func register(aggregate string, version int, newFn func() Event, ups map[int]upcaster) {
	name := newFn().EventName()
	if _, dup := registry[name]; dup {
		panic("duplicate event name " + name)
	}
	registry[name] = eventSpec{version: version, aggregate: aggregate, new: newFn, upcasters: ups}
}

// EventNames lists every registered event name, sorted.
func EventNames() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SchemaVersion returns the current schema version of a named event.
func SchemaVersion(name string) (int, bool) {
	s, ok := registry[name]
	return s.version, ok
}

// DecodeError is returned for events that cannot be turned into payloads;
// readers dead-letter them instead of stopping.
type DecodeError struct {
	Name   string
	Reason string
}

func (e *DecodeError) Error() string { return fmt.Sprintf("event %q: %s", e.Name, e.Reason) }

// Decode upcasts an envelope's payload to the current schema and decodes it.
// Every read path (write model, live projection, rebuild, replay) goes
// through here, so old events always meet current code.
func Decode(env Envelope) (Event, error) {
	spec, ok := registry[env.Name]
	if !ok {
		return nil, &DecodeError{Name: env.Name, Reason: "unknown event name"}
	}
	if spec.aggregate != env.AggregateType {
		return nil, &DecodeError{Name: env.Name, Reason: fmt.Sprintf("belongs to %s, not %s", spec.aggregate, env.AggregateType)}
	}
	payload := env.Payload
	v := env.SchemaVersion
	if v < 1 || v > spec.version {
		return nil, &DecodeError{Name: env.Name, Reason: fmt.Sprintf("schema version %d not in 1..%d", v, spec.version)}
	}
	for ; v < spec.version; v++ {
		up, ok := spec.upcasters[v]
		if !ok {
			return nil, &DecodeError{Name: env.Name, Reason: fmt.Sprintf("no upcaster from version %d", v)}
		}
		var err error
		if payload, err = up(payload); err != nil {
			return nil, &DecodeError{Name: env.Name, Reason: fmt.Sprintf("upcast from version %d: %v", v, err)}
		}
	}
	ev := spec.new()
	// Unknown fields are tolerated: fields are only ever added, and a reader
	// one release behind must still read what a newer writer appended.
	if err := json.Unmarshal(payload, ev); err != nil {
		return nil, &DecodeError{Name: env.Name, Reason: "payload: " + err.Error()}
	}
	return ev, nil
}
