package importer

import (
	"errors"
	"fmt"
	"strings"
)

// assembler carries the state a table needs across rows: the current
// column layout and the dimension a blank cell continues.
type assembler struct {
	t         *Table
	pos       [numColumns]int
	headerSet bool
	dimRaw    string
	dimSeen   map[string]bool
}

func assemble(recs []record) (*Table, error) {
	a := &assembler{t: &Table{}, dimSeen: map[string]bool{}}
	for _, rec := range recs {
		if pos, ok := headerColumns(rec.cells); ok {
			a.pos, a.headerSet = pos, true
			a.t.HeaderLines = append(a.t.HeaderLines, rec.line)
			continue
		}
		if text, ok := soleCell(rec.cells); ok && a.t.TitleLine == 0 && len(a.t.Rows) == 0 &&
			(!a.headerSet || strings.HasPrefix(strings.TrimSpace(text), "#")) {
			parseTitle(a.t, rec.line, text)
			continue
		}
		if !a.headerSet {
			a.warn(rec.line, WarnRowBeforeHeader, "row before the first header row is ignored")
			continue
		}
		a.row(rec)
	}
	if !a.headerSet {
		return nil, errors.New("no header row (考评维度, 自查内容（专项任务）, 落实情况, 存在问题及原因) found")
	}
	return a.t, nil
}

func (a *assembler) warn(line int, code, format string, args ...any) {
	a.t.Warnings = append(a.t.Warnings, Warning{Line: line, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (a *assembler) get(cells []string, c column) string {
	return strings.TrimSpace(cell(cells, a.pos[c]))
}

func (a *assembler) row(rec record) {
	a.checkExtraCells(rec)
	task := a.get(rec.cells, colTask)
	status := a.get(rec.cells, colStatus)
	problems := a.get(rec.cells, colProblems)
	if task == "" {
		// A row broken across a page in Word comes out as a second row with
		// the task cell empty: it continues the row above.
		if n := len(a.t.Rows); n > 0 && a.get(rec.cells, colDimension) == "" {
			a.warn(rec.line, WarnRowContinued, "task cell is empty: the row continues %q (line %d)", a.t.Rows[n-1].Task, a.t.Rows[n-1].Line)
			a.continueRow(&a.t.Rows[n-1], rec.line, status, problems)
			return
		}
		a.warn(rec.line, WarnTaskMissing, "task cell is empty and there is no row to continue: row ignored")
		return
	}
	r := Row{Line: rec.line, Task: task, Status: status, ProblemsText: problems,
		LeadDepartment: a.get(rec.cells, colLead), CoDepartments: splitDepartments(a.get(rec.cells, colCo))}
	a.dimension(&r, a.get(rec.cells, colDimension))
	r.Items = a.items(rec.line, status)
	r.Problems = a.problems(rec.line, problems)
	a.t.Rows = append(a.t.Rows, r)
}

func (a *assembler) dimension(r *Row, raw string) {
	if raw == "" {
		raw, r.DimensionInherited = a.dimRaw, true
		if raw == "" {
			a.warn(r.Line, WarnDimensionMissing, "no dimension in this row or above it: the task is registered without one")
		}
	}
	a.dimRaw = raw
	r.DimensionRaw, r.Dimension = raw, normalizeDimension(raw)
	if r.Dimension != raw && !a.dimSeen[raw] {
		a.warn(r.Line, WarnDimensionWhitespace, "dimension %q is written with whitespace; stored and matched as %q (first seen here)", raw, r.Dimension)
	}
	a.dimSeen[raw] = true
}

func (a *assembler) items(line int, status string) []Item {
	if status == "" {
		a.warn(line, WarnStatusEmpty, "落实情况 is empty: no narrative recorded")
		return nil
	}
	a.checkQuotes(line, "落实情况", status)
	items, html := splitStatus(status)
	if html {
		a.warn(line, WarnHTMLMarkup, "落实情况 is HTML: list tags and attributes removed, %d items kept", len(items))
	}
	return items
}

func (a *assembler) problems(line int, text string) []Problem {
	if text == "" {
		a.warn(line, WarnProblemsEmpty, "存在问题及原因 is empty: read as 无 (none)")
		return nil
	}
	a.checkQuotes(line, "存在问题及原因", text)
	return splitProblems(text)
}

func (a *assembler) continueRow(r *Row, line int, status, problems string) {
	if status != "" {
		r.Status = joinNonEmpty(r.Status, status)
		r.Items = append(r.Items, a.items(line, status)...)
	}
	if problems != "" {
		r.ProblemsText = joinNonEmpty(r.ProblemsText, problems)
		r.Problems = append(r.Problems, a.problems(line, problems)...)
	}
}

func (a *assembler) checkExtraCells(rec record) {
	used := map[int]bool{}
	for _, p := range a.pos {
		used[p] = true
	}
	for i, c := range rec.cells {
		if !used[i] && strings.TrimSpace(c) != "" {
			a.warn(rec.line, WarnExtraCells, "cell %d is outside the header's columns and is ignored", i+1)
			return
		}
	}
}

// checkQuotes flags cells whose curly quotes do not pair up. The text is
// kept as written; the warning says where a human should look.
func (a *assembler) checkQuotes(line int, column, text string) {
	open, closing := strings.Count(text, "“"), strings.Count(text, "”")
	if open != closing {
		a.warn(line, WarnUnbalancedQuotes, "%s has %d “ and %d ”: kept as written", column, open, closing)
	}
}

func splitDepartments(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, d := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("、，,；;\n", r) }) {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

func joinNonEmpty(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}
