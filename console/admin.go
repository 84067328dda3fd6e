package console

import (
	"net/http"
	"strings"
	"time"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/projections"
)

// Administration (admins only, as the API's token routes): tokens, issued
// and revoked through the same auth.Tokens calls as /v1/tokens, and the
// events the read models could not apply.

type adminPage struct {
	Tokens      []auth.TokenInfo
	DeadLetters []projections.DeadLetter
	Issued      *auth.Issued
	Roles       []auth.Role
}

var roles = []auth.Role{auth.RoleOffice, auth.RoleReporter, auth.RoleAuditor, auth.RoleAnalyst, auth.RoleAdmin}

func (c *Console) admin(w http.ResponseWriter, r *http.Request, v *view) error {
	return c.showAdmin(w, r, v, nil)
}

func (c *Console) showAdmin(w http.ResponseWriter, r *http.Request, v *view, issued *auth.Issued) error {
	p := adminPage{Issued: issued, Roles: roles}
	var err error
	if p.Tokens, err = c.cfg.Tokens.List(r.Context()); err != nil {
		return err
	}
	err = c.cfg.Reads.With(r.Context(), nil, func(db *projections.DB) error {
		var err error
		p.DeadLetters, err = db.DeadLetters(r.Context(), 100)
		return err
	})
	if err != nil {
		return err
	}
	return c.render(w, v, http.StatusOK, "admin", "管理", p)
}

func (c *Console) issueToken(w http.ResponseWriter, r *http.Request, v *view) error {
	var deps []string
	for _, d := range strings.FieldsFunc(r.PostForm.Get("departments"), func(r rune) bool { return r == ',' || r == '，' || r == '\n' }) {
		if d = strings.TrimSpace(d); d != "" {
			deps = append(deps, d)
		}
	}
	days, err := formInt(r, "expires_in_days", 0)
	if err != nil {
		return err
	}
	// Days bounded before they become a duration; the token store holds
	// the lifetime to the server's maximum.
	if days < 0 || days > 100*366 {
		return domain.Invalid("expires_in_days", "range", "must be a number of days between 1 and the server's maximum, got %d", days)
	}
	issued, err := c.cfg.Tokens.Issue(r.Context(), v.P, auth.IssueRequest{Name: strings.TrimSpace(r.PostForm.Get("name")),
		Role: auth.Role(r.PostForm.Get("role")), Departments: deps, TTL: time.Duration(days) * 24 * time.Hour})
	if err != nil {
		return err
	}
	c.log.Info("token issued", "by", v.P.Actor(), "by_token_id", v.P.TokenID, "name", issued.Name, "role", issued.Role,
		"token_id", issued.TokenID, "expires_at", issued.ExpiresAt, "via", "console")
	// The token is shown once, in this response's body, and never again.
	return c.showAdmin(w, r, v, &issued)
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.cfg.Tokens.Revoke(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/admin", http.StatusSeeOther)
	return nil
}
