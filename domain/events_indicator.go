package domain

import (
	"encoding/json"
	"fmt"
)

// Indicator events (aggregate "indicator").

type IndicatorDefined struct {
	TaskID string `json:"task_id"`
	Year   int    `json:"year"`
	// Key links the same measure across assessment years (an indicator is
	// defined per task and year; 2021's and 2022's accident counts share a key).
	Key           string    `json:"key"`
	Name          string    `json:"name"`
	Unit          string    `json:"unit,omitempty"`
	Direction     Direction `json:"direction"`
	Formula       Formula   `json:"formula,omitempty"`
	Additive      bool      `json:"additive,omitempty"` // a yearly flow that accrues month by month
	IsRate        bool      `json:"is_rate,omitempty"`  // a ratio or percentage: changes are in points
	AllowNegative bool      `json:"allow_negative,omitempty"`
	Cadence       string    `json:"cadence,omitempty"`  // monthly, quarterly, yearly, once
	Rounding      string    `json:"rounding,omitempty"` // half_up (default) or half_even
	Baseline      *Decimal  `json:"baseline,omitempty"` // for the reduction formula
	Description   string    `json:"description,omitempty"`
	// Added later, optional: the total this indicator is a part of, how
	// far a total's parts may miss it, the outlier band, and a conversion
	// from another unit of the key (see DefineIndicator).
	PartOf       string          `json:"part_of,omitempty"`
	SumTolerance *Decimal        `json:"sum_tolerance,omitempty"`
	OutlierBand  *Decimal        `json:"outlier_band,omitempty"`
	Conversion   *UnitConversion `json:"conversion,omitempty"`
	// UnitID is the assessed unit of the indicator's task, copied when it
	// is defined so the indicator's own history names it ("" for the
	// default unit); Unit above is the measurement unit (家, 亩, %).
	UnitID string `json:"unit_id,omitempty"`
}

