package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"xbr/events"
	"xbr/shared/config"
	"xbr/shared/failovers"
	"xbr/shared/xotag"
)

// The Disaster recovery pages:
//
//	GET  /dr                              the standby copies per source VM (dr.ls), each VM with its failover links
//	GET  /dr/failover?vm=V&copy=latest|T  what a failover to that copy will do, and its form
//	POST /dr/failover                     the form: publishes xbr.failover.requested and shows the outcome
//
// The confirmation pins the copy (its uuid and recovery point), so the form
// fails over to the copy the operator read about even when a newer copy
// lands in between. The form is protected like the restore form
// (http.CrossOriginProtection) and carries a nonce: submitting it twice to
// the same gateway fails over once and shows the first outcome twice. The
// request id is derived from the nonce besides, so a form submitted to two
// gateway replicas is one request (JetStream's duplicate window), and a
// failover is idempotent anyway: a copy already unblocked or running is left
// as it is. While the original VM runs the replicate function refuses the
// failover unless the form's force box is ticked.

// failoverAction is where the failover form is posted (its tokens name it).
const failoverAction = "/dr/failover"

// maxVMField bounds the vm parameter (a uuid or a VM name).
const maxVMField = 128

// drPages serves the Disaster recovery pages.
type drPages struct {
	s    *Server
	once *nonceOnce[failovers.Status]
}

func (s *Server) drRoutes(mux *http.ServeMux, csrf *http.CrossOriginProtection) {
	p := &drPages{s: s, once: newNonceOnce[failovers.Status](nonceMemory, s.opts.handlerTimeout)}
	mux.HandleFunc("GET /dr", p.list)
	mux.HandleFunc("GET /dr/failover", p.confirm)
	mux.Handle("POST /dr/failover", csrf.Handler(http.HandlerFunc(p.submit)))
}

// list is GET /dr.
func (p *drPages) list(w http.ResponseWriter, r *http.Request) {
	d := drListData{Configured: hasReplicateJob(p.s.env.Config)}
	if d.Configured {
		cs, err := p.s.copies(r.Context(), "")
		if err != nil {
			p.errorPage(w, r, err)
			return
		}
		d.VMs = p.s.groupCopies(r.Context(), cs)
	}
	p.s.render(w, r, http.StatusOK, "dr", view{Title: "Disaster recovery", Data: d})
}

// confirm is GET /dr/failover?vm=V&copy=C: what the failover will do.
func (p *drPages) confirm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	vm, sel := q.Get("vm"), q.Get("copy")
	c, err := p.chooseCopy(r.Context(), vm, sel)
	if err != nil {
		p.errorPage(w, r, err)
		return
	}
	row := p.s.copyRow(r.Context(), c, nil)
	d := drConfirmData{Copy: row, Asked: orLatest(sel), Nonce: p.s.forms.Issue(failoverAction, userOf(r)),
		FormVM: c.UUID, FormCopy: xotag.FormatDatetime(c.Datetime), Source: p.s.sourceVM(r.Context(), c)}
	p.s.render(w, r, http.StatusOK, "dr_failover", view{Title: "Fail over " + row.VMLabel,
		Crumbs: []crumb{{"Disaster recovery", "/dr"}, {"Fail over " + row.VMLabel, ""}}, Data: d})
}

// readFailoverForm reads the POSTed form.
func readFailoverForm(w http.ResponseWriter, r *http.Request) (FailoverRequest, string, error) {
	body, err := readBody(w, r)
	if err != nil {
		return FailoverRequest{}, "", err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return FailoverRequest{}, "", badField("form", "", err.Error())
	}
	return ParseFailoverForm(form)
}

