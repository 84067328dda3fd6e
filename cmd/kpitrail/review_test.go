package main

import (
	"slices"
	"strings"
	"testing"
)

// TestReviewAndApprovalThroughTheAPI: the seed's accident count (13 in
// 1-11月, 3 fewer than 16, −18.8%) reported by 区应急局, returned,
// corrected, submitted and approved by the office; the department's base a
// proposal the office approves; the approved figure locked until the
// office reopens it; year over year on approved figures beside the rest.
func TestReviewAndApprovalThroughTheAPI(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	yingji := s.token("区应急局填报员", "reporter", "区应急局")
	kewei := s.token("区科委填报员", "reporter", "区科委")
	const w = "?wait=true"
	s.mustDo(201, "POST", "/v1/tasks"+w, office, map[string]any{"task_id": "safety", "year": 2022, "title": "安全生产", "lead_department": "区应急局"})
	s.mustDo(201, "POST", "/v1/tasks/safety/indicators"+w, office, map[string]any{"indicator_id": "accidents", "key": "生产安全事故起数",
		"name": "生产安全事故起数", "unit": "起", "direction": "lower", "formula": "cap"})
	jan2nov := func(y int) map[string]any { return map[string]any{"year": y, "from_month": 1, "to_month": 11} }
	first := s.mustDo(201, "POST", "/v1/indicators/accidents/figures"+w, yingji, map[string]any{"window": jan2nov(2022), "value": "12",
		"quality": "provisional", "source": map[string]any{"kind": "self_reported", "name": "区应急局"}})["event_ids"].([]any)[0].(string)

	// The department proposes last year's 16 as its base; the office approves.
	s.mustDo(403, "POST", "/v1/indicators/accidents/bases", yingji, map[string]any{"window": jan2nov(2021), "value": "16", "quality": "final"})
	prop := s.mustDo(201, "POST", "/v1/indicators/accidents/proposals/bases"+w, yingji, map[string]any{"window": jan2nov(2021), "value": "16",
		"quality": "final", "reason": "同比事故减少3起，上年同期16起"})["event_ids"].([]any)[0].(string)
	if hist := lastYear(t, s, office); hist["base"] != nil {
		t.Fatalf("a proposed base is in use before approval: %v", hist)
	}
	queue := func(token string) []map[string]any {
		var out []map[string]any
		for _, it := range s.mustDo(200, "GET", "/v1/review-queue", token, nil)["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		return out
	}
	if q := queue(office); len(q) != 1 || q[0]["action"] != "decide" || q[0]["event_id"] != prop || q[0]["by"] != "reporter:区应急局填报员" {
		t.Fatalf("office queue: %v", q)
	}
	s.mustDo(200, "POST", "/v1/indicators/accidents/proposals/"+prop+"/approve"+w, office, map[string]any{"reason": "口径说明充分"})

	// Reported → submitted → returned.
	if q := queue(yingji); len(q) != 1 || q[0]["action"] != "submit" || q[0]["event_id"] != first || q[0]["state"] != "reported" {
		t.Fatalf("department queue: %v", q)
	}
	if q := queue(kewei); len(q) != 0 {
		t.Fatalf("another department's queue: %v", q)
	}
	s.mustDo(403, "POST", "/v1/indicators/accidents/figures/"+first+"/submit", kewei, map[string]any{})
	s.mustDo(200, "POST", "/v1/indicators/accidents/figures/"+first+"/submit"+w, yingji, map[string]any{"reason": "报考评办审核"})
	if q := queue(office); len(q) != 1 || q[0]["action"] != "approve" || q[0]["value"] != "12" {
		t.Fatalf("office queue: %v", q)
	}
	if r := s.do("POST", "/v1/indicators/accidents/figures/"+first+"/corrections", yingji, map[string]any{"value": "13", "reason": "更正"}); r.Status != 422 ||
		r.json(t)["rule"] != "figure_submitted" {
		t.Fatalf("correcting a submitted figure: %d %s", r.Status, r.Body)
	}
	s.mustDo(200, "POST", "/v1/indicators/accidents/figures/"+first+"/return"+w, office, map[string]any{"reason": "与区统计局数据不一致，请核对"})
	if q := queue(yingji); len(q) != 1 || q[0]["state"] != "returned" || q[0]["reason"] != "与区统计局数据不一致，请核对" {
		t.Fatalf("department queue after the return: %v", q)
	}
	// Corrected, submitted, approved.
	fixed := s.mustDo(201, "POST", "/v1/indicators/accidents/figures/"+first+"/corrections"+w, yingji, map[string]any{"value": "13",
		"reason": "按区统计局数据更正"})["event_ids"].([]any)[0].(string)
	s.mustDo(200, "POST", "/v1/indicators/accidents/figures/"+fixed+"/submit"+w, yingji, map[string]any{})
	s.mustDo(200, "POST", "/v1/indicators/accidents/figures/"+fixed+"/approve"+w, office, map[string]any{"reason": "与区统计局数据一致"})
	if q := queue(office); len(q) != 0 {
		t.Fatalf("office queue after approving: %v", q)
	}
	hist := lastYear(t, s, office)
	if hist["approved_value"] != "13" || hist["approved_base"] != "16" || hist["approved_change_pct_display"] != "-18.8" ||
		hist["change_pct_display"] != "-18.8" || hist["review_state"] != "approved" {
		t.Fatalf("year over year once approved: %v", hist)
	}
	ind := s.mustDo(200, "GET", "/v1/indicators/accidents", office, nil)
	if ind["review_state"] != "approved" || ind["value"] != "13" {
		t.Fatalf("indicator: %v", ind)
	}
	var approved map[string]any
	for _, f := range s.mustDo(200, "GET", "/v1/indicators/accidents/figures", office, nil)["figures"].([]any) {
		if f.(map[string]any)["event_id"] == fixed {
			approved = f.(map[string]any)
		}
	}
	if approved["review_state"] != "approved" || approved["submitted_by"] != "reporter:区应急局填报员" || approved["reviewed_by"] != "office:考评办" ||
		approved["review_reason"] != "与区统计局数据一致" {
		t.Fatalf("approved figure: %v", approved)
	}

	// Locked until the office reopens it.
	for _, body := range []map[string]any{{"value": "12", "reason": "更正"}} {
		if r := s.do("POST", "/v1/indicators/accidents/figures/"+fixed+"/corrections", yingji, body); r.Status != 422 || r.json(t)["rule"] != "figure_approved" {
			t.Fatalf("correcting an approved figure: %d %s", r.Status, r.Body)
		}
	}
	s.mustDo(403, "POST", "/v1/indicators/accidents/figures/"+fixed+"/reopen", yingji, map[string]any{"reason": "部门申请"})
	s.mustDo(400, "POST", "/v1/indicators/accidents/figures/"+fixed+"/reopen", office, map[string]any{})
	s.mustDo(200, "POST", "/v1/indicators/accidents/figures/"+fixed+"/reopen"+w, office, map[string]any{"reason": "区统计局更正统计口径"})
	s.mustDo(201, "POST", "/v1/indicators/accidents/figures/"+fixed+"/corrections"+w, yingji, map[string]any{"value": "14", "reason": "按新口径"})
	hist = lastYear(t, s, office)
	// The unapproved 14 beside no approved figure at all.
	if hist["value"] != "14" || hist["review_state"] != "reported" || hist["approved_value"] != nil || hist["change_pct_display"] != "-12.5" {
		t.Fatalf("year over year after the reopen: %v", hist)
	}

	// An approver never approves its own submission.
	second := s.token("考评办复核", "office")
	var current string
	for _, f := range s.mustDo(200, "GET", "/v1/indicators/accidents/figures", office, nil)["figures"].([]any) {
		if f.(map[string]any)["state"] == "current" {
			current = f.(map[string]any)["event_id"].(string)
		}
	}
	s.mustDo(200, "POST", "/v1/indicators/accidents/figures/"+current+"/submit"+w, second, map[string]any{})
	if r := s.do("POST", "/v1/indicators/accidents/figures/"+current+"/approve", second, map[string]any{}); r.Status != 403 ||
		!strings.Contains(string(r.Body), "may not approve") {
		t.Fatalf("approving one's own submission: %d %s", r.Status, r.Body)
	}
	if q := queue(second); len(q) != 0 {
		t.Fatalf("one's own submission in one's queue: %v", q)
	}
	s.mustDo(200, "POST", "/v1/indicators/accidents/figures/"+current+"/approve"+w, office, map[string]any{})

	// Every step is in the audit trail, with who and why.
	var kinds []string
	for _, c := range s.mustDo(200, "GET", "/v1/indicators/accidents/audit", office, nil)["changes"].([]any) {
		ch := c.(map[string]any)
		kinds = append(kinds, ch["kind"].(string))
		if ch["kind"] == "returned" && (ch["reason"] != "与区统计局数据不一致，请核对" || ch["actor"] != "office:考评办" ||
			ch["old_state"] != "submitted" || ch["new_state"] != "returned") {
			t.Errorf("return in the audit trail: %v", ch)
		}
	}
	want := []string{"reported", "base_proposed", "proposal_approved", "base_recorded", "submitted", "returned", "corrected", "submitted",
		"approved", "reopened", "corrected", "submitted", "approved"}
	if !slices.Equal(kinds, want) {
		t.Errorf("audit trail\n got %v\nwant %v", kinds, want)
	}
}

func lastYear(t *testing.T, s *testServer, token string) map[string]any {
	t.Helper()
	years := s.mustDo(200, "GET", "/v1/indicators/accidents/history", token, nil)["years"].([]any)
	return years[len(years)-1].(map[string]any)
}
