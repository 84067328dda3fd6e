package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"kpitrail/projections"
)

// addUnitReads adds the read commands of the unit hierarchy.
func addUnitReads(cmds map[string]readCommand) {
	cmds["units"] = readCommand{"the hierarchy of assessed units in my reach", noArgs("/v1/units"), printUnits}
	cmds["rollup"] = readCommand{"roll-up of a unit's subtree: completion, statuses, reports due, problems (--year --on)",
		func(fs *flag.FlagSet) func([]string) (string, error) {
			year := fs.Int("year", 0, "assessment year")
			on := fs.String("on", "", "the day reports are judged on, YYYY-MM-DD (default today)")
			declareArgs(fs, "unit-id")
			return func(args []string) (string, error) {
				if len(args) != 1 {
					return "", fmt.Errorf("name one unit")
				}
				v := url.Values{}
				setIf(v, "year", *year != 0, strconv.Itoa(*year))
				setIf(v, "on", *on != "", *on)
				return "/v1/units/" + url.PathEscape(args[0]) + "/rollup?" + v.Encode(), nil
			}
		}, printRollup}
	cmds["ranking"] = readCommand{"units ranked on an indicator key and year (--key --year --unit)",
		func(fs *flag.FlagSet) func([]string) (string, error) {
			key := fs.String("key", "", "indicator key")
			year := fs.Int("year", 0, "assessment year")
			unit := fs.String("unit", "", "only this unit's subtree")
			requireFlags(fs, "key", "year")
			return func([]string) (string, error) {
				if *key == "" || *year == 0 {
					return "", fmt.Errorf("--key and --year are required")
				}
				v := url.Values{}
				v.Set("key", *key)
				v.Set("year", strconv.Itoa(*year))
				setIf(v, "unit", *unit != "", *unit)
				return "/v1/rankings?" + v.Encode(), nil
			}
		}, printRanking}
}

func printUnits(m *Main, raw json.RawMessage) error {
	var res struct {
		Units []projections.Unit `json:"units"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	t := &table{header: []string{"单位", "名称", "层级", "上级", "任务"}}
	for _, u := range res.Units {
		indent := strings.Repeat("  ", max(len(u.Path)-1, 0))
		t.add(indent+u.ID, u.Name, u.Level, u.Parent, strconv.Itoa(u.Tasks))
	}
	t.write(m.Stdout)
	return nil
}

func printRollup(m *Main, raw json.RawMessage) error {
	var res projections.UnitRollup
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s %s，截至 %s\n", res.Unit.ID, res.Unit.Name, res.On)
	t := &table{header: []string{"单位", "任务", "已完成", "指标", "达标", "完成率%", "逾期未报", "迟报", "问题", "未整改"}}
	line := func(name string, c projections.RollupCounts) {
		t.add(name, strconv.Itoa(c.Tasks), strconv.Itoa(c.TasksCompleted), strconv.Itoa(c.Indicators), strconv.Itoa(c.IndicatorsMet),
			c.CompletionPct, strconv.Itoa(c.ReportsOverdue), strconv.Itoa(c.ReportsLate), strconv.Itoa(c.Problems), strconv.Itoa(c.ProblemsOpen))
	}
	line("合计", res.Total)
	line("本级", res.Own)
	for _, c := range res.Children {
		line(c.Unit.Name, c.RollupCounts)
	}
	t.write(m.Stdout)
	return nil
}

func printRanking(m *Main, raw json.RawMessage) error {
	var res projections.Ranking
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s，%d年\n", res.Key, res.Year)
	t := &table{header: []string{"名次", "单位", "数值", "目标", "完成率%", "质量", "状态"}}
	for _, l := range res.Units {
		rank := "-"
		if l.Rank > 0 {
			rank = strconv.Itoa(l.Rank)
		}
		t.add(rank, l.UnitName, l.Value, l.Target, l.CompletionPct, l.Quality, l.Status)
	}
	t.write(m.Stdout)
	return nil
}
