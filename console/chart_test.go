package console

import (
	"strings"
	"testing"

	"kpitrail/projections"
)

func TestChartEscapesItsTextAndSpansItsValues(t *testing.T) {
	c := chart{ID: "c1", Title: `<script>alert(1)</script>“两区”`, Kind: "bar", XLabels: []string{"2021年", `2022年"><b>`},
		Series: []chartSeries{{Name: "本年", Class: "actual", Points: []chartPoint{{Has: true, Value: -2, Text: "−2%"}, {Has: true, Value: 13, Text: "13起", Mark: "−18.8%"}}}}}
	svg := string(c.SVG())
	if strings.Contains(svg, "<script>") || strings.Contains(svg, `"><b>`) {
		t.Fatalf("chart text is not escaped: %s", svg)
	}
	for _, want := range []string{"&lt;script&gt;", "“两区”", "−18.8%", `role="img"`, `<title>2022年&#34;&gt;&lt;b&gt; 本年：13起</title>`, `tabindex="0"`, `class="zero"`} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	// The axis covers every value: from below −2 to above 13.
	ticks := niceTicks(-2, 13, 5)
	if ticks[0] > -2 || ticks[len(ticks)-1] < 13 {
		t.Errorf("ticks %v do not span −2..13", ticks)
	}
}

func TestLabelsAreTheTablesWords(t *testing.T) {
	for in, want := range map[string]string{"2022": "2022年", "2022-01..2022-11": "2022年1-11月", "2022-04..2022-04": "2022年4月"} {
		if got := windowLabel(in); got != want {
			t.Errorf("window %s: %q, want %q", in, got, want)
		}
	}
	if got := yoyText(projections.IndicatorYear{ChangePctDisplay: "-18.8"}); got != "−18.8%" {
		t.Errorf("a fall: %q", got)
	}
	if got := yoyText(projections.IndicatorYear{IsRate: true, ChangePP: "2.5", ChangePctDisplay: "3.3"}); got != "+2.5个百分点" {
		t.Errorf("a rate's rise: %q", got)
	}
	if got := yoyText(projections.IndicatorYear{IsNew: true}); got != "新增" {
		t.Errorf("from zero: %q", got)
	}
	for _, bad := range []string{"//evil.example", "/console/../v1", "https://x", "/console/\r\nx", "/console//evil", "/console/./x"} {
		if got := safeNext(bad); got != "/console/board" {
			t.Errorf("safeNext(%q) = %q", bad, got)
		}
	}
	for _, good := range []string{"/console/tasks/t1?as_of=2022-12-31T23:59:59Z", "/console/board"} {
		if got := safeNext(good); got != good {
			t.Errorf("safeNext(%q) = %q", good, got)
		}
	}
}