// ParseFailoverForm checks the failover form of the Disaster recovery page:
// nonce (a form token's shape; the server checks its signature), vm (a uuid or name: 1-128 bytes of
// printable characters), copy (as ParseCopySelector reads it), start and
// force ("on" or absent). It returns the request and the nonce; every error is a
// *FieldError naming the field.
func ParseFailoverForm(form url.Values) (FailoverRequest, string, error) {
	nonce := form.Get("nonce")
	if !IsFormToken(nonce) {
		return FailoverRequest{}, "", badField("nonce", nonce, "missing or malformed: reload the confirmation page")
	}
	req := FailoverRequest{VM: form.Get("vm"), Copy: form.Get("copy")}
	if err := checkVMField(req.VM); err != nil {
		return FailoverRequest{}, "", err
	}
	at, err := ParseCopySelector(req.Copy)
	if err != nil {
		return FailoverRequest{}, "", err
	}
	req.At = at
	if req.Start, err = checkbox(form, "start"); err != nil {
		return FailoverRequest{}, "", err
	}
	if req.Force, err = checkbox(form, "force"); err != nil {
		return FailoverRequest{}, "", err
	}
	return req, nonce, nil
}

// chooseCopy is the complete copy of vm that sel names (the newest for
// latest; on a tie the one still on standby), as the replicate function picks it for a failover.
func (p *drPages) chooseCopy(ctx context.Context, vm, sel string) (events.DRCopy, error) {
	if err := checkVMField(vm); err != nil {
		return events.DRCopy{}, err
	}
	at, err := ParseCopySelector(sel)
	if err != nil {
		return events.DRCopy{}, err
	}
	cs, err := p.s.copies(ctx, vm)
	if err != nil {
		return events.DRCopy{}, err
	}
	if len(cs) == 0 {
		return events.DRCopy{}, missing("vm", vm, "has no standby copy")
	}
	var best events.DRCopy
	found := false
	for _, c := range cs {
		if c.SR == "" || (!at.IsZero() && !c.Datetime.Equal(at)) {
			continue
		}
		if newer := c.Datetime.After(best.Datetime); !found || newer ||
			(c.Datetime.Equal(best.Datetime) && c.StartBlocked && !best.StartBlocked) {
			best, found = c, true
		}
	}
	if !found {
		return events.DRCopy{}, missing("copy", orLatest(sel), "no complete copy of "+vm+" has that recovery point")
	}
	return best, nil
}

// errorPage renders err like Server.errorPage, with the way back to /dr.
func (p *drPages) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	code := errorStatus(err)
	msg := err.Error()
	if code == http.StatusInternalServerError {
		msg = "internal error (request " + w.Header().Get("X-Request-Id") + ")"
	}
	var fe *FieldError
	field := ""
	if errors.As(err, &fe) {
		field = fe.Field
	}
	reqLog(r).Warn("page refused", "status", code, "err", err)
	p.s.render(w, r, code, "dr_error", view{Title: http.StatusText(code), Crumbs: []crumb{{"Disaster recovery", "/dr"}},
		Data: struct {
			Code                 int
			Message, Field, Back string
		}{code, msg, field, "/dr"}})
}

// checkVMField accepts a VM uuid or name: 1-128 bytes of printable characters.
func checkVMField(v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return badField("vm", "", "is empty: name the VM (its uuid or name)")
	case len(v) > maxVMField:
		return badField("vm", v, "is longer than 128 bytes")
	case strings.IndexFunc(v, func(r rune) bool { return !unicode.IsPrint(r) || r == unicode.ReplacementChar }) >= 0:
		return badField("vm", v, "contains a control character or invalid UTF-8")
	}
	return nil
}

// checkbox reads a form checkbox: "on" or absent.
func checkbox(form url.Values, name string) (bool, error) {
	switch v := form.Get(name); v {
	case "on":
		return true, nil
	case "":
		return false, nil
	default:
		return false, badField(name, v, `want "on" or nothing`)
	}
}

func orLatest(sel string) string {
	if sel == "" {
		return Latest
	}
	return sel
}

func hasReplicateJob(cfg *config.Config) bool {
	if cfg == nil {
		return false
	}
	for _, j := range cfg.Jobs {
		if j.Mode == config.ModeReplicate {
			return true
		}
	}
	return false
}
