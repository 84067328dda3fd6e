package domain_test

import (
	"testing"

	"kpitrail/domain"
)

func reviewIs(t *testing.T, a domain.Aggregate, id string, want domain.ReviewState) {
	t.Helper()
	f, ok := asIndicator(t, a).Figure(id)
	if !ok || f.Review != want {
		t.Errorf("figure %s review %q, want %q", id, f.Review, want)
	}
}

// TestFigureReview: 高新技术企业保有量, estimate 610 (ev-3), through
// submission, return, approval, the lock and the office's reopen.
func TestFigureReview(t *testing.T) {
	submitted := &domain.FigureSubmitted{Figure: "ev-3", Window: year2022, Value: val("610"), Reason: "报考评办审核"}
	approved := &domain.FigureApproved{Figure: "ev-3", Window: year2022, Value: val("610"), Reason: "与申报材料一致"}
	reopened := &domain.FigureReopened{Figure: "ev-3", Window: year2022, Reason: "市科委反馈最终认定结果"}
	final := domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Value: dec("612"), Quality: domain.QualityFinal, Source: kewei}
	correct := domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-3", Value: dec("611"), Reason: "笔误"}
	retract := domain.RetractFigure{IndicatorID: hntechID, Retracts: "ev-3", Reason: "误报"}
	runGWT(t, []gwtCase{
		{name: "submit the estimate", given: hntech(), when: domain.SubmitFigure{IndicatorID: hntechID, Figure: "ev-3", Reason: "报考评办审核"},
			then:  []domain.Event{submitted},
			after: func(t *testing.T, a domain.Aggregate) { reviewIs(t, a, "ev-3", domain.ReviewSubmitted) }},
		{name: "a figure starts as reported", given: hntech(), when: domain.ApproveFigure{IndicatorID: hntechID, Figure: "ev-3"},
			refused: refused(domain.ERULE, "figure", "review_reported")},
		{name: "approve the submitted estimate", given: hntech(submitted), when: domain.ApproveFigure{IndicatorID: hntechID, Figure: "ev-3", Reason: "与申报材料一致"},
			then:  []domain.Event{approved},
			after: func(t *testing.T, a domain.Aggregate) { reviewIs(t, a, "ev-3", domain.ReviewApproved) }},
		{name: "submitting twice", given: hntech(submitted), when: domain.SubmitFigure{IndicatorID: hntechID, Figure: "ev-3"},
			refused: refused(domain.ERULE, "figure", "review_submitted")},
		{name: "a submitted figure is not superseded", given: hntech(submitted), when: final, refused: refused(domain.ERULE, "window", "figure_submitted")},
		{name: "a submitted figure is not corrected", given: hntech(submitted), when: correct, refused: refused(domain.ERULE, "corrects", "figure_submitted")},
		{name: "an approved figure is not superseded", given: hntech(submitted, approved), when: final, refused: refused(domain.ERULE, "window", "figure_approved")},
		{name: "an approved figure is not corrected", given: hntech(submitted, approved), when: correct, refused: refused(domain.ERULE, "corrects", "figure_approved")},
		{name: "an approved figure is not retracted", given: hntech(submitted, approved), when: retract, refused: refused(domain.ERULE, "retracts", "figure_approved")},
		{name: "a return needs a reason", given: hntech(submitted), when: domain.ReturnFigure{IndicatorID: hntechID, Figure: "ev-3"},
			refused: refused(domain.EINVALID, "reason", "required")},
		{name: "return the submitted estimate", given: hntech(submitted), when: domain.ReturnFigure{IndicatorID: hntechID, Figure: "ev-3", Reason: "请附市科委名单"},
			then:  []domain.Event{&domain.FigureReturned{Figure: "ev-3", Window: year2022, Reason: "请附市科委名单"}},
			after: func(t *testing.T, a domain.Aggregate) { reviewIs(t, a, "ev-3", domain.ReviewReturned) }},
		{name: "a returned figure changes", given: hntech(submitted, &domain.FigureReturned{Figure: "ev-3", Window: year2022, Reason: "核对"}),
			when: correct, then: decideOpen(t, hntech(), correct)},
		{name: "a reopen needs a reason", given: hntech(submitted, approved), when: domain.ReopenFigure{IndicatorID: hntechID, Figure: "ev-3"},
			refused: refused(domain.EINVALID, "reason", "required")},
		{name: "only an approved figure is reopened", given: hntech(submitted), when: domain.ReopenFigure{IndicatorID: hntechID, Figure: "ev-3", Reason: "x"},
			refused: refused(domain.ERULE, "figure", "review_submitted")},
		{name: "the office reopens the approved figure", given: hntech(submitted, approved),
			when: domain.ReopenFigure{IndicatorID: hntechID, Figure: "ev-3", Reason: "市科委反馈最终认定结果"}, then: []domain.Event{reopened},
			after: func(t *testing.T, a domain.Aggregate) { reviewIs(t, a, "ev-3", domain.ReviewReopened) }},
		{name: "a reopened figure is superseded, and the final starts as reported", given: hntech(submitted, approved, reopened), when: final,
			then: []domain.Event{hntechFinal("ev-3")},
			after: func(t *testing.T, a domain.Aggregate) {
				reviewIs(t, a, "ev-7", domain.ReviewReported)
				reviewIs(t, a, "ev-3", domain.ReviewReopened)
			}},
		{name: "a reopened figure is submitted again", given: hntech(submitted, approved, reopened), when: domain.SubmitFigure{IndicatorID: hntechID, Figure: "ev-3"},
			then: []domain.Event{&domain.FigureSubmitted{Figure: "ev-3", Window: year2022, Value: val("610")}}},
		{name: "only the current figure is reviewed", given: hntech(hntechFinal("ev-3")), when: domain.SubmitFigure{IndicatorID: hntechID, Figure: "ev-3"},
			refused: refused(domain.ERULE, "figure", "not_current")},
		{name: "an unknown figure", given: hntech(), when: domain.SubmitFigure{IndicatorID: hntechID, Figure: "ev-99"},
			refused: refused(domain.ENOTFOUND, "", "")},
		{name: "a figure must be named", given: hntech(), when: domain.SubmitFigure{IndicatorID: hntechID},
			refused: refused(domain.EINVALID, "figure", "required")},
		{name: "no review in a frozen year", given: hntech(submitted), givenYear: frozen2022, when: domain.ApproveFigure{IndicatorID: hntechID, Figure: "ev-3"},
			refused: yearFrozen},
	})
}

