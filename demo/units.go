package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strings"

	"kpitrail/domain"
	"kpitrail/importer"
)

// CityID and CityName are the city the demo's districts belong to when it
// loads more than the seed's district (serve --demo --units N).
const (
	CityID   = "beijing"
	CityName = "北京市"
)

// districtNames name the demo's extra districts in order; past them a
// district is named by its number.
var districtNames = []string{"东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "门头沟区", "房山区", "通州区", "顺义区",
	"昌平区", "大兴区", "平谷区", "密云区", "延庆区"}

// DistrictID is the id of the demo's k-th extra district (1-based).
func DistrictID(k int) string { return fmt.Sprintf("d%02d", k) }

// DistrictName is its name.
func DistrictName(k int) string {
	if k <= len(districtNames) {
		return districtNames[k-1]
	}
	return fmt.Sprintf("第%d区", k)
}

// UnitSteps returns the demo's steps for the seed's district and n more
// districts of one city: the city, the seed's district placed in it (the
// default unit, registered under the city) and each district registered;
// every district then runs the seed district's steps with its own task and
// indicator ids (prefixed with its id), its tasks in its unit and its
// figures scaled by a factor of its own (deterministic, 0.80 to 1.20,
// rounded to the figure's own places; ratios given as numerator and
// denominator, and percentages, are left alone). The year is frozen once,
// after every district. With n 0 the steps are Commands(year).
func UnitSteps(year, n int) ([]Step, error) {
	base, err := Commands(year)
	if err != nil || n <= 0 {
		return base, err
	}
	freeze := base[len(base)-1]
	if _, ok := freeze.Command.(domain.FreezeYear); !ok {
		return nil, fmt.Errorf("demo: the last step is %s, not the year's freeze", freeze.Command.CommandName())
	}
	base = base[:len(base)-1]
	steps := append([]Step(nil), base...)
	unitStep := func(c domain.RegisterUnit) {
		steps = append(steps, Step{Key: keyPrefix + "unit-" + c.UnitID, Command: c})
	}
	unitStep(domain.RegisterUnit{UnitID: CityID, Name: CityName, Level: domain.UnitLevelCity})
	unitStep(domain.RegisterUnit{UnitID: domain.DefaultUnitID, Name: domain.DefaultUnitName, Level: domain.UnitLevelDistrict, Parent: CityID})
	unscaled := unscaledIndicators(year)
	for k := 1; k <= n; k++ {
		unit := DistrictID(k)
		unitStep(domain.RegisterUnit{UnitID: unit, Name: DistrictName(k), Level: domain.UnitLevelDistrict, Parent: CityID})
		factor := big.NewRat(80+int64((k*37)%41), 100)
		for _, s := range base {
			cmd, err := inDistrict(s.Command, unit, factor, unscaled)
			if err != nil {
				return nil, fmt.Errorf("demo district %s: %w", unit, err)
			}
			d := Step{Key: unit + "-" + s.Key, Command: cmd, Department: s.Department}
			if s.FigureOf != "" {
				d.FigureOf = unit + "-" + s.FigureOf
			}
			steps = append(steps, d)
		}
	}
	return append(steps, freeze), nil
}

// unscaledIndicators are the ids of the indicators whose figures stay as
// the seed's: percentages and ratios given as numerator and denominator.
func unscaledIndicators(year int) map[string]bool {
	out := map[string]bool{}
	for _, list := range [][]ind{indicatorsA, indicatorsB, indicatorsC} {
		for _, in := range list {
			if in.unit == "%" || (in.fig != nil && in.fig.num != "") {
				out[IndicatorID(year, in.slug)] = true
			}
		}
	}
	return out
}

// inDistrict is a seed district's command rewritten for another district:
// its ids prefixed, a task registered in the unit, a figure scaled.
func inDistrict(cmd domain.Command, unit string, factor *big.Rat, unscaled map[string]bool) (domain.Command, error) {
	raw, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	indicator, _ := m["indicator_id"].(string)
	for _, f := range []string{"task_id", "indicator_id", "part_of"} {
		if v, ok := m[f].(string); ok && v != "" {
			m[f] = unit + "-" + v
		}
	}
	switch cmd.CommandName() {
	case "task.register":
		m["unit_id"] = unit
	case "indicator.report_figure", "indicator.correct_figure":
		if v, ok := m["value"].(string); ok && !unscaled[indicator] && m["numerator"] == nil {
			scaled, err := scale(v, factor)
			if err != nil {
				return nil, err
			}
			m["value"] = scaled
		}
	}
	if raw, err = json.Marshal(m); err != nil {
		return nil, err
	}
	ptr, ok := domain.NewCommand(cmd.CommandName())
	if !ok {
		return nil, fmt.Errorf("no command %s", cmd.CommandName())
	}
	if err := json.Unmarshal(raw, ptr); err != nil {
		return nil, err
	}
	// Back to a value, as the seed's steps are (reviewing switches on them).
	return reflect.ValueOf(ptr).Elem().Interface().(domain.Command), nil
}

// scale multiplies a decimal by factor, rounded half up to its own places.
func scale(v string, factor *big.Rat) (string, error) {
	d, err := domain.ParseDecimal(v)
	if err != nil {
		return "", err
	}
	places := 0
	if i := strings.IndexByte(d.String(), '.'); i >= 0 {
		places = len(d.String()) - i - 1
	}
	return domain.RoundRat(new(big.Rat).Mul(d.Rat(), factor), places, domain.HalfUp).String(), nil
}

// RunUnits is Run over UnitSteps: the seed's district and n more.
func RunUnits(ctx context.Context, exec importer.Executor, year, n int, as As) error {
	steps, err := UnitSteps(year, n)
	if err != nil {
		return err
	}
	return runSteps(ctx, exec, steps, as)
}
