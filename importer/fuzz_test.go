package importer

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseTSV: any input parses or fails cleanly, and whatever parses can
// be planned or refused without a panic.
func FuzzParseTSV(f *testing.F) {
	f.Add("## 某区2022年度表\n" + header + "\n维度\t任务\t1. 甲 2. （1）乙（2）丙\t1. 问题：原因 2. 无，导致X")
	f.Add(header + "\n\t\t<ol><li>1. a</li><li>b</li></ol>\t87-1项：“x。”y")
	f.Add("\uFEFF" + header + "\r\n维度\t任务\t1.\t：")
	f.Add("1. 2. 3.\t（1）（2）\n" + header + "\n\t\t\t\t\t")
	f.Fuzz(func(t *testing.T, s string) {
		tb, err := ParseTable(strings.NewReader(s), TSV)
		if err != nil {
			return
		}
		for _, r := range tb.Rows {
			if r.Task == "" || r.Line <= 0 {
				t.Fatalf("row %+v", r)
			}
		}
		_, _ = Plan(tb, PlanOptions{Year: 2022, LeadDepartment: "区政府"})
	})
}

// FuzzParseCSV: the same table as CSV, quoting and BOM included.
func FuzzParseCSV(f *testing.F) {
	f.Add("考评维度,自查内容（专项任务）,落实情况,存在问题及原因\n高效率 落实,“两区”建设,\"1. 两区入库项目169个，超额完成。\",无\n")
	f.Add("\uFEFF考评维度,自查内容（专项任务）,落实情况,存在问题及原因\r\n,\"a\"\"b\",\"1.\n2.\",\"87-1项：x\"\n")
	f.Add("a,\"unterminated\n")
	f.Fuzz(func(t *testing.T, s string) {
		tb, err := ParseTable(strings.NewReader(s), CSV)
		if err != nil {
			return
		}
		for _, r := range tb.Rows {
			if r.Task == "" || r.Line <= 0 {
				t.Fatalf("row %+v", r)
			}
		}
		_, _ = Plan(tb, PlanOptions{Year: 2022, LeadDepartment: "区政府"})
	})
}

// FuzzPlanFigures: structured figure sheets as CSV. A sheet either plans
// completely or reports row errors; it never panics.
func FuzzPlanFigures(f *testing.F) {
	f.Add(string(TemplateCSV()))
	f.Add(string(TemplateCSV()) + "i1,t1,高新技术企业保有量,家,higher,,719,2022,1,12,610,estimate,agency,市科委,,预计\n")
	f.Add(string(TemplateCSV()) + "i1,t1,事故,起,lower,cap,16,2022,1,11,1e400,final,self_reported,,,\n")
	f.Fuzz(func(t *testing.T, s string) {
		plan, err := PlanFigures(strings.NewReader(s), CSV)
		if err != nil {
			if plan != nil && len(plan.Commands) > 0 {
				t.Fatal("a failed sheet planned commands")
			}
			return
		}
		for _, c := range plan.Commands {
			if c.Command == nil || c.Key == "" {
				t.Fatalf("planned command %+v", c)
			}
		}
	})
}

// FuzzParseXLSX: arbitrary bytes as a workbook fail cleanly.
func FuzzParseXLSX(f *testing.F) {
	if b, err := TemplateXLSX(); err == nil {
		f.Add(b)
	}
	f.Add([]byte("PK\x03\x04garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseTable(bytes.NewReader(b), XLSX)
		_, _ = PlanFigures(bytes.NewReader(b), XLSX)
	})
}
