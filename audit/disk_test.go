package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/highwayhash"

	"kpitrail/audit"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/internal/natstest"
)

// reopen restarts the server on its files and opens the store with the
// same keys.
func reopen(t *testing.T, srv *natstest.Embedded, s *eventstore.JetStream) *eventstore.JetStream {
	t.Helper()
	srv.Restart(t)
	s2, err := eventstore.OpenJetStream(context.Background(), srv.Connect(t), eventstore.Config{Signer: s.Signer(), Trust: s.Keyring()})
	if err != nil {
		t.Fatal(err)
	}
	return s2
}

// blockFiles are the stream's message block files.
func blockFiles(t *testing.T, srv *natstest.Embedded) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(srv.StoreDir(), func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(path, ".blk") && strings.Contains(path, "KPITRAIL") {
			out = append(out, path)
		}
		return nil
	})
	if len(out) == 0 {
		t.Fatal("no message block")
	}
	return out
}

func TestEditedFileOnDiskIsFound(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	s := openStore(t, srv.Connect(t))
	appendFigures(t, s, "a")
	srv.Shutdown()

	// Edit one stored byte (447.5 becomes 947.5 in the first command's id).
	edited := 0
	for _, path := range blockFiles(t, srv) {
		b, _ := os.ReadFile(path)
		if i := bytes.Index(b, []byte("447.5")); i >= 0 {
			b[i] = '9'
			edited++
			if err := os.WriteFile(path, b, 0o640); err != nil {
				t.Fatal(err)
			}
		}
	}
	if edited == 0 {
		t.Fatal("found no stored event to edit")
	}
	rep := verify(t, reopen(t, srv, s), nil, nil)
	// The server drops the message on its checksum: a hole in the
	// sequence, and the aggregate's next events do not follow.
	if got := kinds(rep); !strings.HasPrefix(got, "deleted,gap") || strings.Contains(got, "foreign") {
		t.Fatalf("findings after editing the file: %s", got)
	}
}

// TestRehashedEditOnDiskIsFound edits a stored event in a message block the
// way someone who knows the formats would: the figure changed, the event's
// hash recomputed, and the record's checksum in the block recomputed, so
// the server serves the edited message as sound and the event's own hash
// holds. Its message's signature no longer does: the message is foreign,
// and the aggregate's next event does not follow what is left.
func TestRehashedEditOnDiskIsFound(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	s := openStore(t, srv.Connect(t))
	appendFigures(t, s, "a", "b")
	ctx := context.Background()
	ref := domain.AggregateRef{Type: domain.AggregateTask, ID: "a"}
	envs, err := s.Load(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	target := envs[1] // "增长3%左右", alone in its message
	before := verify(t, s, nil, nil)
	srv.Shutdown()

	edited := target
	edited.Payload = []byte(strings.Replace(string(target.Payload), "增长3%", "增长9%", 1))
	if err := edited.Seal(target.PrevHash); err != nil {
		t.Fatal(err)
	}
	done := false
	for _, path := range blockFiles(t, srv) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if rewriteRecord(t, b, target.Position, func(msg []byte) []byte {
			msg = bytes.Replace(msg, []byte(`"items":["增长3%`), []byte(`"items":["增长9%`), 1)
			return bytes.Replace(msg, []byte(target.Hash), []byte(edited.Hash), 1)
		}, blockKey(path)) {
			if err := os.WriteFile(path, b, 0o640); err != nil {
				t.Fatal(err)
			}
			done = true
		}
	}
	if !done {
		t.Fatalf("no record at position %d", target.Position)
	}
	s2 := reopen(t, srv, s)
	raw, err := s2.Stream().GetMsg(ctx, target.Position)
	if err != nil || !bytes.Contains(raw.Data, []byte(edited.Hash)) {
		t.Fatalf("the server does not serve the edited message: %v", err)
	}
	rep := verify(t, s2, []audit.Claim{{Source: "the root verified before", Checkpoint: before.Checkpoint}}, nil)
	if got := kinds(rep); got != "foreign,gap,root_mismatch" {
		t.Fatalf("findings after a re-hashed edit: %s", got)
	}
	if rep.Findings[0].Position != target.Position || !strings.Contains(rep.Findings[0].Detail, "does not match") {
		t.Fatalf("the edited message: %+v", rep.Findings[0])
	}
}

// blockKey is the key of a block's record checksums: SHA-256 of
// "<stream>-<block index>" (nats-server's filestore).
func blockKey(path string) []byte {
	var index int
	fmt.Sscanf(filepath.Base(path), "%d.blk", &index)
	stream := filepath.Base(filepath.Dir(filepath.Dir(path)))
	key := sha256.Sum256([]byte(fmt.Sprintf("%s-%d", stream, index)))
	return key[:]
}

// rewriteRecord finds the record of seq in a block, rewrites its message
// with edit (which must keep its length) and recomputes the record's
// checksum. A record is: total length (4, high bit: has headers), sequence
// (8), timestamp (8), subject length (2), subject, [header length (4),
// header], message, highwayhash-64 of everything from the sequence on (8).
func rewriteRecord(t *testing.T, block []byte, seq uint64, edit func([]byte) []byte, key []byte) bool {
	t.Helper()
	le := binary.LittleEndian
	for off := 0; off+22 <= len(block); {
		rl := int(le.Uint32(block[off:]) &^ (1 << 31))
		hasHdr := le.Uint32(block[off:])&(1<<31) != 0
		if rl < 22 || off+rl > len(block) {
			return false
		}
		rec := block[off : off+rl]
		if le.Uint64(rec[4:])&^(3<<62) == seq {
			slen := int(le.Uint16(rec[20:]))
			subj := rec[22 : 22+slen]
			p := 22 + slen
			var hdr []byte
			if hasHdr {
				hl := int(le.Uint32(rec[p:]))
				hdr = rec[p+4 : p+4+hl]
				p += 4 + hl
			}
			msg := rec[p : rl-8]
			next := edit(bytes.Clone(msg))
			if len(next) != len(msg) {
				t.Fatal("the edit changed the message's length")
			}
			copy(msg, next)
			h, err := highwayhash.New64(key)
			if err != nil {
				t.Fatal(err)
			}
			h.Write(rec[4:20])
			h.Write(subj)
			h.Write(hdr)
			h.Write(msg)
			copy(rec[rl-8:], h.Sum(nil))
			return true
		}
		off += rl
	}
	return false
}
