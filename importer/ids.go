package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
)

// TaskID is the id an import gives a task: the same year, dimension and
// title give the same id in every import and in the demo, so a second
// import of a table targets the aggregates the first one created. The
// dimension is the normalised one, so "高效率 落实" and "高效率落实" agree.
func TaskID(year int, dimension, title string) string {
	return fmt.Sprintf("t%d-%s", year, digest(strconv.Itoa(year), normalizeDimension(dimension), title)[:12])
}

// ProblemID is the id of a problem recorded on a task, derived from its
// description: re-importing the same problem targets the same record.
func ProblemID(taskID, description string) string {
	return "p-" + digest(taskID, description)[:12]
}

// CommandKey is the idempotency key (the command id) of a planned command:
// a digest of what the command says, never of the batch or the line, so the
// same content imported twice, from any format, under any batch id, is the
// same command and the store applies it once. occurrence tells apart
// commands that say exactly the same thing twice in one file.
func CommandKey(prefix string, cmd interface{ CommandName() string }, occurrence int) (string, error) {
	body, err := json.Marshal(cmd)
	if err != nil {
		return "", fmt.Errorf("key for %s: %w", cmd.CommandName(), err)
	}
	return prefix + digest(cmd.CommandName(), string(body), strconv.Itoa(occurrence))[:32], nil
}

// digest hashes parts with a separator no text contains, so ("ab","c") and
// ("a","bc") differ.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
