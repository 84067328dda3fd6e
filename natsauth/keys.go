package natsauth

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Keys are the embedded server's identities, all nkeys (challenge and
// response: the server keeps public keys only, and a seed never crosses
// the wire).
//
// Files under dir (the data directory's nats/, 0700; seeds 0600):
//
//	kpitrail.nk               kpitrail's own key, made on first start: the
//	                          operator's key for the nats CLI (backup,
//	                          restore) and for --nats-url tools
//	intake/<name>.nk          a department system's seed, made when the
//	                          name is first configured; hand it over
//	intake/<name>.pub         or its public key, when the department made
//	                          its own key pair (nk -gen user): kpitrail then
//	                          never holds the seed
//	downstream/<name>.nk|.pub the same for downstream systems
//
// The intake's and the feed's keys are made fresh at every start and never
// written: no one outside the process can ever present them.
type Keys struct {
	Dir     string
	own     map[Role]nkeys.KeyPair
	Clients []Client
}

// Client is a department or downstream system allowed to connect.
type Client struct {
	Name   string
	Role   Role
	Public string
	// File is the seed or public key file.
	File string
}

// LoadKeys reads, or makes on first use, the keys of kpitrail and of the
// named department and downstream systems.
func LoadKeys(dir string, departments, downstream []string) (*Keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("nats keys: %w", err)
	}
	k := &Keys{Dir: dir, own: map[Role]nkeys.KeyPair{}}
	own, err := seedFile(filepath.Join(dir, "kpitrail.nk"))
	if err != nil {
		return nil, err
	}
	k.own[RoleKpitrail] = own
	for _, r := range []Role{RoleIntake, RoleFeed} {
		if k.own[r], err = nkeys.CreateUser(); err != nil {
			return nil, fmt.Errorf("nats keys: %w", err)
		}
	}
	seen := map[string]Role{}
	for _, set := range []struct {
		role  Role
		sub   string
		names []string
	}{{RoleDepartment, "intake", departments}, {RoleDownstream, "downstream", downstream}} {
		for _, name := range set.names {
			if err := ValidName(name); err != nil {
				return nil, err
			}
			if r, dup := seen[name]; dup {
				return nil, fmt.Errorf("NATS identity %q is named twice (%s and %s)", name, r, set.role)
			}
			seen[name] = set.role
			c, err := clientKey(filepath.Join(dir, set.sub), name)
			if err != nil {
				return nil, err
			}
			c.Role = set.role
			k.Clients = append(k.Clients, c)
		}
	}
	return k, nil
}

// clientKey uses <name>.pub when the operator put one there, and otherwise
// the seed in <name>.nk, made if missing.
func clientKey(dir, name string) (Client, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Client{}, fmt.Errorf("nats keys: %w", err)
	}
	pubFile := filepath.Join(dir, name+".pub")
	if data, err := os.ReadFile(pubFile); err == nil {
		pub := strings.TrimSpace(string(data))
		if !nkeys.IsValidPublicUserKey(pub) {
			return Client{}, fmt.Errorf("nats keys: %s does not hold a user public key (U...)", pubFile)
		}
		return Client{Name: name, Public: pub, File: pubFile}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return Client{}, fmt.Errorf("nats keys: %w", err)
	}
	seed := filepath.Join(dir, name+".nk")
	kp, err := seedFile(seed)
	if err != nil {
		return Client{}, err
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return Client{}, err
	}
	return Client{Name: name, Public: pub, File: seed}, nil
}

// seedFile reads a user seed, or writes a new one readable by the owner
// only. A seed file others can read is refused: anyone who can read it can
// be that identity.
func seedFile(path string) (nkeys.KeyPair, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			return nil, fmt.Errorf("nats keys: %w", err)
		}
		seed, err := kp.Seed()
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("nats keys: %w", err)
		}
		_, err = f.Write(append(seed, '\n'))
		if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("nats keys: %w", err)
		}
		return kp, nil
	}
	if err != nil {
		return nil, fmt.Errorf("nats keys: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("nats keys: %s is readable by others (%v); chmod 600 it", path, fi.Mode().Perm())
	}
	kp, err := nkeys.ParseDecoratedNKey(bytes.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("nats keys: %s: %w", path, err)
	}
	if pub, err := kp.PublicKey(); err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return nil, fmt.Errorf("nats keys: %s does not hold a user seed", path)
	}
	return kp, nil
}

// KpitrailSeedFile is kpitrail's own key, for the operator and the
// --nats-url tools.
func (k *Keys) KpitrailSeedFile() string { return filepath.Join(k.Dir, "kpitrail.nk") }

// Users are the server's nkey users with their permissions.
func (k *Keys) Users() ([]*server.NkeyUser, error) {
	var out []*server.NkeyUser
	for _, r := range []Role{RoleKpitrail, RoleIntake, RoleFeed} {
		pub, err := k.own[r].PublicKey()
		if err != nil {
			return nil, err
		}
		p, _ := Permissions(r, "")
		out = append(out, &server.NkeyUser{Nkey: pub, Permissions: p})
	}
	for _, c := range k.Clients {
		p, err := Permissions(c.Role, c.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, &server.NkeyUser{Nkey: c.Public, Permissions: p})
	}
	return out, nil
}

// Option authenticates one of kpitrail's own connections as role.
func (k *Keys) Option(role Role) nats.Option {
	kp := k.own[role]
	if kp == nil {
		return func(*nats.Options) error { return fmt.Errorf("natsauth: %s is not one of kpitrail's own roles", role) }
	}
	pub, _ := kp.PublicKey()
	return nats.Nkey(pub, kp.Sign)
}
