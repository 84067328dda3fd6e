package projections

import (
	"encoding/json"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// scenario is the 2022 self-check table's worked examples (DOMAIN.md), as
// events over a year and a quarter of record time.
type scenario struct {
	estimate, final, correction string // event ids of the high-tech firm figures
	lastPosition                uint64
}

const (
	narrativeItem = `1. 已完成年度目标，共引进辰安城市智能科技等20家硬科技企业；落实“两区”建设（含自贸区）政策：《怀柔区贯彻落实稳住经济一揽子政策措施的工作方案》！`
	hitechNote    = `本数据为年度数据，预计2023年初由市科委反馈`
)

func buildScenario(t *testing.T, store eventstore.Store, clock *testClock) scenario {
	t.Helper()
	w := &writer{t: t, store: store}
	var sc scenario
	src := func(kind domain.SourceKind, name string) domain.Source { return domain.Source{Kind: kind, Name: name} }
	y2022 := domain.YearWindow(2022)
	jan2nov := func(year int) domain.Window { return domain.Window{Year: year, FromMonth: 1, ToMonth: 11} }

	// 2021: last year's accident count, the base of this year's comparison.
	clock.set("2021-12-10")
	w.append(taskRef("safety-2021"), &domain.TaskRegistered{Year: 2021, Dimension: "高效率 落实", Title: "安全生产", LeadDepartment: "区应急局"})
	w.append(indRef("accidents-2021"), &domain.IndicatorDefined{TaskID: "safety-2021", Year: 2021, Key: "生产安全事故起数",
		Name: "生产安全事故起数", Unit: "起", Direction: domain.LowerIsBetter, Formula: domain.FormulaCap})
	w.append(indRef("accidents-2021"), &domain.FigureReported{Window: jan2nov(2021), Value: domain.MustDecimal("16"),
		Quality: domain.QualityFinal, Source: src(domain.SourceAgency, "区应急局")})

	clock.set("2022-01-15")
	w.append(taskRef("hitech"), &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: "国际科技创新中心建设和高新技术企业发展",
		LeadDepartment: "区科委", CoDepartments: []string{"区发改委", "区财政局"}, Deadline: "2022-12-31"})
	w.append(indRef("hitech-firms"), &domain.IndicatorDefined{TaskID: "hitech", Year: 2022, Key: "高新技术企业保有量",
		Name: "高新技术企业保有量", Unit: "家", Direction: domain.HigherIsBetter, Formula: domain.FormulaRatio})
	w.append(indRef("hitech-firms"), &domain.IndicatorTargetSet{Value: dec("719"), Source: &domain.Source{Kind: domain.SourceAgency, Name: "市级下达"}})

	w.append(taskRef("upgrade"), &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: "疏解整治促提升专项行动", LeadDepartment: "区经信局", Deadline: "2023-06-30"})
	w.append(indRef("upgraded-firms"), &domain.IndicatorDefined{TaskID: "upgrade", Year: 2022, Name: "一般制造业转型提质", Unit: "家",
		Direction: domain.HigherIsBetter, Formula: domain.FormulaRatio})
	w.append(indRef("upgraded-firms"), &domain.IndicatorTargetSet{Value: dec("4")})
	w.append(indRef("demolition"), &domain.IndicatorDefined{TaskID: "upgrade", Year: 2022, Name: "拆除违法建设", Unit: "万平方米",
		Direction: domain.HigherIsBetter, Formula: domain.FormulaRatio, Additive: true})
	w.append(indRef("demolition"), &domain.IndicatorTargetSet{Value: dec("180")})

	w.append(taskRef("safety"), &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: "安全生产", LeadDepartment: "区应急局"})
	w.append(indRef("accidents"), &domain.IndicatorDefined{TaskID: "safety", Year: 2022, Key: "生产安全事故起数", Name: "生产安全事故起数",
		Unit: "起", Direction: domain.LowerIsBetter, Formula: domain.FormulaCap})
	w.append(indRef("accidents"), &domain.IndicatorTargetSet{Value: dec("16")})
	w.append(indRef("deaths"), &domain.IndicatorDefined{TaskID: "safety", Year: 2022, Key: "生产安全事故死亡人数", Name: "死亡人数",
		Unit: "人", Direction: domain.LowerIsBetter, Formula: domain.FormulaCap})
	w.append(indRef("deaths"), &domain.IndicatorBaseRecorded{Window: jan2nov(2021), Value: domain.MustDecimal("19"),
		Quality: domain.QualityFinal, Source: &domain.Source{Kind: domain.SourceStatistics, Name: "区统计局"}})
	w.append(indRef("dustfall"), &domain.IndicatorDefined{TaskID: "safety", Year: 2022, Name: "降尘量", Unit: "吨/平方公里·月",
		Direction: domain.AtMost, Formula: domain.FormulaCap})
	w.append(indRef("dustfall"), &domain.IndicatorTargetSet{Value: dec("5")})

	w.append(taskRef("hills"), &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: "“浅山区”违法项目整治", LeadDepartment: "区城管委"})
	w.append(taskRef("hills"), &domain.TaskProblemRecorded{ProblemID: "p87-1", Description: "“浅山区”193宗一般性违法项目拆除整改",
		Cause: "部分项目涉及历史遗留问题，协调难度大。", TotalItems: 193})

	// December: the self-check figures.
	clock.set("2022-12-05")
	w.append(indRef("accidents"), &domain.FigureReported{Window: jan2nov(2022), Value: domain.MustDecimal("13"),
		Quality: domain.QualityFinal, Source: src(domain.SourceAgency, "区应急局")})
	w.append(indRef("deaths"), &domain.FigureReported{Window: jan2nov(2022), Value: domain.MustDecimal("14"),
		Quality: domain.QualityFinal, Source: src(domain.SourceAgency, "区应急局")})
	w.append(indRef("demolition"), &domain.FigureReported{Window: jan2nov(2022), Value: domain.MustDecimal("191.8"),
		Quality: domain.QualityProvisional, Source: src(domain.SourceSelfReported, "")})
	w.append(indRef("upgraded-firms"), &domain.FigureReported{Window: y2022, Value: domain.MustDecimal("10"),
		Quality: domain.QualityFinal, Source: src(domain.SourceSelfReported, "区经信局")})
	// A version-1 event, as an older release stored it: source a bare
	// string, window a period text. It must read through the upcaster.
	w.appendPending(indRef("dustfall"), domain.Pending{Name: domain.EvFigureReported, SchemaVersion: 1,
		Payload: json.RawMessage(`{"value":"3.6","quality":"provisional","source":"市科委","period":"2022-01..2022-11"}`)})
	w.append(taskRef("hills"), &domain.TaskRectificationProgressed{ProblemID: "p87-1", Total: 193, Rectified: 191,
		PreviousTotal: 193, State: domain.RectInProgress, Note: "已整改到位191宗"})
	w.append(taskRef("hitech"), &domain.TaskNarrativeRecorded{Items: []string{narrativeItem, "2. 遴选推荐50家企业申报纳入北京市“小升规”企业清单，其中34家通过评审。"}, AsOf: "2022-12-15"})

	clock.set("2022-12-20")
	sc.estimate = w.append(indRef("hitech-firms"), &domain.FigureReported{Window: y2022, Value: domain.MustDecimal("610"),
		Quality: domain.QualityEstimate, Source: src(domain.SourceSelfReported, "区科委"), FinalDue: "2023-03-31", Note: hitechNote})[0].ID

	// 2023: the final figure arrives, and is then corrected.
	clock.set("2023-02-15")
	sc.final = w.append(indRef("hitech-firms"), &domain.FigureReported{Window: y2022, Value: domain.MustDecimal("605"),
		Quality: domain.QualityFinal, Source: src(domain.SourceAgency, "市科委"), Supersedes: sc.estimate})[0].ID
	clock.set("2023-03-01")
	envs := w.append(indRef("hitech-firms"), &domain.FigureCorrected{Corrects: sc.final, Window: y2022,
		OldValue: domain.MustDecimal("605"), NewValue: domain.MustDecimal("607"), OldQuality: domain.QualityFinal,
		NewQuality: domain.QualityRevised, Source: src(domain.SourceAgency, "市科委"), Reason: "市科委复核：补录2家延长批企业"})
	sc.correction = envs[0].ID
	sc.lastPosition = envs[0].Position
	return sc
}
