package domain_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"kpitrail/domain"
)

// eventSamples holds one filled-in payload per registered event. A new event
// without a sample fails TestEveryEventRoundTrips.
func eventSamples() map[string]domain.Event {
	return map[string]domain.Event{
		domain.EvTaskRegistered:        registered(),
		domain.EvTaskDeadlineChanged:   &domain.TaskDeadlineChanged{Previous: "2022-12-31", Deadline: "2023-03-31", Original: "2022-12-31", Reason: "待市政府批复"},
		domain.EvTaskNarrativeRecorded: &domain.TaskNarrativeRecorded{Items: []string{"两区入库项目169个，超额完成年度71个项目的年度指标任务。", "改革创新案例入选北京市第二批改革创新案例，全市复制推广。"}, AsOf: "2022-12-31", Source: &statsBureau},
		domain.EvTaskMilestoneReached:  &domain.TaskMilestoneReached{Milestone: "通过市级复验验收", ReachedOn: "2022-06-28", Note: "2处急救车洗消站"},
		domain.EvTaskProblemRecorded:   problem87(),
		domain.EvTaskRectificationUpdated: &domain.TaskRectificationProgressed{ProblemID: problemID, Total: 193, Rectified: 191,
			PreviousTotal: 193, PreviousRectified: 180, State: domain.RectInProgress, Note: "整改到位率99%"},
		domain.EvTaskProblemClosed: &domain.TaskProblemClosed{ProblemID: problemID, Outcome: domain.RectOngoing, Note: "持续整改"},
		domain.EvTaskCompleted:     &domain.TaskCompleted{CompletedOn: "2022-12-20", Note: "均按计划完成任务"},
		domain.EvTaskWithdrawn:     &domain.TaskWithdrawn{Reason: "重复登记"},
		domain.EvIndicatorDefined: &domain.IndicatorDefined{TaskID: taskID, Year: 2022, Key: "dust-fall", Name: "降尘量",
			Unit: "吨/平方公里·月", Direction: domain.LowerIsBetter, Formula: domain.FormulaReduction, Additive: false,
			Cadence: "monthly", Rounding: "half_even", Baseline: dec("4.1"), Description: "1-11月平均",
			PartOf: "i-dust-total", SumTolerance: dec("0.1"), OutlierBand: dec("5"),
			Conversion: &domain.UnitConversion{FromUnit: "千克/平方公里·月", Factor: val("0.001")}},
		domain.EvIndicatorTargetSet: &domain.IndicatorTargetSet{Value: dec("650"), Revision: true, Previous: &domain.Target{Value: dec("719")},
			Reason: "市科委调整", Source: &kewei},
		domain.EvIndicatorBaseRecorded: &domain.IndicatorBaseRecorded{Window: jan2Nov2021, Value: val("15"), Quality: domain.QualityFinal,
			Source: &statsBureau, Restated: true, Previous: dec("16"), Reason: "按可比口径"},
		domain.EvFigureReported: &domain.FigureReported{Window: year2022, Value: val("77.5"), Numerator: dec("258"), Denominator: dec("333"),
			Quality: domain.QualityEstimate, Source: kewei, FinalDue: "2023-03-31", Supersedes: "ev-3", Note: "本项数据预计2023年发布"},
		domain.EvFigureCorrected: &domain.FigureCorrected{Corrects: "ev-4", Window: year2022, OldValue: val("612"), NewValue: val("615"),
			OldQuality: domain.QualityFinal, NewQuality: domain.QualityRevised, Source: kewei, Reason: "市科委正式反馈"},
		domain.EvFigureRetracted:    &domain.FigureRetracted{Retracts: "ev-4", Window: year2022, OldValue: val("612"), Reason: "误报"},
		domain.EvIndicatorWithdrawn: &domain.IndicatorWithdrawn{Reason: "考核指标未明确"},
		domain.EvCheckpointRecorded: &domain.CheckpointRecorded{Position: 1233, Root: strings.Repeat("cd", 32), Aggregates: 57},
		domain.EvKeyRotated: &domain.KeyRotated{RetiredKeyID: "3f9a0c51d2e47b86", KeyID: "a1b2c3d4e5f60718", Algorithm: "ed25519",
			PublicKey: "Fq6cWkq9cRk7Yk5V1b3e5Zl2w2CkE0m6bSg1N3YzQ1U=", Reason: "年度密钥轮换"},
		domain.EvFindingAcknowledged: &domain.FindingAcknowledged{Position: 1240, Kind: "foreign", AggregateType: "task",
			AggregateID: "t87", Reason: "测试环境误发的消息，已核实未影响任何数据"},
		domain.EvSnapshotRecorded: &domain.SnapshotRecorded{Year: 2022, Position: 1234, ContentHash: strings.Repeat("ab", 32),
			Root: strings.Repeat("cd", 32), Aggregates: 57, Note: "2022年度考核年终封存"},
		domain.EvFigureSubmitted: &domain.FigureSubmitted{Figure: "ev-4", Window: year2022, Value: val("612"), Reason: "市科委正式反馈，报考评办审核"},
		domain.EvFigureApproved: &domain.FigureApproved{Figure: "ev-4", Window: year2022, Value: val("612"), SubmittedBy: "reporter:区科委填报员",
			Reason: "与市科委认定名单一致"},
		domain.EvFigureReturned: &domain.FigureReturned{Figure: "ev-4", Window: year2022, Reason: "与市科委名单不一致，请核对"},
		domain.EvFigureReopened: &domain.FigureReopened{Figure: "ev-4", Window: year2022, Reason: "市科委补报延长批认定结果"},
		domain.EvBaseProposed: &domain.BaseProposed{Window: jan2Nov2021, Value: val("15"), Quality: domain.QualityFinal, Source: &statsBureau,
			Reason: "按可比口径"},
		domain.EvTargetProposed: &domain.TargetProposed{Value: dec("650"), Source: &kewei, Reason: "市科委调整下达任务"},
		domain.EvProposalApproved: &domain.ProposalApproved{Proposal: "ev-5", Kind: domain.ProposalBase, ProposedBy: "reporter:区应急局填报员",
			Reason: "口径说明充分"},
		domain.EvProposalRejected: &domain.ProposalRejected{Proposal: "ev-5", Kind: domain.ProposalTarget, ProposedBy: "reporter:区科委填报员",
			Reason: "市级任务未调整"},
		domain.EvWarningExplained: &domain.WarningExplained{Rule: "parts_sum", Figure: "ev-4",
			Reason: "累计安装与更换有重复计数，共计完成数以燃气集团台账为准"},
		domain.EvYearFrozen:     &domain.YearFrozen{Year: 2022, Note: "2022年度考核年终封存"},
		domain.EvUnitRegistered: &domain.UnitRegistered{Name: "怀柔区发展和改革委员会", Level: domain.UnitLevelDepartment, Parent: "huairou", Ancestors: []string{"beijing", "huairou"}},
		domain.EvYearReopened:   &domain.YearReopened{Year: 2022, Reason: "市统计局更正1-11月数据，重新核定"},
		domain.EvYearCalendarSet: &domain.YearCalendarSet{Year: 2022, MonthlyDueDay: 5, QuarterlyDueDay: 10, YearlyDue: "2023-01-31",
			Reason: "月督办、季调度"},
	}
}

