package importer

import (
	"strings"
	"unicode"
)

// normalizeDimension removes whitespace between Han characters (a cell
// wrapped in Word comes out as "高效率 落实"; nobody means the space) and
// collapses any other run of whitespace to one space, so "Smart City"
// keeps its space.
func normalizeDimension(s string) string {
	rs := []rune(strings.TrimSpace(s))
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		if !unicode.IsSpace(rs[i]) {
			b.WriteRune(rs[i])
			continue
		}
		j := i
		for j < len(rs) && unicode.IsSpace(rs[j]) {
			j++
		}
		if !(isHan(rs[i-1]) || isHan(rs[j])) {
			b.WriteByte(' ')
		}
		i = j - 1
	}
	return b.String()
}

// isHan includes CJK punctuation and full-width forms: a space beside
// （ or ： is layout too.
func isHan(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF)
}

func removeSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
