package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"kpitrail/auth"
	"kpitrail/domain"
)

// Signing in turns a token, typed once into a password field and posted
// in the body, into a session: the token is never put in a URL, never
// stored by the page, and never sent back to the browser.

// loginCookie carries the sign-in form's own CSRF value: before there is
// a session, the form proves it was served to this browser by echoing it
// (a forged cross-site form cannot read it, and SameSite=Strict keeps it
// from being sent with one).
const loginCookie = "kpitrail_login"

type loginPage struct {
	Next  string
	Token string // the form's CSRF value
	Error string
}

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	v := &view{c: c, r: r, Path: r.URL.Path}
	if _, err := c.session(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	msg := ""
	if r.URL.Query().Get("ended") == "expired" {
		msg = tokenExpiredText
	}
	c.showLogin(w, r, v, http.StatusOK, msg)
}

// tokenExpiredText is what the sign-in page says of an expired token.
const tokenExpiredText = "令牌已过期，会话随之结束。请向管理员申请新令牌后重新登录。"

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, v *view, status int, msg string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	value := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: value, Path: "/console/login", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostForm.Get("next")
	}
	data := loginPage{Next: safeNext(next), Token: value, Error: msg}
	if err := c.render(w, v, status, "login", "登录", data); err != nil {
		c.renderError(w, v, err)
	}
}

func (c *Console) loginCheck(w http.ResponseWriter, r *http.Request) {
	v := &view{c: c, r: r, Path: r.URL.Path}
	r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.renderError(w, v, domain.Invalid("body", "form", "cannot read the form: %v", err))
		return
	}
	ck, err := r.Cookie(loginCookie)
	form := r.PostForm.Get("csrf")
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(form)) != 1 {
		c.renderError(w, v, domain.Forbidden("the sign-in form is stale or was not served by this console; reload it"))
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if token == "" {
		c.showLogin(w, r, v, http.StatusBadRequest, "请输入令牌。")
		return
	}
	id, _, err := c.cfg.Sessions.Start(r.Context(), token)
	if errors.Is(err, auth.ErrBadToken) {
		c.showLogin(w, r, v, http.StatusUnauthorized, "令牌无效或已被吊销。")
		return
	}
	if auth.TokenExpired(err) {
		c.showLogin(w, r, v, http.StatusUnauthorized, tokenExpiredText)
		return
	}
	if err != nil {
		c.renderError(w, v, domain.Internal(err, "start session"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/console/login", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	setSessionCookie(w, r, id)
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, v *view) error {
	if ck, err := r.Cookie(sessionCookie(r)); err == nil {
		if err := c.cfg.Sessions.End(r.Context(), ck.Value); err != nil {
			return err
		}
	}
	setSessionCookie(w, r, "")
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
	return nil
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request, v *view) error {
	return domain.NotFound("no page %s", r.URL.Path)
}
