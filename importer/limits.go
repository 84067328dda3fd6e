package importer

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"kpitrail/domain"
)

// Limits bound what reading one file may cost. Zero fields take the
// defaults.
type Limits struct {
	// MaxBytes bounds the file as uploaded. Default 32 MiB.
	MaxBytes int64
	// MaxUnzipped bounds an XLSX workbook's parts as unzipped, all of them
	// together. Default 64 MiB. A workbook is a zip archive, and a few
	// megabytes of it can inflate to gigabytes; the limit is checked
	// against the sizes the archive declares before anything is inflated
	// (archive/zip refuses a part that inflates past its declared size).
	MaxUnzipped int64
}

// DefaultLimits are the limits ParseTable and PlanFigures read with.
var DefaultLimits = Limits{MaxBytes: 32 << 20, MaxUnzipped: 64 << 20}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxUnzipped <= 0 {
		l.MaxUnzipped = DefaultLimits.MaxUnzipped
	}
	return l
}

// maxColumns is the most columns a sheet may use: the widest we read has
// 19 (see checkWorkbook).
const maxColumns = 64

// xlsxOptions are excelize's own limits: the whole archive as declared,
// and the size above which a sheet is unzipped to a temporary file and
// read from there instead of held in memory.
func (l Limits) xlsxOptions() excelize.Options {
	xml := min(l.MaxUnzipped, 16<<20)
	return excelize.Options{RawCellValue: true, UnzipSizeLimit: l.MaxUnzipped, UnzipXMLSizeLimit: xml}
}

// tooLarge is the 413 of a file or workbook past a limit.
func tooLarge(rule, format string, args ...any) error {
	return &domain.Error{Code: domain.ETOOLARGE, Field: "file", Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// xlsxError names excelize's refusal of an archive past the limit. excelize
// (v2.9.1) builds that error with fmt.Errorf and exports nothing to compare
// it with, so its text is the only way to know it.
func xlsxError(err error, l Limits) error {
	if strings.HasPrefix(err.Error(), "unzip size exceeds the ") {
		return tooLarge("max_unzipped_bytes", "the workbook unzips to more than %d MiB; split it or save it as CSV", l.MaxUnzipped>>20)
	}
	return fmt.Errorf("xlsx: %w", err)
}

// Encoding names the text encoding of a TSV or CSV file.
type Encoding string

const (
	UTF8    Encoding = "utf-8"
	UTF8BOM Encoding = "utf-8-bom"
)

// detectEncoding accepts UTF-8, with or without a byte order mark, and
// refuses anything else by name. GBK and GB18030 (what Excel on Chinese
// Windows writes for "CSV") are refused, not converted: a file in another
// legacy encoding, or a damaged UTF-8 file, mostly also decodes as
// GB18030, into plausible but wrong Han characters that would enter the
// audit log under the uploader's name for good. Saving as "CSV UTF-8"
// costs the user one step and leaves no doubt.
func detectEncoding(data []byte) (Encoding, error) {
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		if !utf8.Valid(data[len(utf8BOM):]) {
			return "", encodingError("starts with a UTF-8 byte order mark but is not valid UTF-8 (byte %d)", badUTF8(data))
		}
		return UTF8BOM, nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return "", encodingError("is UTF-16 (Excel's \"Unicode text\"); save it as CSV UTF-8 or convert it to UTF-8")
	case utf8.Valid(data):
		return UTF8, nil
	case looksGB18030(data):
		return "", encodingError("looks like GBK/GB18030, not UTF-8; convert it to UTF-8 (Excel: 另存为 \"CSV UTF-8(逗号分隔)\"; or iconv -f GB18030 -t UTF-8)")
	}
	return "", encodingError("is not UTF-8 (byte %d) and its encoding is not recognised; convert it to UTF-8", badUTF8(data))
}

func encodingError(format string, args ...any) error {
	return &domain.Error{Code: domain.EUNSUPPORTED, Field: "file", Rule: "encoding", Message: "the file " + fmt.Sprintf(format, args...)}
}

func badUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// looksGB18030 reports whether data is well-formed GB18030 (of which GBK
// is the two-byte part) with at least one multi-byte character.
func looksGB18030(data []byte) bool {
	multi := false
	for i := 0; i < len(data); {
		b := data[i]
		switch {
		case b < 0x80:
			i++
		case b >= 0x81 && b <= 0xFE && i+1 < len(data) && data[i+1] >= 0x40 && data[i+1] <= 0xFE && data[i+1] != 0x7F:
			i, multi = i+2, true
		case b >= 0x81 && b <= 0xFE && i+3 < len(data) && data[i+1] >= 0x30 && data[i+1] <= 0x39 &&
			data[i+2] >= 0x81 && data[i+2] <= 0xFE && data[i+3] >= 0x30 && data[i+3] <= 0x39:
			i, multi = i+4, true
		default:
			return false
		}
	}
	return multi
}

// cellRef finds a cell's column in worksheet XML: <c r="AB12"...>, with
// any namespace prefix and either quote.
var cellRef = regexp.MustCompile(`<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br\s*=\s*["']([A-Za-z]{1,3})[0-9]`)

// checkWorkbook looks at an XLSX archive before excelize opens it: the
// parts together must unzip to at most lim.MaxUnzipped (as declared;
// archive/zip refuses a part that inflates past its declared size), and no
// cell may lie right of maxColumns. excelize pads every row it reads with
// an empty string per column up to its last cell, so a sheet of short rows
// each holding one cell at XFD costs 16,384 strings a row: megabytes of
// XML that take hours of CPU.
func checkWorkbook(data []byte, lim Limits) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil // not a zip: excelize says what is wrong
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(lim.MaxUnzipped) {
			return tooLarge("max_unzipped_bytes", "the workbook unzips to more than %d MiB; split it or save it as CSV", lim.MaxUnzipped>>20)
		}
	}
	for _, f := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		if !strings.HasPrefix(name, "xl/worksheets/") || !strings.HasSuffix(name, ".xml") {
			continue
		}
		if err := checkSheetColumns(f); err != nil {
			return err
		}
	}
	return nil
}

func checkSheetColumns(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	// Chunks overlap by more than a cell tag's start, so no reference is
	// cut in two unseen.
	const chunk, overlap = 1 << 20, 512
	buf := make([]byte, 0, chunk+overlap)
	for {
		n, err := io.ReadFull(rc, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		for _, m := range cellRef.FindAllSubmatch(buf, -1) {
			if col, cerr := excelize.ColumnNameToNumber(string(m[1])); cerr == nil && col > maxColumns {
				return &domain.Error{Code: domain.EINVALID, Field: "file", Rule: "max_columns",
					Message: fmt.Sprintf("a cell in column %s lies beyond column %d; a sheet may use at most %d columns", strings.ToUpper(string(m[1])), maxColumns, maxColumns)}
			}
		}
		if err != nil {
			return nil // the end, or a damaged part excelize will report
		}
		keep := buf[len(buf)-min(overlap, len(buf)):]
		buf = append(buf[:0], keep...)
	}
}
