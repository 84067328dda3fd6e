package importer

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"kpitrail/domain"
)

func TestPlanIsDeterministic(t *testing.T) {
	a, err := Plan(seedTable(t), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Plan(seedTable(t), PlanOptions{})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans of the same table differ")
	}
	keys := map[string]bool{}
	for _, pc := range a.Commands {
		if keys[pc.Key] {
			t.Errorf("duplicate key %s", pc.Key)
		}
		keys[pc.Key] = true
		if pc.Line == 0 || !strings.HasPrefix(pc.Key, tableKeyPrefix) {
			t.Errorf("command %s line %d key %s", pc.Command.CommandName(), pc.Line, pc.Key)
		}
	}
	reg := a.Commands[0].Command.(domain.RegisterTask)
	if reg.TaskID != TaskID(2022, "高效率 落实", "落实党中央国务院决策部署") || !strings.HasPrefix(reg.TaskID, "t2022-") || len(reg.TaskID) != 18 {
		t.Errorf("task id %s", reg.TaskID)
	}
	if reg.Dimension != "高效率落实" || reg.LeadDepartment != "怀柔区政府" {
		t.Errorf("%+v", reg)
	}
}

func TestPlanOptions(t *testing.T) {
	tb := parseTSV(t, header+"\n维度\t任务\t完成\t无")
	if _, err := Plan(tb, PlanOptions{}); err == nil {
		t.Fatal("no year, no lead: want an error")
	}
	p, err := Plan(tb, PlanOptions{Year: 2023, LeadDepartment: "区政府办"})
	if err != nil {
		t.Fatal(err)
	}
	if reg := p.Commands[0].Command.(domain.RegisterTask); reg.Year != 2023 || reg.LeadDepartment != "区政府办" {
		t.Errorf("%+v", reg)
	}
	seed, _ := Plan(seedTable(t), PlanOptions{Year: 2023})
	if seed.Year != 2023 || codes(seed.Summary.Warnings)[3] != WarnYearOverride {
		t.Errorf("override: year %d warnings %v", seed.Year, seed.Summary.Warnings)
	}
}

func TestPlanDuplicateTaskAddsToTheFirst(t *testing.T) {
	tb := parseTSV(t, "## 区2022年度表\n"+header+"\n维度\t任务\t甲\t无\n维度\t任务\t甲\t无")
	p, err := Plan(tb, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Tasks != 1 || len(p.Commands) != 3 || codes(p.Summary.Warnings)[0] != WarnDuplicateTask {
		t.Fatalf("%+v", p.Summary)
	}
	if p.Commands[1].Key == p.Commands[2].Key {
		t.Error("the same narrative twice must get two keys")
	}
}

func TestPlanReportsEveryRefusalWithItsLine(t *testing.T) {
	long := strings.Repeat("长", domain.MaxShortText+1)
	tb := parseTSV(t, "## 区2022年度表\n"+header+"\n维度\t"+long+"\t甲\t无\n"+long+"\t任务\t乙\t无")
	_, err := Plan(tb, PlanOptions{})
	var rows RowErrors
	if !errors.As(err, &rows) || len(rows) != 2 {
		t.Fatalf("err %v", err)
	}
	if rows[0].Line != 3 || rows[0].Column != "自查内容（专项任务）" || rows[1].Line != 4 || rows[1].Column != "考评维度" {
		t.Errorf("%v", rows)
	}
}
