package auth

import (
	"testing"

	"kpitrail/domain"
)

func TestPermitsIsTheMatrix(t *testing.T) {
	office := Principal{Name: "考评办", Role: RoleOffice}
	reporter := Principal{Name: "区科委", Role: RoleReporter, Departments: []string{"区科委"}}
	auditor := Principal{Name: "审计", Role: RoleAuditor}
	own := &TaskScope{ID: "t1", Lead: "区科委", Departments: []string{"区科委"}}
	coOwned := &TaskScope{ID: "t2", Lead: "区发改委", Departments: []string{"区发改委", "区科委"}}
	other := &TaskScope{ID: "t3", Lead: "区城管委", Departments: []string{"区城管委"}}
	for _, c := range []struct {
		p       Principal
		command string
		task    *TaskScope
		ok      bool
	}{
		{office, "task.close_problem", other, true},
		{office, "indicator.set_target", nil, true},
		{office, "snapshot.record", nil, true},
		{reporter, "indicator.correct_figure", own, true},
		{reporter, "indicator.correct_figure", coOwned, true},
		{reporter, "indicator.correct_figure", other, false},
		{reporter, "indicator.correct_figure", nil, true}, // the domain answers not found
		{reporter, "task.close_problem", own, false},      // the office verifies 整改到位
		{reporter, "indicator.set_target", own, false},
		{reporter, "snapshot.record", nil, false},
		{auditor, "task.record_narrative", own, false},
		{auditor, "audit.acknowledge_finding", nil, true},
		{Principal{Name: "admin", Role: RoleAdmin}, "audit.acknowledge_finding", nil, true},
		{office, "audit.acknowledge_finding", nil, false}, // the auditor's word, not the audited office's
		{reporter, "audit.acknowledge_finding", nil, false},
		{Principal{Name: "admin", Role: RoleAdmin}, "task.record_narrative", own, false},
	} {
		err := Permits(c.p, c.command, Target{Task: c.task})
		if (err == nil) != c.ok {
			t.Errorf("%s %s on %v: %v, want allowed=%v", c.p.Role, c.command, c.task, err, c.ok)
		}
		if err != nil && domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Errorf("%s %s: code %s, want forbidden", c.p.Role, c.command, domain.ErrorCode(err))
		}
	}
}
