package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/url"

	"kpitrail/domain"
	"kpitrail/projections"
)

// maxTaskPage is the largest page of tasks one request may ask for.
const maxTaskPage = 1000

// taskPage reads the board's paging parameters: limit (0: the whole
// board, as before paging existed) and after, the cursor a page answered
// with as next.
func taskPage(q url.Values) (int, projections.TaskCursor, error) {
	limit, err := intParam(q.Get("limit"), "limit")
	if err != nil {
		return 0, projections.TaskCursor{}, err
	}
	if limit > maxTaskPage {
		return 0, projections.TaskCursor{}, domain.Invalid("limit", "range", "must be at most %d, got %d", maxTaskPage, limit)
	}
	after, err := decodeTaskCursor(q.Get("after"))
	return limit, after, err
}

// A cursor is opaque to clients: base64url of [year, dimension, id].
func encodeTaskCursor(c projections.TaskCursor) string {
	b, _ := json.Marshal([]any{c.Year, c.Dimension, c.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeTaskCursor(v string) (projections.TaskCursor, error) {
	var c projections.TaskCursor
	if v == "" {
		return c, nil
	}
	bad := domain.Invalid("after", "cursor", "must be the next of an earlier page of this list, got %q", v)
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return c, bad
	}
	var parts []json.RawMessage
	if json.Unmarshal(b, &parts) != nil || len(parts) != 3 ||
		json.Unmarshal(parts[0], &c.Year) != nil || json.Unmarshal(parts[1], &c.Dimension) != nil || json.Unmarshal(parts[2], &c.ID) != nil || c.ID == "" {
		return projections.TaskCursor{}, bad
	}
	return c, nil
}
