package main

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestTaskBoardPages: GET /v1/tasks with limit answers pages in board
// order with a next cursor while a page is full; following next reads the
// whole board once; a bad cursor or an oversized limit is a 400 naming the
// parameter, and a reporter's pages hold only its departments' tasks.
func TestTaskBoardPages(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	depts := []string{"区科委", "区应急局"}
	for i, id := range []string{"a1", "a2", "b1", "b2", "c1"} {
		s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": id, "year": 2022 + i%2,
			"title": "任务：" + id, "lead_department": depts[i%2]})
	}
	ids := func(m map[string]any) []string {
		var out []string
		for _, x := range m["tasks"].([]any) {
			out = append(out, x.(map[string]any)["id"].(string))
		}
		return out
	}
	all := ids(s.mustDo(200, "GET", "/v1/tasks", office, nil))
	var paged []string
	path := "/v1/tasks?limit=2"
	for n := 0; n < 5; n++ {
		page := s.mustDo(200, "GET", path, office, nil)
		paged = append(paged, ids(page)...)
		next, ok := page["next"].(string)
		if !ok {
			break
		}
		path = "/v1/tasks?limit=2&after=" + url.QueryEscape(next)
	}
	if !slices.Equal(paged, all) || len(all) != 5 {
		t.Fatalf("pages %v, board %v", paged, all)
	}
	if m := s.mustDo(200, "GET", "/v1/tasks?limit=5", office, nil); m["next"] == nil {
		t.Fatalf("a full page has no next: %v", m)
	}
	problemOf(t, s.do("GET", "/v1/tasks?limit=2&after=bm90LWEtY3Vyc29y", office, nil), http.StatusBadRequest, "after", "cursor")
	problemOf(t, s.do("GET", "/v1/tasks?limit=1001", office, nil), http.StatusBadRequest, "limit", "range")

	reporter := s.token("科委填报员", "reporter", "区科委")
	var mine []string
	path = "/v1/tasks?limit=2"
	for n := 0; n < 5; n++ {
		page := s.mustDo(200, "GET", path, reporter, nil)
		mine = append(mine, ids(page)...)
		next, ok := page["next"].(string)
		if !ok {
			break
		}
		path = "/v1/tasks?limit=2&after=" + url.QueryEscape(next)
	}
	if !slices.Equal(mine, []string{"a1", "b1", "c1"}) {
		t.Fatalf("the reporter's pages: %v", mine)
	}
}
