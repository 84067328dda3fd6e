package console

import (
	"cmp"
	"context"
	"html"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"kpitrail/domain"
	"kpitrail/projections"
)

// The task board: the tasks the API's board gives for the filters (the
// same TaskBoard call, so the same statuses and counters), with each
// task's rectification progress, counts by status, a text search and a
// sort the reader picks.

type boardPage struct {
	Year        int // 0: every year
	YearParam   string
	Dimension   string
	Department  string
	Status      string
	Q           string
	Sort        string
	Desc        bool
	Years       []int
	Dimensions  []string
	Departments []string
	Counts      []statusCount
	Statuses    []string
	InScope     int // tasks under the year, dimension and department filters
	Rows        []boardRow
	// Lines are the rows of the page shown, as the template prints them.
	Lines []boardLine
	// Page is the 1-based page of Rows shown; Matched counts every row the
	// filters and the search selected.
	Page, Pages, Matched, First int
}

// boardPageSize bounds what one answer renders: a year of a large
// district's tasks fits on one page, and a board of every year is paged
// rather than written out whole (4,480 rows would be megabytes of HTML).
var boardPageSize = 500

type statusCount struct {
	Status string
	N      int
}

// boardRow points into the read models' board, which is shared between
// requests and only read here; a board of every year is thousands of
// rows, sorted by pointer.
type boardRow struct {
	*projections.Task
	Rect rectSummary
}

// rectSummary adds up a task's problems: items rectified of items listed
// (整改到位率, by the domain's rule when shown).
type rectSummary struct {
	Problems  int
	Total     int
	Rectified int
}

func (c *Console) board(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	p := boardPage{Dimension: q.Get("dimension"), Department: q.Get("department"), Status: q.Get("status"),
		Q: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Desc: q.Get("desc") == "1", YearParam: q.Get("year"),
		Statuses: taskStatuses}
	err := v.read(func(ctx context.Context, db *projections.DB) error {
		// A reporter's board is its departments' tasks (the API's read
		// scope): the facets, counts and rows are all of those alone.
		all, err := db.TaskBoard(ctx, projections.TaskFilter{})
		if err != nil {
			return err
		}
		p.facets(v.visible(all))
		if p.Year, err = boardYear(p.YearParam, p.Years); err != nil {
			return err
		}
		scope := projections.TaskFilter{Year: p.Year, Dimension: p.Dimension, Department: p.Department}
		inScope, err := db.TaskBoard(ctx, scope)
		if err != nil {
			return err
		}
		p.count(v.visible(inScope))
		scope.Status = p.Status
		tasks, err := db.TaskBoard(ctx, scope)
		if err != nil {
			return err
		}
		tasks = v.visible(tasks)
		problems, err := db.ProblemTotals(ctx, p.Year)
		if err != nil {
			return err
		}
		p.Rows = boardRows(tasks, problems, p.Q)
		return nil
	})
	if err != nil {
		return err
	}
	sortBoard(p.Rows, p.Sort, p.Desc)
	if err := p.paginate(q.Get("page")); err != nil {
		return err
	}
	p.Lines = boardLines(v, p.Rows, p.First)
	return c.render(w, v, http.StatusOK, "board", "任务看板", p)
}

// boardLine is one row of the board. A board is the console's largest
// table (a year of a large district is hundreds of rows, every year
// thousands), and html/template pays reflection and an escaper call for
// every field it prints: 448 rows took 63-102 ms to render with the row
// in the template, 29-51 ms with its labels prepared here, and 8-17 ms
// with the row written here (BenchmarkRenderBoard, on the shared 2-core
// machine under a load average of 9-13). So the row's cells are written by HTML below, every text
// escaped, and the template prints the rows.
type boardLine struct {
	N                                int
	Href, Title, Dimension, Lead, Co string
	Tone, Status                     string
	Deadline, DeadlineStatus         string
	Indicators                       string // 达标 m/n, or empty
	Behind, NotMet, Pending          string // the counts that need a word, or empty
	Open                             int
	Rect                             string
}

