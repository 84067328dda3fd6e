// Package natsauth says who may do what on kpitrail's NATS, in one place:
// the embedded server is configured from it, and the permissions written
// for an external cluster (deploy/nats/nats.conf) are checked against it.
//
// Five roles, each with only what it needs:
//
//   - kpitrail: the event store's connection and the operator's key. The only
//     identity that may publish to the event subjects or use the JetStream
//     API, so the only one that can append, change, back up, restore or
//     delete the stream.
//   - feed: kpitrail's downstream feed. Publishes integration events into its
//     own stream and manages that stream, nothing of the event log.
//   - intake: kpitrail's command intake. Receives kpitrail.cmd.> in its queue
//     group and answers on requesters' inboxes.
//   - department: a department's system. Sends kpitrail.cmd.<command>
//     requests and reads replies on its own inbox prefix only: it cannot read
//     other departments' requests (and their bearer tokens) or replies, nor
//     join the intake's queue group to answer in its place.
//   - downstream: a downstream system. Creates and reads its own durable
//     consumer on the change feed stream, nothing else.
//
// Why the intake does not use allow_responses: nats-server lets a response
// through even where a deny rule forbids the subject (client.go,
// pubAllowedFullCheck), so a requester could name an event subject or a
// $JS.API subject as its reply-to and have the intake publish there. The
// intake may publish on inboxes only, and departments receive only on their
// own inbox prefix.
package natsauth

import (
	"errors"
	"fmt"
	"kpitrail/auth"
	"kpitrail/idempotency"
	"kpitrail/lease"
	"regexp"
	"strings"

	"github.com/nats-io/nats-server/v2/server"

	"kpitrail/eventstore"
	"kpitrail/feed"
	"kpitrail/intake"
)

// Role names an identity's job.
type Role string

const (
	RoleKpitrail   Role = "kpitrail"
	RoleFeed       Role = "feed"
	RoleIntake     Role = "intake"
	RoleDepartment Role = "department"
	RoleDownstream Role = "downstream"
)

// InboxRoot starts every inbox kpitrail answers on (intake.ReplyPrefix):
// nats.go's default prefix, which kpitrail's own connections keep.
const InboxRoot = "_INBOX"

// IntakeQueue is the queue group the intake subscribes in.
const IntakeQueue = "kpitrail-intake"

// EventStream is the event log's stream, whose advisories kpitrail reads.
const EventStream = "KPITRAIL"

// InboxPrefix is the inbox prefix a department or downstream system must
// set (nats.go: nats.CustomInboxPrefix; nats CLI: --inbox-prefix): the only
// subjects it may subscribe to start with it.
func InboxPrefix(name string) string { return InboxRoot + "." + name }

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidName checks a department's or downstream system's name. It becomes
// a subject token (the inbox prefix) and a consumer name, so it has no dots,
// wildcards or spaces; names starting with "kpitrail" are kept for
// kpitrail's own identities.
func ValidName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("NATS identity %q: use 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit", name)
	}
	if strings.HasPrefix(name, "kpitrail") {
		return fmt.Errorf("NATS identity %q: names starting with kpitrail are kpitrail's own", name)
	}
	return nil
}

// SharedBuckets are the KV buckets of kpitrail's own state on a shared
// cluster; only kpitrail's identity may write them.
var SharedBuckets = []string{auth.TokensBucket, auth.SessionsBucket, idempotency.Bucket, lease.DefaultBucket}

// Permissions returns the permissions of role; name is the department's or
// downstream system's name and is ignored for kpitrail's own roles.
func Permissions(role Role, name string) (*server.Permissions, error) {
	switch role {
	case RoleKpitrail:
		// $JS.SNAPSHOT.> carries the acknowledgements of a stream backup
		// and the chunks of a restore, which an operator runs with this key.
		// $KV.<bucket>.> writes the buckets that instances sharing a
		// cluster keep their tokens, sessions, idempotency keys and leases
		// in (reads go through $JS.API's direct get).
		pub := []string{eventstore.DefaultSubjectPrefix + ".>", "$JS.API.>", "$JS.SNAPSHOT.>"}
		for _, b := range SharedBuckets {
			pub = append(pub, "$KV."+b+".>")
		}
		return perms(pub, []string{InboxRoot + ".>", "$JS.EVENT.ADVISORY.STREAM.*." + EventStream}), nil
	case RoleFeed:
		s := feed.DefaultStream
		return perms(
			[]string{feed.DefaultSubjectPrefix + ".>", "$JS.API.STREAM.INFO." + s, "$JS.API.STREAM.CREATE." + s, "$JS.API.STREAM.UPDATE." + s},
			[]string{InboxRoot + ".>"}), nil
	case RoleIntake:
		return perms(
			[]string{InboxRoot + ".>", intake.PoisonSubject},
			// A subscribe permission with a queue allows only that group.
			[]string{intake.SubjectPrefix + "> " + IntakeQueue}), nil
	case RoleDepartment:
		if err := ValidName(name); err != nil {
			return nil, err
		}
		return perms([]string{intake.SubjectPrefix + ">"}, []string{InboxPrefix(name) + ".>"}), nil
	case RoleDownstream:
		if err := ValidName(name); err != nil {
			return nil, err
		}
		api, s := "$JS.API.", feed.DefaultStream
		// A consumer named after the system: it can neither read through
		// nor acknowledge on another system's consumer.
		return perms([]string{
			api + "STREAM.INFO." + s,
			api + "CONSUMER.CREATE." + s + "." + name,
			api + "CONSUMER.CREATE." + s + "." + name + ".>",
			api + "CONSUMER.DURABLE.CREATE." + s + "." + name,
			api + "CONSUMER.INFO." + s + "." + name,
			api + "CONSUMER.DELETE." + s + "." + name,
			api + "CONSUMER.MSG.NEXT." + s + "." + name,
			"$JS.ACK." + s + "." + name + ".>",
		}, []string{InboxPrefix(name) + ".>"}), nil
	}
	return nil, errors.New("natsauth: unknown role " + string(role))
}

// Union is the permissions of several roles together: what one user on an
// external cluster needs when it runs them all (kpitrail's store and feed).
// A subject another one's wildcard already covers is left out.
func Union(ps ...*server.Permissions) *server.Permissions {
	var pub, sub []string
	for _, p := range ps {
		pub = append(pub, p.Publish.Allow...)
		sub = append(sub, p.Subscribe.Allow...)
	}
	return perms(minimal(pub), minimal(sub))
}

// minimal drops duplicates and subjects covered by another entry.
func minimal(in []string) []string {
	var out []string
	for i, s := range in {
		covered := false
		for j, o := range in {
			if i != j && (o != s || j < i) && covers(o, s) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, s)
		}
	}
	return out
}

// covers reports whether pattern matches every subject subject matches.
// A queue suffix ("subject queue") must be equal.
func covers(pattern, subject string) bool {
	pq, sq := "", ""
	pattern, pq, _ = strings.Cut(pattern, " ")
	subject, sq, _ = strings.Cut(subject, " ")
	if pq != sq {
		return false
	}
	pt, st := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, p := range pt {
		switch {
		case p == ">":
			return len(st) > i
		case i >= len(st):
			return false
		case p == "*":
			if st[i] == ">" {
				return false
			}
		case p != st[i]:
			return false
		}
	}
	return len(pt) == len(st)
}

func perms(pub, sub []string) *server.Permissions {
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pub},
		Subscribe: &server.SubjectPermission{Allow: sub},
	}
}
