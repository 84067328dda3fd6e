package domain_test

import (
	"strings"
	"testing"

	"kpitrail/domain"
)

func wfig(id string, w domain.Window, v string) domain.WarningFigure {
	return domain.WarningFigure{EventID: id, Window: w, Value: val(v)}
}

func rulesOf(ws []domain.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Rule+"@"+w.Figure)
	}
	return out
}

// TestWarningRules: each rule on the seed's figures (and the issue's
// examples of what used to pass without a flag).
func TestWarningRules(t *testing.T) {
	jan := func(to int) domain.Window { return domain.Window{Year: 2022, FromMonth: 1, ToMonth: to} }
	month := func(m int) domain.Window { return domain.Window{Year: 2022, FromMonth: m, ToMonth: m} }
	gas := func(tol string) domain.WarningFacts {
		f := domain.WarningFacts{IndicatorID: "gas-total", Key: "gas-total", Name: "共计完成", Unit: "户", Direction: domain.HigherIsBetter,
			Figures: []domain.WarningFigure{wfig("t", year2022, "73973")},
			Parts: []domain.WarningPart{{IndicatorID: "gas-installed", Name: "累计安装", Figures: []domain.WarningFigure{wfig("a", year2022, "60221")}},
				{IndicatorID: "gas-replaced", Name: "累计更换", Figures: []domain.WarningFigure{wfig("b", year2022, "12752")}}}}
		if tol != "" {
			f.SumTolerance = dec(tol)
		}
		return f
	}
	share := func(figs ...domain.WarningFigure) domain.WarningFacts {
		return domain.WarningFacts{IndicatorID: "share", Name: "达标率", Unit: "%", Direction: domain.HigherIsBetter, Figures: figs}
	}
	frac := func(id, v, num, den string) domain.WarningFigure {
		f := wfig(id, year2022, v)
		f.Numerator, f.Denominator = dec(num), dec(den)
		return f
	}
	cumulative := domain.WarningFacts{Name: "拆除违法建设", Unit: "万平方米", Direction: domain.HigherIsBetter, Additive: true,
		Figures: []domain.WarningFigure{wfig("full", year2022, "60"), wfig("h1", jan(6), "90"), wfig("n11", jan(11), "75")}}
	gdp := func(v string, band string) domain.WarningFacts {
		f := domain.WarningFacts{Name: "地区生产总值", Unit: "亿元", Direction: domain.HigherIsBetter, Figures: []domain.WarningFigure{wfig("g", year2022, v)},
			LastYear: map[string]domain.WarningFigure{"2022": wfig("g21", domain.YearWindow(2021), "435.4")}}
		if band != "" {
			f.OutlierBand = dec(band)
		}
		return f
	}
	monthly := domain.WarningFacts{Name: "降尘量", Unit: "吨/平方公里·月", Direction: domain.LowerIsBetter,
		Figures: []domain.WarningFigure{wfig("m4", month(4), "3.6"), wfig("m5", month(5), "40"), wfig("m6", month(6), "3.5")}}
	key := func(unit string, dir domain.Direction, conv *domain.UnitConversion) domain.WarningFacts {
		return domain.WarningFacts{IndicatorID: "gdp-2022", Key: "gdp", Name: "地区生产总值", Unit: unit, Direction: dir, Conversion: conv,
			KeyUses: []domain.KeyUse{{IndicatorID: "gdp-2021", Year: 2021, Unit: "亿元", Direction: domain.HigherIsBetter}}}
	}
	for _, tc := range []struct {
		name  string
		facts domain.WarningFacts
		want  []string
		says  string
	}{
		{"60221 + 12752 is not 73973", gas(""), []string{"parts_sum@t"}, "60221 + 累计更换 12752 = 72973，与总数 73973 相差 1000"},
		{"within the total's tolerance", gas("1000"), nil, ""},
		{"a part without the window's figure is not summed", func() domain.WarningFacts {
			f := gas("")
			f.Parts[1].Figures = nil
			return f
		}(), nil, ""},
		{"87% (88 of 101) is a share", share(frac("s", "87", "88", "101")), nil, ""},
		{"150 of 100", share(frac("s", "150", "150", "100")), []string{"share_range@s", "share_numerator@s"}, "150%"},
		{"a negative share", share(wfig("s", year2022, "-1")), []string{"share_range@s"}, ""},
		{"a growth rate may be negative", func() domain.WarningFacts {
			f := share(wfig("s", year2022, "-3"))
			f.AllowNegative = true
			return f
		}(), nil, ""},
		{"1-6月 90 → 1-11月 75 → 全年 60", cumulative, []string{"cumulative_decrease@n11", "cumulative_decrease@full"}, "小于 2022-01..2022-06 累计 90"},
		{"a stock may go down", func() domain.WarningFacts { f := cumulative; f.Additive = false; return f }(), nil, ""},
		{"447.5 亿元 against 435.4", gdp("447.5", ""), nil, ""},
		{"4,475,000: 万元 typed into 亿元", gdp("4475000", ""), []string{"outlier@g"}, "10277.9 倍"},
		{"a band of its own", gdp("900", "2"), []string{"outlier@g"}, ""},
		{"against the period and the year, one warning", func() domain.WarningFacts {
			f := gdp("4475000", "")
			f.Figures = append(f.Figures, wfig("h1", domain.Window{Year: 2022, FromMonth: 1, ToMonth: 6}, "200"))
			return f
		}(), []string{"outlier@g"}, "上期"},
		{"a month ten times the one before", monthly, []string{"outlier@m5", "outlier@m6"}, "上期"},
		{"the same unit and direction", key("亿元", domain.HigherIsBetter, nil), nil, ""},
		{"another unit", key("万元", domain.HigherIsBetter, nil), []string{"key_unit@"}, "亿元"},
		{"another unit, converted", key("万元", domain.HigherIsBetter, &domain.UnitConversion{FromUnit: "亿元", Factor: val("10000")}), nil, ""},
		{"another direction", key("亿元", domain.LowerIsBetter, nil), []string{"key_direction@"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := domain.EvaluateWarnings(tc.facts)
			if strings.Join(rulesOf(got), " ") != strings.Join(tc.want, " ") {
				t.Fatalf("warnings %v, want %v: %+v", rulesOf(got), tc.want, got)
			}
			if tc.says != "" && !strings.Contains(got[0].Message, tc.says) {
				t.Errorf("message %q does not say %q", got[0].Message, tc.says)
			}
			for _, w := range got {
				r, ok := domain.WarningRuleByID(w.Rule)
				if !ok || w.Severity != r.Severity {
					t.Errorf("%s: severity %q", w.Rule, w.Severity)
				}
			}
		})
	}
}

