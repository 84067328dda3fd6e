package domain

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ValidateID accepts ids that are safe as one NATS subject token and as a
// file or URL segment: letters, digits, '-' and '_', 1 to 64 bytes.
func ValidateID(field, id string) error {
	if id == "" {
		return Invalid(field, "required", "must not be empty")
	}
	if len(id) > 64 {
		return Invalid(field, "max_length", "at most 64 characters")
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return Invalid(field, "id_charset", "only letters, digits, '-' and '_' are allowed, got %q", r)
		}
	}
	return nil
}

// Text limits, in characters (runes), not bytes: Chinese text is 3 bytes a
// character in UTF-8 and a limit in bytes would cut a title at a third.
const (
	MaxShortText = 200
	MaxLongText  = 20000
)

// CheckText validates free text: valid UTF-8, no control characters other
// than newline and tab, within max runes. Text is stored exactly as given:
// full-width punctuation and quotes are data, never normalised.
func CheckText(field, s string, required bool, max int) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "utf8", "is not valid UTF-8")
	}
	if required && strings.TrimSpace(s) == "" {
		return Invalid(field, "required", "must not be empty")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return Invalid(field, "max_length", "at most %d characters, got %d", max, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return Invalid(field, "control_character", "control character %U is not allowed", r)
		}
	}
	return nil
}

// Date is a calendar day (YYYY-MM-DD) with no time zone: deadlines and
// milestones are days in the assessment calendar, not instants.
type Date string

func ParseDate(field, s string) (Date, error) {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", Invalid(field, "date", "must be a date YYYY-MM-DD, got %q", s)
	}
	return Date(s), nil
}

// Validate accepts the empty date (not set) or a valid one.
func (d Date) Validate(field string) error {
	if d == "" {
		return nil
	}
	_, err := ParseDate(field, string(d))
	return err
}

// Quality says how much a figure can be trusted (DOMAIN.md rule 8).
type Quality string

const (
	QualityEstimate    Quality = "estimate"    // 预计
	QualityApproximate Quality = "approximate" // 左右, 约
	QualityProvisional Quality = "provisional" // 初步
	QualityFinal       Quality = "final"       // 最终
	QualityRevised     Quality = "revised"     // a final figure later corrected
)

func (q Quality) Validate(field string) error {
	switch q {
	case QualityEstimate, QualityApproximate, QualityProvisional, QualityFinal, QualityRevised:
		return nil
	}
	return Invalid(field, "enum", "must be one of estimate, approximate, provisional, final, revised; got %q", string(q))
}

// Rank orders qualities by how settled they are: a report of lower rank may
// not supersede one of higher rank (an estimate never replaces a final).
func (q Quality) Rank() int {
	switch q {
	case QualityEstimate, QualityApproximate:
		return 1
	case QualityProvisional:
		return 2
	case QualityFinal, QualityRevised:
		return 3
	}
	return 0
}

// SourceKind says who produced a figure.
type SourceKind string

const (
	SourceSelfReported SourceKind = "self_reported"
	SourceStatistics   SourceKind = "statistics_bureau"
	SourceAgency       SourceKind = "agency" // another agency, e.g. 市科委
	SourcePublication  SourceKind = "publication"
)

// Source is a figure's provenance.
type Source struct {
	Kind SourceKind `json:"kind"`
	Name string     `json:"name,omitempty"` // e.g. 区统计局, 市科委
}

func (s Source) Validate(field string) error {
	switch s.Kind {
	case SourceSelfReported, SourceStatistics, SourceAgency, SourcePublication:
	default:
		return Invalid(field+".kind", "enum", "must be one of self_reported, statistics_bureau, agency, publication; got %q", string(s.Kind))
	}
	if CheckText("", s.Name, false, MaxShortText) != nil {
		// Named only when refused: the field name is built on this path alone.
		return CheckText(field+".name", s.Name, false, MaxShortText)
	}
	return nil
}

// Window is the period a figure describes (its valid time): a whole year, or
// months FromMonth..ToMonth of it (1-11月 is 1..11). Cumulative figures of
// different windows are never added together.
type Window struct {
	Year      int `json:"year"`
	FromMonth int `json:"from_month"`
	ToMonth   int `json:"to_month"`
}

// YearWindow is the whole year.
func YearWindow(year int) Window { return Window{Year: year, FromMonth: 1, ToMonth: 12} }

// Normalize fills a year-only window with months 1..12.
func (w Window) Normalize() Window {
	if w.FromMonth == 0 && w.ToMonth == 0 {
		w.FromMonth, w.ToMonth = 1, 12
	}
	return w
}

func (w Window) Validate(field string) error {
	if w.Year < 1990 || w.Year > 2200 {
		return Invalid(field+".year", "range", "must be between 1990 and 2200, got %d", w.Year)
	}
	w = w.Normalize()
	if w.FromMonth < 1 || w.FromMonth > 12 {
		return Invalid(field+".from_month", "range", "must be 1..12, got %d", w.FromMonth)
	}
	if w.ToMonth < 1 || w.ToMonth > 12 {
		return Invalid(field+".to_month", "range", "must be 1..12, got %d", w.ToMonth)
	}
	if w.FromMonth > w.ToMonth {
		return Invalid(field, "order", "from_month %d is after to_month %d", w.FromMonth, w.ToMonth)
	}
	return nil
}

// FullYear reports whether the window covers the whole year.
func (w Window) FullYear() bool { w = w.Normalize(); return w.FromMonth == 1 && w.ToMonth == 12 }

// Key is a stable text form: "2022" or "2022-01..2022-11".
// It is what fmt.Sprintf("%d-%02d..%d-%02d") writes, built without fmt:
// aggregates look windows up by key on every figure they decide and apply.
func (w Window) Key() string {
	w = w.Normalize()
	if w.FullYear() {
		return strconv.Itoa(w.Year)
	}
	var buf [48]byte
	b := strconv.AppendInt(buf[:0], int64(w.Year), 10)
	b = appendMonth(append(b, '-'), w.FromMonth)
	b = strconv.AppendInt(append(b, ".."...), int64(w.Year), 10)
	b = appendMonth(append(b, '-'), w.ToMonth)
	return string(b)
}

// appendMonth writes m as %02d does.
func appendMonth(b []byte, m int) []byte {
	if 0 <= m && m < 10 {
		return append(b, '0', byte('0'+m))
	}
	return strconv.AppendInt(b, int64(m), 10)
}

// countUnits are units of whole things: a figure in them is a non-negative
// integer. A unit with a 万 or 亿 prefix (1.76万个) is a scaled count and may
// carry decimals.
var countUnits = map[string]bool{
	"家": true, "个": true, "宗": true, "户": true, "起": true, "人": true, "项": true,
	"处": true, "天": true, "次": true, "栋": true, "条": true, "期": true, "座": true, "件": true,
}

// IsCountUnit reports whether the unit counts whole things.
func IsCountUnit(unit string) bool { return countUnits[unit] }
