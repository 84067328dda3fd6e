package domain

import (
	"bytes"
	"encoding/json"
)

// AppendCompactJSON appends src without insignificant whitespace, exactly
// as json.Compact writes it, or returns json.Compact's error when src is
// not one JSON value. It is how the envelope hash reads a payload.
//
// The usual payload (an event as json.Marshal writes it, a few hundred
// bytes) is validated and copied in one pass here, several times faster
// than encoding/json's scanner; anything the pass is unsure of (invalid
// input, nesting deeper than 64) is left to json.Compact, which decides.
func AppendCompactJSON(dst, src []byte) ([]byte, error) {
	if out, ok := appendCompactFast(dst, src); ok {
		return out, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, src); err != nil {
		return dst, err
	}
	return append(dst, buf.Bytes()...), nil
}

const compactMaxDepth = 64

// appendCompactFast appends the compacted src and true only when src is
// valid JSON by encoding/json's grammar (RFC 8259, with any byte but a
// control character inside strings); false says nothing about src.
func appendCompactFast(dst, src []byte) ([]byte, bool) {
	var stack [compactMaxDepth]byte // the open containers: '{' or '['
	origLen := len(dst)
	depth, i, n := 0, 0, len(src)
	// Each turn of the loop reads one value, then what follows it up to
	// the next value: closing brackets, a comma, an object key.
	for {
		i = skipSpace(src, i)
		if i >= n {
			return dst[:origLen], false
		}
		switch c := src[i]; {
		case c == '{' || c == '[':
			if depth == compactMaxDepth {
				return dst[:origLen], false
			}
			stack[depth] = c
			depth++
			dst = append(dst, c)
			if i = skipSpace(src, i+1); i < n && src[i] == c+2 { // '{'+2 is '}', '['+2 is ']'
				dst = append(dst, c+2)
				i++
				depth--
				break
			}
			if c == '{' {
				var ok bool
				if dst, i, ok = appendKey(dst, src, i); !ok {
					return dst[:origLen], false
				}
			}
			continue
		case c == '"':
			end, ok := stringEnd(src, i)
			if !ok {
				return dst[:origLen], false
			}
			dst = append(dst, src[i:end]...)
			i = end
		case c == '-' || ('0' <= c && c <= '9'):
			end, ok := numberEnd(src, i)
			if !ok {
				return dst[:origLen], false
			}
			dst = append(dst, src[i:end]...)
			i = end
		case c == 't' && bytes.HasPrefix(src[i:], []byte("true")):
			dst = append(dst, "true"...)
			i += 4
		case c == 'f' && bytes.HasPrefix(src[i:], []byte("false")):
			dst = append(dst, "false"...)
			i += 5
		case c == 'n' && bytes.HasPrefix(src[i:], []byte("null")):
			dst = append(dst, "null"...)
			i += 4
		default:
			return dst[:origLen], false
		}
		// After a value: close containers until a comma leads to the next
		// value, or the input ends after the top-level value.
		for {
			i = skipSpace(src, i)
			if depth == 0 {
				if i != n {
					return dst[:origLen], false
				}
				return dst, true
			}
			if i >= n {
				return dst[:origLen], false
			}
			if top := stack[depth-1]; src[i] == top+2 {
				dst = append(dst, top+2)
				i++
				depth--
				continue
			}
			if src[i] != ',' {
				return dst[:origLen], false
			}
			dst = append(dst, ',')
			i++
			if stack[depth-1] == '{' {
				var ok bool
				if dst, i, ok = appendKey(dst, src, i); !ok {
					return dst[:origLen], false
				}
			}
			break
		}
	}
}

func skipSpace(src []byte, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
		i++
	}
	return i
}

// appendKey appends the object key at src[i:] (after optional space) and
// its colon, and returns the index past the colon.
func appendKey(dst, src []byte, i int) ([]byte, int, bool) {
	i = skipSpace(src, i)
	if i >= len(src) || src[i] != '"' {
		return dst, 0, false
	}
	end, ok := stringEnd(src, i)
	if !ok {
		return dst, 0, false
	}
	j := skipSpace(src, end)
	if j >= len(src) || src[j] != ':' {
		return dst, 0, false
	}
	dst = append(dst, src[i:end]...)
	return append(dst, ':'), j + 1, true
}

// stringEnd returns the index just past the string starting at src[i]
// (a quote): escapes must be JSON's, control characters are refused, any
// other byte is accepted, as encoding/json accepts it.
func stringEnd(src []byte, i int) (int, bool) {
	for j := i + 1; j < len(src); {
		switch c := src[j]; {
		case c == '"':
			return j + 1, true
		case c == '\\':
			if j+1 >= len(src) {
				return 0, false
			}
			switch src[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(src) {
					return 0, false
				}
				for _, h := range src[j+2 : j+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return 0, false
					}
				}
				j += 6
			default:
				return 0, false
			}
		case c < 0x20:
			return 0, false
		default:
			j++
		}
	}
	return 0, false
}

// numberEnd returns the index just past the number starting at src[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(src []byte, i int) (int, bool) {
	digits := func(j int) int {
		for j < len(src) && '0' <= src[j] && src[j] <= '9' {
			j++
		}
		return j
	}
	j := i
	if src[j] == '-' {
		j++
	}
	switch {
	case j < len(src) && src[j] == '0':
		j++
	case j < len(src) && '1' <= src[j] && src[j] <= '9':
		j = digits(j + 1)
	default:
		return 0, false
	}
	if j < len(src) && src[j] == '.' {
		k := digits(j + 1)
		if k == j+1 {
			return 0, false
		}
		j = k
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		j++
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		k := digits(j)
		if k == j {
			return 0, false
		}
		j = k
	}
	return j, true
}
