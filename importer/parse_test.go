package importer

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitStatus(t *testing.T) {
	tests := []struct {
		name     string
		cell     string
		wantHTML bool
		want     []Item
	}{
		{"numbered with spaces", "1. 坚持。 2. 圆满完成。", false,
			[]Item{{"1", "坚持。"}, {"2", "圆满完成。"}}},
		{"unnumbered cell is one item", "雁栖湖北二路，已取得意见书。慕莲路已取得初审意见。", false,
			[]Item{{"", "雁栖湖北二路，已取得意见书。慕莲路已取得初审意见。"}}},
		{"decimals and years do not start items", "1. 面积7.02万亩，2022年完成3.6。 2. 全年新建3400亩。", false,
			[]Item{{"1", "面积7.02万亩，2022年完成3.6。"}, {"2", "全年新建3400亩。"}}},
		{"a number out of sequence is text", "1. 完成2. 接口 3. 其他", false,
			[]Item{{"1", "完成2. 接口 3. 其他"}}},
		{"marker after a full stop without a space", "1. 甲。2、乙", false,
			[]Item{{"1", "甲。"}, {"2", "乙"}}},
		{"full-width sub-items", "1. 甲 2. （1）市级下达任务。（2）遴选推荐50家。（3）无外迁。", false,
			[]Item{{"1", "甲"}, {"2(1)", "市级下达任务。"}, {"2(2)", "遴选推荐50家。"}, {"2(3)", "无外迁。"}}},
		{"text before the first sub-item is kept", "经测算（1）甲（2）乙", false,
			[]Item{{"", "经测算"}, {"(1)", "甲"}, {"(2)", "乙"}}},
		{"a lone （1） is text", "共（1）项。", false, []Item{{"", "共（1）项。"}}},
		{"parenthesised words are text", "1. 4家（含2个国家考核断面）达标", false,
			[]Item{{"1", "4家（含2个国家考核断面）达标"}}},
		{"html list with style attributes", `<ol style="list-style-type: none"> <li>1. 达标天数258天。</li> <li>2. （1）预计。（2）初步测算。</li> </ol>`, true,
			[]Item{{"1", "达标天数258天。"}, {"2(1)", "预计。"}, {"2(2)", "初步测算。"}}},
		{"html entities are decoded, punctuation is not", `<ul><li>“两区”&amp;入库，&nbsp;完成；</li></ul>`, true,
			[]Item{{"", "“两区”&入库，\u00a0完成；"}}},
		{"a lone < is not html", "降尘量<5吨", false, []Item{{"", "降尘量<5吨"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, html := splitStatus(tt.cell)
			if html != tt.wantHTML || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitStatus(%q)\n got %v html=%v\nwant %v html=%v", tt.cell, got, html, tt.want, tt.wantHTML)
			}
		})
	}
}

func TestSplitProblems(t *testing.T) {
	tests := []struct {
		name string
		cell string
		want []Problem
	}{
		{"无 is none", "无", nil},
		{"heading and cause", "高新技术企业保有量未达标：一是政策吸引力下降。二是受疫情影响。", []Problem{{
			Text: "高新技术企业保有量未达标：一是政策吸引力下降。二是受疫情影响。", Description: "高新技术企业保有量未达标", Cause: "一是政策吸引力下降。二是受疫情影响。"}}},
		{"an item reference takes its quoted sentence", "87-1项：“浅山区”193宗拆除整改完毕。”已整改到位191宗。", []Problem{{
			Text: "87-1项：“浅山区”193宗拆除整改完毕。”已整改到位191宗。", Description: "87-1项：“浅山区”193宗拆除整改完毕。”", Cause: "已整改到位191宗。"}}},
		{"numbered problems, one with 导致", "1. 方案正在前期研究中，整改暂未开展。 2. 设备未得到养护，导致“三率”未达标。", []Problem{
			{Label: "1", Text: "方案正在前期研究中，整改暂未开展。", Description: "方案正在前期研究中，整改暂未开展。"},
			{Label: "2", Text: "设备未得到养护，导致“三率”未达标。", Description: "“三率”未达标。", Cause: "设备未得到养护"}}},
		{"a colon after a sentence is not a heading", "方案已报送，意见如下：待批复", []Problem{{
			Text: "方案已报送，意见如下：待批复", Description: "方案已报送，意见如下：待批复"}}},
		{"half-width colon", "指标未达标:原因是疫情", []Problem{{Text: "指标未达标:原因是疫情", Description: "指标未达标", Cause: "原因是疫情"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitProblems(tt.cell); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitProblems(%q)\n got %#v\nwant %#v", tt.cell, got, tt.want)
			}
		})
	}
}

func TestNormalizeDimension(t *testing.T) {
	for in, want := range map[string]string{
		"高效率 落实":        "高效率落实",
		" 高效率\u3000落实 ": "高效率落实",
		"高效率\n落实":       "高效率落实",
		"Smart  City":   "Smart City",
		"党建 A类":         "党建A类",
		"":              "",
	} {
		if got := normalizeDimension(in); got != want {
			t.Errorf("normalizeDimension(%q) = %q, want %q", in, got, want)
		}
	}
}

