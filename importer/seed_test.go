package importer

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// seedPath is the district's 2022 self-check table as the repository
// keeps it for the demo (demo/seed.tsv, byte for byte the seed document),
// so the tests that read it run wherever the repository is checked out.
func seedPath(t testing.TB) string {
	t.Helper()
	p := filepath.Join("..", "demo", "seed.tsv")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("seed table: %v", err)
	}
	return p
}

func seedBytes(t testing.TB) []byte {
	b, err := os.ReadFile(seedPath(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seedTable(t testing.TB) *Table {
	tb, err := ParseTable(bytes.NewReader(seedBytes(t)), TSV)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// layout lays a table out line by line as the source file had it, so the
// CSV and XLSX versions keep the TSV's line numbers.
func layout(tb *Table, title string) map[int][]string {
	lines := map[int][]string{tb.TitleLine: {title}}
	for _, l := range tb.HeaderLines {
		lines[l] = []string{"考评维度", "自查内容（专项任务）", "落实情况", "存在问题及原因"}
	}
	for _, r := range tb.Rows {
		dim := r.DimensionRaw
		if r.DimensionInherited {
			dim = ""
		}
		lines[r.Line] = []string{dim, r.Task, r.Status, r.ProblemsText}
	}
	return lines
}

func lastLine(lines map[int][]string) int {
	n := 0
	for l := range lines {
		n = max(n, l)
	}
	return n
}

func toCSV(t testing.TB, tb *Table) []byte {
	lines := layout(tb, "## "+tb.Title)
	var b bytes.Buffer
	b.Write(utf8BOM)
	for l := 1; l <= lastLine(lines); l++ {
		if rec, ok := lines[l]; ok {
			w := csv.NewWriter(&b)
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			w.Flush()
		} else {
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

func toXLSX(t testing.TB, tb *Table) []byte {
	lines := layout(tb, tb.Title) // a workbook's title has no markdown
	f := excelize.NewFile()
	defer f.Close()
	for l, rec := range lines {
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", l), &rec); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSeedTable(t *testing.T) {
	tb := seedTable(t)
	if tb.Year != 2022 || tb.Unit != "怀柔区政府" || len(tb.Rows) != 20 {
		t.Fatalf("year %d unit %q rows %d", tb.Year, tb.Unit, len(tb.Rows))
	}
	if !reflect.DeepEqual(tb.HeaderLines, []int{5, 11, 19, 24, 29}) {
		t.Errorf("header lines %v", tb.HeaderLines)
	}
	// Every warning the seed raises, each explained in docs/import.md.
	want := []Warning{
		{Line: 6, Code: WarnDimensionWhitespace},
		{Line: 21, Code: WarnUnbalancedQuotes},
		{Line: 22, Code: WarnHTMLMarkup},
	}
	if len(tb.Warnings) != len(want) {
		t.Fatalf("warnings %v", tb.Warnings)
	}
	for i, w := range want {
		if tb.Warnings[i].Line != w.Line || tb.Warnings[i].Code != w.Code {
			t.Errorf("warning %d = %v, want line %d %s", i, tb.Warnings[i], w.Line, w.Code)
		}
	}
	problems := map[string][]string{}
	for _, r := range tb.Rows {
		if r.Dimension != "高效率落实" || r.DimensionRaw != "高效率 落实" {
			t.Errorf("line %d dimension %q raw %q", r.Line, r.Dimension, r.DimensionRaw)
		}
		for _, p := range r.Problems {
			problems[r.Task] = append(problems[r.Task], p.Description+"｜"+p.Cause)
		}
	}
	wantProblems := map[string][]string{
		"国际科技创新中心建设和高新技术企业发展": {"高新技术企业保有量未达标｜一是政策吸引力下降，受市科委2018年高新技术企业培育资金支持政策激励，2019年保有量同比上升61.9%，但该政策后期未兑现，导致企业申报动力锐减。二是受疫情影响，企业财务成长性、科技研发投入下降，导致高新技术企业认定存在一定困难。"},
		"城市总体规划实施":            {"87-1项：“浅山区”193宗一般性违法项目拆除整改完毕。”｜已整改到位191宗，整改到位率99%；剩余未整改到位项目2宗，正在申请认定为养老设施，待取得相关认定材料后，提交区专班予以审定。"},
		"缓解交通拥堵":              {"道路停车改革方案正在前期研究中，相关整改工作暂未开展。｜", "自7月起“三率”指标未达标。｜设备使用时间较长又未得到养护"},
	}
	if !reflect.DeepEqual(problems, wantProblems) {
		t.Errorf("problems\n got %q\nwant %q", problems, wantProblems)
	}
}

func TestSeedSummary(t *testing.T) {
	p, err := Plan(seedTable(t), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Summary
	if !reflect.DeepEqual(s.Dimensions, []string{"高效率落实"}) || s.Tasks != 20 || s.Problems != 4 ||
		s.TasksWithProblems != 3 || s.NarrativeItems != 57 || len(s.Warnings) != 3 {
		t.Errorf("summary %+v", s)
	}
	if p.Year != 2022 || p.LeadDepartment != "怀柔区政府" {
		t.Errorf("year %d lead %q", p.Year, p.LeadDepartment)
	}
	// 20 registrations, 20 narratives, 4 problems.
	if len(p.Commands) != 44 {
		t.Errorf("%d commands", len(p.Commands))
	}
}

func TestSeedInEveryFormatGivesTheSameTable(t *testing.T) {
	tsv := seedTable(t)
	if tsv.Encoding != UTF8 {
		t.Errorf("the seed's encoding: %q, want %q", tsv.Encoding, UTF8)
	}
	for _, f := range []struct {
		format   Format
		data     []byte
		encoding Encoding
	}{{CSV, toCSV(t, tsv), UTF8BOM}, {XLSX, toXLSX(t, tsv), ""}} {
		got, err := ParseTable(bytes.NewReader(f.data), f.format)
		if err != nil {
			t.Fatalf("%s: %v", f.format, err)
		}
		// The encoding is the file's, not the table's: a workbook has none
		// to detect, and the CSV is written with a byte order mark.
		if got.Encoding != f.encoding {
			t.Errorf("%s: encoding %q, want %q", f.format, got.Encoding, f.encoding)
		}
		got.Encoding = tsv.Encoding
		if !reflect.DeepEqual(got, tsv) {
			t.Errorf("%s table differs from TSV:\n got %+v\nwant %+v", f.format, got, tsv)
		}
		pt, _ := Plan(tsv, PlanOptions{})
		pf, err := Plan(got, PlanOptions{})
		if err != nil || !sameKeys(pt, pf) {
			t.Errorf("%s plan differs from TSV plan (err %v)", f.format, err)
		}
	}
}

func sameKeys(a, b *ImportPlan) bool {
	if len(a.Commands) != len(b.Commands) {
		return false
	}
	for i := range a.Commands {
		if a.Commands[i].Key != b.Commands[i].Key {
			return false
		}
	}
	return true
}

// TestFullWidthTextIsKeptByteForByte: every item, problem and cause is an
// exact substring of the source line, and the notable punctuation is there.
func TestFullWidthTextIsKeptByteForByte(t *testing.T) {
	src := strings.Split(string(seedBytes(t)), "\n")
	tb := seedTable(t)
	for _, r := range tb.Rows {
		line := src[r.Line-1]
		check := func(what, s string) {
			if s != "" && !strings.Contains(line, s) {
				t.Errorf("line %d %s %q is not in the source line", r.Line, what, s)
			}
		}
		check("task", r.Task)
		check("status", r.Status)
		for _, it := range r.Items {
			check("item", it.Text)
		}
		for _, p := range r.Problems {
			check("description", p.Description)
			check("cause", p.Cause)
		}
	}
	all := fmt.Sprint(tb.Rows)
	for _, s := range []string{"“两区”建设", "（目前各区均未达到90%）", "3.6吨/平方公里·月", "《怀柔区〈关于北京市统筹疫情防控和稳定经济增长的实施方案〉的落实指引》", "2022年9—10月", "（2022年—2025年）", "已整改到位191宗，整改到位率99%；"} {
		if !strings.Contains(all, s) {
			t.Errorf("%q lost", s)
		}
	}
}
