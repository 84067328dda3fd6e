package console

import "net/http"

// routes is every page and action of the console, in one place. Reads
// are GET; every write is a POST of a form carrying the session's CSRF
// value, checked in page() before the handler runs.
func (c *Console) routes() {
	m := c.mux
	m.HandleFunc("GET /{$}", redirectTo("/console/board"))
	m.HandleFunc("GET /console/{$}", redirectTo("/console/board"))
	m.Handle("GET /console/static/", staticFiles())

	m.HandleFunc("GET /console/login", c.loginForm)
	m.HandleFunc("POST /console/login", c.loginCheck)
	m.HandleFunc("POST /console/logout", c.page(signedIn, c.logout))

	m.HandleFunc("GET /console/board", c.page(signedIn, c.board))
	m.HandleFunc("GET /console/board/selfcheck.xlsx", c.page(signedIn, c.boardSelfCheck))
	m.HandleFunc("GET /console/tasks/{id}", c.page(signedIn, c.task))
	m.HandleFunc("GET /console/tasks/{id}/selfcheck.xlsx", c.page(signedIn, c.taskSelfCheck))
	m.HandleFunc("GET /console/indicators/{id}", c.page(signedIn, c.indicator))
	m.HandleFunc("GET /console/indicators/{id}/audit", c.page(signedIn, c.auditTrail))
	m.HandleFunc("GET /console/indicators/{id}/compare", c.page(signedIn, c.compare))
	m.HandleFunc("GET /console/events/{position}", c.page(signedIn, c.event))
	m.HandleFunc("GET /console/queues", c.page(signedIn, c.queues))
	m.HandleFunc("GET /console/asof", c.page(signedIn, c.asOfPicker))

	m.HandleFunc("POST /console/indicators/{id}/figures", c.page(signedIn, c.reportFigure))
	m.HandleFunc("POST /console/indicators/{id}/corrections", c.page(signedIn, c.correctFigure))
	m.HandleFunc("POST /console/tasks/{id}/problems/{pid}/rectification", c.page(signedIn, c.progressRectification))
	m.HandleFunc("POST /console/tasks/{id}/problems/{pid}/close", c.page(signedIn, c.closeProblem))
	m.HandleFunc("POST /console/indicators/{id}/figures/{eid}/submit", c.page(signedIn, c.submitFigure()))
	m.HandleFunc("POST /console/indicators/{id}/figures/{eid}/approve", c.page(signedIn, c.approveFigure()))
	m.HandleFunc("POST /console/indicators/{id}/figures/{eid}/return", c.page(signedIn, c.returnFigure()))
	m.HandleFunc("POST /console/indicators/{id}/figures/{eid}/reopen", c.page(signedIn, c.reopenFigure()))
	m.HandleFunc("POST /console/indicators/{id}/proposals/{eid}/approve", c.page(signedIn, c.approveProposal()))
	m.HandleFunc("POST /console/indicators/{id}/proposals/{eid}/reject", c.page(signedIn, c.rejectProposal()))
	m.HandleFunc("POST /console/indicators/{id}/warnings/explain", c.page(signedIn, c.explainWarning))

	m.HandleFunc("GET /console/import", c.page(signedIn, c.importForm))
	m.HandleFunc("POST /console/import", c.page(signedIn, c.importRun))
	m.HandleFunc("GET /console/jobs/{id}", c.page(signedIn, c.jobView))
	m.HandleFunc("POST /console/jobs/{id}/cancel", c.page(signedIn, c.jobCancel))
	m.HandleFunc("GET /console/import/templates/{file}", c.page(signedIn, c.importTemplate))
	m.HandleFunc("GET /console/exports", c.page(signedIn, c.exportsPage))
	m.HandleFunc("GET /console/exports/{file}", c.page(signedIn, c.exportFile))

	m.HandleFunc("GET /console/admin", c.page(adminOnly, c.admin))
	m.HandleFunc("POST /console/admin/tokens", c.page(adminOnly, c.issueToken))
	m.HandleFunc("POST /console/admin/tokens/{id}/revoke", c.page(adminOnly, c.revokeToken))

	m.HandleFunc("/console/", c.page(signedIn, c.notFound))
}

func redirectTo(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, path, http.StatusSeeOther) }
}