// IndicatorTargetSet sets the first target or revises it (Revision true,
// reason required); the target it replaces is carried along for the audit.
type IndicatorTargetSet struct {
	Value     *Decimal `json:"value,omitempty"`
	Low       *Decimal `json:"low,omitempty"`
	High      *Decimal `json:"high,omitempty"`
	Milestone string   `json:"milestone,omitempty"`
	Revision  bool     `json:"revision"`
	Previous  *Target  `json:"previous,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Source    *Source  `json:"source,omitempty"`
}

// IndicatorBaseRecorded stores the comparison base for year over year (the
// previous year's figure for the same window). A restated base (按可比口径)
// is a new event that keeps the one it replaces.
type IndicatorBaseRecorded struct {
	Window   Window   `json:"window"`
	Value    Decimal  `json:"value"`
	Quality  Quality  `json:"quality"`
	Source   *Source  `json:"source,omitempty"`
	Restated bool     `json:"restated"`
	Previous *Decimal `json:"previous,omitempty"`
	Reason   string   `json:"reason,omitempty"`
}

// FigureReported is a reported figure. Supersedes names the report it
// replaces for the same window (an estimate turning final); that report
// stays stored and queryable.
type FigureReported struct {
	Window      Window   `json:"window"`
	Value       Decimal  `json:"value"`
	Numerator   *Decimal `json:"numerator,omitempty"`
	Denominator *Decimal `json:"denominator,omitempty"`
	Quality     Quality  `json:"quality"`
	Source      Source   `json:"source"`
	FinalDue    Date     `json:"final_due,omitempty"`
	Supersedes  string   `json:"supersedes,omitempty"`
	Note        string   `json:"note,omitempty"`
}

// FigureCorrected replaces a figure. It names the event it corrects and
// carries both values, so the audit trail needs nothing else.
type FigureCorrected struct {
	Corrects    string   `json:"corrects"`
	Window      Window   `json:"window"`
	OldValue    Decimal  `json:"old_value"`
	NewValue    Decimal  `json:"new_value"`
	OldQuality  Quality  `json:"old_quality"`
	NewQuality  Quality  `json:"new_quality"`
	Numerator   *Decimal `json:"numerator,omitempty"`
	Denominator *Decimal `json:"denominator,omitempty"`
	Source      Source   `json:"source"`
	Reason      string   `json:"reason"`
}

// FigureRetracted withdraws a figure; the window falls back to the figure
// the retracted one superseded, if any.
type FigureRetracted struct {
	Retracts string  `json:"retracts"`
	Window   Window  `json:"window"`
	OldValue Decimal `json:"old_value"`
	Reason   string  `json:"reason"`
}

type IndicatorWithdrawn struct {
	Reason string `json:"reason"`
}

func (IndicatorDefined) EventName() string      { return EvIndicatorDefined }
func (IndicatorTargetSet) EventName() string    { return EvIndicatorTargetSet }
func (IndicatorBaseRecorded) EventName() string { return EvIndicatorBaseRecorded }
func (FigureReported) EventName() string        { return EvFigureReported }
func (FigureCorrected) EventName() string       { return EvFigureCorrected }
func (FigureRetracted) EventName() string       { return EvFigureRetracted }
func (IndicatorWithdrawn) EventName() string    { return EvIndicatorWithdrawn }

func init() {
	register(AggregateIndicator, 1, func() Event { return &IndicatorDefined{} }, nil)
	register(AggregateIndicator, 1, func() Event { return &IndicatorTargetSet{} }, nil)
	register(AggregateIndicator, 1, func() Event { return &IndicatorBaseRecorded{} }, nil)
	register(AggregateIndicator, 2, func() Event { return &FigureReported{} }, map[int]upcaster{1: figureReportedV1toV2})
	register(AggregateIndicator, 1, func() Event { return &FigureCorrected{} }, nil)
	register(AggregateIndicator, 1, func() Event { return &FigureRetracted{} }, nil)
	register(AggregateIndicator, 1, func() Event { return &IndicatorWithdrawn{} }, nil)
}

// figureReportedV1toV2: version 1 named a figure's source as a bare string
// ("市科委") and its window as a period text ("2022" or "2022-01..2022-11").
// Version 2 needs the kind of source to rank provenance, and a structured
// window to compare like with like. A v1 name without a kind becomes
// "agency" when named and "self_reported" when empty.
func figureReportedV1toV2(in json.RawMessage) (json.RawMessage, error) {
	var v1 map[string]json.RawMessage
	if err := json.Unmarshal(in, &v1); err != nil {
		return nil, err
	}
	var src string
	if raw, ok := v1["source"]; ok {
		if err := json.Unmarshal(raw, &src); err != nil {
			return nil, fmt.Errorf("v1 source must be a string: %w", err)
		}
	}
	kind := SourceAgency
	if src == "" {
		kind = SourceSelfReported
	}
	s, _ := json.Marshal(Source{Kind: kind, Name: src})
	v1["source"] = s
	if raw, ok := v1["period"]; ok {
		var period string
		if err := json.Unmarshal(raw, &period); err != nil {
			return nil, fmt.Errorf("v1 period must be a string: %w", err)
		}
		w, err := ParseWindowKey(period)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(w)
		v1["window"] = b
		delete(v1, "period")
	}
	return json.Marshal(v1)
}

// ParseWindowKey reads Window.Key's text form back.
func ParseWindowKey(s string) (Window, error) {
	var w Window
	var toYear int
	if n, _ := fmt.Sscanf(s, "%d-%d..%d-%d", &w.Year, &w.FromMonth, &toYear, &w.ToMonth); n == 4 {
		// A window lies within one assessment year, and the text must be the
		// canonical form exactly: nothing trailing, nothing re-read loosely.
		if toYear != w.Year || fmt.Sprintf("%d-%02d..%d-%02d", w.Year, w.FromMonth, toYear, w.ToMonth) != s {
			return Window{}, Invalid("window", "format", "must be YYYY-MM..YYYY-MM within one year, got %q", s)
		}
		return w, w.Validate("window")
	}
	var y int
	if _, err := fmt.Sscanf(s, "%d", &y); err != nil || fmt.Sprint(y) != s {
		return Window{}, Invalid("window", "format", "must be YYYY or YYYY-MM..YYYY-MM, got %q", s)
	}
	w = YearWindow(y)
	return w, w.Validate("window")
}
