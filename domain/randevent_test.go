package domain

import (
	"math/rand/v2"
	"reflect"
)

var appendedTexts = []string{
	"", "区科委", "本数据为月度预计数，最终以市科委反馈为准", "（一）已完成“双随机”检查；（二）全角：ＡＢＣ１２３。",
	"<b>&amp;</b>", "line\u2028sep\u2029", "tab\tnew\nline\x00\x1f\x7f", `"quoted" \back\`, "bad \xff utf8",
	"\xe4\xb8", "emoji 🚀", "2024-06-30", "estimate", "final", "self_reported", "0192f3a4-5b6c-7d8e-9f01-23456789abcd",
}

var appendedDecimals = []string{"0", "0.00", "-0.5", "719", "77.50", "1e3", "1E-2", "-123456789012345678901234.5678901234",
	"0.000000000000000001", "99999999999999999999999999999999.99"}

// randValue fills a value of t with what commands carry and what JSON
// treats specially: Chinese text, escapes, invalid UTF-8, nil, empty and
// full slices, nil and set pointers, Decimals of every scale.
func randValue(r *rand.Rand, t reflect.Type) reflect.Value {
	v := reflect.New(t).Elem()
	if t == reflect.TypeFor[Decimal]() {
		if r.IntN(8) > 0 {
			v.Set(reflect.ValueOf(MustDecimal(appendedDecimals[r.IntN(len(appendedDecimals))])))
		}
		return v
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(appendedTexts[r.IntN(len(appendedTexts))])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(r.IntN(5000)) - 1000)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(r.Uint64() >> r.IntN(64))
	case reflect.Pointer:
		if r.IntN(3) > 0 {
			p := reflect.New(t.Elem())
			p.Elem().Set(randValue(r, t.Elem()))
			v.Set(p)
		}
	case reflect.Slice:
		switch r.IntN(3) {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(t, 0, 0))
		default:
			n := 1 + r.IntN(3)
			s := reflect.MakeSlice(t, n, n)
			for i := range n {
				s.Index(i).Set(randValue(r, t.Elem()))
			}
			v.Set(s)
		}
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				v.Field(i).Set(randValue(r, t.Field(i).Type))
			}
		}
	}
	return v
}
