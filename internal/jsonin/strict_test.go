package jsonin_test

import (
	"testing"

	"kpitrail/domain"
	"kpitrail/internal/jsonin"
)

func TestStrictRefusals(t *testing.T) {
	fig := func(value string) string {
		return `{"indicator_id":"i","window":{"year":2022,"from_month":1,"to_month":11},"value":` + value + `,"quality":"provisional","source":{"kind":"self_reported"}}`
	}
	cases := []struct {
		name, body  string
		field, rule string
	}{
		{"duplicate key", `{"indicator_id":"i","value":"5","value":"6","window":{"year":2022},"quality":"final","source":{"kind":"self_reported"}}`, "value", "duplicate_key"},
		{"duplicate nested key", fig(`"5"`)[:len(fig(`"5"`))-1] + `,"window":{"year":2022,"year":2023}}`, "window", "duplicate_key"},
		{"duplicate inside nested object", `{"indicator_id":"i","window":{"year":2022,"year":2023},"value":"5","quality":"final","source":{"kind":"self_reported"}}`, "window.year", "duplicate_key"},
		{"key in other case", `{"indicator_id":"i","window":{"year":2022},"VALUE":"5","quality":"final","source":{"kind":"self_reported"}}`, "VALUE", "key_case"},
		{"keys differing only in case", `{"indicator_id":"i","window":{"year":2022},"value":"5","Value":"6","quality":"final","source":{"kind":"self_reported"}}`, "Value", "key_case"},
		{"nested key in other case", `{"indicator_id":"i","window":{"Year":2022},"value":"5","quality":"final","source":{"kind":"self_reported"}}`, "window.Year", "key_case"},
		{"lone high surrogate", fig(`"\ud800"`), "value", "utf16_escape"},
		{"lone low surrogate", fig(`"\udc00"`), "value", "utf16_escape"},
		{"high surrogate then a letter", `{"indicator_id":"i\ud83dx","window":{"year":2022},"value":"5","quality":"final","source":{"kind":"self_reported"}}`, "indicator_id", "utf16_escape"},
		{"surrogate in a key", `{"indicator_id":"i","\ud800":1}`, "body", "utf16_escape"},
		{"unknown nested field", `{"indicator_id":"i","window":{"year":2022,"quarter":4},"value":"5","quality":"final","source":{"kind":"self_reported"}}`, "window.quarter", "unknown_field"},
		{"too deep", `{"indicator_id":"i","note":` + repeat("[", 40) + repeat("]", 40) + `}`, "note" + repeat("[0]", 32), "max_depth"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd, _ := domain.NewCommand("indicator.report_figure")
			err := jsonin.Decode([]byte(tc.body), cmd)
			e, ok := domain.AsError(err)
			if !ok || e.Field != tc.field || e.Rule != tc.rule {
				t.Fatalf("got %v, want field %s rule %s", err, tc.field, tc.rule)
			}
		})
	}
}

func TestStrictAccepts(t *testing.T) {
	for _, body := range []string{
		`{"indicator_id":"i","window":{"year":2022},"value":"5","quality":"final","source":{"kind":"self_reported","name":"区统计局 \ud83d\ude00 \u533a \"引号\" \\ \/"}}`,
		`{"indicator_id":"i","window":{"year":2022},"value":"5","quality":"final","source":{"kind":"self_reported","name":"（全角：“两区”）"}}`,
	} {
		cmd, _ := domain.NewCommand("indicator.report_figure")
		if err := jsonin.Decode([]byte(body), cmd); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}
