package domain

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// jsonAppender is implemented by the events whose encoding is written by
// hand, because every command of their kind pays for it (a figure report
// is most of what kpitrail appends). The bytes are exactly json.Marshal's:
// events_json_test.go compares them, and pins the fields they cover.
type jsonAppender interface {
	appendJSON(b []byte) ([]byte, error)
}

// encodeEvent is json.Marshal(e), by hand where written, else through
// encoding/json. A hand encoder that fails leaves it to json.Marshal, so
// errors read as they always have.
func encodeEvent(e Event) ([]byte, error) {
	if a, ok := e.(jsonAppender); ok {
		if b, err := a.appendJSON(make([]byte, 0, 384)); err == nil {
			return b, nil
		}
	}
	return json.Marshal(e)
}

func (e FigureReported) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"window":`...)
	b = e.Window.appendJSON(b)
	b = append(b, `,"value":`...)
	b, err := e.Value.appendJSON(b)
	if err != nil {
		return nil, err
	}
	if e.Numerator != nil {
		if b, err = e.Numerator.appendJSON(append(b, `,"numerator":`...)); err != nil {
			return nil, err
		}
	}
	if e.Denominator != nil {
		if b, err = e.Denominator.appendJSON(append(b, `,"denominator":`...)); err != nil {
			return nil, err
		}
	}
	b = AppendJSONString(append(b, `,"quality":`...), string(e.Quality))
	b = AppendJSONString(append(b, `,"source":{"kind":`...), string(e.Source.Kind))
	if e.Source.Name != "" {
		b = AppendJSONString(append(b, `,"name":`...), e.Source.Name)
	}
	b = append(b, '}')
	if e.FinalDue != "" {
		b = AppendJSONString(append(b, `,"final_due":`...), string(e.FinalDue))
	}
	if e.Supersedes != "" {
		b = AppendJSONString(append(b, `,"supersedes":`...), e.Supersedes)
	}
	if e.Note != "" {
		b = AppendJSONString(append(b, `,"note":`...), e.Note)
	}
	return append(b, '}'), nil
}

func (w Window) appendJSON(b []byte) []byte {
	b = strconv.AppendInt(append(b, `{"year":`...), int64(w.Year), 10)
	b = strconv.AppendInt(append(b, `,"from_month":`...), int64(w.FromMonth), 10)
	b = strconv.AppendInt(append(b, `,"to_month":`...), int64(w.ToMonth), 10)
	return append(b, '}')
}

// appendJSON writes what MarshalJSON returns (encoding/json leaves it as
// it is: digits, sign and point need no escaping), without big.Int's
// allocations when the coefficient fits in an int64, as a figure's does.
func (d Decimal) appendJSON(b []byte) ([]byte, error) {
	c := d.coefficient()
	if d.scale > DecimalMaxScale || !c.IsInt64() {
		if err := d.storable(); err != nil {
			return nil, err
		}
		b = append(b, '"')
		b = append(b, d.String()...)
		return append(b, '"'), nil
	}
	// At most 19 digits: storable. The rest is String(), digit for digit.
	v := c.Int64()
	abs := uint64(v)
	if v < 0 {
		abs = -abs
	}
	var buf [20]byte
	digits := strconv.AppendUint(buf[:0], abs, 10)
	b = append(b, '"')
	if v < 0 {
		b = append(b, '-')
	}
	if d.scale == 0 {
		b = append(b, digits...)
		return append(b, '"'), nil
	}
	if len(digits) <= d.scale {
		b = append(b, '0', '.')
		for range d.scale - len(digits) {
			b = append(b, '0')
		}
		b = append(b, digits...)
		return append(b, '"'), nil
	}
	cut := len(digits) - d.scale
	b = append(b, digits[:cut]...)
	b = append(b, '.')
	b = append(b, digits[cut:]...)
	return append(b, '"'), nil
}

const lowerHex = "0123456789abcdef"

// AppendJSONString appends s as encoding/json writes a string by default:
// quotes, backslashes and control characters escaped (\n, \r, \t, \b, \f
// short, the rest as \u00XX), <, > and & as \u003c, \u003e and \u0026,
// invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped; everything else,
// Chinese text and full-width punctuation included, as it is.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', lowerHex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
