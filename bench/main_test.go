package bench

import (
	"os"
	"testing"
)

// TestMain lets the test binary measure a rebuild in a child process as
// the kpitrail executable does.
func TestMain(m *testing.M) {
	if IsChild() {
		os.Exit(RunChild())
	}
	os.Exit(m.Run())
}
