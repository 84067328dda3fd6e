package export

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"kpitrail/projections"
)

// The self-check table (自查表) is what the office hands in today, written
// by hand in Word and Excel: 考评维度 | 自查内容（专项任务） | 落实情况 |
// 存在问题及原因, one row per task, the dimension cell merged down over its
// tasks. SelfCheck writes the read models in that layout, so the table
// comes out of the system instead of being typed next to it.

// SelfCheckRow is one task as the table writes it.
type SelfCheckRow struct {
	Year      int
	TaskID    string
	Dimension string
	Task      string
	Lead      string // 牵头单位
	Status    string // 落实情况: the latest narrative's items
	Problems  string // 存在问题及原因, or 无
	// ProblemCount is how many problems the cell lists.
	ProblemCount int
}

// Self-check headers, as the seed writes them.
var selfCheckHeader = []string{"考评维度", "自查内容（专项任务）", "落实情况", "存在问题及原因"}

// SelfCheckRows reads the tasks a board filter selects, or the one task
// taskID names, in the order they were registered (an imported table's
// own row order), with their narratives and problems. visible, when not
// nil, keeps the part of the filter's tasks the caller may read (the
// transports' read scope); the caller checks a single task itself.
func SelfCheckRows(ctx context.Context, db *projections.DB, f projections.TaskFilter, taskID string,
	visible func([]projections.Task) []projections.Task) ([]SelfCheckRow, error) {
	var tasks []projections.Task
	var problems []projections.Problem
	if taskID != "" {
		d, err := db.GetTask(ctx, taskID)
		if err != nil {
			return nil, err
		}
		tasks, problems = []projections.Task{d.Task}, d.Problems
	} else {
		var err error
		if tasks, err = db.ListTasks(ctx, f); err != nil {
			return nil, err
		}
		if visible != nil {
			tasks = visible(tasks)
		}
		if problems, err = db.ListProblems(ctx, projections.ProblemFilter{Year: f.Year}); err != nil {
			return nil, err
		}
	}
	byTask := map[string][]projections.Problem{}
	for _, p := range problems {
		byTask[p.TaskID] = append(byTask[p.TaskID], p)
	}
	// Tasks of one dimension stay together (the merged cell), dimensions in
	// the order their first task was registered.
	slices.SortStableFunc(tasks, func(a, b projections.Task) int {
		return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	firstSeen := map[string]int{}
	for i, t := range tasks {
		if _, ok := firstSeen[dimKey(t)]; !ok {
			firstSeen[dimKey(t)] = i
		}
	}
	slices.SortStableFunc(tasks, func(a, b projections.Task) int {
		return cmp.Compare(firstSeen[dimKey(a)], firstSeen[dimKey(b)])
	})
	rows := make([]SelfCheckRow, 0, len(tasks))
	for _, t := range tasks {
		ps := byTask[t.ID]
		rows = append(rows, SelfCheckRow{Year: t.Year, TaskID: t.ID, Dimension: t.Dimension, Task: t.Title, Lead: t.LeadDepartment,
			Status: numbered(t.Narrative), Problems: problemsCell(ps), ProblemCount: len(ps)})
	}
	return rows, nil
}

func dimKey(t projections.Task) string { return strconv.Itoa(t.Year) + "\x00" + t.Dimension }

// numbered writes list items the way the table does: a single item as
// itself, several as "1. …" lines.
func numbered(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	lines := make([]string, len(items))
	for i, it := range items {
		lines[i] = strconv.Itoa(i+1) + ". " + it
	}
	return strings.Join(lines, "\n")
}

// problemsCell lists a task's problems, each with its cause on the line
// below, or 无 when there are none.
func problemsCell(ps []projections.Problem) string {
	if len(ps) == 0 {
		return "无"
	}
	items := make([]string, len(ps))
	for i, p := range ps {
		items[i] = p.Description
		if p.Cause != "" {
			items[i] += "\n原因：" + p.Cause
		}
	}
	return numbered(items)
}

// SelfCheckContentType is the media type of WriteSelfCheckXLSX's output.
const SelfCheckContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// WriteSelfCheckXLSX writes rows as a workbook with one sheet per year:
// a title row, the header, one row per task, the dimension merged down
// over its run of tasks; set up to print on A4 landscape with the header
// repeated on every page.
func WriteSelfCheckXLSX(w io.Writer, rows []SelfCheckRow) error {
	f := excelize.NewFile()
	defer f.Close()
	styles, err := selfCheckStyles(f)
	if err != nil {
		return err
	}
	years := []int{}
	for _, r := range rows {
		if !slices.Contains(years, r.Year) {
			years = append(years, r.Year)
		}
	}
	if len(years) == 0 {
		years = []int{0}
	}
	for i, y := range years {
		name := "自查表"
		if y != 0 {
			name = fmt.Sprintf("%d年度", y)
		}
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		var of []SelfCheckRow
		for _, r := range rows {
			if r.Year == y {
				of = append(of, r)
			}
		}
		if err := writeSelfCheckSheet(f, name, y, of, styles); err != nil {
			return err
		}
	}
	_, err = f.WriteTo(w)
	return err
}

type sheetStyles struct{ title, header, body, dimension int }

func selfCheckStyles(f *excelize.File) (sheetStyles, error) {
	border := []excelize.Border{{Type: "left", Color: "000000", Style: 1}, {Type: "right", Color: "000000", Style: 1},
		{Type: "top", Color: "000000", Style: 1}, {Type: "bottom", Color: "000000", Style: 1}}
	var s sheetStyles
	var err error
	if s.title, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}}); err != nil {
		return s, err
	}
	if s.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Border: border,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}); err != nil {
		return s, err
	}
	if s.body, err = f.NewStyle(&excelize.Style{Border: border,
		Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}); err != nil {
		return s, err
	}
	s.dimension, err = f.NewStyle(&excelize.Style{Border: border,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}})
	return s, err
}

