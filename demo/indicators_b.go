package demo

import "kpitrail/domain"

// relief is a 疏解整治促提升 item: a figure and the completion the table
// prints for it; the target follows from the two (deriveTarget).
func relief(slug, name, unit, value, pct, phrase string) ind {
	return ind{task: tRelief, slug: slug, name: name, unit: unit, dir: domain.HigherIsBetter, pct: pct,
		targetPhrase: phrase, fig: &fig{value: value, quality: final, source: self, phrase: phrase}}
}

const reliefAll100 = "完成配建设施移交1个，治理临时建筑5处，完成代征道路用地移交2.2万平方米，发展老年餐桌2个，桥下空间治理2处，一般制造业疏解退出3家，治理施工围挡37处，均完成年度任务的100%"

// Tasks 疏解整治促提升专项行动, 城市总体规划实施, 污染防治攻坚战.
var indicatorsB = []ind{
	relief("mfg-upgrade", "一般制造业转型提质", "家", "10", "250", "一般制造业转型提质10家，完成年度任务的250%"),
	relief("service-outlets", "建设便民服务网点", "个", "20", "133.3", "建设便民服务网点20个，完成年度任务的133.3%"),
	relief("greening", "园林增绿", "公顷", "30.94", "110.5", "实现园林增绿30.94公顷，完成年度任务的110.5%"),
	relief("net-to-green", "“揭网见绿”", "公顷", "257.1", "107.1", "实现“揭网见绿”257.1公顷，完成年度任务的107.1%"),
	relief("illegal-demolished", "拆除违法建设", "万平方米", "191.8", "106.6", "拆除违法建设191.8万平方米，完成年度任务的106.6%"),
	relief("land-vacated", "腾退土地", "公顷", "207.7", "103.9", "腾退土地207.7公顷，完成年度任务的103.9%"),
	relief("facility-handover", "配建设施移交", "个", "1", "100", reliefAll100),
	relief("temporary-buildings", "治理临时建筑", "处", "5", "100", reliefAll100),
	relief("road-land-handover", "代征道路用地移交", "万平方米", "2.2", "100", reliefAll100),
	relief("elderly-canteens", "发展老年餐桌", "个", "2", "100", reliefAll100),
	relief("under-bridge", "桥下空间治理", "处", "2", "100", reliefAll100),
	relief("mfg-exit", "一般制造业疏解退出", "家", "3", "100", reliefAll100),
	relief("site-hoardings", "治理施工围挡", "处", "37", "100", reliefAll100),
	// A share of a year's workload: its own target is the whole, 100%.
	{task: tRelief, slug: "science-city-workload", name: "怀柔科学城重点区域综合整治提升项目年度任务量完成比例", unit: "%", dir: domain.HigherIsBetter,
		target: "100", targetPhrase: "完成2022年年度任务量的100%", pct: "100",
		fig: &fig{value: "100", quality: final, source: self, phrase: "怀柔科学城重点区域综合整治提升项目已进场施工，完成2022年年度任务量的100%"}},
	{task: tRelief, slug: "yanqi-lake-workload", name: "雁栖湖重点区域综合整治提升项目工程量完成比例", unit: "%", dir: domain.HigherIsBetter,
		target: "100", targetPhrase: "完成全部工程量的100%", pct: "100",
		fig: &fig{value: "100", quality: final, source: self, phrase: "雁栖湖重点区域综合整治提升项目，完成全部工程量的100%（2021年延续性任务）"}},
	relief("railway-points", "整治提升铁路沿线点位", "处", "3", "100", "整治提升铁路沿线3处点位，完成年度任务的100%"),
	relief("tv-episodes", "录制《向前一步》节目", "期", "3", "100", "录制《向前一步》节目3期，完成年度任务的100%"),

	{task: tMasterPlan, slug: "master-plan-tasks", name: "市级下发总体规划实施任务完成数", unit: "项", dir: domain.HigherIsBetter,
		target: "19", targetPhrase: "对市级下发19项任务形成“月督办、季调度”工作机制",
		fig: &fig{value: "18", quality: final, source: self, phrase: "19项任务中有1项任务（87-1项）未完成", derivation: "19 − 1 = 18"}},

	// No window is written for the air figures; they are the assessment
	// year's as reported. 258 and 77.5% imply some 333 valid days, but the
	// denominator is not given, so the ratio is stored as printed.
	{task: tPollution, slug: "air-good-days", name: "达标天数", unit: "天", dir: domain.HigherIsBetter,
		fig: &fig{value: "258", quality: final, source: self, phrase: "达标天数258天"}},
	{task: tPollution, slug: "air-good-ratio", name: "优良天数比例", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "77.5", quality: final, source: self, phrase: "优良天数比例77.5%"}},
	{task: tPollution, slug: "air-heavy-days", name: "空气重污染天数", unit: "天", dir: domain.LowerIsBetter, formula: domain.FormulaCap,
		fig: &fig{value: "3", quality: final, source: self, phrase: "空气重污染天数3天"}},
	{task: tPollution, slug: "air-heavy-ratio", name: "重污染天数比例", unit: "%", dir: domain.LowerIsBetter, formula: domain.FormulaCap,
		fig: &fig{value: "0.9", quality: final, source: self, phrase: "重污染天数比例0.9%"}},
	// Only the task (下降3%) is printed; the achieved fall comes in 2023.
	{task: tPollution, slug: "carbon-intensity-fall", name: "碳排放强度下降率", unit: "%", dir: domain.AtLeast,
		target: "3", targetPhrase: "预计可完成碳排放强度下降3%指标任务（本项数据预计2023年发布）"},
	{task: tPollution, slug: "pollutants-on-track", name: "能够完成全年减排任务的污染物", unit: "项", dir: domain.HigherIsBetter,
		fig: &fig{value: "4", quality: domain.QualityProvisional, source: self, phrase: "经初步测算，4项污染物能够完成全年减排任务（本项数据预计2023年发布）"}},
	{task: tPollution, slug: "vocs-firms", name: "完成挥发性有机物精细化治理的涉VOCs排放重点企业", unit: "家", dir: domain.HigherIsBetter,
		fig: &fig{value: "4", quality: final, source: self, phrase: "4家涉VOCs排放重点企业完成挥发性有机物精细化治理工作"}},
	// 全部达标 gives the numerator: all of them.
	{task: tPollution, slug: "water-national", name: "国家考核断面达标率", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "100", num: "2", den: "2", from: 1, to: 11, quality: final, source: self,
			phrase: "1-11月，我区2个国家考核断面、7个市级考核断面（含2个国家考核断面）全部达标，达标率100%", derivation: "全部达标：2 / 2"}},
	{task: tPollution, slug: "water-city", name: "市级考核断面达标率", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "100", num: "7", den: "7", from: 1, to: 11, quality: final, source: self,
			phrase: "1-11月，我区2个国家考核断面、7个市级考核断面（含2个国家考核断面）全部达标，达标率100%", derivation: "全部达标：7 / 7"}},
	// "95%以上" is a floor on the actual, stored as 95 with the text.
	{task: tPollution, slug: "land-safe-use", name: "重点建设用地安全利用率", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "95", quality: final, source: self, phrase: "重点建设用地安全利用率达到95%以上"}},
	// 2022's index is published in 2023: only the 2021 base is known.
	{task: tPollution, slug: "eco-index", name: "生态环境质量指数（EI）", dir: domain.HigherIsBetter,
		baseValue: &printedBase{value: "73.9", source: domain.Source{Kind: domain.SourcePublication, Name: "北京市"},
			phrase: "北京市公布2021年生态环境质量指数（EI）为73.9，级别为优"}},
	{task: tPollution, slug: "dustfall", name: "降尘量", unit: "吨/平方公里·月", dir: domain.LowerIsBetter, formula: domain.FormulaCap,
		fig: &fig{value: "3.6", from: 1, to: 11, quality: final, source: self, phrase: "1-11月，怀柔区降尘量为3.6吨/平方公里·月"}},
	{task: tPollution, slug: "rural-sewage", name: "农村污水收集处理设施建设任务完成数", unit: "个", dir: domain.HigherIsBetter,
		fig: &fig{value: "14", quality: final, source: self, phrase: "已完成14个农村污水收集处理设施建设任务"}},
	{task: tPollution, slug: "rural-environment", name: "农村环境整治任务完成数", unit: "个", dir: domain.HigherIsBetter,
		fig: &fig{value: "14", quality: final, source: self, phrase: "已完成14个农村环境整治任务"}},
}