// TestDefineChecksPartsAndKeys: a part's total is of the same year and
// unit; a key is measured alike in every year unless a conversion is
// declared (the uses come from the command service).
func TestDefineChecksPartsAndKeys(t *testing.T) {
	task := gwtLoad(t, domain.AggregateRef{Type: domain.AggregateTask, ID: taskID}, []domain.Event{registered()})
	total := func(unit string, year int) domain.Aggregate {
		return gwtLoad(t, domain.AggregateRef{Type: domain.AggregateIndicator, ID: "gas-total"}, []domain.Event{
			&domain.IndicatorDefined{TaskID: taskID, Year: year, Key: "gas-total", Name: "共计完成", Unit: unit, Direction: domain.HigherIsBetter}})
	}
	lock := domain.NewYear(domain.YearID(2022))
	part := domain.DefineIndicator{IndicatorID: "gas-installed", TaskID: taskID, Name: "累计安装", Unit: "户", Direction: domain.HigherIsBetter, PartOf: "gas-total"}
	decide := func(c domain.DefineIndicator, deps ...domain.Aggregate) error {
		_, err := domain.Decide(c, domain.NewIndicator(c.IndicatorID), append(deps, lock))
		return err
	}
	if err := decide(part, task, total("户", 2022)); err != nil {
		t.Errorf("a part of 共计完成: %v", err)
	}
	for _, tc := range []struct {
		name string
		dep  domain.Aggregate
		rule string
	}{
		{"another unit", total("万户", 2022), "same_unit"},
		{"another year", total("户", 2021), "same_year"},
		{"no such total", domain.NewIndicator("gas-total"), ""},
	} {
		err := decide(part, task, tc.dep)
		if e, ok := domain.AsError(err); !ok || e.Rule != tc.rule {
			t.Errorf("%s: %v, want rule %q", tc.name, err, tc.rule)
		}
	}
	gdp := domain.DefineIndicator{IndicatorID: "gdp-2022", TaskID: taskID, Key: "gdp", Name: "地区生产总值", Unit: "万元", Direction: domain.HigherIsBetter}
	uses := []domain.KeyUse{{IndicatorID: "gdp-2021", Year: 2021, Unit: "亿元", Direction: domain.HigherIsBetter}}
	if err := decide(gdp, task); err != nil {
		t.Errorf("uses unknown: %v", err)
	}
	if e, ok := domain.AsError(decide(gdp.WithKeyUses(uses), task)); !ok || e.Rule != "key_unit" || e.Code != domain.ERULE {
		t.Errorf("another unit for the key: %v", e)
	}
	converted := gdp
	converted.Conversion = &domain.UnitConversion{FromUnit: "亿元", Factor: val("10000")}
	if err := decide(converted.WithKeyUses(uses), task); err != nil {
		t.Errorf("with a conversion: %v", err)
	}
	lower := gdp
	lower.Unit, lower.Direction, lower.Formula = "亿元", domain.LowerIsBetter, domain.FormulaCap
	if e, ok := domain.AsError(decide(lower.WithKeyUses(uses), task)); !ok || e.Rule != "key_direction" {
		t.Errorf("another direction for the key: %v", e)
	}
}

