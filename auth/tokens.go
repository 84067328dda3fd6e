package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // SQLite driver

	"kpitrail/domain"
)

// Tokens stores API tokens. Only a SHA-256 of each token is kept: tokens are
// 32 random bytes, so a fast hash is enough (there is nothing to brute-force),
// and a lookup by hash never compares secrets byte by byte in variable time.
type Tokens struct {
	db        *sql.DB
	bootstrap []byte // hash of KPITRAIL_ADMIN_TOKEN, if set
	now       func() time.Time
}

const tokenPrefix = "kpt_"

// OpenTokens opens (or creates) the token database.
func OpenTokens(path string, adminToken string) (*Tokens, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS tokens (
		id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, departments TEXT NOT NULL,
		hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, created_by TEXT NOT NULL, revoked_at TEXT)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("tokens: %w", err)
	}
	t := &Tokens{db: db, now: time.Now}
	if adminToken != "" {
		h := sha256.Sum256([]byte(adminToken))
		t.bootstrap = h[:]
	}
	return t, nil
}

func (t *Tokens) Close() error { return t.db.Close() }

// Issued is a new token, returned once.
type Issued struct {
	Principal
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"created_at"`
}

// Issue creates a token for a name, role and departments.
func (t *Tokens) Issue(ctx context.Context, by Principal, name string, role Role, departments []string) (Issued, error) {
	if err := domain.CheckText("name", name, true, domain.MaxShortText); err != nil {
		return Issued{}, err
	}
	if strings.ContainsAny(name, ":\n") {
		return Issued{}, domain.Invalid("name", "charset", "must not contain ':' or newlines")
	}
	if !role.Valid() {
		return Issued{}, domain.Invalid("role", "enum", "must be one of admin, office, reporter, auditor, analyst; got %q", string(role))
	}
	if role == RoleReporter && len(departments) == 0 {
		return Issued{}, domain.Invalid("departments", "required", "a reporter token needs at least one department")
	}
	for i, d := range departments {
		if err := domain.CheckText(fmt.Sprintf("departments[%d]", i), d, true, domain.MaxShortText); err != nil {
			return Issued{}, err
		}
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Issued{}, err
	}
	idb := make([]byte, 8)
	if _, err := rand.Read(idb); err != nil {
		return Issued{}, err
	}
	token := tokenPrefix + hex.EncodeToString(secret)
	sum := sha256.Sum256([]byte(token))
	deps, _ := json.Marshal(departments)
	now := t.now().UTC()
	p := Principal{TokenID: hex.EncodeToString(idb), Name: name, Role: role, Departments: departments}
	_, err := t.db.ExecContext(ctx, `INSERT INTO tokens (id, name, role, departments, hash, created_at, created_by) VALUES (?,?,?,?,?,?,?)`,
		p.TokenID, name, string(role), string(deps), hex.EncodeToString(sum[:]), now.Format(time.RFC3339Nano), by.Actor())
	if err != nil {
		return Issued{}, fmt.Errorf("issue token: %w", err)
	}
	return Issued{Principal: p, Token: token, CreatedAt: now}, nil
}

// Revoke disables a token by id.
func (t *Tokens) Revoke(ctx context.Context, id string) error {
	res, err := t.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, t.now().UTC().Format(time.RFC3339Nano), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("token %s", id)
	}
	return nil
}

// ErrBadToken is returned for unknown or revoked tokens.
var ErrBadToken = errors.New("unknown or revoked token")

// Authenticate resolves a bearer token to its principal.
func (t *Tokens) Authenticate(ctx context.Context, token string) (Principal, error) {
	return t.authenticateDigest(ctx, sha256.Sum256([]byte(token)))
}

// authenticateDigest resolves a token by its SHA-256, the form it is
// stored in: a console session keeps only that, and every request through
// the session is checked here again, so a revoked token ends its sessions.
func (t *Tokens) authenticateDigest(ctx context.Context, sum [sha256.Size]byte) (Principal, error) {
	if t.bootstrap != nil && subtle.ConstantTimeCompare(sum[:], t.bootstrap) == 1 {
		return Principal{TokenID: "bootstrap", Name: "admin", Role: RoleAdmin}, nil
	}
	var p Principal
	var deps, role, stored string
	err := t.db.QueryRowContext(ctx, `SELECT id, name, role, departments, hash FROM tokens WHERE hash = ? AND revoked_at IS NULL`,
		hex.EncodeToString(sum[:])).Scan(&p.TokenID, &p.Name, &role, &deps, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrBadToken
	}
	if err != nil {
		return Principal{}, err
	}
	// The index found the row by hash; compare again in constant time so the
	// answer never depends on how much of a guess matched.
	want, _ := hex.DecodeString(stored)
	if subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return Principal{}, ErrBadToken
	}
	p.Role = Role(role)
	if err := json.Unmarshal([]byte(deps), &p.Departments); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// List returns all tokens (without secrets).
func (t *Tokens) List(ctx context.Context) ([]TokenInfo, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT id, name, role, departments, created_at, created_by, COALESCE(revoked_at,'') FROM tokens ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TokenInfo{}
	for rows.Next() {
		var ti TokenInfo
		var deps, role string
		if err := rows.Scan(&ti.TokenID, &ti.Name, &role, &deps, &ti.CreatedAt, &ti.CreatedBy, &ti.RevokedAt); err != nil {
			return nil, err
		}
		ti.Role = Role(role)
		_ = json.Unmarshal([]byte(deps), &ti.Departments)
		out = append(out, ti)
	}
	return out, rows.Err()
}

// TokenInfo describes a stored token.
type TokenInfo struct {
	Principal
	CreatedAt string `json:"created_at"`
	CreatedBy string `json:"created_by"`
	RevokedAt string `json:"revoked_at,omitempty"`
}
