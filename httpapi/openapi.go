package httpapi

import (
	_ "embed"
	"net/http"

	"kpitrail/domain"
)

//go:embed openapi.json
var openapiDoc []byte

// OpenAPIDocument is the API's document as served. The CLI takes its
// flags' descriptions from it, so a field is described in one place.
func OpenAPIDocument() []byte { return openapiDoc }

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openapiDoc)
	return err
}

func (s *Server) serveAsyncAPI(w http.ResponseWriter, _ *http.Request) error {
	if len(s.cfg.AsyncAPI) == 0 {
		return domain.NotFound("this server has no AsyncAPI document")
	}
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(s.cfg.AsyncAPI)
	return err
}
