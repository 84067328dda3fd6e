package projections

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"

	"kpitrail/domain"
)

// ratioPlaces is how many decimal places a stored derived ratio keeps. The
// exact value is a fraction; six places are far below any figure's own
// precision and keep the text short and stable.
const ratioPlaces = 6

// ratText stores a derived ratio rounded half-up to six places, with
// trailing zeros dropped so equal values have one spelling ("2.5", not
// "2.500000"; "-18.75").
func ratText(r *big.Rat) string {
	s := domain.RoundRat(r, ratioPlaces, domain.HalfUp).String()
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// ratFloat is the lossy companion of a derived ratio, for analysts only.
func ratFloat(r *big.Rat) float64 {
	f, _ := r.Float64()
	return f
}

// decText stores an optional decimal; nil is NULL.
func decText(d *domain.Decimal) any {
	if d == nil {
		return nil
	}
	return d.String()
}

func decFloat(d *domain.Decimal) any {
	if d == nil {
		return nil
	}
	return d.Float64()
}

// parseDec reads a stored decimal back; NULL is nil.
func parseDec(ns sql.NullString) (*domain.Decimal, error) {
	if !ns.Valid {
		return nil, nil
	}
	d, err := domain.ParseDecimal(ns.String)
	if err != nil {
		return nil, fmt.Errorf("stored decimal: %w", err)
	}
	return &d, nil
}

// jsonText encodes JSON for a TEXT column without HTML escaping, so that
// Chinese text and punctuation read back exactly as written, also with
// sqlite3's json functions.
func jsonText(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only strings, string slices and plain structs reach here.
		panic(fmt.Sprintf("projections: encode %T: %v", v, err))
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func unmarshalText(s string, v any) error {
	if s == "" {
		return nil
	}
	if p, ok := v.(*[]string); ok {
		if out, ok := stringArray(s, *p); ok {
			*p = out
			return nil
		}
	}
	return json.Unmarshal([]byte(s), v)
}

// stringArray reads the common case of a stored JSON array of strings
// without encoding/json, which is most of the task board's time: an array
// of strings with no escape in them, as jsonText writes plain text. It
// reports false for anything else, which the caller hands to json.
// Like json.Unmarshal into a slice, it reuses dst's array.
func stringArray(s string, dst []string) ([]string, bool) {
	if strings.IndexByte(s, '\\') >= 0 || len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	out := dst[:0]
	if out == nil {
		out = []string{}
	}
	rest := s[1 : len(s)-1]
	if rest == "" {
		return out, true
	}
	for {
		if len(rest) < 2 || rest[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return nil, false
		}
		item := rest[1 : 1+end]
		if !utf8.ValidString(item) || strings.ContainsFunc(item, func(r rune) bool { return r < 0x20 }) {
			return nil, false
		}
		out = append(out, item)
		rest = rest[2+end:]
		if rest == "" {
			return out, true
		}
		if rest[0] != ',' {
			return nil, false
		}
		rest = rest[1:]
	}
}

// compositeKey is provenance.row_key for tables with a composite primary
// key: a JSON array of the key's parts, so no separator can collide with
// text inside a part.
func compositeKey(parts ...any) string { return jsonText(parts) }

// setProvenance records that columns of one row now come from event r.
func setProvenance(b *batchTx, table, rowKey string, r domain.Recorded, columns ...string) error {
	for _, c := range columns {
		if err := b.exec(`DELETE FROM provenance WHERE table_name = ? AND row_key = ? AND column_name = ?`, table, rowKey, c); err != nil {
			return err
		}
		if err := b.exec(`INSERT INTO provenance (table_name, row_key, column_name, event_id, position) VALUES (?, ?, ?, ?, ?)`,
			table, rowKey, c, r.ID, r.Position); err != nil {
			return err
		}
	}
	return nil
}

// provenanceSet collects the events behind a derived row's columns.
type provenanceSet map[string]map[string]bool // column -> event ids

func (ps provenanceSet) add(column string, eventIDs ...string) {
	for _, id := range eventIDs {
		if id == "" {
			continue
		}
		if ps[column] == nil {
			ps[column] = map[string]bool{}
		}
		ps[column][id] = true
	}
}

// replaceProvenance rewrites all provenance of one row. Positions are looked
// up in events_log, which holds every applied event.
func replaceProvenance(b *batchTx, table, rowKey string, ps provenanceSet) error {
	if err := b.exec(`DELETE FROM provenance WHERE table_name = ? AND row_key = ?`, table, rowKey); err != nil {
		return err
	}
	// One statement for the row: a derive pass writes a dozen pairs for
	// each of thousands of rows, and a statement per pair was most of it.
	args := []any{table, rowKey}
	pairs := 0
	for column, ids := range ps {
		for id := range ids {
			args = append(args, column, id)
			pairs++
		}
	}
	if pairs == 0 {
		return nil
	}
	return b.exec(`INSERT INTO provenance (table_name, row_key, column_name, event_id, position)
		SELECT ?1, ?2, p.column1, e.event_id, e.position FROM (VALUES `+valueRows(pairs, 3)+`) AS p
		JOIN events_log e ON e.event_id = p.column2`, args...)
}

// valueRows is "(?n, ?n+1), …" for rows pairs numbered from first.
func valueRows(rows, first int) string {
	var sb strings.Builder
	for i := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "(?%d, ?%d)", first+2*i, first+2*i+1)
	}
	return sb.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