const header = "考评维度\t自查内容（专项任务）\t落实情况\t存在问题及原因"

func parseTSV(t *testing.T, text string) *Table {
	t.Helper()
	tb, err := ParseTable(strings.NewReader(text), TSV)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func codes(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}

func TestTableLayoutQuirks(t *testing.T) {
	tb := parseTSV(t, strings.Join([]string{
		"", "## 某区政府2023年度考核自查表", "",
		header,
		"高效率 落实\t任务甲\t1. 甲一 2. 甲二\t无",
		"\t任务乙\t乙\t无",
		"",
		header,            // repeated before a page group
		"\t任务丙\t丙\t",      // blank dimension after a repeated header still continues
		"\t\t丙续\t丙的问题：原因", // a row broken across a page
		"另一维度\t任务丁\t\t无\t多余",
	}, "\r\n"))
	if tb.Title != "某区政府2023年度考核自查表" || tb.Unit != "某区政府" || tb.Year != 2023 || tb.TitleLine != 2 {
		t.Errorf("title %q unit %q year %d line %d", tb.Title, tb.Unit, tb.Year, tb.TitleLine)
	}
	if !reflect.DeepEqual(tb.HeaderLines, []int{4, 8}) {
		t.Errorf("header lines %v", tb.HeaderLines)
	}
	var got []string
	for _, r := range tb.Rows {
		got = append(got, r.Dimension+"/"+r.DimensionRaw+"/"+r.Task)
	}
	want := []string{"高效率落实/高效率 落实/任务甲", "高效率落实/高效率 落实/任务乙", "高效率落实/高效率 落实/任务丙", "另一维度/另一维度/任务丁"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows %v", got)
	}
	if r := tb.Rows[2]; len(r.Items) != 2 || r.Items[1].Text != "丙续" || len(r.Problems) != 1 || r.Problems[0].Cause != "原因" {
		t.Errorf("continued row %+v", r)
	}
	if !tb.Rows[1].DimensionInherited || tb.Rows[0].DimensionInherited {
		t.Error("inherited flags")
	}
	wantCodes := []string{WarnDimensionWhitespace, WarnProblemsEmpty, WarnRowContinued, WarnExtraCells, WarnStatusEmpty}
	if !reflect.DeepEqual(codes(tb.Warnings), wantCodes) {
		t.Errorf("warnings %v", tb.Warnings)
	}
	for _, w := range tb.Warnings {
		if w.Line == 0 {
			t.Errorf("warning without a line: %v", w)
		}
	}
}

func TestHeaderColumnsMayMoveAndAddDepartments(t *testing.T) {
	tb := parseTSV(t, "自查内容(专项任务)\t牵头单位\t落实情况\t配合单位\t考评维度\n任务甲\t区科委\t完成\t区发改委、区财政局\t维度")
	r := tb.Rows[0]
	if r.Task != "任务甲" || r.LeadDepartment != "区科委" || r.Dimension != "维度" ||
		!reflect.DeepEqual(r.CoDepartments, []string{"区发改委", "区财政局"}) || r.Problems != nil {
		t.Errorf("%+v", r)
	}
}

func TestNoHeaderIsAnError(t *testing.T) {
	if _, err := ParseTable(strings.NewReader("a\tb\tc\n"), TSV); err == nil {
		t.Fatal("want error")
	}
}

func TestCSVWithBOMAndQuoting(t *testing.T) {
	text := "\uFEFF考评维度,自查内容（专项任务）,落实情况,存在问题及原因\r\n" +
		"维度,\"任务，甲\",\"1. 说“好”， 2. 另起\"\"一行\"\"\nX\",无\r\n"
	tb, err := ParseTable(strings.NewReader(text), CSV)
	if err != nil {
		t.Fatal(err)
	}
	r := tb.Rows[0]
	if r.Task != "任务，甲" || r.Line != 2 || len(r.Items) != 2 || r.Items[1].Text != "另起\"一行\"\nX" || r.Items[0].Text != "说“好”，" {
		t.Errorf("%+v", r)
	}
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name string
		head string
		want Format
		err  bool
	}{
		{"a.xlsx", "PK\x03\x04...", XLSX, false},
		{"a.csv", "PK\x03\x04...", XLSX, false}, // the content wins
		{"a.csv", "x,y", CSV, false},
		{"a.txt", "x,y", CSV, false},
		{"a.txt", "## 标题", TSV, false},
		{"a.tsv", "x,y", TSV, false},
		{"upload", "\uFEFF## 标题\n考评维度\t自查内容", TSV, false},
		{"upload", "indicator_id,task_id", CSV, false},
		{"a.xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "", true},
		{"a.xlsx", "not a zip", "", true},
		{"upload", "plain", "", true},
	}
	for _, tt := range tests {
		got, err := DetectFormat(tt.name, []byte(tt.head))
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("DetectFormat(%q, %q) = %q, %v", tt.name, tt.head, got, err)
		}
	}
}
