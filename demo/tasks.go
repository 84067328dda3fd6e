package demo

// The seed's task titles, exactly as written.
const (
	tDecisions   = "落实党中央国务院决策部署"
	tEconomy     = "统筹疫情防控和稳定经济增长"
	tInnovation  = "国际科技创新中心建设和高新技术企业发展"
	tExchange    = "国际交往中心功能建设"
	tJJJ         = "京津冀协同发展"
	tTwoZones    = "“两区”建设"
	tSmartCity   = "智慧城市建设"
	tConsumption = "国际消费中心城市建设"
	tRenewal     = "城市更新行动"
	tRural       = "乡村振兴战略"
	tRelief      = "疏解整治促提升专项行动"
	tMasterPlan  = "城市总体规划实施"
	tPollution   = "污染防治攻坚战"
	tRegional    = "区域协调发展"
	tCityMgmt    = "城市精细化管理"
	tTraffic     = "缓解交通拥堵"
	tHealth      = "公共卫生应急体系建设"
	tSafety      = "安全生产"
	tTCM         = "中医药传承创新发展"
	tOther       = "市委市政府其他重点工作"
)
