package export

import "io"

// sink receives a table's rows, normalized (see normalize), and writes one
// file format. Run feeds every requested format from one read of a table.
type sink interface {
	row(vals []any) error
	// close writes what the format keeps for the end (Parquet's footer);
	// it does not close the underlying writer.
	close() error
}

func newSink(format string, w io.Writer, table string, cols []Column) (sink, error) {
	switch format {
	case FormatCSV:
		return newCSVSink(w, cols)
	case FormatJSONL:
		return newJSONLSink(w, cols), nil
	case FormatParquet:
		return newParquetSink(w, table, cols, buildVersion()), nil
	}
	return nil, checkFormat(format)
}
