package export

import (
	"fmt"
	"strings"
)

// logical is what a column's values mean beyond SQLite's storage class:
// an exact decimal, an instant, a day, a boolean or JSON kept as TEXT or
// INTEGER in the read models (docs/readmodels.md, "Conventions"). It
// decides the column's Parquet type and its cast in read_csv.sql; CSV and
// JSON Lines keep the read models' own values.
type logical string

const (
	// logicalPlain: the storage class says it all (INT64, DOUBLE, STRING,
	// BYTE_ARRAY).
	logicalPlain logical = ""
	// logicalDecimal: an exact decimal whose scale is the one it was
	// written with ("77.50" is not "77.5"). DECIMAL(38,18) holds every
	// scale the domain accepts (domain.DecimalMaxScale), and the text as
	// written stays beside it in <name>_text.
	logicalDecimal logical = "decimal"
	// logicalRatio: a derived ratio, rounded to 6 places by the domain.
	logicalRatio logical = "ratio"
	// logicalDisplay1 and logicalDisplay0: display figures rounded to 1
	// and 0 places ("84.8", "99").
	logicalDisplay1 logical = "display1"
	logicalDisplay0 logical = "display0"
	// logicalInstant: UTC, "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ".
	logicalInstant logical = "instant"
	// logicalDay: a calendar day "YYYY-MM-DD" with no time zone.
	logicalDay logical = "day"
	// logicalBoolean: INTEGER 0/1.
	logicalBoolean logical = "boolean"
	// logicalJSON: TEXT holding JSON.
	logicalJSON logical = "json"
)

// decimalPrecision is every DECIMAL column's precision: 38 digits is the
// widest DuckDB, pyarrow and Spark read as a decimal (wider ones become
// doubles or errors). With scale 18, a decimal has 20 digits before the
// point, far beyond any figure; a value that still does not fit is NULL in
// Parquet (and counted in the manifest) but kept in <name>_text.
const decimalPrecision = 38

// asWrittenSuffix names the Parquet column that keeps a decimal's text.
const asWrittenSuffix = "_text"

// scale is the DECIMAL scale of a decimal kind, -1 for other kinds.
func (l logical) scale() int {
	switch l {
	case logicalDecimal:
		return 18
	case logicalRatio:
		return 6
	case logicalDisplay1:
		return 1
	case logicalDisplay0:
		return 0
	}
	return -1
}

// columnKinds says what each TEXT or INTEGER column of the read models
// holds, where that is more than text or a count. It is written out,
// not guessed from names: a column a migration adds is plain text or a
// plain integer until it is listed here, and TestEveryColumnIsTyped
// pins the plain ones so that leaving a new column plain is a decision.
var columnKinds = map[string]map[string]logical{
	"tasks": {
		"co_departments": logicalJSON, "deadline": logicalDay, "original_deadline": logicalDay,
		"completed_on": logicalDay, "status_date": logicalDay, "narrative": logicalJSON,
		"narrative_as_of": logicalDay, "milestones": logicalJSON,
		"created_at": logicalInstant, "updated_at": logicalInstant,
	},
	"indicators": {
		"additive": logicalBoolean, "is_rate": logicalBoolean, "baseline": logicalDecimal,
		"target": logicalDecimal, "target_low": logicalDecimal, "target_high": logicalDecimal,
		"value": logicalDecimal, "final_due": logicalDay, "year_closed": logicalBoolean,
		"completion_ratio": logicalRatio, "completion_pct_display": logicalDisplay1, "met": logicalBoolean,
		"expected_to_date": logicalRatio, "expected_share": logicalRatio, "expected_share_display": logicalDisplay1,
		"created_at": logicalInstant, "updated_at": logicalInstant,
		"allow_negative": logicalBoolean, "sum_tolerance": logicalDecimal, "outlier_band": logicalDecimal,
		"conversion_factor": logicalDecimal,
	},
	"figures": {
		"value": logicalDecimal, "numerator": logicalDecimal, "denominator": logicalDecimal,
		"final_due": logicalDay, "recorded_at": logicalInstant, "submitted_at": logicalInstant, "reviewed_at": logicalInstant,
	},
	"bases": {
		"value": logicalDecimal, "restated": logicalBoolean, "recorded_at": logicalInstant,
	},
	"indicator_years": {
		"is_rate": logicalBoolean, "value": logicalDecimal, "target": logicalDecimal, "met": logicalBoolean,
		"base": logicalDecimal, "change_abs": logicalDecimal, "change_pct": logicalRatio,
		"change_pct_display": logicalDisplay1, "change_pp": logicalDecimal, "is_new": logicalBoolean,
		"approved_value": logicalDecimal, "approved_base": logicalDecimal, "approved_change_abs": logicalDecimal,
		"approved_change_pct": logicalRatio, "approved_change_pct_display": logicalDisplay1,
		"approved_change_pp": logicalDecimal, "approved_is_new": logicalBoolean,
	},
	"proposals": {
		"value": logicalDecimal, "target_low": logicalDecimal, "target_high": logicalDecimal,
		"proposed_at": logicalInstant, "decided_at": logicalInstant,
	},
	"years":                {"frozen_at": logicalInstant, "reopened_at": logicalInstant, "yearly_due": logicalDay},
	"year_changes":         {"recorded_at": logicalInstant},
	"warnings":             {"related": logicalJSON, "explained_at": logicalInstant},
	"warning_explanations": {"recorded_at": logicalInstant},
	"reporting_periods":    {"due_date": logicalDay, "reported_at": logicalInstant, "reported_on": logicalDay},
	"figure_changes":       {"recorded_at": logicalInstant},
	"problems":             {"rate": logicalRatio, "rate_display": logicalDisplay1, "rate_display0": logicalDisplay0, "created_at": logicalInstant, "updated_at": logicalInstant},
	"rectification_items":  {"recorded_at": logicalInstant},
	"events_log":           {"recorded_at": logicalInstant, "payload": logicalJSON},
	"snapshots":            {"recorded_at": logicalInstant},
}

