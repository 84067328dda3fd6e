package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/httpapi"
	"kpitrail/projections"
)

// view is one request as a page sees it: who is signed in, the as-of
// instant, and the helpers templates call to build links and forms.
type view struct {
	c       *Console
	r       *http.Request
	P       auth.Principal
	Session auth.Session
	// scope is what P may read (the API's read scope).
	scope auth.ReadScope
	// Path is the page's own path (the as-of picker posts back to it).
	Path string
	// AsOf is the instant every read of the page is as of; nil is now.
	AsOf *time.Time
	// Notice is a fixed message after a write (never text from the URL).
	Notice string
}

// asOfLayouts are what the picker sends (an <input type=datetime-local>,
// in the console's calendar) besides RFC 3339.
var asOfLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"}

func (v *view) parseAsOf() error {
	s := strings.TrimSpace(v.r.URL.Query().Get("as_of"))
	if s == "" {
		return nil
	}
	t, err := parseInstant(s, v.c.cfg.Location)
	if err != nil {
		return domain.Invalid("as_of", "instant", "must be a date and time such as 2022-12-31T23:59 or an RFC 3339 time, got %q", s)
	}
	v.AsOf = &t
	return nil
}

func parseInstant(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	var err error
	for _, layout := range asOfLayouts {
		var t time.Time
		if t, err = time.ParseInLocation(layout, s, loc); err == nil {
			if layout == "2006-01-02" {
				t = t.Add(24*time.Hour - time.Nanosecond) // the end of that day
			}
			return t, nil
		}
	}
	return time.Time{}, err
}

// readableTask is the API's answer for a task P may not read: not found,
// exactly as for a task that does not exist.
func (v *view) readableTask(ctx context.Context, db *projections.DB, id string) error {
	return httpapi.ReadableTask(ctx, db, v.scope, id)
}

// readableIndicator is readableTask for indicators.
func (v *view) readableIndicator(ctx context.Context, db *projections.DB, id string) error {
	return httpapi.ReadableIndicator(ctx, db, v.scope, id)
}

// visibility answers what P may read, for one page.
func (v *view) visibility() *httpapi.Visibility { return httpapi.NewVisibility(v.scope) }

// visible keeps the tasks of a board P may read.
func (v *view) visible(tasks []projections.Task) []projections.Task {
	return httpapi.VisibleTasks(v.scope, tasks)
}

// read runs fn on the read models as of the page's instant.
func (v *view) read(fn func(ctx context.Context, db *projections.DB) error) error {
	ctx := v.r.Context()
	return v.c.cfg.Reads.With(ctx, v.AsOf, func(db *projections.DB) error { return fn(ctx, db) })
}

// AsOfParam is the as-of value links carry.
func (v *view) AsOfParam() string {
	if v.AsOf == nil {
		return ""
	}
	return v.AsOf.Format(time.RFC3339Nano)
}

// AsOfLocal is the instant in the console's calendar, for the picker and
// the banner.
func (v *view) AsOfLocal() string {
	if v.AsOf == nil {
		return ""
	}
	return v.AsOf.In(v.c.cfg.Location).Format("2006-01-02T15:04:05")
}

// AsOfText is the banner's wording of the instant.
func (v *view) AsOfText() string {
	if v.AsOf == nil {
		return ""
	}
	return v.AsOf.In(v.c.cfg.Location).Format("2006年01月02日 15:04:05") + zoneText(v.c.cfg.Location)
}

func zoneText(loc *time.Location) string {
	if loc == projections.DefaultLocation {
		return "（北京时间）"
	}
	return "（" + loc.String() + "）"
}

// Link builds a console URL from path parts and query pairs, keeping the
// page's as-of instant: time travel holds across every link.
func (v *view) Link(path string, pairs ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	if v.AsOf != nil && q.Get("as_of") == "" {
		q.Set("as_of", v.AsOfParam())
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Now is the same page at the present.
func (v *view) Now() string {
	q := v.r.URL.Query()
	q.Del("as_of")
	if len(q) == 0 {
		return v.Path
	}
	return v.Path + "?" + q.Encode()
}

// Query is the page's query without as_of (and a write's notice), for
// the picker's hidden fields.
func (v *view) Query() map[string]string {
	out := map[string]string{}
	for k, vs := range v.r.URL.Query() {
		if k != "as_of" && k != "saved" && len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	return out
}

// CSRF is the session's form value.
func (v *view) CSRF() string { return v.Session.CSRF }

// FormKey is a fresh idempotency key for one rendered form: posting the
// same form twice (a double click, a reload) runs its command once.
func (v *view) FormKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Can reports whether the signed-in principal may run command on a task,
// by the same matrix the command service enforces; nothing may be written
// into the past, so an as-of page offers no action.
func (v *view) Can(command string, t projections.Task) bool {
	if v.AsOf != nil {
		return false
	}
	return auth.Permits(v.P, command, auth.Target{Task: taskScope(t)}) == nil
}

// CanDecide is Can for a command that decides what askedBy submitted or
// proposed: the matrix also refuses a person's approval of its own.
func (v *view) CanDecide(command string, t projections.Task, askedBy string) bool {
	if v.AsOf != nil {
		return false
	}
	return auth.Permits(v.P, command, auth.Target{Task: taskScope(t), AskedBy: askedBy}) == nil
}

// CanAny reports whether the principal may run command on some task.
func (v *view) CanAny(command string) bool {
	return v.AsOf == nil && auth.Permits(v.P, command, auth.Target{}) == nil
}

// IsAdmin reports whether the administration pages are the principal's.
func (v *view) IsAdmin() bool { return auth.CanAdmin(v.P.Role) }

func taskScope(t projections.Task) *auth.TaskScope {
	return &auth.TaskScope{ID: t.ID, Lead: t.LeadDepartment, Departments: append([]string{t.LeadDepartment}, t.CoDepartments...), Unit: t.UnitPath}
}

// When shows a stored instant in the console's calendar.
func (v *view) When(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.In(v.c.cfg.Location).Format("2006-01-02 15:04:05")
}

// At shows an instant in the console's calendar.
func (v *view) At(t time.Time) string { return t.In(v.c.cfg.Location).Format("2006-01-02 15:04:05") }
