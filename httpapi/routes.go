package httpapi

import (
	"net/http"

	"kpitrail/domain"
	"kpitrail/metrics"
)

func (s *Server) routes() {
	// Operations.
	s.handle("GET /healthz", "", func(w http.ResponseWriter, _ *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	})
	s.handle("GET /readyz", "", func(w http.ResponseWriter, _ *http.Request) error {
		if s.cfg.Fault != nil {
			if err := s.cfg.Fault(); err != nil {
				detail := err.Error()
				if e, ok := domain.AsError(err); ok {
					detail = e.Message
				}
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "stream guard failed", "detail": detail})
				return nil
			}
		}
		if s.cfg.Ready != nil && !s.cfg.Ready() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "catching up"})
			return nil
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return nil
	})
	metricsHandler := metrics.Handler(s.cfg.Metrics)
	s.handle("GET /metrics", "", func(w http.ResponseWriter, r *http.Request) error {
		metricsHandler.ServeHTTP(w, r)
		return nil
	})
	s.handle("GET /v1/openapi.json", "", serveOpenAPI)
	s.handle("GET /v1/asyncapi.json", "", s.serveAsyncAPI)

	// Tokens.
	s.handle("POST /v1/tokens", "admin", s.issueToken)
	s.handle("GET /v1/tokens", "admin", s.listTokens)
	s.handle("DELETE /v1/tokens/{id}", "admin", s.revokeToken)

	// Task writes.
	s.handle("POST /v1/tasks", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.RegisterTask) error {
		if c.TaskID == "" {
			c.TaskID = newID(r, "t-")
		}
		return nil
	}))
	s.handle("PUT /v1/tasks/{id}/deadline", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.ChangeDeadline) error {
		return pathID(r, "id", &c.TaskID, "task_id")
	}))
	s.handle("POST /v1/tasks/{id}/narratives", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.RecordNarrative) error {
		return pathID(r, "id", &c.TaskID, "task_id")
	}))
	s.handle("POST /v1/tasks/{id}/milestones", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.RecordMilestone) error {
		return pathID(r, "id", &c.TaskID, "task_id")
	}))
	s.handle("POST /v1/tasks/{id}/problems", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.RecordProblem) error {
		if c.ProblemID == "" {
			c.ProblemID = newID(r, "p-")
		}
		return pathID(r, "id", &c.TaskID, "task_id")
	}))
	s.handle("POST /v1/tasks/{id}/problems/{pid}/rectification", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.ProgressRectification) error {
		if err := pathID(r, "pid", &c.ProblemID, "problem_id"); err != nil {
			return err
		}
		return pathID(r, "id", &c.TaskID, "task_id")
	}))
	s.handle("POST /v1/tasks/{id}/problems/{pid}/close", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.CloseProblem) error {
		if err := pathID(r, "pid", &c.ProblemID, "problem_id"); err != nil {
			return err
		}
		return pathID(r, "id", &c.TaskID, "task_id")
	}))
	s.handle("POST /v1/tasks/{id}/complete", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.CompleteTask) error {
		return pathID(r, "id", &c.TaskID, "task_id")
	}))
	s.handle("POST /v1/tasks/{id}/withdraw", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.WithdrawTask) error {
		return pathID(r, "id", &c.TaskID, "task_id")
	}))

	// Indicator writes.
	s.handle("POST /v1/tasks/{id}/indicators", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.DefineIndicator) error {
		if c.IndicatorID == "" {
			c.IndicatorID = newID(r, "i-")
		}
		return pathID(r, "id", &c.TaskID, "task_id")
	}))
	s.handle("PUT /v1/indicators/{id}/target", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.SetTarget) error {
		return pathID(r, "id", &c.IndicatorID, "indicator_id")
	}))
	s.handle("POST /v1/indicators/{id}/bases", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.RecordBase) error {
		return pathID(r, "id", &c.IndicatorID, "indicator_id")
	}))
	s.handle("POST /v1/indicators/{id}/figures", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.ReportFigure) error {
		return pathID(r, "id", &c.IndicatorID, "indicator_id")
	}))
	s.handle("POST /v1/indicators/{id}/figures/{eid}/corrections", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.CorrectFigure) error {
		if err := pathID(r, "eid", &c.Corrects, "corrects"); err != nil {
			return err
		}
		return pathID(r, "id", &c.IndicatorID, "indicator_id")
	}))
	s.handle("POST /v1/indicators/{id}/figures/{eid}/retraction", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.RetractFigure) error {
		if err := pathID(r, "eid", &c.Retracts, "retracts"); err != nil {
			return err
		}
		return pathID(r, "id", &c.IndicatorID, "indicator_id")
	}))
	s.handle("POST /v1/indicators/{id}/withdraw", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.WithdrawIndicator) error {
		return pathID(r, "id", &c.IndicatorID, "indicator_id")
	}))

	// Any command by name, with the body the NATS intake takes: for scripts
	// and the CLI, which then need no per-command routes.
	s.handle("POST /v1/commands/{name}", "write", func(w http.ResponseWriter, r *http.Request) error {
		cmd, ok := domain.NewCommand(r.PathValue("name"))
		if !ok {
			return domain.NotFound("no command %q; see GET /v1/commands", r.PathValue("name"))
		}
		if err := decodeBody(r, cmd); err != nil {
			return err
		}
		return s.execute(w, r, cmd, http.StatusOK)
	})
	s.handle("GET /v1/commands", "read", func(w http.ResponseWriter, _ *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]any{"commands": domain.CommandNames()})
		return nil
	})

	s.controlRoutes()
	s.unitRoutes()
	s.readRoutes()
	s.selfCheckRoutes()
	s.auditRoutes()
	s.adminRoutes()
	s.importRoutes()
	s.exportRoutes()
	s.jobRoutes()
	s.handle("GET /v1/changes", "read", s.streamChanges)
}
