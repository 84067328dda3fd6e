package demo

import "kpitrail/domain"

// ind is one indicator as read from the table.
type ind struct {
	task    string // the task's title, exactly as in the table
	slug    string // stable across years: the indicator's key and id suffix
	name    string
	unit    string
	dir     domain.Direction
	formula domain.Formula
	// allowNeg: a growth rate may be negative.
	allowNeg bool
	// target is stated or implied by the text; targetPhrase says where.
	target       string
	targetPhrase string
	// pct is the completion the table prints ("完成年度任务的250%"); the
	// tests check it against the stored figures. With no target, the
	// target is derived from it (see deriveTarget).
	pct string
	fig *fig
	// base is the previous year's figure implied by a 同比 statement.
	base *base
	// baseValue is a previous-year figure the table prints outright.
	baseValue *printedBase
	// partOf is the slug of the total the indicator is a part of.
	partOf string
	// explain is the demo's explanation of a warning its figure raises.
	explain *explanation
}

// explanation explains the warning of a rule on an indicator's figure.
type explanation struct {
	rule, reason string
}

// fig is the figure of an indicator.
type fig struct {
	value    string
	num, den string // only when the table gives both
	from, to int    // coverage months; 0 and 0 for the whole year
	quality  domain.Quality
	source   domain.Source
	// phrase is the exact text of the table the figure comes from; the
	// tests check it is there.
	phrase string
	// derivation says how a value the table does not print as such
	// follows from the phrase.
	derivation string
}

// base is a 同比 change: "减少3起下降18.8%" is changeAbs -3, changePct
// -18.8, and the base is current − changeAbs.
type base struct {
	changeAbs string
	changePct string
	phrase    string
}

type printedBase struct {
	value  string
	source domain.Source
	phrase string
}

// milestone is a 开工, 验收, 封顶, 印发 … the table reports. date is "MM-DD"
// when the text gives the day, else empty.
type milestone struct {
	task   string
	name   string
	date   string
	phrase string
}

var (
	self     = domain.Source{Kind: domain.SourceSelfReported}
	statsBur = domain.Source{Kind: domain.SourceStatistics, Name: "区统计局"}
	final    = domain.QualityFinal
	estimate = domain.QualityEstimate
)
