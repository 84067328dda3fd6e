package projections

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestStringArrayReadsAsJSONDoes: the board's fast path gives what
// encoding/json gives, or leaves the text to it.
func TestStringArrayReadsAsJSONDoes(t *testing.T) {
	for _, s := range []string{`[]`, `[""]`, `["区发改委","区财政局"]`, `["1. 已完成年度目标，共引进20家企业；落实“两区”建设"]`,
		`["a", "b"]`, `["a",]`, `["a"`, `[1]`, `null`, `["a\"b"]`, `["\u2028"]`, "[\"\x01\"]", "[\"\xff\"]", `["a","b","c"]`,
		`[",",","]`, `["]"]`} {
		var want []string
		wantErr := json.Unmarshal([]byte(s), &want)
		got, ok := stringArray(s, nil)
		if !ok {
			continue
		}
		if wantErr != nil || !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("%q: fast path %q, json %q (%v)", s, got, want, wantErr)
		}
	}
	var into []string
	if err := unmarshalText(`["甲","乙"]`, &into); err != nil || !slices.Equal(into, []string{"甲", "乙"}) {
		t.Errorf("unmarshalText: %q %v", into, err)
	}
}

func FuzzStringArray(f *testing.F) {
	f.Add(`["区发改委","区财政局"]`)
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := stringArray(s, nil)
		if !ok {
			return
		}
		var want []string
		if err := json.Unmarshal([]byte(s), &want); err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: fast path %q, json %q (%v)", s, got, want, err)
		}
	})
}
