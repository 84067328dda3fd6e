package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Until the API is ready, the bound port answers 503 with a problem
// document and Retry-After; then every request reaches the API.
func TestStartingAnswersUntilReady(t *testing.T) {
	h := &starting{}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/tasks", nil))
	var p map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != 503 || p["code"] != "unavailable" ||
		rec.Header().Get("Retry-After") == "" || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("while starting: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	h.ready(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/tasks", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("once ready: %d", rec.Code)
	}
}