func boardLines(v *view, rows []boardRow, first int) []boardLine {
	out := make([]boardLine, len(rows))
	for i, r := range rows {
		l := boardLine{N: first + i + 1, Href: v.Link("/console/tasks/" + r.ID), Title: r.Title, Dimension: r.Dimension,
			Lead: r.LeadDepartment, Tone: statusTone(r.Status), Status: taskStatusLabel(r.Status), Deadline: r.Deadline,
			Open: r.OpenProblems}
		if len(r.CoDepartments) > 0 {
			l.Co = "配合：" + strings.Join(r.CoDepartments, "、")
		}
		if r.Deadline != "" {
			l.DeadlineStatus = deadlineLabel(r.DeadlineStatus)
		}
		if r.IndicatorsTotal > 0 {
			l.Indicators = "达标 " + strconv.Itoa(r.IndicatorsMet) + "/" + strconv.Itoa(r.IndicatorsTotal)
			l.Behind = countText("滞后", r.IndicatorsBehind)
			l.NotMet = countText("未达标", r.IndicatorsNotMet)
			l.Pending = countText("待报或无目标", r.IndicatorsPending)
		}
		switch {
		case r.Rect.Problems == 0:
			l.Rect = "无问题"
		case r.Rect.Total > 0:
			rate := ""
			if rat, _, err := domain.RectificationRate(r.Rect.Rectified, r.Rect.Total); err == nil && rat != nil {
				rate = "（" + domain.FormatPercent(rat, 1, domain.HalfUp) + "%）"
			}
			l.Rect = strconv.Itoa(r.Rect.Rectified) + "/" + strconv.Itoa(r.Rect.Total) + rate
		default:
			l.Rect = strconv.Itoa(r.Rect.Problems) + " 个问题"
		}
		out[i] = l
	}
	return out
}

func countText(word string, n int) string {
	if n == 0 {
		return ""
	}
	return word + " " + strconv.Itoa(n)
}

func (p *boardPage) paginate(param string) error {
	p.Matched, p.Page = len(p.Rows), 1
	p.Pages = max(1, (p.Matched+boardPageSize-1)/boardPageSize)
	if param != "" {
		n, err := strconv.Atoi(param)
		if err != nil || n < 1 || n > p.Pages {
			return domain.Invalid("page", "range", "must be a page from 1 to %d, got %q", p.Pages, param)
		}
		p.Page = n
	}
	p.First = (p.Page - 1) * boardPageSize
	p.Rows = p.Rows[p.First:min(p.First+boardPageSize, p.Matched)]
	return nil
}

// PageLink is the link to another page of the same board.
func (p boardPage) PageLink(v *view, n int) string {
	return v.Link("/console/board", p.filterPairs("sort", p.Sort, "desc", boolParam(p.Desc), "page", strconv.Itoa(n))...)
}

// boardYear reads the year filter: empty is the latest year on the board,
// "all" every year.
func boardYear(param string, years []int) (int, error) {
	switch param {
	case "":
		if len(years) > 0 {
			return years[len(years)-1], nil
		}
		return 0, nil
	case "all":
		return 0, nil
	}
	y, err := strconv.Atoi(param)
	if err != nil || y < 0 {
		return 0, domain.Invalid("year", "uint", "must be a year such as 2022, or all; got %q", param)
	}
	return y, nil
}

func (p *boardPage) facets(all []projections.Task) {
	years, dims, deps := map[int]bool{}, map[string]bool{}, map[string]bool{}
	for _, t := range all {
		years[t.Year], dims[t.Dimension], deps[t.LeadDepartment] = true, true, true
		for _, d := range t.CoDepartments {
			deps[d] = true
		}
	}
	for y := range years {
		p.Years = append(p.Years, y)
	}
	for d := range dims {
		p.Dimensions = append(p.Dimensions, d)
	}
	for d := range deps {
		p.Departments = append(p.Departments, d)
	}
	slices.Sort(p.Years)
	slices.Sort(p.Dimensions)
	slices.Sort(p.Departments)
}

func (p *boardPage) count(ts []projections.Task) {
	n := map[string]int{}
	for _, t := range ts {
		n[t.Status]++
	}
	for _, s := range taskStatuses {
		if n[s] > 0 {
			p.Counts = append(p.Counts, statusCount{Status: s, N: n[s]})
		}
	}
	p.InScope = len(ts)
}

func boardRows(tasks []projections.Task, problems map[string]projections.ProblemTotal, q string) []boardRow {
	rows := make([]boardRow, 0, len(tasks))
	for i := range tasks {
		t := &tasks[i]
		if q != "" && !matches(t, q) {
			continue
		}
		pt := problems[t.ID]
		s := rectSummary{Problems: pt.Problems, Total: pt.Total, Rectified: pt.Rectified}
		// The rate is only worked out for the rows shown (boardLines).
		rows = append(rows, boardRow{Task: t, Rect: s})
	}
	return rows
}

// matches is the board's search: the words a reader knows a task by.
func matches(t *projections.Task, q string) bool {
	if strings.Contains(t.Title, q) || strings.Contains(t.Dimension, q) || strings.Contains(t.LeadDepartment, q) ||
		strings.Contains(t.ID, q) {
		return true
	}
	for _, d := range t.CoDepartments {
		if strings.Contains(d, q) {
			return true
		}
	}
	return false
}

// statusRank orders statuses by urgency, as the counts list them.
func statusRank(s string) int {
	if i := slices.Index(taskStatuses, s); i >= 0 {
		return i
	}
	return len(taskStatuses)
}

