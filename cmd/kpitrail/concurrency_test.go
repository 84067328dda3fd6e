package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestClientsRaceOnOneIndicator has many clients revise one indicator's
// target with If-Match. Every 409 must carry a newer version; no accepted
// write may be lost; the final target is the accepted write with the
// highest position.
func TestClientsRaceOnOneIndicator(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "green", "year": 2022, "title": "疏解整治促提升专项行动", "lead_department": "区城管委"})
	s.mustDo(201, "POST", "/v1/tasks/green/indicators", office, map[string]any{"indicator_id": "greening", "name": "园林增绿", "unit": "公顷", "direction": "higher"})
	first := s.mustDo(200, "PUT", "/v1/indicators/greening/target", office, map[string]any{"value": "28"})
	const clients, writes = 12, 5
	type accepted struct {
		value    string
		position uint64
		version  uint64
	}
	var mu sync.Mutex
	var wins []accepted
	conflicts := 0
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			version := uint64(first["version"].(float64))
			for i := 0; i < writes; i++ {
				value := fmt.Sprintf("%d.%d", 28+c, i+1)
				for attempt := 0; attempt < 200; attempt++ {
					r := s.do("PUT", "/v1/indicators/greening/target", office, map[string]any{"value": value, "reason": "第" + strconv.Itoa(c) + "组调整"},
						"If-Match", etag(version))
					if r.Status == http.StatusOK {
						m := r.json(t)
						mu.Lock()
						wins = append(wins, accepted{value: value, position: uint64(m["position"].(float64)), version: uint64(m["version"].(float64))})
						mu.Unlock()
						version = uint64(m["version"].(float64))
						break
					}
					if r.Status != http.StatusConflict {
						errs <- fmt.Sprintf("client %d: status %d %s", c, r.Status, r.Body)
						return
					}
					p := r.json(t)
					current := uint64(p["current_version"].(float64))
					if current <= version || r.Header.Get("ETag") != etag(current) {
						errs <- fmt.Sprintf("client %d: 409 says version %d after If-Match %d (ETag %s)", c, current, version, r.Header.Get("ETag"))
						return
					}
					mu.Lock()
					conflicts++
					mu.Unlock()
					version = current
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if len(wins) != clients*writes {
		t.Fatalf("%d writes accepted, want %d", len(wins), clients*writes)
	}
	// No lost update: every accepted write is an event, versions are a
	// gap-free sequence, and the last by position is the target now.
	seen := map[uint64]bool{}
	var last accepted
	for _, w := range wins {
		if seen[w.version] {
			t.Fatalf("version %d accepted twice", w.version)
		}
		seen[w.version] = true
		if w.position > last.position {
			last = w
		}
	}
	for v := uint64(3); v <= uint64(2+clients*writes); v++ {
		if !seen[v] {
			t.Fatalf("version %d missing", v)
		}
	}
	if err := s.live.Wait(context.Background(), s.lastPosition()); err != nil {
		t.Fatal(err)
	}
	ind := s.mustDo(200, "GET", "/v1/indicators/greening", office, nil)
	if ind["target"] != last.value {
		t.Fatalf("target %v, want %s (the accepted write at position %d)", ind["target"], last.value, last.position)
	}
	changes := s.mustDo(200, "GET", "/v1/indicators/greening/audit", office, nil)["changes"].([]any)
	revisions := 0
	for _, c := range changes {
		if strings.HasPrefix(c.(map[string]any)["kind"].(string), "target_revised") {
			revisions++
		}
	}
	if revisions != clients*writes {
		t.Fatalf("audit trail holds %d target revisions, want %d", revisions, clients*writes)
	}
	t.Logf("%d clients × %d writes: %d accepted, %d conflicts, each with the current version", clients, writes, len(wins), conflicts)
}

func etag(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }
