package export

import (
	"runtime/debug"
	"sync"
)

// BuildInfo says which kpitrail wrote an export, from what the Go
// toolchain recorded in the binary: a file can then be traced to the code
// whose rules derived its numbers.
type BuildInfo struct {
	Module   string `json:"module"`
	Version  string `json:"version"`            // module version; "(devel)" for a build from a work tree
	Revision string `json:"revision,omitempty"` // VCS commit, when the build recorded one
	Modified bool   `json:"modified,omitempty"` // the work tree had uncommitted changes
	Go       string `json:"go"`
}

var readBuildInfo = sync.OnceValue(func() BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return BuildInfo{Module: "kpitrail", Version: "unknown"}
	}
	out := BuildInfo{Module: bi.Main.Path, Version: bi.Main.Version, Go: bi.GoVersion}
	if out.Version == "" {
		out.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			out.Revision = s.Value
		case "vcs.modified":
			out.Modified = s.Value == "true"
		}
	}
	return out
})

func buildVersion() string {
	bi := readBuildInfo()
	if bi.Revision != "" {
		return bi.Version + "+" + bi.Revision
	}
	return bi.Version
}
