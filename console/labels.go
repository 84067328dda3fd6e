package console

import (
	"fmt"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/projections"
)

// The console speaks the office's language: every stored code is shown
// with the word the self-check tables use for it.

var indicatorStatus = map[string]string{
	string(domain.StatusExceeded): "超额完成",
	string(domain.StatusMet):      "已完成",
	string(domain.StatusOnTrack):  "符合序时进度",
	string(domain.StatusBehind):   "滞后于序时进度",
	string(domain.StatusNotMet):   "未达标",
	string(domain.StatusPending):  "待报数",
	projections.StatusNoTarget:    "无目标值",
	projections.StatusError:       "无法计算",
}

func statusLabel(s string) string { return labelOr(indicatorStatus, s) }

// statusTone is the CSS class of a status: good, warn, bad or none.
func statusTone(s string) string {
	switch s {
	// Task, deadline and indicator statuses share some codes (on_track,
	// due_soon, overdue, done_late); each is listed once.
	case string(domain.StatusExceeded), string(domain.StatusMet), string(domain.StatusOnTrack),
		projections.TaskCompleted, projections.DeadlineDoneOnTime, string(domain.RectRectified):
		return "good"
	case string(domain.StatusBehind), projections.TaskAtRisk, projections.TaskDueSoon,
		string(domain.RectInProgress), string(domain.RectOngoing), string(domain.RectOpen):
		return "warn"
	case string(domain.StatusNotMet), projections.TaskOverdue, projections.TaskDoneLate,
		string(domain.RectNotRectified), projections.StatusError:
		return "bad"
	}
	return "none"
}

var taskStatuses = []string{projections.TaskOverdue, projections.TaskDueSoon, projections.TaskAtRisk, projections.TaskOnTrack,
	projections.TaskPending, projections.TaskDoneLate, projections.TaskCompleted, projections.TaskWithdrawn}

var taskStatus = map[string]string{
	projections.TaskWithdrawn: "已撤销",
	projections.TaskCompleted: "已完成",
	projections.TaskDoneLate:  "逾期完成",
	projections.TaskOverdue:   "已逾期",
	projections.TaskDueSoon:   "即将到期",
	projections.TaskAtRisk:    "存在风险",
	projections.TaskOnTrack:   "正常推进",
	projections.TaskPending:   "尚未填报",
}

func taskStatusLabel(s string) string { return labelOr(taskStatus, s) }

var deadlineStatus = map[string]string{
	projections.DeadlineNone:       "无截止日期",
	projections.DeadlineNotDue:     "未到期",
	projections.DeadlineDueSoon:    "即将到期",
	projections.DeadlineOverdue:    "已逾期",
	projections.DeadlineDoneOnTime: "按期完成",
	projections.DeadlineDoneLate:   "逾期完成",
}

func deadlineLabel(s string) string { return labelOr(deadlineStatus, s) }

var qualities = []domain.Quality{domain.QualityEstimate, domain.QualityApproximate, domain.QualityProvisional,
	domain.QualityFinal, domain.QualityRevised}

var qualityLabels = map[string]string{
	string(domain.QualityEstimate):    "预计",
	string(domain.QualityApproximate): "约数（左右）",
	string(domain.QualityProvisional): "初步",
	string(domain.QualityFinal):       "最终",
	string(domain.QualityRevised):     "修订",
}

func qualityLabel(s string) string { return labelOr(qualityLabels, s) }

var sourceKinds = []domain.SourceKind{domain.SourceSelfReported, domain.SourceStatistics, domain.SourceAgency, domain.SourcePublication}

var sourceLabels = map[string]string{
	string(domain.SourceSelfReported): "自报",
	string(domain.SourceStatistics):   "统计局",
	string(domain.SourceAgency):       "其他部门",
	string(domain.SourcePublication):  "公开发布",
}

func sourceLabel(s string) string { return labelOr(sourceLabels, s) }

var directionLabels = map[string]string{
	string(domain.HigherIsBetter): "越高越好",
	string(domain.LowerIsBetter):  "越低越好",
	string(domain.WithinRange):    "区间内",
	string(domain.AtMost):         "不超过",
	string(domain.AtLeast):        "不低于",
	string(domain.Qualitative):    "定性（里程碑）",
}

func directionLabel(s string) string { return labelOr(directionLabels, s) }

var rectLabels = map[string]string{
	string(domain.RectOpen):         "未整改",
	string(domain.RectInProgress):   "整改中",
	string(domain.RectRectified):    "整改到位",
	string(domain.RectOngoing):      "持续整改",
	string(domain.RectNotRectified): "未整改到位",
}

func rectLabel(s string) string { return labelOr(rectLabels, s) }

var changeKinds = map[string]string{
	"reported":       "报数",
	"corrected":      "更正",
	"retracted":      "撤回",
	"superseded":     "报数（替代前值）",
	"base_recorded":  "录入基数",
	"base_restated":  "调整基数（可比口径）",
	"progressed":     "整改进展",
	"closed":         "销号",
	"target_set":     "设定目标",
	"target_revised": "调整目标",
}

func changeKindLabel(s string) string { return labelOr(changeKinds, s) }

var figureStates = map[string]string{
	"current":    "现行",
	"superseded": "已被替代",
	"corrected":  "已更正",
	"retracted":  "已撤回",
}

func figureStateLabel(s string) string { return labelOr(figureStates, s) }

var roleLabels = map[string]string{
	string(auth.RoleAdmin):    "管理员",
	string(auth.RoleOffice):   "考评办",
	string(auth.RoleReporter): "填报单位",
	string(auth.RoleAuditor):  "审计",
	string(auth.RoleAnalyst):  "分析",
}

func roleLabel(r auth.Role) string { return labelOr(roleLabels, string(r)) }

func labelOr(m map[string]string, s string) string {
	if l, ok := m[s]; ok {
		return l
	}
	return s
}

// windowLabel writes a stored window key (2022, 2022-01..11) the way the
// tables do: 2022年, 2022年1-11月.
func windowLabel(key string) string {
	var y, y2, from, to int
	if n, _ := fmt.Sscanf(key, "%d-%d..%d-%d", &y, &from, &y2, &to); n == 4 {
		if from == to {
			return fmt.Sprintf("%d年%d月", y, from)
		}
		return fmt.Sprintf("%d年%d-%d月", y, from, to)
	}
	if n, _ := fmt.Sscanf(key, "%d", &y); n == 1 && len(key) == 4 {
		return fmt.Sprintf("%d年", y)
	}
	return key
}
