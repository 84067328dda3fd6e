// Package reliability holds the tests that drive a real kpitrail process
// through crashes, and their long-run variants whose figures go into
// docs/reliability.md. It has no production code.
package reliability
