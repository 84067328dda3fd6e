package natsauth

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"kpitrail/eventstore"
)

// TestDeployConfigMatchesTheRoles reads deploy/nats/nats.conf as
// nats-server does and checks that every user has exactly the permissions
// of its role here: the cluster and the embedded server enforce one rule.
func TestDeployConfigMatchesTheRoles(t *testing.T) {
	for k, v := range map[string]string{"NATS_SERVER_NAME": "n1", "NATS_STORE_DIR": t.TempDir(), "NATS_USER": "kpitrail",
		"NATS_PASSWORD": "p1", "NATS_INTAKE_PASSWORD": "p2", "NATS_EMERGENCY_PASSWORD": "p3", "NATS_ANALYTICS_PASSWORD": "p4"} {
		t.Setenv(k, v)
	}
	opts, err := server.ProcessConfigFile(filepath.Join("..", "deploy", "nats", "nats.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if opts.NoAuthUser != "" || len(opts.Nkeys) != 0 || opts.Username != "" || opts.Authorization != "" {
		t.Fatal("deploy/nats/nats.conf has an identity outside its users list")
	}
	kp, _ := Permissions(RoleKpitrail, "")
	fp, _ := Permissions(RoleFeed, "")
	in, _ := Permissions(RoleIntake, "")
	dp, _ := Permissions(RoleDepartment, "emergency")
	ds, _ := Permissions(RoleDownstream, "analytics")
	want := map[string]*server.Permissions{"kpitrail": Union(kp, fp), "kpitrail-intake": in, "emergency": dp, "analytics": ds}
	if len(opts.Users) != len(want) {
		t.Fatalf("deploy/nats/nats.conf has %d users, want %d", len(opts.Users), len(want))
	}
	for _, u := range opts.Users {
		w, ok := want[u.Username]
		if !ok {
			t.Fatalf("deploy/nats/nats.conf: unexpected user %q", u.Username)
		}
		if u.Password == "" {
			t.Fatalf("user %s has no password", u.Username)
		}
		samePermissions(t, u.Username, u.Permissions, w)
	}
}

func samePermissions(t *testing.T, who string, got, want *server.Permissions) {
	t.Helper()
	if got == nil || got.Publish == nil || got.Subscribe == nil || got.Response != nil {
		t.Fatalf("%s: permissions %+v", who, got)
	}
	set := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	if !slices.Equal(set(got.Publish.Allow), set(want.Publish.Allow)) || len(got.Publish.Deny) != 0 {
		t.Fatalf("%s publish: %v, want %v", who, got.Publish, want.Publish.Allow)
	}
	if !slices.Equal(set(got.Subscribe.Allow), set(want.Subscribe.Allow)) || len(got.Subscribe.Deny) != 0 {
		t.Fatalf("%s subscribe: %v, want %v", who, got.Subscribe, want.Subscribe.Allow)
	}
}

// TestEachRoleOnARealServer starts a server with the identities serve
// gives it and tries, as each one, what it may and may not do.
func TestEachRoleOnARealServer(t *testing.T) {
	keys, err := LoadKeys(t.TempDir(), []string{"emergency"}, []string{"analytics"})
	if err != nil {
		t.Fatal(err)
	}
	users, err := keys.Users()
	if err != nil {
		t.Fatal(err)
	}
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: t.TempDir(), NoSync: true, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	as := func(role Role) nats.Option {
		switch role {
		case RoleDepartment, RoleDownstream:
			for _, c := range keys.Clients {
				if c.Role == role {
					o, err := nats.NkeyOptionFromSeed(c.File)
					if err != nil {
						t.Fatal(err)
					}
					return o
				}
			}
		}
		return keys.Option(role)
	}
	type check struct {
		role    Role
		sub     bool
		subject string
		queue   string
		allowed bool
	}
	checks := []check{
		{RoleKpitrail, false, "kpitrail.events.huairou.task.t1", "", true},
		{RoleKpitrail, false, "$JS.API.STREAM.DELETE.KPITRAIL", "", true},
		{RoleKpitrail, true, "$JS.EVENT.ADVISORY.STREAM.UPDATED.KPITRAIL", "", true},
		{RoleKpitrail, true, "kpitrail.cmd.>", "", false},
		{RoleKpitrail, false, "kpitrail.changes.figure.changed.t1", "", false},
		{RoleIntake, true, "kpitrail.cmd.>", IntakeQueue, true},
		{RoleIntake, true, "kpitrail.cmd.>", "", false},
		{RoleIntake, true, "kpitrail.cmd.>", "other", false},
		{RoleIntake, false, "_INBOX.emergency.abc.1", "", true},
		{RoleIntake, false, "kpitrail.intake.poison", "", true},
		{RoleIntake, false, "kpitrail.events.huairou.task.t1", "", false},
		{RoleIntake, false, "$JS.API.STREAM.DELETE.KPITRAIL", "", false},
		{RoleFeed, false, "kpitrail.changes.figure.changed.t1", "", true},
		{RoleFeed, false, "$JS.API.STREAM.CREATE.KPITRAIL_CHANGES", "", true},
		{RoleFeed, false, "kpitrail.events.huairou.task.t1", "", false},
		{RoleFeed, false, "$JS.API.STREAM.UPDATE.KPITRAIL", "", false},
		{RoleFeed, false, "$JS.API.STREAM.DELETE.KPITRAIL_CHANGES", "", false},
		{RoleDepartment, false, "kpitrail.cmd.task.register", "", true},
		{RoleDepartment, true, "_INBOX.emergency.>", "", true},
		{RoleDepartment, true, "_INBOX.>", "", false},
		{RoleDepartment, true, "_INBOX.science.>", "", false},
		{RoleDepartment, true, "kpitrail.cmd.>", IntakeQueue, false},
		{RoleDepartment, false, "kpitrail.events.huairou.task.t1", "", false},
		{RoleDepartment, false, "_INBOX.science.abc.1", "", false},
		{RoleDepartment, false, "$JS.API.STREAM.INFO.KPITRAIL", "", false},
		{RoleDownstream, false, "$JS.API.CONSUMER.CREATE.KPITRAIL_CHANGES.analytics", "", true},
		{RoleDownstream, false, "$JS.API.CONSUMER.MSG.NEXT.KPITRAIL_CHANGES.analytics", "", true},
		{RoleDownstream, false, "$JS.API.CONSUMER.MSG.NEXT.KPITRAIL_CHANGES.other", "", false},
		{RoleDownstream, false, "$JS.API.CONSUMER.CREATE.KPITRAIL.analytics", "", false},
		{RoleDownstream, false, "$JS.API.DIRECT.GET.KPITRAIL_CHANGES", "", false},
		{RoleDownstream, false, "kpitrail.cmd.task.register", "", false},
		{RoleDownstream, true, "kpitrail.changes.>", "", false},
		{RoleDownstream, true, "_INBOX.analytics.>", "", true},
	}
	for _, c := range checks {
		nc, err := emb.Connect("check", as(c.role), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
		if err != nil {
			t.Fatalf("%s: connect: %v", c.role, err)
		}
		if c.sub {
			_, err = nc.QueueSubscribeSync(c.subject, c.queue)
		} else {
			err = nc.Publish(c.subject, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		// The server answers a violation before the flush's PONG, and the
		// client records it as the connection's last error.
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		last := nc.LastError()
		refused := errors.Is(last, nats.ErrPermissionViolation) && strings.Contains(last.Error(), `"`+c.subject+`"`)
		if refused == c.allowed {
			t.Errorf("%s sub=%v %s %s: allowed %v, want %v (%v)", c.role, c.sub, c.subject, c.queue, !refused, c.allowed, last)
		}
		nc.Close()
	}
}

func TestUnionLeavesOutWhatAWildcardCovers(t *testing.T) {
	got := minimal([]string{"a.>", "a.b.c", "a.*", "b.*.c", "b.x.c", "b.x.d", "a.>", "q.> g", "q.x g", "q.y h"})
	want := []string{"a.>", "b.*.c", "b.x.d", "q.> g", "q.y h"}
	if !slices.Equal(got, want) {
		t.Fatalf("minimal: %v, want %v", got, want)
	}
}

func TestKeysAreTheOwnersOnly(t *testing.T) {
	dir := t.TempDir()
	k, err := LoadKeys(dir, []string{"emergency"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{k.KpitrailSeedFile(), k.Clients[0].File} {
		fi, err := os.Stat(f)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", f, fi.Mode(), err)
		}
	}
	// The same keys on the next start.
	again, err := LoadKeys(dir, []string{"emergency"}, nil)
	if err != nil || again.Clients[0].Public != k.Clients[0].Public {
		t.Fatalf("keys changed across starts: %v", err)
	}
	if err := os.Chmod(k.Clients[0].File, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeys(dir, []string{"emergency"}, nil); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("a seed readable by others was used: %v", err)
	}
	for _, bad := range []string{"Emergency", "a.b", "a*", "a b", "kpitrail-x", ""} {
		if _, err := LoadKeys(t.TempDir(), []string{bad}, nil); err == nil {
			t.Fatalf("name %q accepted", bad)
		}
	}
	if _, err := LoadKeys(t.TempDir(), []string{"x"}, []string{"x"}); err == nil {
		t.Fatal("one name for a department and a downstream system accepted")
	}
}
