package importer

import (
	"bytes"
	"encoding/csv"
	"fmt"

	"github.com/xuri/excelize/v2"
)

// columnHelp is the second sheet of the XLSX template, and the reference
// docs/import.md repeats.
var columnHelp = [][2]string{
	{"indicator_id", "指标编号，字母、数字、- 或 _，最长64位（必填）"},
	{"task_id", "所属专项任务编号（指标首行必填）"},
	{"key", "跨年度同一指标的标识（可空，默认同 indicator_id）"},
	{"name", "指标名称（指标首行必填）"},
	{"unit", "计量单位，如 家、个、亿元、%、吨/平方公里·月"},
	{"direction", "higher | lower | at_least | at_most | range | qualitative（指标首行必填）"},
	{"formula", "ratio | two_minus_ratio | inverse_ratio | reduction | cap；lower 必填"},
	{"target", "年度目标：数值；range 写 低..高；qualitative 写里程碑文字"},
	{"window_year", "数据所属年度（有数值时必填）"},
	{"from_month", "覆盖起始月，默认1（1-11月 写 1）"},
	{"to_month", "覆盖截止月，默认12（1-11月 写 11）"},
	{"value", "数值，原样填写，如 447.5、77.5（不带单位、不带千分位）"},
	{"numerator", "比率的分子（与 denominator 同填）"},
	{"denominator", "比率的分母"},
	{"quality", "estimate（预计）| approximate（左右/约）| provisional（初步）| final"},
	{"source_kind", "self_reported（默认）| statistics_bureau | agency | publication"},
	{"source_name", "来源单位，如 区统计局、市科委"},
	{"final_due", "最终数据预计日期 YYYY-MM-DD（final 时不填）"},
	{"note", "原文出处或说明"},
}

// TemplateCSV is an empty figure sheet: the header row, with a UTF-8 BOM
// so that Excel opens the Chinese text correctly.
func TemplateCSV() []byte {
	var b bytes.Buffer
	b.Write(utf8BOM)
	w := csv.NewWriter(&b)
	_ = w.Write(FigureColumns) // a bytes.Buffer does not fail
	w.Flush()
	return b.Bytes()
}

// TemplateXLSX is the figure sheet as a workbook: the header on the first
// sheet (the one the import reads), drop-down lists for the enumerated
// columns, and a 说明 sheet describing every column.
func TemplateXLSX() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const data, help = "figures", "说明"
	if err := f.SetSheetName("Sheet1", data); err != nil {
		return nil, err
	}
	if err := f.SetSheetRow(data, "A1", &FigureColumns); err != nil {
		return nil, err
	}
	if err := f.SetPanes(data, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	lists := map[string][]string{
		"direction":   {"higher", "lower", "at_least", "at_most", "range", "qualitative"},
		"formula":     {"ratio", "two_minus_ratio", "inverse_ratio", "reduction", "cap"},
		"quality":     {"estimate", "approximate", "provisional", "final"},
		"source_kind": {"self_reported", "statistics_bureau", "agency", "publication"},
	}
	for i, name := range FigureColumns {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return nil, err
		}
		if err := f.SetColWidth(data, col, col, 14); err != nil {
			return nil, err
		}
		// Text format keeps "2022-01" or "0.30" as typed instead of letting
		// Excel turn them into dates and numbers.
		if name == "final_due" || name == "note" || name == "target" || name == "value" {
			style, err := f.NewStyle(&excelize.Style{NumFmt: 49})
			if err != nil {
				return nil, err
			}
			if err := f.SetColStyle(data, col, style); err != nil {
				return nil, err
			}
		}
		if opts, ok := lists[name]; ok {
			dv := excelize.NewDataValidation(true)
			dv.Sqref = fmt.Sprintf("%s2:%s10000", col, col)
			if err := dv.SetDropList(opts); err != nil {
				return nil, err
			}
			if err := f.AddDataValidation(data, dv); err != nil {
				return nil, err
			}
		}
	}
	if _, err := f.NewSheet(help); err != nil {
		return nil, err
	}
	for i, h := range columnHelp {
		row := []string{h[0], h[1]}
		if err := f.SetSheetRow(help, fmt.Sprintf("A%d", i+1), &row); err != nil {
			return nil, err
		}
	}
	if err := f.SetColWidth(help, "B", "B", 70); err != nil {
		return nil, err
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	return buf.Bytes(), nil
}
