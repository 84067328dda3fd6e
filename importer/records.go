package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// record is one row of a file with the line users see: the text line for
// TSV and CSV (a quoted CSV cell may span lines; the record's line is where
// it starts), the row number for XLSX.
type record struct {
	line  int
	cells []string
}

// maxImportBytes bounds what one import may read: a self-check table is a
// few hundred KB, and an unbounded read is a way to exhaust memory.
const maxImportBytes = 32 << 20

func readRecords(r io.Reader, format Format) ([]record, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read import: %w", err)
	}
	if len(data) > maxImportBytes {
		return nil, fmt.Errorf("import is larger than %d MB", maxImportBytes>>20)
	}
	switch format {
	case TSV:
		return tsvRecords(data), nil
	case CSV:
		return csvRecords(data)
	case XLSX:
		return xlsxRecords(data)
	}
	return nil, fmt.Errorf("format %q: want tsv, csv or xlsx", format)
}

// tsvRecords splits on tabs only: TSV as exported from Word tables has no
// quoting, and a “ or " inside a cell is text.
func tsvRecords(data []byte) []record {
	data = bytes.TrimPrefix(data, utf8BOM)
	var out []record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), maxImportBytes)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		out = append(out, record{line: n, cells: strings.Split(line, "\t")})
	}
	return out
}

func csvRecords(data []byte) ([]record, error) {
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	cr.FieldsPerRecord = -1 // a title row has one cell, data rows four
	var out []record
	for {
		cells, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			// csv.ParseError already names the line and column.
			return nil, fmt.Errorf("csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if !allBlank(cells) {
			out = append(out, record{line: line, cells: cells})
		}
	}
}

// xlsxRecords reads the first sheet. Raw values keep numbers as stored
// (30.94, not a display format's 30.9); merged cells read as blank below
// their first row, which is how the table writes a continued dimension.
func xlsxRecords(data []byte) ([]record, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errors.New("xlsx: the workbook has no sheet")
	}
	rows, err := f.GetRows(sheets[0], excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, fmt.Errorf("xlsx sheet %q: %w", sheets[0], err)
	}
	var out []record
	for i, cells := range rows {
		if !allBlank(cells) {
			out = append(out, record{line: i + 1, cells: cells})
		}
	}
	return out, nil
}

func allBlank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// cell returns cells[i], or "" past the end: spreadsheets drop trailing
// empty cells.
func cell(cells []string, i int) string {
	if i < 0 || i >= len(cells) {
		return ""
	}
	return cells[i]
}
