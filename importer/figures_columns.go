package importer

import (
	"strings"

	"kpitrail/domain"
)

// FigureColumns are the columns of a structured figure import, in template
// order. docs/import.md describes each.
var FigureColumns = []string{
	"indicator_id", "task_id", "key", "name", "unit", "direction", "formula", "target",
	"window_year", "from_month", "to_month", "value", "numerator", "denominator",
	"quality", "source_kind", "source_name", "final_due", "note",
}

// definitionColumns describe an indicator; a later row of the same
// indicator may leave them empty or repeat them unchanged.
var definitionColumns = []string{"task_id", "key", "name", "unit", "direction", "formula"}

// figureColumn names the column a refused field came from.
func figureColumn(cmd domain.Command, field string) string {
	switch cmd.(type) {
	case domain.SetTarget:
		switch field {
		case "value", "low", "high", "milestone", "reason":
			return "target"
		}
	case domain.DefineIndicator:
		if field == "baseline" {
			return "formula"
		}
	}
	switch field {
	case "window", "window.year":
		return "window_year"
	case "window.from_month":
		return "from_month"
	case "window.to_month":
		return "to_month"
	case "source.kind":
		return "source_kind"
	case "source.name":
		return "source_name"
	case "corrects", "retracts":
		return ""
	}
	for _, c := range FigureColumns {
		if c == field {
			return c
		}
	}
	return ""
}

// headerIndex maps column names to positions; names are matched without
// case or surrounding space.
func headerIndex(cells []string) (map[string]int, []string) {
	idx := map[string]int{}
	var unknown []string
	known := map[string]bool{}
	for _, c := range FigureColumns {
		known[c] = true
	}
	for i, c := range cells {
		name := strings.ToLower(strings.TrimSpace(c))
		switch {
		case name == "":
		case known[name]:
			if _, dup := idx[name]; !dup {
				idx[name] = i
			}
		default:
			unknown = append(unknown, strings.TrimSpace(c))
		}
	}
	return idx, unknown
}
