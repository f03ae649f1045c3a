package xapisim

import (
	"encoding/json"
	"maps"
	"net/http"
)

// Stats is what GET /sim/stats answers: how many API calls each method
// received (by wire name, "Async." included, failed calls too) and how many
// HTTP requests each path received, and the bytes moved per transfer kind
// since start (see TransferKinds). Tests and benchmarks read it to count
// the calls and bytes a backup costs.
type Stats struct {
	Calls    map[string]int   `json:"calls"`
	Requests map[string]int   `json:"requests"`
	Bytes    map[string]int64 `json:"bytes"`
}

// TransferKinds are the keys of Stats.Bytes: body bytes sent by /export
// (as sent, compressed or not) and /export_raw_vdi, received by /import,
// sent as NBD read data, and written by guests through /sim/vdi/.../write.
var TransferKinds = []string{"export", "export_raw_vdi", "import", "nbd_read", "guest_write"}

// countBytes adds n bytes to the counter of kind.
func (s *Server) countBytes(kind string, n int64) {
	s.mu.Lock()
	s.bytes[kind] += n
	s.mu.Unlock()
}

// counter returns a function counting bytes of kind.
func (s *Server) counter(kind string) func(int64) {
	return func(n int64) { s.countBytes(kind, n) }
}

// countCall records one API call of method.
func (s *Server) countCall(method string) {
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
}

// Calls returns how many API calls each method received.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// Stats returns the call and request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Calls: maps.Clone(s.calls), Requests: maps.Clone(s.requests), Bytes: maps.Clone(s.bytes)}
}

// serveStats answers GET /sim/stats, a simulator endpoint that no XAPI has.
// It needs no session: it reveals counts, never data.
func (s *Server) serveStats(w http.ResponseWriter) {
	body, err := json.Marshal(s.Stats())
	if err != nil {
		httpError(w, http.StatusInternalServerError, "Internal Error", "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
