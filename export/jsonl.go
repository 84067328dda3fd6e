package export

import (
	"encoding/base64"
	"io"
	"strconv"
)

// jsonlSink writes one JSON object per row, keys in column order, NULL as
// null. Strings are written without \u escapes for non-ASCII text, the
// convention of the read models' own JSON columns, so Chinese text reads
// and greps as is. A JSON column (narrative, payload) stays a string
// holding JSON: TEXT maps to string, and its exact bytes are kept.
type jsonlSink struct {
	w    io.Writer
	keys [][]byte // `{"name":` for the first column, `,"name":` after
	buf  []byte
}

func newJSONLSink(w io.Writer, cols []Column) *jsonlSink {
	s := &jsonlSink{w: w, keys: make([][]byte, len(cols))}
	for i, c := range cols {
		k := []byte{','}
		if i == 0 {
			k = []byte{'{'}
		}
		k = appendJSONString(k, c.Name)
		s.keys[i] = append(k, ':')
	}
	return s
}

func (s *jsonlSink) row(vals []any) error {
	b := s.buf[:0]
	for i, v := range vals {
		b = append(b, s.keys[i]...)
		switch x := v.(type) {
		case nil:
			b = append(b, "null"...)
		case int64:
			b = strconv.AppendInt(b, x, 10)
		case float64:
			b = appendFloat(b, x)
		case string:
			b = appendJSONString(b, x)
		case []byte:
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, x)
			b = append(b, '"')
		}
	}
	b = append(b, '}', '\n')
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

func (s *jsonlSink) close() error { return nil }

// appendJSONString escapes only what JSON requires: the quote, the
// backslash and control characters. The text is valid UTF-8 (normalize
// checked), so every other byte is copied.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
