package demo

import "kpitrail/domain"

// Tasks 区域协调发展 to 市委市政府其他重点工作.
var indicatorsC = []ind{
	{task: tRegional, slug: "dongcheng-projects", name: "与东城区结对协作重点实事完成数", unit: "项", dir: domain.HigherIsBetter,
		target: "6", targetPhrase: "与东城区结对协作2022年重点实事6项已全部完成年度目标", pct: "100",
		fig: &fig{value: "6", quality: final, source: self, phrase: "与东城区结对协作2022年重点实事6项已全部完成年度目标"}},
	{task: tRegional, slug: "clinic-activities", name: "卫生院手拉手帮扶活动", unit: "次", dir: domain.HigherIsBetter,
		fig: &fig{value: "4", quality: final, source: self, phrase: "开展业务交流、培训、会诊、带教等活动4次"}},
	{task: tRegional, slug: "transfer-payment", name: "结对协作横向转移支付资金", unit: "亿元", dir: domain.HigherIsBetter,
		fig: &fig{value: "1", quality: final, source: self, phrase: "2022年结对协作1亿元横向转移支付资金全部用于仪器和传感器产业发展"}},

	// The three are printed as they are, though 60221 + 12752 = 72973,
	// not 73973: the table is the record, docs/import.md notes the gap.
	// The total is declared with its parts, so the gap is a parts_sum
	// warning, explained with that note.
	{task: tCityMgmt, slug: "gas-total", name: "共计完成", unit: "户", dir: domain.HigherIsBetter,
		fig:     &fig{value: "73973", quality: final, source: self, phrase: "共计完成73973户，已经超额完成任务"},
		explain: &explanation{rule: "parts_sum", reason: "表中三数如实照录：60221 + 12752 = 72973，与“共计完成73973户”相差1000户，以原表为准"}},
	{task: tCityMgmt, slug: "gas-installed", name: "累计安装", unit: "户", dir: domain.HigherIsBetter, partOf: "gas-total",
		fig: &fig{value: "60221", quality: final, source: self, phrase: "累计安装60221户"}},
	{task: tCityMgmt, slug: "gas-replaced", name: "管道天然气用户累计更换", unit: "户", dir: domain.HigherIsBetter, partOf: "gas-total",
		fig: &fig{value: "12752", quality: final, source: self, phrase: "管道天然气用户累计已更换12752户"}},
	{task: tCityMgmt, slug: "streetlights", name: "无灯路段路灯补建", unit: "条", dir: domain.HigherIsBetter,
		fig: &fig{value: "2", quality: final, source: self, phrase: "已完成2条无灯路段路灯补建并于4月底亮灯"}},
	{task: tCityMgmt, slug: "ebike-ports", name: "电动自行车安全充电设施接口", unit: "万个", dir: domain.HigherIsBetter,
		fig: &fig{value: "1.76", quality: domain.QualityApproximate, source: self, phrase: "已完成龙山、泉河2个街道电动自行车安全充电设施接口约1.76万个"}},
	{task: tCityMgmt, slug: "shed-ports", name: "公共车棚充电接口", unit: "万个", dir: domain.HigherIsBetter,
		fig: &fig{value: "0.3", quality: final, source: self, phrase: "完成公共车棚充电接口0.3万个"}},
	// "目前各区均未达到90%" only makes sense against a 90% requirement: an
	// implied floor, kept with the text that implies it.
	{task: tCityMgmt, slug: "waste-sorting", name: "居民自主分类投放准确率", unit: "%", dir: domain.AtLeast,
		target: "90", targetPhrase: "（目前各区均未达到90%）",
		fig: &fig{value: "79.03", quality: final, source: self, phrase: "截至2022年12月，我区居民自主分类投放准确率为79.03%"}},
	{task: tCityMgmt, slug: "waste-sorting-city", name: "居民自主分类投放准确率全市平均值", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "75.03", quality: final, source: self, phrase: "高于全市平均值75.03%"}},
	{task: tCityMgmt, slug: "waste-sorting-rank", name: "居民自主分类投放准确率全市排名", unit: "名", dir: domain.LowerIsBetter, formula: domain.FormulaCap,
		fig: &fig{value: "3", quality: final, source: self, phrase: "在全市排名第3"}},
	{task: tCityMgmt, slug: "environment-score", name: "首都城市环境建设管理专项检查考核月平均分", unit: "分", dir: domain.HigherIsBetter,
		fig: &fig{value: "877.70", from: 1, to: 10, quality: final, source: envCheck,
			phrase: "2022年1月至10月我区在首都城市环境建设管理专项检查考核中月平均分877.70分（目前已公布的成绩）"}},
	{task: tCityMgmt, slug: "environment-score-100", name: "首都城市环境建设管理专项检查考核月平均分（百分制）", unit: "分", dir: domain.HigherIsBetter,
		fig: &fig{value: "87.8", from: 1, to: 10, quality: final, source: envCheck, phrase: "折算成百分制，月平均分87.8分"}},

	{task: tTraffic, slug: "parking-roads", name: "道路停车改革范围道路", unit: "条", dir: domain.HigherIsBetter,
		fig: &fig{value: "11", quality: final, source: self, phrase: "我区有11条路2593个车位在此次改革范围内"}},
	{task: tTraffic, slug: "parking-spaces", name: "道路停车改革范围车位", unit: "个", dir: domain.HigherIsBetter,
		fig: &fig{value: "2593", quality: final, source: self, phrase: "我区有11条路2593个车位在此次改革范围内"}},
	{task: tTraffic, slug: "parking-payment", name: "金额实缴率", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "80", quality: final, source: self, phrase: "金额实缴率已达到80%"}},
	{task: tTraffic, slug: "parking-data", name: "备案公共停车场动态数据接入比例", unit: "%", dir: domain.HigherIsBetter,
		target: "100", targetPhrase: "100%完成备案公共停车场动态数据接入", pct: "100",
		fig: &fig{value: "100", quality: final, source: self, phrase: "100%完成备案公共停车场动态数据接入"}},

	{task: tHealth, slug: "cdc-professional-share", name: "专业技术人员占编制总额比例", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "87", num: "88", den: "101", quality: final, source: self,
			phrase: "区疾控中心共有卫生专业技术人员88人，编制101人，专业技术人员占编制总额比例达到87%"}},
	{task: tHealth, slug: "ems-stations", name: "完成标准化建设的急救站点", unit: "家", dir: domain.HigherIsBetter,
		fig: &fig{value: "17", quality: final, source: self, phrase: "已完成17家急救站点的标准化建设工作（均已通过市级验收）"}},
	{task: tHealth, slug: "decontamination-stations", name: "急救车洗消站", unit: "处", dir: domain.HigherIsBetter,
		fig: &fig{value: "2", quality: final, source: self, phrase: "已完成2处急救车洗消站建设工作"}},

	{task: tSafety, slug: "safety-list-completion", name: "安全生产专项整治年度目标任务清单完成率", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "100", quality: final, source: self, phrase: "安全生产专项整治年度目标任务清单完成率100%"}},
	{task: tSafety, slug: "hazards-closed", name: "区级挂账隐患销账率", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "100", quality: final, source: self, phrase: "区级挂账隐患销账率100%"}},
	{task: tSafety, slug: "hazards-spot-check", name: "挂账隐患抽查合格率", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "100", quality: final, source: self, phrase: "挂账隐患抽查合格率100%"}},
	{task: tSafety, slug: "insurance-outreach", name: "安责险宣传企业覆盖率", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "80", quality: final, source: self, phrase: "安责险宣传企业覆盖率已达80%"}},
	// Floors the text says were met, without the achieved rate: the target
	// is stored, the figure stays empty.
	{task: tSafety, slug: "risk-assessment-pass", name: "社会单位线上安全风险评估质量核查合格率", unit: "%", dir: domain.AtLeast,
		target: "80", targetPhrase: "社会单位线上安全风险评估质量核查合格率完成不低于80%的任务"},
	{task: tSafety, slug: "risk-source-audit", name: "企业安全风险源月度审核率", unit: "%", dir: domain.AtLeast,
		target: "90", targetPhrase: "企业安全风险源月度审核率均不低于90%"},
	{task: tSafety, slug: "accidents", name: "生产安全事故", unit: "起", dir: domain.LowerIsBetter, formula: domain.FormulaCap,
		fig:  &fig{value: "13", from: 1, to: 11, quality: final, source: self, phrase: "2022年1月至11月，全区共发生生产安全事故13起死亡14人"},
		base: &base{changeAbs: "-3", changePct: "-18.8", phrase: "同比事故减少3起下降18.8%"}},
	{task: tSafety, slug: "accident-deaths", name: "生产安全事故死亡人数", unit: "人", dir: domain.LowerIsBetter, formula: domain.FormulaCap,
		fig:  &fig{value: "14", from: 1, to: 11, quality: final, source: self, phrase: "2022年1月至11月，全区共发生生产安全事故13起死亡14人"},
		base: &base{changeAbs: "-5", changePct: "-26.3", phrase: "死亡人数减少5人下降26.3%"}},
	{task: tSafety, slug: "major-accidents", name: "较大及以上生产安全事故", unit: "起", dir: domain.LowerIsBetter, formula: domain.FormulaCap,
		fig: &fig{value: "0", quality: final, source: self, phrase: "目前我区未发生较大生产安全事故、重大及以上生产安全事故", derivation: "未发生 = 0"}},

	{task: tTCM, slug: "tcm-service-share", name: "门诊中医特色服务量占比", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "45.28", quality: final, source: self, phrase: "怀柔区中医医院门诊中医特色服务量占比达45.28%"}},
	{task: tTCM, slug: "tcm-community-stations", name: "提供4类以上中医药技术方法的社区卫生服务站占比", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "100", quality: final, source: self, phrase: "提供4类以上中医药技术方法的社区卫生服务站已达到100%"}},
	{task: tTCM, slug: "tcm-village-clinics", name: "提供4类以上中医药技术方法的村卫生室占比", unit: "%", dir: domain.HigherIsBetter,
		fig: &fig{value: "90", quality: final, source: self, phrase: "提供4类以上中医药技术方法的村卫生室已达到90%"}},
	{task: tTCM, slug: "tcm-culture-bases", name: "中医药文化宣传教育基地建设任务完成数", unit: "项", dir: domain.HigherIsBetter,
		target: "4", targetPhrase: "4类中医药文化宣传教育基地建设任务已完成2项", pct: "50",
		fig: &fig{value: "2", quality: final, source: self, phrase: "4类中医药文化宣传教育基地建设任务已完成2项"}},
	{task: tTCM, slug: "tcm-innovation-tasks", name: "中医药科技创新体系建设任务完成数", unit: "项", dir: domain.HigherIsBetter,
		target: "4", targetPhrase: "4项中医药科技创新体系建设任务已完成2项", pct: "50",
		fig: &fig{value: "2", quality: final, source: self, phrase: "4项中医药科技创新体系建设任务已完成2项"}},

	{task: tOther, slug: "gov-report-tasks", name: "市政府工作报告重点工作任务完成数", unit: "项", dir: domain.HigherIsBetter,
		target: "23", targetPhrase: "我区承担市政府工作报告重点工作任务23项", pct: "100",
		fig: &fig{value: "23", quality: final, source: self, phrase: "我区承担市政府工作报告重点工作任务23项，均按计划完成任务"}},
	{task: tOther, slug: "livelihood-tasks", name: "市政府民生实事任务完成数", unit: "项", dir: domain.HigherIsBetter,
		target: "10", targetPhrase: "我区承担市政府民生实事任务10项", pct: "100",
		fig: &fig{value: "10", quality: final, source: self, phrase: "我区承担市政府民生实事任务10项，均按计划完成任务"}},
	// "建设目标超额完成" says the target was below 15 without saying what
	// it was: no target.
	{task: tOther, slug: "culture-centre-buildings", name: "全国文化中心建设相关楼栋主体结构封顶", unit: "栋", dir: domain.HigherIsBetter,
		fig: &fig{value: "15", quality: final, source: self, phrase: "全国文化中心建设相关15栋楼已全部主体结构封顶，建设目标超额完成"}},
}

var envCheck = domain.Source{Kind: domain.SourcePublication, Name: "首都城市环境建设管理专项检查考核"}
