package demo

import "kpitrail/domain"

// Tasks 统筹疫情防控和稳定经济增长 to 乡村振兴战略.
var indicatorsA = []ind{
	{task: tEconomy, slug: "gdp", name: "地区生产总值", unit: "亿元", dir: domain.HigherIsBetter,
		fig: &fig{value: "447.5", quality: estimate, source: self, phrase: "2022年，预计怀柔区完成地区生产总值447.5亿元"}},
	// 预计 and 左右 both apply; 预计 says the year's figure is not in yet,
	// which is what the quality is for.
	{task: tEconomy, slug: "gdp-growth", name: "地区生产总值增速", unit: "%", dir: domain.HigherIsBetter, allowNeg: true,
		fig: &fig{value: "3", quality: estimate, source: self, phrase: "预计怀柔区完成地区生产总值447.5亿元，增长3%左右"}},

	{task: tInnovation, slug: "hardtech-firms", name: "引进硬科技企业或项目", unit: "家", dir: domain.HigherIsBetter,
		fig: &fig{value: "20", quality: final, source: self, phrase: "已完成年度目标，共引进辰安城市智能科技、华远星棋科技、非勒智能科技、中汇感知科技等20家硬科技企业或项目"}},
	// The final figure comes from 市科委 in early 2023; "年初" is no date,
	// so final_due stays empty and the note carries the text. pct 84.8 is
	// DOMAIN.md rule 2's reading of the same figures.
	{task: tInnovation, slug: "hitech-stock", name: "高新技术企业保有量", unit: "家", dir: domain.HigherIsBetter,
		target: "719", targetPhrase: "市级下达任务为高新技术企业保有量需达到719家", pct: "84.8",
		fig: &fig{value: "610", quality: estimate, source: domain.Source{Kind: domain.SourceAgency, Name: "市科委"},
			phrase: "预计我区2022年保有量为610家左右（本数据为年度数据，预计2023年初由市科委反馈）"}},
	{task: tInnovation, slug: "hitech-applications", name: "高新技术企业认定受理企业（前四批）", unit: "家", dir: domain.HigherIsBetter,
		fig: &fig{value: "221", quality: final, source: self, phrase: "已完成前四批申报，共受理221家企业材料"}},
	{task: tInnovation, slug: "hitech-applications-ext", name: "高新技术企业认定受理企业（延长批）", unit: "家", dir: domain.HigherIsBetter,
		fig: &fig{value: "29", quality: final, source: self, phrase: "正在开展延长批认定工作，已受理29家企业材料"}},
	{task: tInnovation, slug: "xsg-recommended", name: "推荐申报“小升规”企业", unit: "家", dir: domain.HigherIsBetter,
		fig: &fig{value: "50", quality: final, source: self, phrase: "遴选推荐50家企业申报纳入北京市“小升规”企业清单"}},
	{task: tInnovation, slug: "xsg-passed", name: "“小升规”企业通过评审", unit: "家", dir: domain.HigherIsBetter,
		fig: &fig{value: "34", quality: final, source: self, phrase: "其中34家通过评审"}},
	{task: tInnovation, slug: "xsg-index", name: "“小升规”高新技术企业发展指数", dir: domain.HigherIsBetter,
		fig: &fig{value: "4.7", quality: final, source: self, phrase: "我区“小升规”高新技术企业发展指数为4.7"}},
	{task: tInnovation, slug: "xsg-index-city", name: "“小升规”高新技术企业发展指数全市平均值", dir: domain.HigherIsBetter,
		fig: &fig{value: "3.6", quality: final, source: self, phrase: "全市平均值为3.6"}},
	{task: tInnovation, slug: "hitech-relocated", name: "国家高新技术企业外迁", unit: "家", dir: domain.LowerIsBetter, formula: domain.FormulaCap,
		fig: &fig{value: "0", quality: final, source: self, phrase: "2022年全区无国家高新技术企业外迁情况", derivation: "无 = 0"}},

	// "2018年以来" is a running total: the window is the assessment year
	// it is reported in, the note says since when.
	{task: tJJJ, slug: "huaifeng-firms", name: "2018年以来落户怀丰产业园企业", unit: "家", dir: domain.HigherIsBetter,
		fig: &fig{value: "26", quality: final, source: self, phrase: "2018年以来，共有26家企业落户怀丰产业园"}},
	{task: tJJJ, slug: "huaifeng-investment", name: "2018年以来怀丰产业园固定资产投资", unit: "亿元", dir: domain.HigherIsBetter,
		fig: &fig{value: "18", quality: final, source: self, phrase: "固定资产投资达到18亿元"}},

	// 238.0% is not printed; the text says 超额完成.
	{task: tTwoZones, slug: "two-zones-projects", name: "“两区”入库项目", unit: "个", dir: domain.HigherIsBetter,
		target: "71", targetPhrase: "超额完成年度71个项目的年度指标任务",
		fig: &fig{value: "169", quality: final, source: self, phrase: "两区入库项目169个，超额完成年度71个项目的年度指标任务"}},

	{task: tRenewal, slug: "renewal-confirmed", name: "新确认小区", unit: "个", dir: domain.HigherIsBetter,
		fig: &fig{value: "13", from: 4, to: 4, quality: final, source: self, phrase: "2022年4月，经市联席会批准，新确认我区13个小区17万平米"}},
	{task: tRenewal, slug: "renewal-confirmed-area", name: "新确认小区面积", unit: "万平米", dir: domain.HigherIsBetter,
		fig: &fig{value: "17", from: 4, to: 4, quality: final, source: self, phrase: "2022年4月，经市联席会批准，新确认我区13个小区17万平米"}},
	{task: tRenewal, slug: "renewal-started", name: "新开工小区", unit: "个", dir: domain.HigherIsBetter,
		fig: &fig{value: "2", from: 9, to: 10, quality: final, source: self, phrase: "2022年9—10月，新开工2个小区5.3万平米"}},
	{task: tRenewal, slug: "renewal-started-area", name: "新开工小区面积", unit: "万平米", dir: domain.HigherIsBetter,
		fig: &fig{value: "5.3", from: 9, to: 10, quality: final, source: self, phrase: "2022年9—10月，新开工2个小区5.3万平米"}},

	// 超额完成市级下达任务: the task is not printed, so no target.
	{task: tRural, slug: "grain-area", name: "粮食播种面积", unit: "万亩", dir: domain.HigherIsBetter,
		fig: &fig{value: "7.02", quality: final, source: statsBur, phrase: "根据区统计局统计数据，全年完成粮食播种面积7.02万亩"}},
	{task: tRural, slug: "soybean-area", name: "大豆播种面积", unit: "亩", dir: domain.HigherIsBetter,
		fig: &fig{value: "1517", quality: final, source: statsBur, phrase: "其中大豆播种面积1517亩"}},
	{task: tRural, slug: "farmland", name: "新建高标准农田", unit: "亩", dir: domain.HigherIsBetter,
		fig: &fig{value: "3400", quality: final, source: self, phrase: "全年新建高标准农田3400亩"}},
}
