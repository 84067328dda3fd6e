package importer

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// noneWords are the ways a table says "no problems".
var noneWords = map[string]bool{"无": true, "无。": true, "暂无": true, "无问题": true, "/": true, "—": true, "-": true}

// splitProblems reads a 存在问题及原因 cell: 无 is none, a numbered list is
// several problems, anything else is one.
func splitProblems(s string) []Problem {
	s = strings.TrimSpace(s)
	if s == "" || noneWords[s] {
		return nil
	}
	parts, ok := splitNumbered(s)
	if !ok {
		parts = []part{{text: s}}
	}
	var out []Problem
	for _, p := range parts {
		if p.text == "" {
			continue
		}
		pr := Problem{Text: p.text}
		if ok {
			pr.Label = strconv.Itoa(p.n)
		}
		pr.Description, pr.Cause = splitCause(p.text)
		out = append(out, pr)
	}
	return out
}

// itemRef is a heading that names an item rather than stating a problem
// ("87-1项", "第3项"): the problem is then the item's own text.
var itemRef = regexp.MustCompile(`^(?:第\S+项|[0-9A-Za-z][0-9A-Za-z.．\-－—]*项)$`)

// maxHeading is how long the text before a colon may be and still read as a
// heading ("高新技术企业保有量未达标：…") rather than a sentence.
const maxHeading = 40

// splitCause separates a problem from its cause where the text marks it:
//   - "heading：rest": the heading is the problem and the rest its cause;
//     when the heading names an item ("87-1项：“…完毕。”已整改到位191宗…"),
//     the problem runs to the end of the item's quoted sentence and the
//     cause is what follows;
//   - "X，导致Y": Y is the problem and X its cause.
//
// Otherwise the whole text is the description and there is no cause. Both
// parts are exact substrings of the text.
func splitCause(s string) (desc, cause string) {
	if i := strings.IndexAny(s, "：:"); i > 0 {
		head := s[:i]
		_, size := utf8.DecodeRuneInString(s[i:])
		rest := strings.TrimSpace(s[i+size:])
		if utf8.RuneCountInString(head) <= maxHeading && !strings.ContainsAny(head, "。；;，,！？") && rest != "" {
			if !itemRef.MatchString(strings.TrimSpace(head)) {
				return strings.TrimSpace(head), rest
			}
			if end := sentenceEnd(rest); end > 0 && end < len(rest) {
				return strings.TrimSpace(s[:i+size] + rest[:end]), strings.TrimSpace(rest[end:])
			}
			return s, ""
		}
	}
	if strings.Count(s, "导致") == 1 {
		i := strings.Index(s, "导致")
		before := strings.TrimRight(strings.TrimSpace(s[:i]), "，,、")
		after := strings.TrimSpace(s[i+len("导致"):])
		if before != "" && after != "" && !strings.ContainsAny(before, "。；;") {
			return after, before
		}
	}
	return s, ""
}

// sentenceEnd returns the byte offset just after the first 。 (or ；) and any
// closing quotes that follow it.
func sentenceEnd(s string) int {
	i := strings.IndexAny(s, "。；")
	if i < 0 {
		return -1
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	end := i + size
	for end < len(s) {
		r, size := utf8.DecodeRuneInString(s[end:])
		if !strings.ContainsRune("”’」』\"", r) {
			break
		}
		end += size
	}
	return end
}
