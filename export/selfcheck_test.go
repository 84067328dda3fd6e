package export_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kpitrail/demo"
	"kpitrail/export"
	"kpitrail/importer"
	"kpitrail/internal/demotest"
	"kpitrail/projections"
)

// The seed's table has one dimension (高效率 落实) over 20 tasks; three of
// them list problems: 高新技术企业 one, 城市总体规划实施 one (87-1项), 缓解
// 交通拥堵 two. The export must come out in that shape, and read back as
// the same table through the importer.
func TestSelfCheckXLSXReproducesTheSeedTable(t *testing.T) {
	fx := demotest.Start(t)
	var rows []export.SelfCheckRow
	fx.Read(t, func(db *projections.DB) error {
		var err error
		rows, err = export.SelfCheckRows(context.Background(), db, projections.TaskFilter{Year: demo.SeedYear}, "", nil)
		return err
	})
	var buf bytes.Buffer
	if err := export.WriteSelfCheckXLSX(&buf, rows); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 1 || sheets[0] != "2022年度" {
		t.Fatalf("sheets %v, want one for 2022", sheets)
	}
	cells, err := f.GetRows(sheets[0])
	if err != nil {
		t.Fatal(err)
	}
	if cells[0][0] != "怀柔区政府2022年度考核事项完成情况自查表" {
		t.Fatalf("title %q", cells[0][0])
	}
	if got := strings.Join(cells[1], "|"); got != "考评维度|自查内容（专项任务）|落实情况|存在问题及原因" {
		t.Fatalf("header %q", got)
	}
	body := cells[2:]
	if len(body) != 20 {
		t.Fatalf("%d task rows, want 20", len(body))
	}
	merges, err := f.GetMergeCells(sheets[0])
	if err != nil {
		t.Fatal(err)
	}
	var dimMerges []string
	for _, m := range merges {
		if strings.HasPrefix(m.GetStartAxis(), "A") && m.GetStartAxis() != "A1" {
			dimMerges = append(dimMerges, m.GetStartAxis()+":"+m.GetEndAxis()+"="+m.GetCellValue())
		}
	}
	// The importer stores the dimension without the seed's stray space.
	if len(dimMerges) != 1 || dimMerges[0] != "A3:A22=高效率落实" {
		t.Fatalf("dimension merges %v, want one over A3:A22", dimMerges)
	}
	problems := map[string]bool{}
	for i, r := range body {
		if i == 0 && r[0] != "高效率落实" {
			t.Fatalf("first row's dimension %q", r[0])
		}
		if i > 0 && r[0] != "" {
			t.Fatalf("row %d repeats the dimension %q under the merge", i+3, r[0])
		}
		if len(r) < 4 || r[2] == "" {
			t.Fatalf("row %d has no 落实情况: %q", i+3, r)
		}
		if r[3] != "无" {
			problems[r[1]] = true
		}
	}
	if body[0][1] != "落实党中央国务院决策部署" || body[19][1] != "市委市政府其他重点工作" {
		t.Fatalf("tasks not in the table's order: first %q, last %q", body[0][1], body[19][1])
	}
	if len(problems) != 3 {
		t.Fatalf("tasks with problems %v, want 3", problems)
	}
	for _, r := range rows {
		if want := map[string]int{"国际科技创新中心建设和高新技术企业发展": 1, "城市总体规划实施": 1, "缓解交通拥堵": 2}[r.Task]; r.ProblemCount != want {
			t.Errorf("%s: %d problems, want %d", r.Task, r.ProblemCount, want)
		}
	}
	if !strings.Contains(body[2][3], "高新技术企业保有量未达标") || !strings.Contains(body[2][3], "原因：一是政策吸引力下降") {
		t.Errorf("the 高新技术企业 problem cell lost its text: %q", body[2][3])
	}

	// The importer reads the export back as the same table.
	tb, err := importer.ParseTable(bytes.NewReader(buf.Bytes()), importer.XLSX)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := importer.Plan(tb, importer.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Year != demo.SeedYear || plan.Summary.Tasks != 20 || len(plan.Summary.Dimensions) != 1 || plan.Summary.TasksWithProblems != 3 {
		t.Fatalf("re-import plan: year %d, %+v", plan.Year, plan.Summary)
	}
}

func TestSelfCheckOfOneTask(t *testing.T) {
	fx := demotest.Start(t)
	var id string
	fx.Read(t, func(db *projections.DB) error {
		ts, err := db.ListTasks(context.Background(), projections.TaskFilter{})
		for _, x := range ts {
			if x.Title == "缓解交通拥堵" {
				id = x.ID
			}
		}
		return err
	})
	var rows []export.SelfCheckRow
	fx.Read(t, func(db *projections.DB) error {
		var err error
		rows, err = export.SelfCheckRows(context.Background(), db, projections.TaskFilter{}, id, nil)
		return err
	})
	if len(rows) != 1 || rows[0].ProblemCount != 2 || !strings.HasPrefix(rows[0].Problems, "1. 道路停车改革方案正在前期研究中") {
		t.Fatalf("rows %+v", rows)
	}
}
