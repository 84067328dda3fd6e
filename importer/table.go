package importer

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Table is a parsed self-check table. Text is kept exactly as written
// (full-width punctuation and quotes included); only list markup, numbering
// and surrounding whitespace are taken off.
type Table struct {
	Title       string // the title line without its "##"
	TitleLine   int
	Unit        string // the unit the title names, e.g. 怀柔区政府
	Year        int    // the assessment year the title names (2022年度), 0 if none
	HeaderLines []int  // every header row, including the repeats before page groups
	Rows        []Row
	Warnings    []Warning
	// Encoding is the text encoding of a TSV or CSV file; "" for XLSX.
	Encoding Encoding
}

// Row is one task (专项任务) of the table.
type Row struct {
	Line int
	// DimensionRaw is the dimension as written ("高效率 落实"); Dimension has
	// the layout whitespace removed ("高效率落实") and is what is stored and
	// matched. DimensionInherited says the cell was blank and continues the
	// dimension above.
	DimensionRaw       string
	Dimension          string
	DimensionInherited bool
	Task               string
	LeadDepartment     string   // from an optional 牵头单位 column
	CoDepartments      []string // from an optional 配合单位 column
	Status             string   // the 落实情况 cell as written
	Items              []Item
	ProblemsText       string // the 存在问题及原因 cell as written
	Problems           []Problem
}

// Item is one narrative item of a 落实情况 cell. Label is its numbering
// ("3", "3(1)"), empty for an unnumbered cell.
type Item struct {
	Label string
	Text  string
}

// Problem is one 存在问题 with its cause, when the text separates them.
type Problem struct {
	Label       string
	Text        string // the problem as written, without its numbering
	Description string
	Cause       string
}

// Warning is something the parser or planner did that a user should be able
// to check. Code is stable; docs/import.md explains each.
type Warning struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (w Warning) String() string { return fmt.Sprintf("line %d: %s: %s", w.Line, w.Code, w.Message) }

// Warning codes.
const (
	WarnDimensionWhitespace = "dimension_whitespace"
	WarnDimensionMissing    = "dimension_missing"
	WarnHTMLMarkup          = "html_markup"
	WarnUnbalancedQuotes    = "unbalanced_quotes"
	WarnRowBeforeHeader     = "row_before_header"
	WarnExtraCells          = "extra_cells"
	WarnRowContinued        = "row_continued"
	WarnTaskMissing         = "task_missing"
	WarnStatusEmpty         = "status_empty"
	WarnProblemsEmpty       = "problems_empty"
	WarnDuplicateTask       = "duplicate_task"
	WarnYearOverride        = "year_override"
	WarnUnknownColumn       = "unknown_column"
)

// ParseTable reads a self-check table. It fails only when the file cannot be
// read or has no header row; everything else it can work around becomes a
// warning on the line concerned.
func ParseTable(r io.Reader, format Format) (*Table, error) {
	return ParseTableWith(r, format, DefaultLimits)
}

// ParseTableWith is ParseTable within lim.
func ParseTableWith(r io.Reader, format Format, lim Limits) (*Table, error) {
	recs, enc, err := readRecords(r, format, lim)
	if err != nil {
		return nil, err
	}
	t, err := assemble(recs)
	if t != nil {
		t.Encoding = enc
	}
	return t, err
}

type column int

const (
	colDimension column = iota
	colTask
	colStatus
	colProblems
	colLead
	colCo
	numColumns
)

// headerNames lists the spellings met in real tables, compared with all
// whitespace removed. Both full- and half-width parentheses occur.
var headerNames = map[string]column{
	"考评维度": colDimension, "考核维度": colDimension, "维度": colDimension,
	"自查内容（专项任务）": colTask, "自查内容(专项任务)": colTask, "自查内容": colTask, "专项任务": colTask,
	"落实情况": colStatus, "完成情况": colStatus,
	"存在问题及原因": colProblems, "存在问题": colProblems, "问题及原因": colProblems,
	"牵头单位": colLead, "配合单位": colCo,
}

// headerColumns maps a row to column positions if it is a header row: one
// that names at least the task and the status columns.
func headerColumns(cells []string) ([numColumns]int, bool) {
	var pos [numColumns]int
	for i := range pos {
		pos[i] = -1
	}
	for i, c := range cells {
		if col, ok := headerNames[removeSpace(c)]; ok && pos[col] < 0 {
			pos[col] = i
		}
	}
	return pos, pos[colTask] >= 0 && pos[colStatus] >= 0
}

var titleYear = regexp.MustCompile(`^(.*?)(\d{4})\s*年`)

func parseTitle(t *Table, line int, text string) {
	t.TitleLine = line
	t.Title = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(text), "#"))
	if m := titleYear.FindStringSubmatch(t.Title); m != nil {
		t.Year, _ = strconv.Atoi(m[2])
		t.Unit = strings.TrimSpace(m[1])
	}
}

// soleCell returns the text of a row with exactly one non-blank cell.
func soleCell(cells []string) (string, bool) {
	var text string
	n := 0
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			text = c
			n++
		}
	}
	return text, n == 1
}
