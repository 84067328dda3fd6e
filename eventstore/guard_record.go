package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamRecord is the event stream's identity as kpitrail recorded it,
// with every decision that changed it. It lives in the data directory
// beside the read models, so a stream replaced behind their back is seen.
type StreamRecord struct {
	Stream   string        `json:"stream"`
	Created  time.Time     `json:"created"`
	FirstSeq uint64        `json:"first_seq"`
	Config   GuardedConfig `json:"config"`
	History  []RecordEntry `json:"history"`
}

// RecordEntry is one change to the record: who, when, what, why.
type RecordEntry struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Action string    `json:"action"`
	Reason string    `json:"reason,omitempty"`
}

// GuardedConfig is every stream setting that decides what the log keeps,
// who can add to it, or where it lives. A change to any of them that
// kpitrail did not make is a fault.
type GuardedConfig struct {
	Subjects           []string      `json:"subjects"`
	Retention          string        `json:"retention"`
	Storage            string        `json:"storage"`
	Replicas           int           `json:"replicas"`
	MaxMsgs            int64         `json:"max_msgs"`
	MaxBytes           int64         `json:"max_bytes"`
	MaxAge             time.Duration `json:"max_age"`
	MaxMsgsPerSubject  int64         `json:"max_msgs_per_subject"`
	MaxMsgSize         int32         `json:"max_msg_size"`
	Discard            string        `json:"discard"`
	DenyDelete         bool          `json:"deny_delete"`
	DenyPurge          bool          `json:"deny_purge"`
	AllowRollup        bool          `json:"allow_rollup"`
	AllowMsgTTL        bool          `json:"allow_msg_ttl"`
	Sealed             bool          `json:"sealed"`
	Mirror             string        `json:"mirror,omitempty"`
	Sources            []string      `json:"sources,omitempty"`
	Duplicates         time.Duration `json:"duplicates"`
	AllowDirect        bool          `json:"allow_direct"`
	AllowAtomicPublish bool          `json:"allow_atomic_publish"`
}

func guardedOf(c jetstream.StreamConfig) GuardedConfig {
	g := GuardedConfig{
		Subjects: slices.Clone(c.Subjects), Retention: configName(c.Retention), Storage: configName(c.Storage), Replicas: c.Replicas,
		MaxMsgs: c.MaxMsgs, MaxBytes: c.MaxBytes, MaxAge: c.MaxAge, MaxMsgsPerSubject: c.MaxMsgsPerSubject, MaxMsgSize: c.MaxMsgSize,
		Discard: configName(c.Discard), DenyDelete: c.DenyDelete, DenyPurge: c.DenyPurge, AllowRollup: c.AllowRollup,
		AllowMsgTTL: c.AllowMsgTTL, Sealed: c.Sealed, Duplicates: c.Duplicates, AllowDirect: c.AllowDirect,
		AllowAtomicPublish: c.AllowAtomicPublish,
	}
	if c.Mirror != nil {
		g.Mirror = c.Mirror.Name
	}
	for _, s := range c.Sources {
		if s != nil {
			g.Sources = append(g.Sources, s.Name)
		}
	}
	// The server reports "unlimited" as 0 or -1 depending on the setting.
	if g.MaxMsgsPerSubject == 0 {
		g.MaxMsgsPerSubject = -1
	}
	if g.MaxMsgSize == 0 {
		g.MaxMsgSize = -1
	}
	return g
}

// configName is a setting's name as the stream configuration spells it
// ("old", "limits", "file").
func configName(v json.Marshaler) string {
	b, err := v.MarshalJSON()
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.Trim(string(b), `"`)
}

// fields lists the settings by their stream config names, for diff.
func (g GuardedConfig) fields() [][2]string {
	return [][2]string{
		{"subjects", strings.Join(g.Subjects, " ")}, {"retention", g.Retention}, {"storage", g.Storage},
		{"num_replicas", fmt.Sprint(g.Replicas)}, {"max_msgs", fmt.Sprint(g.MaxMsgs)}, {"max_bytes", fmt.Sprint(g.MaxBytes)},
		{"max_age", g.MaxAge.String()}, {"max_msgs_per_subject", fmt.Sprint(g.MaxMsgsPerSubject)},
		{"max_msg_size", fmt.Sprint(g.MaxMsgSize)}, {"discard", g.Discard}, {"deny_delete", fmt.Sprint(g.DenyDelete)},
		{"deny_purge", fmt.Sprint(g.DenyPurge)}, {"allow_rollup_hdrs", fmt.Sprint(g.AllowRollup)},
		{"allow_msg_ttl", fmt.Sprint(g.AllowMsgTTL)}, {"sealed", fmt.Sprint(g.Sealed)}, {"mirror", g.Mirror},
		{"sources", strings.Join(g.Sources, " ")}, {"duplicate_window", g.Duplicates.String()},
		{"allow_direct", fmt.Sprint(g.AllowDirect)}, {"allow_atomic", fmt.Sprint(g.AllowAtomicPublish)},
	}
}

// diff names each setting of g that differs from want: "max_msgs 5 (recorded -1)".
func (g GuardedConfig) diff(want GuardedConfig) []string {
	var out []string
	w := want.fields()
	for i, f := range g.fields() {
		if f[1] != w[i][1] {
			out = append(out, fmt.Sprintf("%s %s (recorded %s)", f[0], orNone(f[1]), orNone(w[i][1])))
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// recordOf is the record of the stream as it is now, keeping the history
// of prev.
func recordOf(info *jetstream.StreamInfo, prev *StreamRecord) *StreamRecord {
	rec := &StreamRecord{Stream: info.Config.Name, Created: info.Created.UTC(), FirstSeq: info.State.FirstSeq, Config: guardedOf(info.Config)}
	if prev != nil {
		rec.History = slices.Clone(prev.History)
	}
	return rec
}

// ReadStreamRecord reads the record; a missing file is nil, nil.
func ReadStreamRecord(path string) (*StreamRecord, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stream record: %w", err)
	}
	var rec StreamRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("stream record %s: %w", path, err)
	}
	return &rec, nil
}

// WriteStreamRecord replaces the record atomically and durably: a crash
// leaves the old record or the new one, never a torn file.
func WriteStreamRecord(path string, rec *StreamRecord) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("stream record: %w", err)
	}
	_, err = f.Write(append(data, '\n'))
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("stream record: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("stream record: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// DiffConfig names the settings kpitrail guards in which have differs from
// want.
func DiffConfig(have, want jetstream.StreamConfig) []string {
	return guardedOf(have).diff(guardedOf(want))
}
