package console

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/httpapi"
)

// contentSecurityPolicy allows the page its own origin and nothing else:
// no inline script or style (so an injected tag does nothing), no
// framing, forms only to itself. The charts are inline SVG drawn with
// presentation attributes, which this policy allows, not style attributes.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func secureHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// Access levels of a page, as the API's routes have them.
type access int

const (
	// signedIn: any valid token's session (the API's "read"; what a role
	// may change is the command service's matrix).
	signedIn access = iota
	// adminOnly: auth.CanAdmin.
	adminOnly
)

// maxFormBytes bounds a form post; an upload has its own bound.
const maxFormBytes = 256 << 10

// handler is a page or action: it renders or redirects, or returns an
// error that becomes an error page with the status the domain code maps
// to (the same table the API uses).
type handler func(w http.ResponseWriter, r *http.Request, v *view) error

// page wraps a handler with what every signed-in page needs: the session,
// the access check, CSRF on writes, the as-of instant, and error pages.
func (c *Console) page(level access, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := &view{c: c, r: r, Path: r.URL.Path}
		defer func() {
			if p := recover(); p != nil {
				c.log.Error("console: panic", "path", r.URL.Path, "panic", p)
				c.renderError(w, v, domain.Internal(nil, "panic"))
			}
		}()
		sess, err := c.session(r)
		if err != nil {
			if errors.Is(err, auth.ErrNoSession) {
				if auth.TokenExpired(err) {
					setSessionCookie(w, r, "")
				}
				c.toLogin(w, r, auth.TokenExpired(err))
				return
			}
			c.renderError(w, v, domain.Internal(err, "session"))
			return
		}
		v.Session, v.P = sess, sess.Principal
		v.scope = auth.ReadScopeOf(v.P, c.cfg.ReportersReadAll)
		if c.cfg.Limiter != nil {
			if ok, retry := c.cfg.Limiter.Allow(v.P.TokenID); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
				c.renderProblem(w, v, httpapi.RateLimited(r.URL.Path))
				return
			}
		}
		if level == adminOnly && !auth.CanAdmin(v.P.Role) {
			c.renderError(w, v, domain.Forbidden("role %s may not open the administration pages", v.P.Role))
			return
		}
		if r.Method == http.MethodPost {
			if err := checkPost(r, sess); err != nil {
				c.renderError(w, v, err)
				return
			}
		}
		if err := v.parseAsOf(); err != nil {
			c.renderError(w, v, err)
			return
		}
		r = r.WithContext(auth.WithPrincipal(r.Context(), v.P))
		v.r = r
		if err := h(w, r, v); err != nil {
			c.renderError(w, v, err)
		}
	}
}

// checkPost refuses a write that is not the session's own form: the CSRF
// value must be the session's, and a browser that says the request comes
// from another site is refused even then. The session cookie is
// SameSite=Strict as well, so a cross-site post arrives without a session.
func checkPost(r *http.Request, sess auth.Session) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return domain.Forbidden("a form from another site (Sec-Fetch-Site: %s) may not post here", site)
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// Only a signed-in session gets here, and the upload's bound holds
		// before anything is parsed.
		r.Body = http.MaxBytesReader(nil, r.Body, httpapi.MaxImportBytes+maxFormBytes)
		if err := r.ParseMultipartForm(httpapi.MaxImportBytes + maxFormBytes); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return &domain.Error{Code: domain.ETOOLARGE, Field: "file", Rule: "max_bytes", Message: "an import file may be at most 20 MiB"}
			}
			return domain.Invalid("body", "multipart", "cannot read the form: %v", err)
		}
		return sess.CheckCSRF(r.PostForm.Get("csrf"))
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return domain.Invalid("body", "form", "cannot read the form: %v", err)
	}
	return sess.CheckCSRF(r.PostForm.Get("csrf"))
}

// sessionCookie names the cookie. Over TLS it takes the __Host- prefix,
// which browsers only accept from a secure origin, for the whole host,
// with path /: no subdomain or plain-HTTP page can plant or shadow it.
func sessionCookie(r *http.Request) string {
	if r.TLS != nil {
		return "__Host-kpitrail_session"
	}
	return "kpitrail_session"
}

func (c *Console) session(r *http.Request) (auth.Session, error) {
	ck, err := r.Cookie(sessionCookie(r))
	if err != nil {
		return auth.Session{}, auth.ErrNoSession
	}
	return c.cfg.Sessions.Resolve(r.Context(), ck.Value)
}

func setSessionCookie(w http.ResponseWriter, r *http.Request, id string) {
	ck := &http.Cookie{Name: sessionCookie(r), Value: id, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode}
	if id == "" {
		ck.MaxAge = -1
	}
	http.SetCookie(w, ck)
}

// toLogin sends a reader without a session to the sign-in page, and back
// here afterwards; a write without a session is refused outright. A
// session ended by its token's expiry says so, so the reader asks for a
// new token rather than trying the old one again.
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request, expired bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		v := &view{c: c, r: r, Path: r.URL.Path}
		if expired {
			c.renderError(w, v, domain.Unauthorized("this session ended when its token expired; sign in with a new token"))
			return
		}
		c.renderError(w, v, domain.Unauthorized("sign in first: this session has ended or never began"))
		return
	}
	to := "/console/login?next=" + url.QueryEscape(r.URL.RequestURI())
	if expired {
		to += "&ended=expired"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	p, _, _ := strings.Cut(next, "?")
	if !strings.HasPrefix(next, "/console/") || strings.ContainsAny(next, "\\\r\n") || path.Clean(p) != strings.TrimSuffix(p, "/") {
		return "/console/board"
	}
	return next
}
