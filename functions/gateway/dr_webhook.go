package gateway

import "net/http"

// postFailover is POST /v1/failovers: signed like POST /v1/restores. It
// answers 200 with what the failover did, once the copy is unblocked (and
// started). Repeating it is harmless: a copy already unblocked or running
// is left as it is.
func (s *Server) postFailover(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err == nil {
		err = s.authenticate(r, body)
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	req, err := ParseFailoverRequest(body)
	if err != nil {
		fail(w, r, err)
		return
	}
	res, err := s.failover(r.Context(), req.VM, req.At, req.Start)
	if err != nil {
		fail(w, r, err)
		return
	}
	reqLog(r).Info("failover", "via", "webhook", "vm", req.VM, "copy_uuid", res.Copy.UUID, "started", res.Started)
	writeJSON(w, http.StatusOK, res)
}