func sortBoard(rows []boardRow, key string, desc bool) {
	less := func(a, b boardRow) int {
		switch key {
		case "title":
			return cmp.Compare(a.Title, b.Title)
		case "lead":
			return cmp.Compare(a.LeadDepartment, b.LeadDepartment)
		case "status":
			return cmp.Compare(statusRank(a.Status), statusRank(b.Status))
		case "deadline":
			return cmp.Compare(orLast(a.Deadline), orLast(b.Deadline))
		case "completion":
			return cmp.Compare(share(a.IndicatorsMet, a.IndicatorsTotal), share(b.IndicatorsMet, b.IndicatorsTotal))
		case "problems":
			return cmp.Compare(a.OpenProblems, b.OpenProblems)
		case "rect":
			return cmp.Compare(share(a.Rect.Rectified, a.Rect.Total), share(b.Rect.Rectified, b.Rect.Total))
		}
		return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.CreatedAt, b.CreatedAt))
	}
	slices.SortStableFunc(rows, func(a, b boardRow) int {
		if desc {
			return cmp.Or(less(b, a), cmp.Compare(a.ID, b.ID))
		}
		return cmp.Or(less(a, b), cmp.Compare(a.ID, b.ID))
	})
}

// share orders by a fraction without computing one for display: a task
// with nothing counted sorts first.
func share(n, total int) float64 {
	if total == 0 {
		return -1
	}
	return float64(n) / float64(total)
}

func orLast(date string) string {
	if date == "" {
		return "9999"
	}
	return date
}

// SortLink is a column header's link: the same column again flips the
// order.
func (p boardPage) SortLink(v *view, key string) string {
	desc := ""
	if p.Sort == key && !p.Desc {
		desc = "1"
	}
	return v.Link("/console/board", p.filterPairs("sort", key, "desc", desc)...)
}

// AriaSort is a column header's aria-sort.
func (p boardPage) AriaSort(key string) string {
	switch {
	case p.Sort != key:
		return "none"
	case p.Desc:
		return "descending"
	}
	return "ascending"
}

// StatusLink filters the board to one status (or none).
func (p boardPage) StatusLink(v *view, status string) string {
	q := p
	q.Status = status
	return v.Link("/console/board", q.filterPairs("sort", p.Sort, "desc", boolParam(p.Desc))...)
}

// XLSXLink downloads the self-check table of the board's filters.
func (p boardPage) XLSXLink(v *view) string {
	return v.Link("/console/board/selfcheck.xlsx", "year", p.yearParam(), "dimension", p.Dimension,
		"department", p.Department, "status", p.Status)
}

func (p boardPage) filterPairs(extra ...string) []string {
	return append([]string{"year", p.yearParam(), "dimension", p.Dimension, "department", p.Department,
		"status", p.Status, "q", p.Q}, extra...)
}

func (p boardPage) yearParam() string {
	if p.Year == 0 {
		return "all"
	}
	return strconv.Itoa(p.Year)
}

func boolParam(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// HTML writes the row; every value is escaped.
func (l boardLine) HTML() template.HTML {
	e := html.EscapeString
	var b strings.Builder
	b.Grow(512)
	b.WriteString(`<tr><td class="num">`)
	b.WriteString(strconv.Itoa(l.N))
	b.WriteString(`</td><th scope="row"><a href="`)
	b.WriteString(e(l.Href))
	b.WriteString(`">`)
	b.WriteString(e(l.Title))
	b.WriteString(`</a></th><td>`)
	b.WriteString(e(l.Dimension))
	b.WriteString(`</td><td>`)
	b.WriteString(e(l.Lead))
	span(&b, "co", l.Co)
	b.WriteString(`</td><td><span class="tag `)
	b.WriteString(e(l.Tone))
	b.WriteString(`">`)
	b.WriteString(e(l.Status))
	b.WriteString(`</span></td><td>`)
	if l.Deadline != "" {
		b.WriteString(e(l.Deadline))
		span(&b, "co", l.DeadlineStatus)
	} else {
		b.WriteString("—")
	}
	b.WriteString(`</td><td>`)
	if l.Indicators != "" {
		b.WriteString(e(l.Indicators))
		span(&b, "co warn", l.Behind)
		span(&b, "co bad", l.NotMet)
		span(&b, "co", l.Pending)
	} else {
		b.WriteString("—")
	}
	b.WriteString(`</td><td class="num">`)
	b.WriteString(strconv.Itoa(l.Open))
	b.WriteString(`</td><td>`)
	b.WriteString(e(l.Rect))
	b.WriteString("</td></tr>\n")
	return template.HTML(b.String())
}

func span(b *strings.Builder, class, text string) {
	if text == "" {
		return
	}
	b.WriteString(`<span class="`)
	b.WriteString(class)
	b.WriteString(`">`)
	b.WriteString(html.EscapeString(text))
	b.WriteString(`</span>`)
}
