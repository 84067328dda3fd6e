package httpapi

import (
	"bytes"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"unicode"
	"unicode/utf8"

	"kpitrail/domain"
	"kpitrail/internal/problem"
)

// textHeaders are the request headers whose values the API reads as text;
// two of them (Idempotency-Key inside the command id, X-Correlation-Id)
// are stored with every event.
var textHeaders = []string{"Idempotency-Key", "X-Correlation-Id", "If-Match", "Last-Event-ID"}

// checkHeaders refuses a header value that is not UTF-8 or holds a control
// character. net/http already refuses C0 controls and DEL before any
// handler runs (see ProblemListener); what reaches here are bytes above
// 0x7F: invalid UTF-8, or C1 controls such as U+0085.
func checkHeaders(r *http.Request) error {
	for _, name := range textHeaders {
		for _, v := range r.Header.Values(name) {
			if !utf8.ValidString(v) {
				return domain.Invalid(name, "utf8", "the header's value is not valid UTF-8")
			}
			for _, c := range v {
				if unicode.IsControl(c) && c != '\t' {
					return domain.Invalid(name, "control_character", "the header's value holds the control character %U", c)
				}
			}
		}
	}
	return nil
}

// ProblemListener answers requests that net/http refuses before any
// handler runs (a control character in a header, a malformed request line,
// headers too large) with a problem document instead of the plain text
// net/http writes. Those answers are written straight to the connection in
// one Write, as "HTTP/1.1 <status>" followed by exactly the header block
// below; no handler's response can start that way, because every response
// that passes through http.ResponseWriter carries a Date header first.
//
// It wraps a plain TCP listener only: under TLS the bytes it would see are
// encrypted, and net/http needs the *tls.Conn itself. Over HTTPS these
// refusals stay plain text.
func ProblemListener(l net.Listener) net.Listener { return &rewritingListener{Listener: l} }

type rewritingListener struct{ net.Listener }

func (l *rewritingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &rewritingConn{Conn: c}, nil
}

type rewritingConn struct{ net.Conn }

// NetConn returns the connection it wraps (as tls.Conn does).
func (c *rewritingConn) NetConn() net.Conn { return c.Conn }

var refusal = regexp.MustCompile(`^HTTP/1\.1 (\d{3}) [^\r\n]*\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n`)

var plainRefusal = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

func (c *rewritingConn) Write(b []byte) (int, error) {
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) || !bytes.Contains(b[:min(len(b), 128)], plainRefusal) {
		return c.Conn.Write(b)
	}
	m := refusal.FindSubmatch(b)
	if m == nil {
		return c.Conn.Write(b)
	}
	status, _ := strconv.Atoi(string(m[1]))
	p := problem.New(status, "malformed_request", "the request could not be read: "+string(bytes.TrimSpace(b[len(m[0]):]))+
		" (a header holding a control character, a malformed request line, or headers too large)", "")
	p.Field, p.Rule = "header", "http_syntax"
	var body bytes.Buffer
	writeBody(&body, p)
	var out bytes.Buffer
	out.WriteString("HTTP/1.1 " + string(m[1]) + " " + http.StatusText(status) + "\r\n")
	out.WriteString("Content-Type: application/problem+json\r\nContent-Length: " + strconv.Itoa(body.Len()) + "\r\nConnection: close\r\n\r\n")
	out.Write(body.Bytes())
	if _, err := c.Conn.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}