// TestProposals: 生产安全事故 1-11月, last year's 16 proposed as the base
// by the department and decided by the office; 高新技术企业保有量's target
// revision proposed.
func TestProposals(t *testing.T) {
	base := domain.ProposeBase{IndicatorID: accidentID, Window: jan2Nov2021, Value: dec("16"), Quality: domain.QualityFinal,
		Source: &statsBureau, Reason: "同比事故减少3起，上年同期16起"}
	proposed := &domain.BaseProposed{Window: jan2Nov2021, Value: val("16"), Quality: domain.QualityFinal, Source: &statsBureau,
		Reason: "同比事故减少3起，上年同期16起"}
	accidents := func(more ...domain.Event) []domain.Event {
		return append([]domain.Event{accidentsDefined()}, more...)
	}
	target := domain.ProposeTarget{IndicatorID: hntechID, Value: dec("650"), Source: &kewei, Reason: "市科委调整下达任务"}
	targetProposed := &domain.TargetProposed{Value: dec("650"), Source: &kewei, Reason: "市科委调整下达任务"}
	runGWT(t, []gwtCase{
		{name: "propose a base", given: accidents(), when: base, then: []domain.Event{proposed},
			after: func(t *testing.T, a domain.Aggregate) {
				if _, ok := asIndicator(t, a).Base(jan2Nov2021); ok {
					t.Error("a proposal recorded the base")
				}
				if p, ok := asIndicator(t, a).Proposal("ev-2"); !ok || p.State != domain.ProposalPending || p.Kind != domain.ProposalBase {
					t.Errorf("proposal %+v", p)
				}
			}},
		{name: "a proposal needs a reason", given: accidents(), when: domain.ProposeBase{IndicatorID: accidentID, Window: jan2Nov2021, Value: dec("16"), Quality: domain.QualityFinal},
			refused: refused(domain.EINVALID, "reason", "required")},
		{name: "a proposed base is checked as a recorded one", given: accidents(),
			when:    domain.ProposeBase{IndicatorID: accidentID, Window: jan2Nov2022, Value: dec("16"), Quality: domain.QualityFinal, Reason: "x"},
			refused: refused(domain.EINVALID, "window.year", "before_year")},
		{name: "the office approves: the base is recorded in the same message", given: accidents(proposed),
			when: domain.ApproveProposal{IndicatorID: accidentID, Proposal: "ev-2", Reason: "口径说明充分"},
			then: []domain.Event{&domain.ProposalApproved{Proposal: "ev-2", Kind: domain.ProposalBase, Reason: "口径说明充分"},
				&domain.IndicatorBaseRecorded{Window: jan2Nov2021, Value: val("16"), Quality: domain.QualityFinal, Source: &statsBureau, Reason: "同比事故减少3起，上年同期16起"}},
			after: func(t *testing.T, a domain.Aggregate) {
				if b, ok := asIndicator(t, a).Base(jan2Nov2021); !ok || b.String() != "16" {
					t.Errorf("base %s %v", b, ok)
				}
				if p, _ := asIndicator(t, a).Proposal("ev-2"); p.State != domain.ProposalStateApproved {
					t.Errorf("proposal %s", p.State)
				}
			}},
		{name: "an approved restatement keeps the base it replaces",
			given: accidents(&domain.IndicatorBaseRecorded{Window: jan2Nov2021, Value: val("15"), Quality: domain.QualityFinal}, proposed),
			when:  domain.ApproveProposal{IndicatorID: accidentID, Proposal: "ev-3"},
			then: []domain.Event{&domain.ProposalApproved{Proposal: "ev-3", Kind: domain.ProposalBase},
				&domain.IndicatorBaseRecorded{Window: jan2Nov2021, Value: val("16"), Quality: domain.QualityFinal, Source: &statsBureau,
					Restated: true, Previous: dec("15"), Reason: "同比事故减少3起，上年同期16起"}}},
		{name: "a rejection needs a reason", given: accidents(proposed), when: domain.RejectProposal{IndicatorID: accidentID, Proposal: "ev-2"},
			refused: refused(domain.EINVALID, "reason", "required")},
		{name: "the office rejects", given: accidents(proposed), when: domain.RejectProposal{IndicatorID: accidentID, Proposal: "ev-2", Reason: "口径不可比"},
			then: []domain.Event{&domain.ProposalRejected{Proposal: "ev-2", Kind: domain.ProposalBase, Reason: "口径不可比"}}},
		{name: "a decided proposal is not decided again",
			given:   accidents(proposed, &domain.ProposalRejected{Proposal: "ev-2", Kind: domain.ProposalBase, Reason: "口径不可比"}),
			when:    domain.ApproveProposal{IndicatorID: accidentID, Proposal: "ev-2"},
			refused: refused(domain.ERULE, "proposal", "not_pending")},
		{name: "an unknown proposal", given: accidents(), when: domain.ApproveProposal{IndicatorID: accidentID, Proposal: "ev-9"},
			refused: refused(domain.ENOTFOUND, "", "")},
		{name: "propose a target revision", given: hntech(), when: target, then: []domain.Event{targetProposed}},
		{name: "approve the target revision", given: hntech(targetProposed), when: domain.ApproveProposal{IndicatorID: hntechID, Proposal: "ev-4"},
			then: []domain.Event{&domain.ProposalApproved{Proposal: "ev-4", Kind: domain.ProposalTarget},
				&domain.IndicatorTargetSet{Value: dec("650"), Revision: true, Previous: &domain.Target{Value: dec("719")}, Reason: "市科委调整下达任务", Source: &kewei}},
			after: func(t *testing.T, a domain.Aggregate) {
				if tg, _ := asIndicator(t, a).Target(); tg.Value.String() != "650" {
					t.Errorf("target %s", tg.Value)
				}
			}},
		{name: "no proposal in a frozen year", given: hntech(), givenYear: frozen2022, when: target, refused: yearFrozen},
	})
}
