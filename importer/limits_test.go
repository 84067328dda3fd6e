package importer

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"kpitrail/domain"
)

// workbookWithSheet returns an XLSX whose first sheet's XML is written by
// rows: a real workbook from excelize with its sheet part replaced.
func workbookWithSheet(t testing.TB, rows func(w io.Writer)) []byte {
	t.Helper()
	f := excelize.NewFile()
	base, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(base.Bytes()), int64(base.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, part := range zr.File {
		w, err := zw.Create(part.Name)
		if err != nil {
			t.Fatal(err)
		}
		if part.Name == "xl/worksheets/sheet1.xml" {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
			rows(w)
			io.WriteString(w, `</sheetData></worksheet>`)
			continue
		}
		rc, _ := part.Open()
		io.Copy(w, rc)
		rc.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestDecompressionBombIsRefusedUnread: a sheet that inflates to 64 MiB
// from a few hundred KB is refused from the sizes the archive declares, as
// too large, naming the limit.
func TestDecompressionBombIsRefusedUnread(t *testing.T) {
	row := []byte(`<row><c t="inlineStr"><is><t>高新技术企业保有量高新技术企业保有量</t></is></c></row>`)
	bomb := workbookWithSheet(t, func(w io.Writer) {
		for n := 0; n < 64<<20; n += len(row) {
			w.Write(row)
		}
	})
	start := time.Now()
	_, err := PlanFiguresWith(bytes.NewReader(bomb), XLSX, Limits{MaxUnzipped: 16 << 20})
	e, ok := domain.AsError(err)
	if !ok || e.Code != domain.ETOOLARGE || e.Rule != "max_unzipped_bytes" {
		t.Fatalf("%d KB bomb: %v", len(bomb)>>10, err)
	}
	t.Logf("%d KB inflating to 64 MiB refused in %v", len(bomb)>>10, time.Since(start))
}

// TestWideSheetIsRefused: cells addressed at the last column (XFD) would
// make excelize pad every row to 16,384 cells; such a sheet is refused
// before it is read, also with a namespace prefix and single quotes.
func TestWideSheetIsRefused(t *testing.T) {
	wide := workbookWithSheet(t, func(w io.Writer) {
		io.WriteString(w, `<row r="1"><c r="A1" t="inlineStr"><is><t>indicator_id</t></is></c></row>`)
		for r := 2; r <= 2000; r++ {
			fmt.Fprintf(w, `<row r="%d"><c r="XFD%d"><v>1</v></c></row>`, r, r)
		}
	})
	prefixed := workbookWithSheet(t, func(w io.Writer) {
		io.WriteString(w, `<x:row r='1'><x:c r='BM1'><x:v>1</x:v></x:c></x:row>`)
	})
	narrow := workbookWithSheet(t, func(w io.Writer) {
		io.WriteString(w, `<row r="1"><c r="BL1" t="inlineStr"><is><t>indicator_id</t></is></c></row>`)
	})
	for _, data := range [][]byte{wide, prefixed} {
		_, _, err := readRecords(bytes.NewReader(data), XLSX, DefaultLimits)
		if e, ok := domain.AsError(err); !ok || e.Rule != "max_columns" {
			t.Fatalf("%v", err)
		}
	}
	if recs, _, err := readRecords(bytes.NewReader(narrow), XLSX, DefaultLimits); err != nil || len(recs) != 1 || len(recs[0].cells) != maxColumns {
		t.Fatalf("64 columns: %v %v", recs, err)
	}
}

func TestEncodingIsDetectedAndNamed(t *testing.T) {
	header := "indicator_id,task_id,name\n"
	gbk := append([]byte(header), 'i', '1', ',', 't', ',', 0xD6, 0xB8, 0xB1, 0xEA, '\n') // 指标 in GBK
	cases := []struct {
		name string
		data []byte
		enc  Encoding
		want string // in the refusal
	}{
		{"UTF-8", []byte(header + "i1,t,指标\n"), UTF8, ""},
		{"UTF-8 with BOM", append(append([]byte{}, utf8BOM...), header+"i1,t,指标\n"...), UTF8BOM, ""},
		{"GBK", gbk, "", "GBK/GB18030"},
		{"UTF-16", append([]byte{0xFF, 0xFE}, []byte("i\x00d\x00")...), "", "UTF-16"},
		{"Latin-1", []byte(header + "i1,t,caf\xe9\n"), "", "is not UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, enc, err := readRecords(bytes.NewReader(tc.data), CSV, DefaultLimits)
			if tc.want == "" {
				if err != nil || enc != tc.enc {
					t.Fatalf("%q %v", enc, err)
				}
				return
			}
			e, ok := domain.AsError(err)
			if !ok || e.Code != domain.EUNSUPPORTED || e.Field != "file" || e.Rule != "encoding" || !strings.Contains(e.Message, tc.want) {
				t.Fatalf("%v", err)
			}
		})
	}
}
