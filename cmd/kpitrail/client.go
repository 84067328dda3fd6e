package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// client talks to a running kpitrail server for the CLI subcommands.
type client struct {
	base   string
	token  string
	asJSON bool
	http   *http.Client
}

// clientFlags adds the flags every client subcommand shares.
func (m *Main) clientFlags(fs *pflag.FlagSet) func() *client {
	server := fs.String("server", m.env("KPITRAIL_SERVER", "http://127.0.0.1:8080"), "kpitrail server URL [KPITRAIL_SERVER]")
	token := fs.String("token", "", "API token (prefer the KPITRAIL_TOKEN environment variable)")
	asJSON := jsonFlag(fs)
	return func() *client {
		tok := *token
		if tok == "" {
			tok = m.Getenv("KPITRAIL_TOKEN")
		}
		return &client{base: strings.TrimRight(*server, "/"), token: tok, asJSON: *asJSON, http: &http.Client{Timeout: 5 * time.Minute}}
	}
}

func (m *Main) env(k, def string) string {
	if v := m.Getenv(k); v != "" {
		return v
	}
	return def
}

// apiError is a problem document returned by the server.
type apiError struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Field  string `json:"field"`
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.Code)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *client) do(ctx context.Context, method, path string, body any, out any, headers ...string) error {
	if body == nil {
		return c.send(ctx, method, path, nil, "", out, headers...)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.send(ctx, method, path, bytes.NewReader(b), "application/json", out, headers...)
}

func (c *client) send(ctx context.Context, method, path string, rd io.Reader, contentType string, out any, headers ...string) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", c.base, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		var p apiError
		if json.Unmarshal(data, &p) == nil && p.Code != "" {
			return &p
		}
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(data))
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *rawBytes:
		*o.b = data
		return nil
	case *json.RawMessage:
		*o = append((*o)[:0], data...)
		return nil
	}
	if len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}

// raw returns the body of a GET as bytes.
func (c *client) raw(ctx context.Context, method, path string) ([]byte, error) {
	var b []byte
	err := c.send(ctx, method, path, nil, "", &rawBytes{&b})
	return b, err
}

type rawBytes struct{ b *[]byte }

// isAPIError reports whether err is a problem document of the given code.
func isAPIError(err error, code string) bool {
	var p *apiError
	return errors.As(err, &p) && p.Code == code
}