func TestExplainWarning(t *testing.T) {
	runGWT(t, []gwtCase{
		{name: "explain a figure's warning", given: hntech(), when: domain.ExplainWarning{IndicatorID: hntechID, Rule: "outlier", Figure: "ev-3", Reason: "认定口径调整"},
			then: []domain.Event{&domain.WarningExplained{Rule: "outlier", Figure: "ev-3", Reason: "认定口径调整"}}},
		{name: "explain the indicator's warning", given: hntech(), when: domain.ExplainWarning{IndicatorID: hntechID, Rule: "key_unit", Reason: "已换算"},
			then: []domain.Event{&domain.WarningExplained{Rule: "key_unit", Reason: "已换算"}}},
		{name: "an unknown rule", given: hntech(), when: domain.ExplainWarning{IndicatorID: hntechID, Rule: "gut_feeling", Reason: "x"},
			refused: refused(domain.EINVALID, "rule", "enum")},
		{name: "an unknown figure", given: hntech(), when: domain.ExplainWarning{IndicatorID: hntechID, Rule: "outlier", Figure: "ev-9", Reason: "x"},
			refused: refused(domain.ENOTFOUND, "", "")},
		{name: "a reason is required", given: hntech(), when: domain.ExplainWarning{IndicatorID: hntechID, Rule: "outlier", Figure: "ev-3"},
			refused: refused(domain.EINVALID, "reason", "required")},
		{name: "a frozen year takes explanations", given: hntech(), givenYear: frozen2022,
			when: domain.ExplainWarning{IndicatorID: hntechID, Rule: "outlier", Figure: "ev-3", Reason: "认定口径调整"},
			then: []domain.Event{&domain.WarningExplained{Rule: "outlier", Figure: "ev-3", Reason: "认定口径调整"}}},
	})
}
