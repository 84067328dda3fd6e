// Package export writes kpitrail's read models and its event log as files
// for analysts: CSV, JSON Lines and Parquet, with a manifest that names
// the log position they describe and the SHA-256 of every file.
//
// CSV and JSON Lines hold the read models' own values (docs/readmodels.md):
// exact decimals stay text, REAL appears only in the `_f` columns that
// already are REAL, and NULL stays NULL wherever the format can say so.
// Parquet types the same values (types.go): exact decimals as DECIMAL,
// never a float, instants as TIMESTAMP to the nanosecond, days as DATE,
// 0/1 flags as BOOLEAN; read_csv.sql gives the CSV files those types in
// DuckDB. docs/exports.md is the analysts' side of this package.
package export

import (
	"slices"
	"strings"

	"kpitrail/domain"
)

// The file formats. Their names are the file extensions.
const (
	FormatCSV     = "csv"
	FormatJSONL   = "jsonl"
	FormatParquet = "parquet"
)

// Formats lists every format, in the order a default export writes them.
var Formats = []string{FormatCSV, FormatJSONL, FormatParquet}

// StoredEvents is the table name of the event log as the store holds it
// (one row per event). It is not a read-model table: it comes from the
// log, so it also holds the events the read models dead-lettered.
const StoredEvents = "stored_events"

// BOM is the UTF-8 byte order mark. Excel reads a CSV file as the local
// code page (GBK on a Chinese Windows) unless the file starts with it;
// every other reader is better off without it, so it is opt-in.
const BOM = "\ufeff"

// ContentType is the media type of a format, for HTTP responses.
func ContentType(format string) string {
	switch format {
	case FormatCSV:
		return "text/csv; charset=utf-8; header=present"
	case FormatJSONL:
		return "application/jsonl; charset=utf-8"
	case FormatParquet:
		return "application/vnd.apache.parquet"
	case "sql": // CSVViewsName
		return "application/sql; charset=utf-8"
	}
	return "application/octet-stream"
}

func checkFormat(format string) error {
	if !slices.Contains(Formats, format) {
		return domain.Invalid("format", "enum", "unknown export format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	return nil
}