// kindsOf returns the kinds of a table's columns; stored_events mirrors
// events_log column for column, types included.
func kindsOf(table string) map[string]logical {
	if table == StoredEvents {
		table = "events_log"
	}
	return columnKinds[table]
}

// classify sets every column's kind and Parquet type and names the
// as-written columns, refusing a kind that does not fit the storage class
// and an as-written name the table already uses.
func classify(table string, cols []Column) error {
	kinds := kindsOf(table)
	names := make(map[string]bool, len(cols))
	for _, c := range cols {
		names[c.Name] = true
	}
	for i := range cols {
		c := &cols[i]
		c.kind = kinds[c.Name]
		want := typeText
		switch c.kind {
		case logicalPlain:
			want = c.Type
		case logicalBoolean:
			want = typeInteger
		}
		if c.Type != want {
			return fmt.Errorf("export: %s.%s: a %s column must be %s in SQLite, not %s", table, c.Name, c.kind, want, c.Type)
		}
		c.Parquet = parquetTypeName(*c)
		if c.kind == logicalDecimal {
			c.AsWritten = c.Name + asWrittenSuffix
			if names[c.AsWritten] {
				return fmt.Errorf("export: %s.%s: its as-written column %s is already a column of the table", table, c.Name, c.AsWritten)
			}
		}
	}
	return nil
}

// parquetTypeName is the manifest's name for a column's Parquet type.
func parquetTypeName(c Column) string {
	if s := c.kind.scale(); s >= 0 {
		return fmt.Sprintf("DECIMAL(%d,%d)", decimalPrecision, s)
	}
	switch c.kind {
	case logicalInstant:
		return "TIMESTAMP(NANOS,UTC)"
	case logicalDay:
		return "DATE"
	case logicalBoolean:
		return "BOOLEAN"
	case logicalJSON:
		return "JSON"
	}
	switch c.Type {
	case typeInteger:
		return "INT64"
	case typeReal:
		return "DOUBLE"
	case typeText:
		return "STRING"
	}
	return "BYTE_ARRAY"
}

// duckDBType is the DuckDB type read_csv.sql casts a column to: the type
// DuckDB gives the same column of the Parquet file.
func duckDBType(c Column) string {
	p := c.Parquet
	switch {
	case strings.HasPrefix(p, "DECIMAL"):
		return p
	case p == "TIMESTAMP(NANOS,UTC)":
		return "TIMESTAMP_NS"
	case p == "INT64":
		return "BIGINT"
	case p == "STRING":
		return "VARCHAR"
	case p == "BYTE_ARRAY":
		return "BLOB"
	}
	return p // DATE, BOOLEAN, JSON, DOUBLE
}