func aggregateOf(name string) string {
	prefix, _, _ := strings.Cut(name, ".")
	return prefix
}

func envelopeFor(p domain.Pending, aggregateType string) domain.Envelope {
	return domain.Envelope{ID: "ev-1", Name: p.Name, SchemaVersion: p.SchemaVersion, AggregateType: aggregateType,
		AggregateID: "a-1", AggregateVersion: 1, Payload: p.Payload}
}

func TestEveryEventRoundTrips(t *testing.T) {
	samples := eventSamples()
	for _, name := range domain.EventNames() {
		t.Run(name, func(t *testing.T) {
			sample, ok := samples[name]
			if !ok {
				t.Fatalf("no sample for %s: add one to eventSamples and document it in docs/events.md", name)
			}
			p, err := domain.NewPending(sample)
			if err != nil {
				t.Fatalf("NewPending: %v", err)
			}
			version, _ := domain.SchemaVersion(name)
			if p.Name != name || p.SchemaVersion != version {
				t.Fatalf("pending %s v%d, want %s v%d", p.Name, p.SchemaVersion, name, version)
			}
			env := envelopeFor(p, aggregateOf(name))
			// Through the stored form of an envelope, as a reader meets it.
			b, err := json.Marshal(env)
			if err != nil {
				t.Fatal(err)
			}
			var stored domain.Envelope
			if err := json.Unmarshal(b, &stored); err != nil {
				t.Fatal(err)
			}
			got, err := domain.Decode(stored)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if reflect.TypeOf(got) != reflect.TypeOf(sample) || got.EventName() != name {
				t.Fatalf("decoded %T (%s), want %T", got, got.EventName(), sample)
			}
			if g, w := eventsJSON(t, []domain.Event{got}), eventsJSON(t, []domain.Event{sample}); g != w {
				t.Errorf("round trip changed the payload\n got %s\nwant %s", g, w)
			}

			wrong := domain.AggregateTask
			if aggregateOf(name) == domain.AggregateTask {
				wrong = domain.AggregateIndicator
			}
			assertDecodeError(t, envelopeFor(p, wrong), name)
		})
	}
	for name := range samples {
		if _, ok := domain.SchemaVersion(name); !ok {
			t.Errorf("sample %s is not a registered event", name)
		}
	}
}

