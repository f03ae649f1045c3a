package gateway

import (
	"errors"
	"net/http"

	"xbr/shared/failovers"
)

// postFailover is POST /v1/failovers, signed like POST /v1/restores. It
// publishes xbr.failover.requested (requested_by "webhook") and waits for
// the outcome: 200 with the status once completed, 409 when refused
// because the source VM runs (send "force": true to override), 404 when
// there is no such copy, 202 with the status (its id) and a Location when
// the outcome takes longer than the failover wait (WithFailoverWait). A redelivery of the same signed request is the
// same request (its id is derived from the timestamp and body).
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
	key := "webhook:" + r.Header.Get(HeaderTimestamp) + ":" + string(body)
	st, err := s.failover(r.Context(), req.Params("webhook", key))
	if err != nil {
		fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/failovers/"+st.RequestID)
	if !st.Done() {
		writeJSON(w, http.StatusAccepted, st)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// getFailover is GET /v1/failovers/{id}: signed like a POST with an empty
// body; the failover's status as its events tell it.
func (s *Server) getFailover(w http.ResponseWriter, r *http.Request) {
	if err := s.authenticate(r, nil); err != nil {
		fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if err := checkRequestID(id); err != nil {
		fail(w, r, err)
		return
	}
	st, err := failovers.Lookup(r.Context(), s.env.Conn.JetStream(), s.env.Subjects, s.env.Streams, id)
	if err != nil {
		fail(w, r, upstreamUnlessMissing(err))
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// upstreamUnlessMissing keeps "no such failover" a 404.
func upstreamUnlessMissing(err error) error {
	if errors.Is(err, failovers.ErrNotFound) {
		return err
	}
	return upstream(err)
}
