package importer

import (
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
