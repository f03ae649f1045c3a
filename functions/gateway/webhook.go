package gateway

import (
	"context"
	"encoding/hex"
	"net/http"

	"xbr/shared/restoreclient"
)

// restoreAccepted is the 202 answer of POST /v1/restores.
type restoreAccepted struct {
	ID        string `json:"id"`
	BackupID  string `json:"backup_id"`
	Pool      string `json:"pool"`
	SR        string `json:"sr,omitempty"`
	Name      string `json:"name,omitempty"` // the new VM's name, when it is not the one asked for or the default
	StatusURL string `json:"status_url"`
	// Warnings say what the request gets without asking (a distinct VM name).
	Warnings []string `json:"warnings,omitempty"`
}

// authenticate checks the webhook signature of the request (method, target,
// timestamp, body) and that no gateway accepted it before; nothing else runs
// before it succeeds.
func (s *Server) authenticate(r *http.Request, body []byte) error {
	sum, err := VerifyWebhook(s.env.Config.Gateway.WebhookSecret.Reveal(), Webhook{
		Timestamp: r.Header.Get(HeaderTimestamp), Signature: r.Header.Get(HeaderSignature),
		Method: r.Method, Target: r.RequestURI, Body: body}, s.now())
	if err != nil || r.Method == http.MethodGet { // reading a status twice is harmless
		return err
	}
	return s.seen.first(r.Context(), "webhook."+hex.EncodeToString(sum))
}

// postRestore is POST /v1/restores.
func (s *Server) postRestore(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err == nil {
		err = s.authenticate(r, body)
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	req, err := ParseRestoreRequest(body)
	if err != nil {
		fail(w, r, err)
		return
	}
	t, err := s.webhookTarget(r.Context(), req)
	if err != nil {
		fail(w, r, err)
		return
	}
	// A redelivery of the same signed request (same timestamp and body) is the same request.
	key := "webhook:" + r.Header.Get(HeaderTimestamp) + ":" + string(body)
	a, err := s.request(r.Context(), t, "webhook", key)
	if err != nil {
		fail(w, r, err)
		return
	}
	rr := a.Request
	writeJSON(w, http.StatusAccepted, restoreAccepted{ID: rr.RequestID, BackupID: rr.BackupID, Pool: rr.Pool,
		SR: rr.SR, Name: rr.Name, StatusURL: "/v1/restores/" + rr.RequestID, Warnings: a.Warnings})
}

func (s *Server) webhookTarget(ctx context.Context, req RestoreRequest) (target, error) {
	var (
		t   = target{name: req.Name, start: req.Start}
		err error
	)
	if req.BackupID != "" {
		t.backup, err = s.backupByID(ctx, "backup_id", req.ID)
	} else {
		t.backup, err = s.selectBackup(ctx, req.VM, req.Remote, req.At)
	}
	if err != nil {
		return target{}, err
	}
	if t.pool, err = s.pickPool(req.Pool); err != nil {
		return target{}, err
	}
	if t.sr, err = s.resolveSR(ctx, t.pool, req.SR); err != nil {
		return target{}, err
	}
	return t, nil
}

// getRestore is GET /v1/restores/{id}: signed like a POST with an empty body.
func (s *Server) getRestore(w http.ResponseWriter, r *http.Request) {
	if err := s.authenticate(r, nil); err != nil {
		fail(w, r, err)
		return
	}
	st, err := s.lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// lookup reads the status of restore id from the streams.
func (s *Server) lookup(ctx context.Context, id string) (restoreclient.Status, error) {
	if err := checkRequestID(id); err != nil {
		return restoreclient.Status{}, err
	}
	st, err := restoreclient.Lookup(ctx, s.env.Conn.JetStream(), s.env.Subjects, s.env.Streams, id)
	if err != nil {
		return restoreclient.Status{}, upstream(err)
	}
	return st, nil
}
