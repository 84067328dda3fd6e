package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/eventstore"
)

var hitech = TaskID(2022, "高效率落实", "国际科技创新中心建设和高新技术企业发展")

func figureSheet(rows ...string) string {
	return strings.Join(append([]string{strings.Join(FigureColumns, ",")}, rows...), "\n")
}

// row fills the named columns of a figure row.
func row(cells map[string]string) string {
	out := make([]string, len(FigureColumns))
	for i, c := range FigureColumns {
		out[i] = cells[c]
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(out)
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

func validSheet() string {
	return figureSheet(
		row(map[string]string{"indicator_id": "hitech-stock", "task_id": hitech, "name": "高新技术企业保有量", "unit": "家",
			"direction": "higher", "target": "719", "window_year": "2022", "value": "610", "quality": "estimate",
			"source_kind": "agency", "source_name": "市科委", "note": "预计我区2022年保有量为610家左右"}),
		row(map[string]string{"indicator_id": "dust", "task_id": hitech, "name": "降尘量", "unit": "吨/平方公里·月",
			"direction": "lower", "formula": "cap", "window_year": "2022", "from_month": "1", "to_month": "11", "value": "3.6", "quality": "final"}),
		row(map[string]string{"indicator_id": "hitech-stock", "window_year": "2022", "value": "612", "quality": "final",
			"source_kind": "agency", "source_name": "市科委"}),
		row(map[string]string{"indicator_id": "staff", "task_id": hitech, "name": "专业技术人员占编制总额比例", "unit": "%",
			"direction": "higher", "window_year": "2022", "value": "87", "numerator": "88", "denominator": "101", "quality": "final"}),
	)
}

func TestPlanFigures(t *testing.T) {
	p, err := PlanFigures(strings.NewReader(validSheet()), CSV)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, pc := range p.Commands {
		names = append(names, fmt.Sprintf("%d:%s", pc.Line, pc.Command.CommandName()))
	}
	want := []string{"2:indicator.define", "2:indicator.set_target", "2:indicator.report_figure", "3:indicator.define",
		"3:indicator.report_figure", "4:indicator.report_figure", "5:indicator.define", "5:indicator.report_figure"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("commands %v", names)
	}
	if p.Summary.Indicators != 3 || p.Summary.Targets != 1 || p.Summary.Figures != 4 || p.Year != 2022 {
		t.Errorf("summary %+v year %d", p.Summary, p.Year)
	}
	fig := p.Commands[4].Command.(domain.ReportFigure)
	if fig.Window != (domain.Window{Year: 2022, FromMonth: 1, ToMonth: 11}) || fig.Value.String() != "3.6" || fig.Source.Kind != domain.SourceSelfReported {
		t.Errorf("%+v", fig)
	}
}

func TestPlanFiguresReportsEveryRowErrorAndPlansNothing(t *testing.T) {
	sheet := figureSheet(
		row(map[string]string{"indicator_id": "a", "task_id": hitech, "name": "甲", "unit": "家", "direction": "higher",
			"window_year": "2022", "value": "1.5", "quality": "final"}), // a count in 家 must be whole
		row(map[string]string{"indicator_id": "b", "task_id": hitech, "name": "乙", "direction": "sideways"}),
		row(map[string]string{"indicator_id": "a", "name": "别名", "window_year": "2022", "value": "1,000", "quality": "guess"}),
		row(map[string]string{"indicator_id": "c", "task_id": hitech, "name": "丙", "direction": "lower",
			"window_year": "2022", "to_month": "13", "value": "2", "quality": "final"}),
		row(map[string]string{"indicator_id": "d e"}),
		row(map[string]string{"indicator_id": "z", "window_year": "2022", "value": "1", "quality": "final"}),
		row(map[string]string{"indicator_id": "f", "task_id": hitech, "name": "戊", "direction": "higher",
			"window_year": "2022", "value": "9", "quality": "final", "final_due": "2023-02-30"}),
	)
	p, err := PlanFigures(strings.NewReader(sheet), CSV)
	var rows RowErrors
	if p != nil || !errors.As(err, &rows) {
		t.Fatalf("plan %v err %v", p, err)
	}
	var got []string
	for _, e := range rows {
		got = append(got, fmt.Sprintf("%d/%s", e.Line, e.Column))
	}
	want := []string{"2/value", "3/direction", "4/name", "4/value", "4/quality", "5/to_month", "5/formula", "6/indicator_id",
		"7/task_id", "7/name", "7/direction", "8/final_due"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("row errors\n got %v\nwant %v\n%v", got, want, err)
	}
	for _, e := range rows {
		if e.Line == 2 && e.Rule != "integer_count" || e.Line == 5 && e.Column == "formula" && e.Rule != "required" {
			t.Errorf("domain refusal %+v", e)
		}
	}
	sheet = figureSheet(row(map[string]string{"indicator_id": "g", "task_id": hitech, "name": "己", "direction": "higher", "formula": "cap",
		"window_year": "2022", "value": "2", "quality": "provisional", "source_kind": "rumour"}))
	_, err = PlanFigures(strings.NewReader(sheet), CSV)
	rows = nil
	if !errors.As(err, &rows) || len(rows) != 2 || rows[0].Column != "source_kind" || rows[1].Column != "formula" {
		t.Fatalf("%v", err)
	}
}

func TestFigureTemplates(t *testing.T) {
	csvT := TemplateCSV()
	if !bytes.HasPrefix(csvT, utf8BOM) {
		t.Error("CSV template without BOM")
	}
	recs, _, err := readRecords(bytes.NewReader(csvT), CSV, DefaultLimits)
	if err != nil || len(recs) != 1 || !reflect.DeepEqual(recs[0].cells, FigureColumns) {
		t.Fatalf("csv template %v %v", recs, err)
	}
	x, err := TemplateXLSX()
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(x))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Fill the template as a user would, with typed numbers and a date.
	sheet := f.GetSheetList()[0]
	set := func(cell string, v any) {
		if err := f.SetCellValue(sheet, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	col := func(name string) string {
		for i, c := range FigureColumns {
			if c == name {
				n, _ := excelize.ColumnNumberToName(i + 1)
				return n
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	set(col("indicator_id")+"2", "ei")
	set(col("task_id")+"2", hitech)
	set(col("name")+"2", "生态环境质量指数（EI）")
	set(col("direction")+"2", "higher")
	set(col("window_year")+"2", 2022)
	set(col("value")+"2", 30.94)
	set(col("quality")+"2", "estimate")
	if err := f.SetCellFormula(sheet, col("final_due")+"2", ""); err != nil {
		t.Fatal(err)
	}
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	_ = f.SetCellStyle(sheet, col("final_due")+"2", col("final_due")+"2", dateStyle)
	set(col("final_due")+"2", 45016.0) // 2023-03-31 as Excel stores a date
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanFigures(bytes.NewReader(buf.Bytes()), XLSX)
	if err != nil {
		t.Fatal(err)
	}
	fig := p.Commands[1].Command.(domain.ReportFigure)
	if fig.Value.String() != "30.94" || fig.FinalDue != "2023-03-31" || fig.Window.Year != 2022 {
		t.Errorf("%+v", fig)
	}
}

func TestApplyFiguresAfterTheTable(t *testing.T) {
	ctx := context.Background()
	store := eventstore.NewMemory(nil)
	svc := app.NewService(store)
	table, _ := Plan(seedTable(t), PlanOptions{})
	if _, err := Apply(ctx, svc, table, "t1", by); err != nil {
		t.Fatal(err)
	}
	figs, err := PlanFigures(strings.NewReader(validSheet()), CSV)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Apply(ctx, svc, figs, "f1", by)
	if err != nil || rep.Applied != len(figs.Commands) {
		t.Fatalf("%+v %v", rep, err)
	}
	agg, _ := svc.Load(ctx, domain.AggregateRef{Type: domain.AggregateIndicator, ID: "hitech-stock"})
	cur, _ := agg.(*domain.Indicator).Current(domain.YearWindow(2022))
	if cur.Value.String() != "612" || cur.Quality != domain.QualityFinal {
		t.Errorf("current %+v", cur)
	}
	before := lastPos(t, store)
	if rep, err := Apply(ctx, svc, figs, "f2", by); err != nil || rep.AlreadyPresent != len(figs.Commands) || lastPos(t, store) != before {
		t.Fatalf("re-apply %+v %v", rep, err)
	}
	u, err := Undo(ctx, svc, figs, "f1", by)
	if err != nil || u.IndicatorsWithdrawn != 3 || u.Covered != len(figs.Commands)-3 || len(u.NotCompensated) != 0 {
		t.Fatalf("undo %+v %v", u, err)
	}
}

func TestUndoRetractsFiguresOnIndicatorsDefinedElsewhere(t *testing.T) {
	ctx := context.Background()
	svc := app.NewService(eventstore.NewMemory(nil))
	table, _ := Plan(seedTable(t), PlanOptions{})
	if _, err := Apply(ctx, svc, table, "t1", by); err != nil {
		t.Fatal(err)
	}
	figs, _ := PlanFigures(strings.NewReader(validSheet()), CSV)
	// Someone defined the dust indicator by hand, with the same content.
	def := figs.Commands[3].Command.(domain.DefineIndicator)
	if _, err := svc.Execute(ctx, domain.Meta{Actor: "office:张三", CommandID: "by-hand", Source: "api"}, def, app.Options{}); err != nil {
		t.Fatal(err)
	}
	rep, err := Apply(ctx, svc, figs, "f1", by)
	if err != nil || rep.Existing != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	u, err := Undo(ctx, svc, figs, "f1", by)
	if err != nil || u.IndicatorsWithdrawn != 2 || u.FiguresRetracted != 1 || len(u.NotCompensated) != 0 {
		t.Fatalf("undo %+v %v", u, err)
	}
	agg, _ := svc.Load(ctx, domain.AggregateRef{Type: domain.AggregateIndicator, ID: "dust"})
	if _, ok := agg.(*domain.Indicator).Current(domain.Window{Year: 2022, FromMonth: 1, ToMonth: 11}); ok {
		t.Error("the dust figure is still current")
	}
}
