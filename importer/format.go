package importer

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// Format is the file format of an import.
type Format string

const (
	TSV  Format = "tsv"
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

var (
	zipMagic = []byte("PK\x03\x04")
	// The OLE container of pre-2007 .xls files: we say so instead of
	// misreading it as text.
	oleMagic = []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
	utf8BOM  = []byte("\xEF\xBB\xBF")
)

// DetectFormat decides the format from the content when the content is
// unambiguous (a zip container is XLSX whatever it is called), then from a
// .csv, .tsv or .tab name, then from the first lines' separators (tab, then
// comma); a .txt or .md without either is TSV. head is the first few KB of
// the file.
func DetectFormat(filename string, head []byte) (Format, error) {
	switch {
	case bytes.HasPrefix(head, zipMagic):
		return XLSX, nil
	case bytes.HasPrefix(head, oleMagic):
		return "", fmt.Errorf("%s: legacy .xls is not supported; save it as .xlsx", filename)
	}
	ext := strings.ToLower(filepath.Ext(filename))
	switch ext {
	case ".xlsx":
		return "", fmt.Errorf("%s: named .xlsx but is not a zip container", filename)
	case ".csv":
		return CSV, nil
	case ".tsv", ".tab":
		return TSV, nil
	}
	// A .txt or .md is whatever its separators say: Word tables paste as
	// tabs, some systems export commas under any name.
	text := bytes.TrimPrefix(head, utf8BOM)
	for _, line := range bytes.Split(text, []byte("\n")) {
		switch {
		case bytes.ContainsRune(line, '\t'):
			return TSV, nil
		case bytes.ContainsRune(line, ','):
			return CSV, nil
		}
	}
	if ext == ".txt" || ext == ".md" {
		return TSV, nil
	}
	return "", fmt.Errorf("%s: cannot tell the format (want .tsv, .csv or .xlsx)", filename)
}

// ParseFormat reads a format name as given on a command line.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimPrefix(s, "."))); f {
	case TSV, CSV, XLSX:
		return f, nil
	}
	return "", fmt.Errorf("format %q: want tsv, csv or xlsx", s)
}