func writeSelfCheckSheet(f *excelize.File, sheet string, year int, rows []SelfCheckRow, st sheetStyles) error {
	// The title names the year and, when every task has the same lead
	// (an imported table's unit), that unit: as the seed's title does, and
	// as the importer reads it back.
	unit := ""
	for i, r := range rows {
		if i == 0 {
			unit = r.Lead
		} else if r.Lead != unit {
			unit = ""
			break
		}
	}
	title := unit + "考核事项完成情况自查表"
	if year != 0 {
		title = fmt.Sprintf("%s%d年度考核事项完成情况自查表", unit, year)
	}
	cells := []struct {
		cell  string
		value any
	}{{"A1", title}}
	for i, h := range selfCheckHeader {
		cells = append(cells, struct {
			cell  string
			value any
		}{string(rune('A'+i)) + "2", h})
	}
	for _, c := range cells {
		if err := f.SetCellValue(sheet, c.cell, c.value); err != nil {
			return err
		}
	}
	steps := []error{
		f.MergeCell(sheet, "A1", "D1"),
		f.SetCellStyle(sheet, "A1", "D1", st.title),
		f.SetCellStyle(sheet, "A2", "D2", st.header),
		f.SetColWidth(sheet, "A", "A", 12),
		f.SetColWidth(sheet, "B", "B", 22),
		f.SetColWidth(sheet, "C", "C", 70),
		f.SetColWidth(sheet, "D", "D", 40),
		f.SetRowHeight(sheet, 1, 28),
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	first := 3
	for i, r := range rows {
		row := first + i
		for j, v := range []string{r.Dimension, r.Task, r.Status, r.Problems} {
			cell, _ := excelize.CoordinatesToCellName(j+1, row)
			// The dimension is written on the first row of its run only;
			// the merge below shows it over the rest.
			if j == 0 && i > 0 && rows[i-1].Dimension == r.Dimension {
				continue
			}
			if err := f.SetCellStr(sheet, cell, v); err != nil {
				return err
			}
		}
		a, _ := excelize.CoordinatesToCellName(2, row)
		b, _ := excelize.CoordinatesToCellName(4, row)
		if err := f.SetCellStyle(sheet, a, b, st.body); err != nil {
			return err
		}
	}
	// Merge each run of one dimension.
	for start := 0; start < len(rows); {
		end := start
		for end+1 < len(rows) && rows[end+1].Dimension == rows[start].Dimension {
			end++
		}
		top, _ := excelize.CoordinatesToCellName(1, first+start)
		bottom, _ := excelize.CoordinatesToCellName(1, first+end)
		if end > start {
			if err := f.MergeCell(sheet, top, bottom); err != nil {
				return err
			}
		}
		if err := f.SetCellStyle(sheet, top, bottom, st.dimension); err != nil {
			return err
		}
		start = end + 1
	}
	landscape, a4 := "landscape", 9
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &landscape, Size: &a4}); err != nil {
		return err
	}
	return f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: "'" + sheet + "'!$2:$2", Scope: sheet})
}
