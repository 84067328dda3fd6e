package httpapi

// ReadModels is what the read endpoints need of the projections.
type ReadModels interface{}

func (s *Server) readRoutes() {
	s.handle("GET /v1/events", "read", s.listEvents)
}
