package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/restoreclient"
)

// healthAction is where the health check form is posted (its tokens name it).
const healthAction = "/healthcheck"

// healthForm is GET /healthcheck?backup=<id>[&pool=<pool>]: the form that
// boots one backup as a test VM on an SR of the pool.
func (s *Server) healthForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, err := catalog.ParseID(q.Get("backup"))
	if err != nil {
		s.errorPage(w, r, badField("backup", q.Get("backup"), idProblem(err)))
		return
	}
	b, err := s.backupByID(r.Context(), "backup", id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	bs := []catalog.Backup{b}
	s.markHealth(r.Context(), bs) // the form shows the last check's outcome
	d := targetData{Backup: bs[0], Pools: s.env.Pools.Names(), Nonce: s.forms.Issue(healthAction, userOf(r))}
	if q.Get("pool") != "" || len(d.Pools) == 1 {
		if d.Pool, err = s.pickPool(q.Get("pool")); err != nil {
			s.errorPage(w, r, err)
			return
		}
		if d.SRs, err = s.listSRs(r.Context(), d.Pool); err != nil {
			s.errorPage(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "healthcheck", view{Title: "Health check of " + b.VMName,
		Crumbs: append(backupCrumbs(b), crumb{"Health check", ""}), Data: d})
}

// backupCrumbs lead from the Restore view to backup b's VM.
func backupCrumbs(b catalog.Backup) []crumb {
	return []crumb{{"Restore", "/restore"}, {"Remote " + b.Remote, "/restore?" + url.Values{"remote": {b.Remote}}.Encode()},
		{"VM " + b.VMName, "/restore?" + url.Values{"remote": {b.Remote}, "vm": {b.VMUUID}}.Encode()}}
}

// submitHealthCheck is POST /healthcheck: it publishes the request
// `xbr healthcheck ID --sr SR` publishes, and redirects to its status page.
func (s *Server) submitHealthCheck(w http.ResponseWriter, r *http.Request) {
	req, err := s.healthRequest(w, r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	msg, err := s.env.Subjects.Message(events.Meta{ID: events.DeriveID(string(events.TypeHealthCheckRequested), req.RequestID),
		Source: events.Source(Name), Time: s.now()}, req)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if _, err := s.env.Conn.Publish(r.Context(), msg.Subject, msg.Event); err != nil {
		s.errorPage(w, r, upstream(err))
		return
	}
	reqLog(r).Info("health check requested", "request", req.RequestID, "backup", req.BackupID, "requested_by", req.RequestedBy)
	http.Redirect(w, r, "/healthchecks/"+req.RequestID, http.StatusSeeOther)
}

// healthRequest reads and checks the posted form. The form's nonce derives
// the request id: submitting one form twice is one health check.
func (s *Server) healthRequest(w http.ResponseWriter, r *http.Request) (events.HealthCheckRequested, error) {
	var req events.HealthCheckRequested
	body, err := readBody(w, r)
	if err != nil {
		return req, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return req, badField("form", "", err.Error())
	}
	nonce, err := s.forms.Check(form.Get("nonce"), healthAction, userOf(r))
	if err != nil {
		return req, err
	}
	id, err := catalog.ParseID(form.Get("backup"))
	if err != nil {
		return req, badField("backup", form.Get("backup"), idProblem(err))
	}
	b, err := s.backupByID(r.Context(), "backup", id)
	if err != nil {
		return req, err
	}
	req = events.HealthCheckRequested{RequestID: events.NewHealthCheckID("healthcheck", "web", nonce),
		BackupID: b.ID.String(), VMUUID: b.VMUUID, VMName: b.VMName, Method: events.HealthMethodGuestMetrics,
		TimeoutMS: config.DefaultHealthTimeout.Milliseconds(), RequestedBy: webUser(r)}
	if form.Get("xenstore") == "on" {
		req.Method = events.HealthMethodXenStore
	}
	if req.Pool, err = s.pickPool(form.Get("pool")); err != nil {
		return req, err
	}
	if strings.TrimSpace(form.Get("sr")) == "" {
		return req, badField("sr", "", "is required: the SR the test VM's disks go to")
	}
	if req.SR, err = s.resolveSR(r.Context(), req.Pool, form.Get("sr")); err != nil {
		return req, err
	}
	return req, req.Validate()
}

// healthStatusPage is GET /healthchecks/{id}.
func (s *Server) healthStatusPage(w http.ResponseWriter, r *http.Request) {
	h, err := s.lookupHealth(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "healthstatus", view{Title: "Health check " + h.State,
		Crumbs: []crumb{{"Restore", "/restore"}, {"Health check " + h.RequestID, ""}}, Data: h, Refresh: !h.Done()})
}

// healthStatusJSON is GET /healthchecks/{id}/status, what the page polls.
func (s *Server) healthStatusJSON(w http.ResponseWriter, r *http.Request) {
	h, err := s.lookupHealth(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) lookupHealth(r *http.Request) (restoreclient.HealthStatus, error) {
	id := r.PathValue("id")
	if err := checkRequestID(id); err != nil {
		return restoreclient.HealthStatus{}, err
	}
	h, err := restoreclient.LookupHealth(r.Context(), s.env.Conn.JetStream(), s.env.Subjects, s.env.Streams, id)
	if err != nil {
		return h, upstream(err)
	}
	return h, nil
}