func assertDecodeError(t *testing.T, env domain.Envelope, name string) {
	t.Helper()
	ev, err := domain.Decode(env)
	var de *domain.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("Decode(%s as %s v%d) = %v, %v; want a *DecodeError", env.Name, env.AggregateType, env.SchemaVersion, ev, err)
	}
	if de.Name != name || de.Reason == "" {
		t.Errorf("DecodeError{Name: %q, Reason: %q}, want name %q and a reason", de.Name, de.Reason, name)
	}
}

type unregisteredEvent struct{}

func (unregisteredEvent) EventName() string { return "task.renamed" }

func TestDecodeRefuses(t *testing.T) {
	payload := json.RawMessage(`{"reason":"重复登记"}`)
	env := func(name, typ string, version int, payload string) domain.Envelope {
		return domain.Envelope{Name: name, AggregateType: typ, SchemaVersion: version, Payload: json.RawMessage(payload)}
	}
	cases := []struct {
		name string
		env  domain.Envelope
	}{
		{"unknown name", env("task.renamed", domain.AggregateTask, 1, string(payload))},
		{"empty name", env("", domain.AggregateTask, 1, string(payload))},
		{"a task event on an indicator", env(domain.EvTaskWithdrawn, domain.AggregateIndicator, 1, string(payload))},
		{"an indicator event on a task", env(domain.EvIndicatorWithdrawn, domain.AggregateTask, 1, string(payload))},
		{"an unknown aggregate type", env(domain.EvTaskWithdrawn, "department", 1, string(payload))},
		{"schema version 0", env(domain.EvTaskWithdrawn, domain.AggregateTask, 0, string(payload))},
		{"a schema version from the future", env(domain.EvFigureReported, domain.AggregateIndicator, 3, `{}`)},
		{"a payload that is not JSON", env(domain.EvTaskWithdrawn, domain.AggregateTask, 1, `{"reason":`)},
		{"a field of the wrong type", env(domain.EvTaskRegistered, domain.AggregateTask, 1, `{"year":"二〇二二"}`)},
		{"a v1 figure whose source is not a string", env(domain.EvFigureReported, domain.AggregateIndicator, 1, `{"source":{"kind":"agency"},"value":"1"}`)},
		{"a v1 figure whose period is not a window", env(domain.EvFigureReported, domain.AggregateIndicator, 1, `{"period":"1-11月","value":"1"}`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { assertDecodeError(t, tc.env, tc.env.Name) })
	}

	if _, err := domain.NewPending(unregisteredEvent{}); err == nil {
		t.Error("NewPending accepted an unregistered event")
	}
}

func TestDecodeToleratesAddedFields(t *testing.T) {
	ev, err := domain.Decode(domain.Envelope{Name: domain.EvTaskWithdrawn, AggregateType: domain.AggregateTask, SchemaVersion: 1,
		Payload: json.RawMessage(`{"reason":"重复登记","withdrawn_by_batch":"import-7"}`)})
	if err != nil {
		t.Fatalf("a payload with a field added by a newer writer: %v", err)
	}
	if w, ok := ev.(*domain.TaskWithdrawn); !ok || w.Reason != "重复登记" {
		t.Errorf("decoded %#v", ev)
	}
}

func TestFigureReportedV1Upcast(t *testing.T) {
	cases := []struct {
		name string
		v1   string
		want *domain.FigureReported
	}{
		{
			name: "another agency over a Jan-Nov window",
			v1:   `{"period":"2022-01..2022-11","value":"3.6","quality":"provisional","source":"市科委","note":"1-11月"}`,
			want: &domain.FigureReported{Window: jan2Nov2022, Value: val("3.6"), Quality: domain.QualityProvisional,
				Source: domain.Source{Kind: domain.SourceAgency, Name: "市科委"}, Note: "1-11月"},
		},
		{
			name: "a whole year",
			v1:   `{"period":"2022","value":"610","quality":"estimate","source":"市科委","final_due":"2023-03-31"}`,
			want: &domain.FigureReported{Window: year2022, Value: val("610"), Quality: domain.QualityEstimate,
				Source: kewei, FinalDue: "2023-03-31"},
		},
		{
			name: "an empty source is the unit's own report",
			v1:   `{"period":"2022","value":"20","quality":"final","source":""}`,
			want: &domain.FigureReported{Window: year2022, Value: val("20"), Quality: domain.QualityFinal, Source: selfReport},
		},
		{
			name: "no source at all is the unit's own report",
			v1:   `{"period":"2022","value":"20","quality":"final"}`,
			want: &domain.FigureReported{Window: year2022, Value: val("20"), Quality: domain.QualityFinal, Source: selfReport},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := domain.Decode(domain.Envelope{Name: domain.EvFigureReported, SchemaVersion: 1,
				AggregateType: domain.AggregateIndicator, Payload: json.RawMessage(tc.v1)})
			if err != nil {
				t.Fatalf("Decode v1: %v", err)
			}
			got, ok := ev.(*domain.FigureReported)
			if !ok {
				t.Fatalf("decoded %T", ev)
			}
			if g, w := eventsJSON(t, []domain.Event{got}), eventsJSON(t, []domain.Event{tc.want}); g != w {
				t.Errorf("upcast\n got %s\nwant %s", g, w)
			}
		})
	}
	if v, _ := domain.SchemaVersion(domain.EvFigureReported); v != 2 {
		t.Errorf("figure_reported is at schema version %d; a new version needs an upcaster and a case here", v)
	}
}

