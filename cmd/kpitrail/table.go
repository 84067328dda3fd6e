package main

import (
	"io"
	"strings"

	"github.com/mattn/go-runewidth"
)

// table prints rows aligned by display width: a Chinese character takes two
// terminal columns, so padding by bytes or runes would skew every column
// after a title like 国际科技创新中心建设.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write prints the header (if any) and the rows.
func (t *table) write(w io.Writer) {
	all := t.rows
	if t.header != nil {
		all = append([][]string{t.header}, t.rows...)
	}
	var widths []int
	for _, r := range all {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	for _, r := range all {
		var b strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(runewidth.FillRight(c, widths[i]))
			b.WriteString("  ")
		}
		io.WriteString(w, strings.TrimRight(b.String(), " ")+"\n")
	}
}
