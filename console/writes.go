package console

import (
	"context"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kpitrail/app"
	"kpitrail/domain"
)

// Every write of the console is a domain command run by the command
// service as the signed-in principal: the same validation, the same
// authorization matrix and the same audit stamp as the API, with source
// "console". The form's own key is the command id, so a form posted twice
// runs once.

func (c *Console) execute(r *http.Request, v *view, cmd domain.Command) (app.Result, error) {
	if v.AsOf != nil {
		return app.Result{}, domain.Invalid("as_of", "present_only", "nothing can be written into the past; leave the as-of view first")
	}
	key := r.PostForm.Get("key")
	if _, err := hex.DecodeString(key); err != nil || len(key) != 32 {
		return app.Result{}, domain.Invalid("key", "form_key", "the form has no valid key; reload the page")
	}
	meta := domain.Meta{Actor: v.P.Actor(), ActorTokenID: v.P.TokenID, CommandID: v.P.TokenID + "/console-" + key, Source: "console"}
	res, err := c.cfg.Service.Execute(r.Context(), meta, cmd, app.Options{})
	if err != nil {
		return res, err
	}
	// The page shown next must include the write.
	if c.cfg.Waiter != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		_ = c.cfg.Waiter.Wait(ctx, res.Position)
		cancel()
	}
	return res, nil
}

// seeOther redirects after a write (POST/redirect/GET), with a notice key.
func seeOther(w http.ResponseWriter, r *http.Request, path, saved, anchor string) error {
	http.Redirect(w, r, path+"?saved="+saved+anchor, http.StatusSeeOther)
	return nil
}

func formDecimal(r *http.Request, field string, required bool) (*domain.Decimal, error) {
	s := strings.TrimSpace(r.PostForm.Get(field))
	if s == "" {
		if required {
			return nil, domain.Invalid(field, "required", "enter a number")
		}
		return nil, nil
	}
	d, err := domain.ParseDecimal(s)
	if err != nil {
		return nil, domain.Invalid(field, "decimal", "must be a decimal number such as 610 or 77.5, got %q", s)
	}
	return &d, nil
}

func formInt(r *http.Request, field string, def int) (int, error) {
	s := strings.TrimSpace(r.PostForm.Get(field))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, domain.Invalid(field, "integer", "must be a whole number, got %q", s)
	}
	return n, nil
}
