package eventstore_test

import (
	"testing"

	"kpitrail/eventstore"
	"kpitrail/eventstore/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store { return eventstore.NewMemory(nil) })
}
