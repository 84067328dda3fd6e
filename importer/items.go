package importer

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// part is one piece of a numbered text: its number (0 when the text before
// the first marker) and the text after the marker.
type part struct {
	n    int
	text string
}

// splitNumbered splits "1. a 2. b" into its items. A marker is the next
// expected number followed by "." "．" or "、" and not by a digit (so 7.02万亩
// and 3.6 stay whole); after the first, it must follow whitespace or the end
// of a sentence. Numbers must run 1, 2, 3…, which keeps "2022" or a stray
// "5." inside an item from starting a new one. ok is false when the text
// does not begin with marker 1.
func splitNumbered(s string) (parts []part, ok bool) {
	s = strings.TrimSpace(s)
	at, end := markerAt(s, 0, 1)
	if at != 0 {
		return nil, false
	}
	n, start := 1, end
	for {
		next, nextEnd := -1, 0
		for i := start; i < len(s); {
			_, size := utf8.DecodeRuneInString(s[i:])
			if itemBoundary(s, i) {
				if _, e := markerAt(s, i, n+1); e > 0 {
					next, nextEnd = i, e
					break
				}
			}
			i += size
		}
		if next < 0 {
			parts = append(parts, part{n: n, text: strings.TrimSpace(s[start:])})
			return parts, true
		}
		parts = append(parts, part{n: n, text: strings.TrimSpace(s[start:next])})
		n, start = n+1, nextEnd
	}
}

// markerAt reports whether number n with a list punctuation starts at byte
// i of s, and returns i and the end of the marker (spaces after it
// included); end is 0 when there is no marker.
func markerAt(s string, i, n int) (int, int) {
	num := strconv.Itoa(n)
	if !strings.HasPrefix(s[i:], num) {
		return -1, 0
	}
	j := i + len(num)
	var punct string
	for _, p := range []string{".", "．", "、"} {
		if strings.HasPrefix(s[j:], p) {
			punct = p
			break
		}
	}
	if punct == "" {
		return -1, 0
	}
	j += len(punct)
	if r, _ := utf8.DecodeRuneInString(s[j:]); unicode.IsDigit(r) {
		return -1, 0
	}
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !unicode.IsSpace(r) {
			break
		}
		j += size
	}
	return i, j
}

func itemBoundary(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsSpace(r) || strings.ContainsRune("。；;！？!?", r)
}

var subMarker = regexp.MustCompile(`[（(](\d{1,2})[）)]`)

// splitSub splits "（1）a（2）b" into sub-items. Sub-items are only taken as
// such when (1) and (2) both occur in order: a lone "（1）" is text. A lead
// text before (1) is returned as part 0.
func splitSub(s string) []part {
	locs := subMarker.FindAllStringSubmatchIndex(s, -1)
	var cuts [][2]int // marker start, marker end
	want := 1
	for _, l := range locs {
		if n, _ := strconv.Atoi(s[l[2]:l[3]]); n == want {
			cuts = append(cuts, [2]int{l[0], l[1]})
			want++
		}
	}
	if len(cuts) < 2 {
		return []part{{text: strings.TrimSpace(s)}}
	}
	var out []part
	if lead := strings.TrimSpace(s[:cuts[0][0]]); lead != "" {
		out = append(out, part{text: lead})
	}
	for k, c := range cuts {
		end := len(s)
		if k+1 < len(cuts) {
			end = cuts[k+1][0]
		}
		out = append(out, part{n: k + 1, text: strings.TrimSpace(s[c[1]:end])})
	}
	return out
}

var (
	htmlList  = regexp.MustCompile(`(?i)</?(ol|ul|li|p|br|div|span)\b[^>]*>`)
	htmlBreak = regexp.MustCompile(`(?i)<li\b[^>]*>|</li\s*>|<br\s*/?>|</p\s*>|</div\s*>`)
	htmlTag   = regexp.MustCompile(`<[^>]*>`)
)

// splitStatus turns a 落实情况 cell into narrative items, reporting whether
// the cell was HTML.
func splitStatus(s string) (items []Item, isHTML bool) {
	if htmlList.MatchString(s) {
		for _, piece := range strings.Split(htmlBreak.ReplaceAllString(s, "\x1f"), "\x1f") {
			piece = strings.TrimSpace(html.UnescapeString(htmlTag.ReplaceAllString(piece, "")))
			if piece == "" {
				continue
			}
			// Inside <li> the number is the item's own, whatever it is.
			label := ""
			if n, end := leadingNumber(piece); end > 0 {
				label, piece = strconv.Itoa(n), piece[end:]
			}
			items = append(items, subItems(label, piece)...)
		}
		return items, true
	}
	parts, ok := splitNumbered(s)
	if !ok {
		return subItems("", s), false
	}
	for _, p := range parts {
		items = append(items, subItems(strconv.Itoa(p.n), p.text)...)
	}
	return items, false
}

func subItems(label, text string) []Item {
	var out []Item
	for _, p := range splitSub(text) {
		if p.text == "" {
			continue
		}
		l := label
		if p.n > 0 {
			l += "(" + strconv.Itoa(p.n) + ")"
		}
		out = append(out, Item{Label: l, Text: p.text})
	}
	return out
}

// leadingNumber finds "N." (any N up to 3 digits) at the start of s.
func leadingNumber(s string) (int, int) {
	i := 0
	for i < len(s) && i < 3 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, 0
	}
	n, _ := strconv.Atoi(s[:i])
	if _, end := markerAt(s, 0, n); end > 0 {
		return n, end
	}
	return 0, 0
}
