package main

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"kpitrail/importer"
)

// TestWarningsThroughTheAPI: the seed's gas connections (60221 + 12752 is
// not 73973), the share of 150 of 100, cumulative figures going
// down and GDP typed in 万元 into a 亿元 indicator, flagged through a real
// serve, explained, listed; a key in another unit refused unless a
// conversion is declared; a figure sheet's rows carry their warnings.
func TestWarningsThroughTheAPI(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	cgw := s.token("区城管委填报员", "reporter", "区城管委")
	analyst := s.token("分析员", "analyst")
	const w = "?wait=true"
	self := map[string]any{"kind": "self_reported", "name": "区城管委"}
	year := map[string]any{"year": 2022}
	report := func(ind, v string, window map[string]any) string {
		t.Helper()
		return s.mustDo(201, "POST", "/v1/indicators/"+ind+"/figures"+w, cgw, map[string]any{"window": window, "value": v, "quality": "final",
			"source": self})["event_ids"].([]any)[0].(string)
	}
	warnings := func(q string) []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, x := range s.mustDo(200, "GET", "/v1/warnings?"+q, analyst, nil)["warnings"].([]any) {
			out = append(out, x.(map[string]any))
		}
		return out
	}
	s.mustDo(201, "POST", "/v1/tasks"+w, office, map[string]any{"task_id": "city", "year": 2022, "title": "城市精细化管理", "lead_department": "区城管委"})
	define := func(body map[string]any) {
		t.Helper()
		s.mustDo(201, "POST", "/v1/tasks/city/indicators"+w, office, body)
	}
	define(map[string]any{"indicator_id": "gas-total", "name": "共计完成", "unit": "户", "direction": "higher"})
	define(map[string]any{"indicator_id": "gas-installed", "name": "累计安装", "unit": "户", "direction": "higher", "part_of": "gas-total"})
	define(map[string]any{"indicator_id": "gas-replaced", "name": "管道天然气用户累计更换", "unit": "户", "direction": "higher", "part_of": "gas-total"})
	if r := s.do("POST", "/v1/tasks/city/indicators", office, map[string]any{"indicator_id": "gas-wan", "name": "累计安装（万户）", "unit": "万户",
		"direction": "higher", "part_of": "gas-total"}); r.Status != 422 || r.json(t)["rule"] != "same_unit" {
		t.Fatalf("a part in another unit: %d %s", r.Status, r.Body)
	}
	a, b := report("gas-installed", "60221", year), report("gas-replaced", "12752", year)
	total := report("gas-total", "73973", year)
	ws := warnings("indicator_id=gas-total")
	if len(ws) != 1 || ws[0]["rule"] != "parts_sum" || ws[0]["figure"] != total || ws[0]["severity"] != "warning" ||
		!strings.Contains(ws[0]["message"].(string), "72973") || !slices.Equal(anyStrings(ws[0]["related"]), []string{a, b}) {
		t.Fatalf("parts_sum: %v", ws)
	}
	s.mustDo(201, "POST", "/v1/indicators/gas-total/warnings/explain"+w, cgw, map[string]any{"rule": "parts_sum", "figure": total,
		"reason": "表中三数如实照录：共计完成含其他来源1000户"})
	if ws := warnings("indicator_id=gas-total"); len(ws) != 0 {
		t.Fatalf("an explained warning is not open: %v", ws)
	}
	ex := warnings("indicator_id=gas-total&state=explained")
	if len(ex) != 1 || ex[0]["explained_by"] != "reporter:区城管委填报员" || ex[0]["explanation"] != "表中三数如实照录：共计完成含其他来源1000户" {
		t.Fatalf("explained: %v", ex)
	}
	var explained bool
	for _, c := range s.mustDo(200, "GET", "/v1/indicators/gas-total/audit", analyst, nil)["changes"].([]any) {
		explained = explained || c.(map[string]any)["kind"] == "warning_explained"
	}
	if !explained {
		t.Error("the explanation is not in the audit trail")
	}
	// A correction that adds up clears it.
	s.mustDo(201, "POST", "/v1/indicators/gas-total/figures/"+total+"/corrections"+w, cgw, map[string]any{"value": "72973", "reason": "按分项合计"})
	if ws := warnings("indicator_id=gas-total&state=all"); len(ws) != 0 {
		t.Fatalf("after the correction: %v", ws)
	}

	// 150 of 100; cumulative windows going down.
	define(map[string]any{"indicator_id": "sorting", "name": "居民自主分类投放准确率", "unit": "%", "direction": "at_least"})
	s.mustDo(201, "POST", "/v1/indicators/sorting/figures"+w, cgw, map[string]any{"window": year, "numerator": "150", "denominator": "100",
		"quality": "final", "source": self})
	if ws := warnings("indicator_id=sorting"); len(ws) != 2 || ws[0]["severity"] != "error" {
		t.Fatalf("150 of 100: %v", ws)
	}
	define(map[string]any{"indicator_id": "demolition", "name": "拆除违法建设", "unit": "万平方米", "direction": "higher", "additive": true})
	jan := func(to int) map[string]any { return map[string]any{"year": 2022, "from_month": 1, "to_month": to} }
	report("demolition", "90", jan(6))
	report("demolition", "75", jan(11))
	report("demolition", "60", year)
	var rules []string
	for _, x := range warnings("indicator_id=demolition") {
		rules = append(rules, x["rule"].(string)+"@"+x["window"].(string))
	}
	slices.Sort(rules)
	if strings.Join(rules, " ") != "cumulative_decrease@2022 cumulative_decrease@2022-01..2022-11" {
		t.Fatalf("cumulative: %v", rules)
	}

	// GDP: 2021 in 亿元; 2022 in 万元 only with a conversion; 万元 typed
	// into the 亿元 indicator is an outlier.
	for _, y := range []string{"2021", "2022"} {
		s.mustDo(201, "POST", "/v1/tasks"+w, office, map[string]any{"task_id": "econ" + y, "year": atoiT(t, y), "title": "统筹疫情防控和稳定经济增长",
			"lead_department": "区城管委"})
	}
	s.mustDo(201, "POST", "/v1/tasks/econ2021/indicators"+w, office, map[string]any{"indicator_id": "gdp2021", "key": "gdp", "name": "地区生产总值",
		"unit": "亿元", "direction": "higher"})
	s.mustDo(201, "POST", "/v1/indicators/gdp2021/figures"+w, cgw, map[string]any{"window": map[string]any{"year": 2021}, "value": "435.4",
		"quality": "final", "source": self})
	gdp := map[string]any{"indicator_id": "gdp2022", "key": "gdp", "name": "地区生产总值", "unit": "万元", "direction": "higher"}
	if r := s.do("POST", "/v1/tasks/econ2022/indicators", office, gdp); r.Status != 422 || r.json(t)["rule"] != "key_unit" {
		t.Fatalf("another unit for the key: %d %s", r.Status, r.Body)
	}
	gdp["conversion"] = map[string]any{"from_unit": "亿元", "factor": "10000"}
	s.mustDo(201, "POST", "/v1/tasks/econ2022/indicators"+w, office, gdp)
	s.mustDo(201, "POST", "/v1/indicators/gdp2022/figures"+w, cgw, map[string]any{"window": year, "value": "4475000", "quality": "estimate", "source": self})
	hist := s.mustDo(200, "GET", "/v1/indicators/gdp2022/history", analyst, nil)["years"].([]any)
	if y := hist[len(hist)-1].(map[string]any); y["base"] != "4354000.0" || y["change_pct_display"] != "2.8" {
		t.Fatalf("year over year through the conversion: %v", y)
	}
	if ws := warnings("indicator_id=gdp2022"); len(ws) != 0 {
		t.Fatalf("converted GDP is not an outlier: %v", ws)
	}
	s.mustDo(201, "POST", "/v1/tasks/econ2022/indicators"+w, office, map[string]any{"indicator_id": "gdp2022b", "key": "gdp-b", "name": "地区生产总值（亿元）",
		"unit": "亿元", "direction": "higher"})
	s.mustDo(201, "POST", "/v1/indicators/gdp2022b/bases"+w, office, map[string]any{"window": map[string]any{"year": 2021}, "value": "435.4", "quality": "final"})
	s.mustDo(201, "POST", "/v1/indicators/gdp2022b/figures"+w, cgw, map[string]any{"window": year, "value": "4475000", "quality": "estimate", "source": self})
	if ws := warnings("indicator_id=gdp2022b"); len(ws) != 1 || ws[0]["rule"] != "outlier" || !strings.Contains(ws[0]["message"].(string), "上年同期") {
		t.Fatalf("万元 typed into 亿元: %v", ws)
	}

	// A figure sheet reports its rows' warnings.
	sheet := strings.Join([]string{strings.Join(importer.FigureColumns, ","),
		figureRow(map[string]string{"indicator_id": "coverage", "task_id": "city", "name": "安责险宣传企业覆盖率", "unit": "%", "direction": "higher",
			"window_year": "2022", "value": "180", "quality": "final"}),
	}, "\n")
	res := s.mustDo(201, "POST", "/v1/imports?"+url.Values{"kind": {"figures"}, "format": {"csv"}}.Encode(), office, sheet, "Content-Type", "text/csv; charset=utf-8")
	var flagged []any
	for _, r := range res["report"].(map[string]any)["results"].([]any) {
		if ws, ok := r.(map[string]any)["warnings"].([]any); ok {
			flagged = append(flagged, ws...)
		}
	}
	if len(flagged) != 1 || flagged[0].(map[string]any)["rule"] != "share_range" {
		t.Fatalf("import warnings: %v", res["report"])
	}
}

func atoiT(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
