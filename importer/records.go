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

// readRecords reads a file's rows within lim, and for TSV and CSV the
// text encoding it found.
func readRecords(r io.Reader, format Format, lim Limits) ([]record, Encoding, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read import: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, "", tooLarge("max_bytes", "the file is larger than %d MiB", lim.MaxBytes>>20)
	}
	if format == XLSX {
		recs, err := xlsxRecords(data, lim)
		return recs, "", err
	}
	enc, err := detectEncoding(data)
	if err != nil {
		return nil, "", err
	}
	switch format {
	case TSV:
		return tsvRecords(data, lim), enc, nil
	case CSV:
		recs, err := csvRecords(data)
		return recs, enc, err
	}
	return nil, "", fmt.Errorf("format %q: want tsv, csv or xlsx", format)
}

// tsvRecords splits on tabs only: TSV as exported from Word tables has no
// quoting, and a “ or " inside a cell is text.
func tsvRecords(data []byte, lim Limits) []record {
	data = bytes.TrimPrefix(data, utf8BOM)
	var out []record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), int(lim.MaxBytes))
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
// Rows are read one at a time; checkWorkbook has made sure none is wider
// than maxColumns.
func xlsxRecords(data []byte, lim Limits) ([]record, error) {
	if err := checkWorkbook(data, lim); err != nil {
		return nil, err
	}
	opts := lim.xlsxOptions()
	f, err := excelize.OpenReader(bytes.NewReader(data), opts)
	if err != nil {
		return nil, xlsxError(err, lim)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errors.New("xlsx: the workbook has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("xlsx sheet %q: %w", sheets[0], xlsxError(err, lim))
	}
	defer rows.Close()
	var out []record
	for i := 1; rows.Next(); i++ {
		cells, err := rows.Columns(opts)
		if err != nil {
			return nil, fmt.Errorf("xlsx sheet %q row %d: %w", sheets[0], i, err)
		}
		if !allBlank(cells) {
			out = append(out, record{line: i, cells: cells})
		}
	}
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("xlsx sheet %q: %w", sheets[0], err)
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
