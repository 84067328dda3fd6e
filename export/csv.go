package export

import (
	"encoding/base64"
	"io"
	"strconv"
	"strings"
)

// csvSink writes RFC 4180: a header row, CRLF after every record, fields
// quoted when they hold a comma, a quote or a line break.
//
// encoding/csv's Writer is not used because with UseCRLF it rewrites a
// line feed inside a quoted field as CRLF, which would change a narrative
// item's bytes; here a field's bytes are written as they are.
//
// NULL is an empty unquoted field and the empty string is `""`, so a
// reader that can tell them apart (DuckDB with allow_quoted_nulls=false)
// does; the read models store absent values as NULL, never "".
type csvSink struct {
	w   io.Writer
	buf []byte
}

func newCSVSink(w io.Writer, cols []Column) (*csvSink, error) {
	s := &csvSink{w: w}
	for i, c := range cols {
		if i > 0 {
			s.buf = append(s.buf, ',')
		}
		s.buf = appendCSVText(s.buf, c.Name)
	}
	s.buf = append(s.buf, '\r', '\n')
	_, err := w.Write(s.buf)
	return s, err
}

func (s *csvSink) row(vals []any) error {
	b := s.buf[:0]
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		switch x := v.(type) {
		case int64:
			b = strconv.AppendInt(b, x, 10)
		case float64:
			b = appendFloat(b, x)
		case string:
			b = appendCSVText(b, x)
		case []byte:
			// Base64 keeps arbitrary bytes inside a UTF-8 text file; an
			// empty blob is quoted like an empty string, to differ from NULL.
			if len(x) == 0 {
				b = append(b, '"', '"')
			}
			b = base64.StdEncoding.AppendEncode(b, x)
		}
	}
	b = append(b, '\r', '\n')
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

func (s *csvSink) close() error { return nil }

func appendCSVText(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// csvNeedsQuotes also quotes leading and trailing blanks: they are data
// (`高效率 落实`), and some readers trim unquoted ones.
func csvNeedsQuotes(s string) bool {
	if s == "" {
		return true
	}
	if strings.ContainsAny(s, ",\"\r\n") {
		return true
	}
	first, last := s[0], s[len(s)-1]
	return first == ' ' || first == '\t' || last == ' ' || last == '\t'
}