// TestEventNamesAreStable: event names are stored with every event and are
// part of subjects and projections. This list changes only by adding.
func TestEventNamesAreStable(t *testing.T) {
	// Two constants with one value would not compile: duplicate map keys.
	constants := map[string]string{
		domain.EvTaskRegistered:           "task.registered",
		domain.EvTaskDeadlineChanged:      "task.deadline_changed",
		domain.EvTaskNarrativeRecorded:    "task.narrative_recorded",
		domain.EvTaskMilestoneReached:     "task.milestone_reached",
		domain.EvTaskProblemRecorded:      "task.problem_recorded",
		domain.EvTaskRectificationUpdated: "task.rectification_progressed",
		domain.EvTaskProblemClosed:        "task.problem_closed",
		domain.EvTaskCompleted:            "task.completed",
		domain.EvTaskWithdrawn:            "task.withdrawn",
		domain.EvIndicatorDefined:         "indicator.defined",
		domain.EvIndicatorTargetSet:       "indicator.target_set",
		domain.EvIndicatorBaseRecorded:    "indicator.base_recorded",
		domain.EvFigureReported:           "indicator.figure_reported",
		domain.EvFigureCorrected:          "indicator.figure_corrected",
		domain.EvFigureRetracted:          "indicator.figure_retracted",
		domain.EvIndicatorWithdrawn:       "indicator.withdrawn",
		domain.EvSnapshotRecorded:         "snapshot.recorded",
		domain.EvCheckpointRecorded:       "checkpoint.recorded",
		domain.EvFigureSubmitted:          "indicator.figure_submitted",
		domain.EvFigureApproved:           "indicator.figure_approved",
		domain.EvFigureReturned:           "indicator.figure_returned",
		domain.EvFigureReopened:           "indicator.figure_reopened",
		domain.EvBaseProposed:             "indicator.base_proposed",
		domain.EvTargetProposed:           "indicator.target_proposed",
		domain.EvProposalApproved:         "indicator.proposal_approved",
		domain.EvProposalRejected:         "indicator.proposal_rejected",
		domain.EvWarningExplained:         "indicator.warning_explained",
		domain.EvYearFrozen:               "year.frozen",
		domain.EvYearReopened:             "year.reopened",
		domain.EvYearCalendarSet:          "year.calendar_set",
		domain.EvKeyRotated:               "keyring.key_rotated",
		domain.EvFindingAcknowledged:      "audit.finding_acknowledged",
		domain.EvUnitRegistered:           "unit.registered",
	}
	for got, want := range constants {
		if got != want {
			t.Errorf("event name constant is %q, stored events say %q", got, want)
		}
	}
	want := []string{
		"audit.finding_acknowledged", "checkpoint.recorded",
		"indicator.base_proposed", "indicator.base_recorded", "indicator.defined", "indicator.figure_approved",
		"indicator.figure_corrected", "indicator.figure_reopened", "indicator.figure_reported", "indicator.figure_retracted",
		"indicator.figure_returned", "indicator.figure_submitted", "indicator.proposal_approved", "indicator.proposal_rejected",
		"indicator.target_proposed", "indicator.target_set", "indicator.warning_explained", "indicator.withdrawn",
		"keyring.key_rotated", "snapshot.recorded",
		"task.completed", "task.deadline_changed", "task.milestone_reached", "task.narrative_recorded",
		"task.problem_closed", "task.problem_recorded", "task.rectification_progressed", "task.registered", "task.withdrawn",
		"unit.registered", "year.calendar_set", "year.frozen", "year.reopened",
	}
	if got := domain.EventNames(); !slices.Equal(got, want) {
		t.Errorf("registered events changed:\n got %v\nwant %v", got, want)
	}
	for _, name := range want {
		wantVersion := 1
		if name == "indicator.figure_reported" {
			wantVersion = 2
		}
		if v, _ := domain.SchemaVersion(name); v != wantVersion {
			t.Errorf("%s is at schema version %d, want %d", name, v, wantVersion)
		}
	}
	if domain.AggregateTask != "task" || domain.AggregateIndicator != "indicator" {
		t.Errorf("aggregate types changed: %q, %q", domain.AggregateTask, domain.AggregateIndicator)
	}
}
