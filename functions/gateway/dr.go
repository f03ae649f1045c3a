package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/failovers"
	"xbr/shared/fn"
)

// FailoverRequest is the JSON body of POST /v1/failovers: the VM (source
// uuid or name, or the copy's uuid), which copy ("latest", the default, or
// its recovery point), whether to boot it, and force (fail over even while
// the source VM runs). It becomes a failovers.Params. Nothing is confirmed
// on this door: "latest" is the newest complete copy when the replicate
// function handles the request (the DR page's form, which is confirmed,
// pins the copy's uuid and recovery point instead).
type FailoverRequest struct {
	VM    string `json:"vm"`
	Copy  string `json:"copy,omitempty"`
	Start bool   `json:"start,omitempty"`
	Force bool   `json:"force,omitempty"`

	// At is Copy parsed (zero for latest).
	At time.Time `json:"-"`
}

// ParseFailoverRequest decodes and validates a webhook body; every error is
// a *FieldError naming the field.
func ParseFailoverRequest(body []byte) (FailoverRequest, error) {
	var req FailoverRequest
	if err := decodeStrict(body, &req); err != nil {
		return FailoverRequest{}, err
	}
	if err := checkValue("vm", req.VM); err != nil {
		return FailoverRequest{}, err
	}
	at, err := ParseCopySelector(req.Copy)
	if err != nil {
		return FailoverRequest{}, err
	}
	req.At = at
	return req, nil
}

// Params is the request as the failovers package publishes it.
func (r FailoverRequest) Params(by, key string) failovers.Params {
	return failovers.Params{VM: r.VM, Copy: failovers.CopyString(r.At), Start: r.Start, Force: r.Force, RequestedBy: by, Key: key}
}

// ParseCopySelector reads which copy as failovers.ParseCopy does, as a
// *FieldError naming copy.
func ParseCopySelector(s string) (time.Time, error) {
	t, err := failovers.ParseCopy(s)
	if err != nil {
		return time.Time{}, badField("copy", s, "want latest or a recovery point like 20231012T10:11:12Z, 20231012T101112Z or 2023-10-12T10:11:12Z")
	}
	return t, nil
}

// copies lists the standby copies (of vm when not ""): the replicate
// function's dr.ls query, asked of any xbr server (functions never import
// each other), as `xbr dr ls` does. A failover is not a query: it is the
// xbr.failover.requested event.
func (s *Server) copies(ctx context.Context, vm string) ([]events.DRCopy, error) {
	out, err := fn.Ask(ctx, s.env.Conn.NATS(), s.env.Subjects, events.QueryDRList, events.DRListRequest{VM: vm})
	return out, drError(err, vm)
}

// failover publishes xbr.failover.requested (from the gateway, with who
// asked in p.RequestedBy) and follows it for at most the failover wait
// (WithFailoverWait, shorter than the handler timeout): the status is done,
// or still pending, with where to look. A refused or failed failover is an
// error (see failoverError) besides the status.
func (s *Server) failover(ctx context.Context, p failovers.Params) (failovers.Status, error) {
	req, err := s.requestFailover(ctx, p)
	if err != nil {
		return failovers.Status{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, s.opts.failoverWait)
	defer cancel()
	st, err := failovers.Follow(wctx, s.env.Conn, s.env.Subjects, s.env.Streams, req.RequestID, nil)
	if err != nil && wctx.Err() == nil {
		return st, upstream(err)
	}
	st.RequestID = req.RequestID
	return st, failoverError(st)
}

// requestFailover publishes xbr.failover.requested (from the gateway, with
// who asked in p.RequestedBy) and logs it.
func (s *Server) requestFailover(ctx context.Context, p failovers.Params) (events.FailoverRequested, error) {
	req, err := failovers.Publish(ctx, s.env.Conn, s.env.Subjects, events.Source(Name), p, s.now())
	if err != nil {
		return events.FailoverRequested{}, upstream(err)
	}
	s.log.Info("failover requested", "failover_id", req.RequestID, "vm", req.VM, "copy", req.Copy,
		"start", req.Start, "force", req.Force, "requested_by", req.RequestedBy)
	return req, nil
}

// refusedError is a failover refused because the source VM, or another
// copy of it, runs (409).
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// failoverError is the error of a failed failover: refused (409), no such
// copy (a 404 naming vm), a VM name several VMs share (400), or a failure
// upstream (502); nil otherwise.
func failoverError(st failovers.Status) error {
	switch {
	case st.Failed == nil:
		return nil
	case st.Refused():
		return &refusedError{msg: st.Error()}
	case strings.Contains(st.Error(), "no complete copy"):
		return missing("vm", st.Failed.VM, st.Error())
	case strings.HasSuffix(st.Error(), "): give the uuid"): // a *vmname.AmbiguousError, as text in the event
		return badField("vm", st.Failed.VM, strings.TrimPrefix(st.Error(), fmt.Sprintf("vm %q: ", st.Failed.VM)))
	}
	return upstream(errors.New(st.Error()))
}

// drError maps an API error: no such copy is a 404, anything else a
// failure of what the gateway depends on (the server, NATS, the pools).
func drError(err error, vm string) error {
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, fn.ErrNoServer) && strings.Contains(err.Error(), "no complete copy"):
		return missing("vm", vm, err.Error())
	}
	return upstream(err)
}
