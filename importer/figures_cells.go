package importer

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"kpitrail/domain"
)

func (fp *figurePlanner) domainFail(line int, cmd domain.Command, err error) {
	if de, ok := domain.AsError(err); ok {
		fp.fail(line, figureColumn(cmd, de.Field), de.Rule, "%s", de.Message)
		return
	}
	fp.fail(line, "", "", "%v", err)
}

func (fp *figurePlanner) decimal(line int, col, text string) *domain.Decimal {
	d, err := domain.ParseDecimal(strings.TrimSpace(text))
	if err != nil {
		fp.fail(line, col, "decimal", "%v", err)
		return nil
	}
	return &d
}

func (fp *figurePlanner) integer(line int, col, text string, def int, required bool) int {
	if text == "" {
		if required {
			fp.fail(line, col, "required", "%s is required for a figure", col)
		}
		return def
	}
	n, err := strconv.Atoi(strings.TrimSuffix(text, ".0"))
	if err != nil {
		fp.fail(line, col, "integer", "want a whole number, got %q", text)
		return def
	}
	return n
}

var excelSerial = regexp.MustCompile(`^\d{5}(\.0+)?$`)

// date accepts YYYY-MM-DD, or the serial number a spreadsheet stores for a
// cell typed as a date.
func (fp *figurePlanner) date(line int, col, text string) domain.Date {
	if text == "" {
		return ""
	}
	if excelSerial.MatchString(text) {
		f, _ := strconv.ParseFloat(text, 64)
		t, err := excelize.ExcelDateToTime(f, false)
		if err == nil {
			return domain.Date(t.Format(time.DateOnly))
		}
	}
	d, err := domain.ParseDate(col, text)
	if err != nil {
		fp.fail(line, col, "date", "want a date YYYY-MM-DD, got %q", text)
		return ""
	}
	return d
}

// existingTasks stands in for the tasks the sheet refers to: they are not
// the sheet's to create, so the simulation assumes them registered for the
// year of the indicator's first figure. Apply reports a task that is not.
func (fp *figurePlanner) existingTasks() map[domain.AggregateRef]domain.Aggregate {
	defs := make([]*indicatorDef, 0, len(fp.defs))
	for _, d := range fp.defs {
		defs = append(defs, d)
	}
	// In file order, so the first indicator of a task decides its year
	// whatever the map order.
	sort.Slice(defs, func(i, j int) bool { return defs[i].line < defs[j].line })
	out := map[domain.AggregateRef]domain.Aggregate{}
	for _, def := range defs {
		ref := domain.AggregateRef{Type: domain.AggregateTask, ID: def.cells["task_id"]}
		if _, ok := out[ref]; ok || ref.Validate() != nil {
			continue
		}
		year := def.taskYear
		if year == 0 {
			year = 2000 // no figure: the year is never compared
		}
		t := domain.NewTask(ref.ID)
		t.Apply(domain.Recorded{Envelope: domain.Envelope{AggregateVersion: 1},
			Data: &domain.TaskRegistered{Year: year, Title: ref.ID, LeadDepartment: "existing"}})
		out[ref] = t
	}
	return out
}
