package domain_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The domain is pure: standard library only (no NATS, no SQL, no HTTP, no
// other kpitrail package), and no clock of its own. Time comes in with
// commands and envelopes, so every decision can be replayed.

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found in PATH")
	}
	cmd := exec.Command(gobin, append([]string{"list"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.Fields(string(out))
}

func TestDomainDependsOnTheStandardLibraryOnly(t *testing.T) {
	const self = "kpitrail/domain"
	std := map[string]bool{}
	for _, p := range goList(t, "std") {
		std[p] = true
	}
	deps := goList(t, "-deps", self)
	if len(deps) == 0 || deps[len(deps)-1] != self {
		t.Fatalf("go list -deps %s listed %v", self, deps)
	}
	for _, p := range deps {
		if p == self {
			continue
		}
		first, _, _ := strings.Cut(p, "/")
		if strings.Contains(first, ".") || !std[p] {
			t.Errorf("domain depends on %s, which is not in the standard library", p)
		}
	}
}

// TestDomainHasNoClock reads the package's non-test sources and fails on a
// reference to time.Now (or time.Since and time.Until, which read it),
// however the "time" import is named.
func TestDomainHasNoClock(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		checked++
		timePkg := ""
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == "time" {
				timePkg = "time"
				if imp.Name != nil {
					timePkg = imp.Name.Name
				}
			}
		}
		if timePkg == "" || timePkg == "_" {
			continue
		}
		if timePkg == "." {
			t.Errorf("%s dot-imports time; the clock check cannot see through it", name)
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == timePkg {
				switch sel.Sel.Name {
				case "Now", "Since", "Until":
					t.Errorf("%s: domain code reads the clock with time.%s; take the time as input", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no non-test sources found: the test is not running in the domain directory")
	}
}
