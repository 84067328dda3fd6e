package console

import (
	"strings"

	"kpitrail/domain"
)

// Words for the figure's life: review states, the review steps and
// proposals in the audit trail, the warning rules.

var reviewLabels = map[string]string{
	string(domain.ReviewReported):  "待提交",
	string(domain.ReviewSubmitted): "待审核",
	string(domain.ReviewApproved):  "已审核",
	string(domain.ReviewReturned):  "已退回",
	string(domain.ReviewReopened):  "已重新打开",
	// A proposal's states, as the audit trail writes them (approved reads
	// as a figure's does).
	string(domain.ProposalPending):       "待批准",
	string(domain.ProposalStateRejected): "已驳回",
	// A year's lock.
	"open": "开放", "frozen": "已封存",
}

func reviewLabel(s string) string {
	if s == "" {
		return ""
	}
	return labelOr(reviewLabels, s)
}

// reviewTone is the CSS class of a review state.
func reviewTone(s string) string {
	switch s {
	case string(domain.ReviewApproved):
		return "good"
	case string(domain.ReviewSubmitted), string(domain.ReviewReopened):
		return "warn"
	case string(domain.ReviewReturned):
		return "bad"
	}
	return "none"
}

func init() {
	for k, l := range map[string]string{
		"submitted":         "提交审核",
		"approved":          "审核通过",
		"returned":          "退回",
		"reopened":          "重新打开（解锁）",
		"base_proposed":     "提议基数",
		"target_proposed":   "提议目标",
		"proposal_approved": "批准提议",
		"proposal_rejected": "驳回提议",
		"warning_explained": "说明预警",
		"year_frozen":       "年度封存",
		"year_reopened":     "年度解封",
		"year_calendar_set": "设定报送日历",
	} {
		changeKinds[k] = l
	}
}

var ruleLabels = map[string]string{
	"parts_sum":           "分项之和与合计不符",
	"share_range":         "比例超出0–100%",
	"share_numerator":     "分子大于分母",
	"cumulative_decrease": "累计值下降",
	"outlier":             "异常波动",
	"key_unit":            "计量单位与往年不一致",
	"key_direction":       "指标方向与往年不一致",
}

func ruleLabel(s string) string { return labelOr(ruleLabels, s) }

// severityTone is a warning's CSS class: an error cannot be right as it
// stands, a warning asks for a look.
func severityTone(s string) string {
	if s == "error" {
		return "bad"
	}
	return "warn"
}

var periodLabels = map[string]string{
	domain.PeriodReported: "按时报送",
	domain.PeriodLate:     "迟报",
	domain.PeriodMissing:  "缺报",
	domain.PeriodNotDue:   "未到期",
}

func periodStatusLabel(s string) string { return labelOr(periodLabels, s) }

// periodLabel writes a reporting period key (2022-05, 2022-Q2, 2022) the
// way the office says it.
func periodLabel(key string) string {
	y, rest, ok := strings.Cut(key, "-")
	switch {
	case !ok:
		return y + "年"
	case strings.HasPrefix(rest, "Q"):
		return y + "年第" + strings.TrimPrefix(rest, "Q") + "季度"
	}
	return y + "年" + strings.TrimPrefix(rest, "0") + "月"
}
