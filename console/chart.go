package console

import (
	"fmt"
	"html/template"
	"math"
	"math/big"
	"strings"
)

// chart is drawn as inline SVG on the server: it needs no script, no
// network and no font file (its text is the page's own, in the page's CJK
// font stack), prints as vectors, and every value it shows is also in the
// table printed beside it. Geometry uses float64; the text of every value
// is the exact decimal as stored.
type chart struct {
	ID      string
	Title   string
	Kind    string // "bar" or "line"
	XLabels []string
	Series  []chartSeries
}

type chartSeries struct {
	Name   string
	Class  string // CSS hook: actual, expected, base, target
	Dashed bool
	Points []chartPoint // one per x label
}

type chartPoint struct {
	Has   bool
	Value float64
	Text  string // the value as shown: exact, with its unit
	Mark  string // drawn above a bar: a year-over-year change, a base's mark
}

const (
	chartW, chartH                  = 720, 300
	marginL, marginR, marginT, marB = 70, 16, 40, 44
)

// SVG renders the chart; text is escaped, nothing from the data becomes
// markup.
func (c chart) SVG() template.HTML {
	esc := template.HTMLEscapeString
	lo, hi := c.bounds()
	ticks := niceTicks(lo, hi, 5)
	lo, hi = math.Min(lo, ticks[0]), math.Max(hi, ticks[len(ticks)-1])
	plotW, plotH := float64(chartW-marginL-marginR), float64(chartH-marginT-marB)
	y := func(v float64) float64 { return marginT + plotH*(1-(v-lo)/(hi-lo)) }
	n := max(1, len(c.XLabels))
	slot := plotW / float64(n)
	x := func(i int) float64 { return marginL + slot*(float64(i)+0.5) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" focusable="false">`, chartW, chartH, c.ID, c.ID)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">图中数值见下方表格。</desc>`, c.ID, esc(c.Title), c.ID)
	// Grid and y axis labels.
	for _, t := range ticks {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, marginL, chartW-marginR, y(t), y(t))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, marginL-6, y(t), esc(tickText(t)))
	}
	if lo < 0 && hi > 0 {
		fmt.Fprintf(&b, `<line class="zero" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, marginL, chartW-marginR, y(0), y(0))
	}
	for i, l := range c.XLabels {
		fmt.Fprintf(&b, `<text class="xlabel" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(i), chartH-marB+18, esc(l))
	}
	// Legend.
	lx := float64(marginL)
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<rect class="swatch %s" x="%.1f" y="10" width="14" height="10"/>`, s.Class, lx)
		fmt.Fprintf(&b, `<text class="legend" x="%.1f" y="19">%s</text>`, lx+18, esc(s.Name))
		lx += 30 + 13*float64(len([]rune(s.Name)))
	}
	switch c.Kind {
	case "bar":
		c.bars(&b, slot, x, y, lo)
	default:
		c.lines(&b, x, y)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func (c chart) bars(b *strings.Builder, slot float64, x func(int) float64, y func(float64) float64, lo float64) {
	esc := template.HTMLEscapeString
	k := float64(max(1, len(c.Series)))
	// Bars keep a readable width however few the years are.
	w := math.Min(slot*0.7/k, 56)
	zero := y(math.Max(lo, 0))
	for si, s := range c.Series {
		for i, p := range s.Points {
			if !p.Has {
				continue
			}
			left := x(i) - w*k/2 + w*float64(si)
			top, h := y(p.Value), zero-y(p.Value)
			if h < 0 {
				top, h = zero, -h
			}
			label := c.XLabels[i] + " " + s.Name + "：" + p.Text
			fmt.Fprintf(b, `<g class="pt" tabindex="0" data-readout="%s"><title>%s</title>`, esc(label), esc(label))
			fmt.Fprintf(b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, s.Class, left, top, w, math.Max(h, 1))
			if p.Mark != "" {
				fmt.Fprintf(b, `<text class="mark" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, left+w/2, top-5, esc(p.Mark))
			}
			b.WriteString(`</g>`)
		}
	}
}

func (c chart) lines(b *strings.Builder, x func(int) float64, y func(float64) float64) {
	esc := template.HTMLEscapeString
	for _, s := range c.Series {
		var pts []string
		for i, p := range s.Points {
			if p.Has {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Value)))
			}
		}
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		if len(pts) > 1 {
			fmt.Fprintf(b, `<polyline class="line %s" fill="none" points="%s"%s/>`, s.Class, strings.Join(pts, " "), dash)
		}
		for i, p := range s.Points {
			if !p.Has {
				continue
			}
			label := c.XLabels[i] + " " + s.Name + "：" + p.Text
			fmt.Fprintf(b, `<g class="pt" tabindex="0" data-readout="%s"><title>%s</title>`, esc(label), esc(label))
			fmt.Fprintf(b, `<circle class="dot %s" cx="%.1f" cy="%.1f" r="4"/></g>`, s.Class, x(i), y(p.Value))
		}
	}
}

// bounds spans every value and zero, so bars start from zero.
func (c chart) bounds() (lo, hi float64) {
	lo, hi = 0, 0
	for _, s := range c.Series {
		for _, p := range s.Points {
			if p.Has {
				lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
			}
		}
	}
	if hi == lo {
		hi = lo + 1
	}
	return lo, hi
}

// niceTicks returns about n round tick values covering lo..hi.
func niceTicks(lo, hi float64, n int) []float64 {
	span := hi - lo
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	start := math.Floor(lo/step) * step
	var out []float64
	for v := start; v <= hi+step*0.999; v += step {
		out = append(out, math.Round(v/step)*step)
		if len(out) > 20 {
			break
		}
	}
	return out
}

func tickText(v float64) string {
	s := fmt.Sprintf("%.6g", v)
	if strings.HasPrefix(s, "-") {
		return "−" + s[1:]
	}
	return s
}

func ratFloat(r *big.Rat) float64 {
	f, _ := r.Float64()
	return f
}
