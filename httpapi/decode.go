package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"kpitrail/domain"
	"kpitrail/internal/jsonin"
)

// MaxBodyBytes bounds a request body. One command's events travel as one
// NATS message, which the server caps at 1 MiB.
const MaxBodyBytes = 512 << 10

// decodeBody checks the media type and size, then decodes strictly.
func decodeBody(r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &domain.Error{Code: domain.EUNSUPPORTED, Field: "Content-Type", Rule: "media_type", Message: "send application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &domain.Error{Code: domain.ETOOLARGE, Field: "body", Rule: "max_bytes", Message: "request body exceeds 512 KiB"}
		}
		return domain.Invalid("body", "readable", "cannot read request body: %v", err)
	}
	return jsonin.Decode(body, dst)
}
