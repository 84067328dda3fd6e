package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"kpitrail/domain"
)

// MinPositionHeader asks a read to wait until this instance's read models
// include a position: the position a write answered with, on whichever
// instance took it. Behind a load balancer the read may reach another
// instance than the write did, each with read models of its own; with the
// header it still sees the write (read-your-writes), or is told, after
// WaitTimeout, that this instance has not caught up (503, Retry-After).
const MinPositionHeader = "X-Kpitrail-Min-Position"

// awaitPosition waits for the header's position on GET requests.
func (s *Server) awaitPosition(r *http.Request) error {
	v := r.Header.Get(MinPositionHeader)
	if v == "" || r.Method != http.MethodGet || s.cfg.Waiter == nil {
		return nil
	}
	pos, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return domain.Invalid(MinPositionHeader, "uint", "must be a log position (a non-negative integer), got %q", v)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WaitTimeout)
	defer cancel()
	if err := s.cfg.Waiter.Wait(ctx, pos); err != nil {
		if r.Context().Err() != nil {
			return r.Context().Err()
		}
		return &domain.Error{Code: domain.EUNAVAILABLE, Field: MinPositionHeader, Rule: "not_yet_visible",
			Message: fmt.Sprintf("this instance's read models do not include position %d yet; retry shortly", pos)}
	}
	return nil
}
