package gateway

import (
	"context"
	"errors"
	"strings"
	"time"

	"xbr/shared/app"
	"xbr/shared/xotag"
)

// The replicate function's API verbs (functions never import each other:
// the gateway asks any xbr server over NATS, as `xbr dr` does).
const (
	verbDRList     = "dr.ls"
	verbDRFailover = "dr.failover"
)

// DRCopy is a standby copy as the dr.ls and dr.failover verbs answer it.
type DRCopy struct {
	UUID         string    `json:"copy_uuid"`
	Name         string    `json:"copy_name"`
	Pool         string    `json:"pool"`
	VMUUID       string    `json:"vm_uuid"`
	VMName       string    `json:"vm_name,omitempty"`
	Job          string    `json:"job"`
	Schedule     string    `json:"schedule"`
	Datetime     time.Time `json:"datetime"` // the recovery point
	PowerState   string    `json:"power_state"`
	StartBlocked bool      `json:"start_blocked"`
	State        string    `json:"state,omitempty"` // standby, failed-over or interrupted
	AgeSeconds   int64     `json:"age_seconds,omitempty"`
}

// Failover is what a failover did (the dr.failover verb's answer).
type Failover struct {
	Copy       DRCopy `json:"copy"`
	Unblocked  bool   `json:"unblocked"`
	Started    bool   `json:"started"`
	PowerState string `json:"power_state"`
}

// FailoverRequest is the JSON body of POST /v1/failovers: the VM (source
// uuid or name, or the copy's uuid), which copy ("latest", the default, or
// its recovery point) and whether to boot it.
type FailoverRequest struct {
	VM    string `json:"vm"`
	Copy  string `json:"copy,omitempty"`
	Start bool   `json:"start,omitempty"`

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

// ParseCopySelector reads which copy: "" or "latest" (zero time), or a
// recovery point as xo:backup:datetime (20231012T10:11:12Z), as in copy
// names (20231012T101112Z) or RFC 3339, to the second.
func ParseCopySelector(s string) (time.Time, error) {
	if s == "" || s == Latest {
		return time.Time{}, nil
	}
	if t, err := xotag.ParseDatetime(s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Nanosecond() != 0 {
		return time.Time{}, badField("copy", s, "want latest or a recovery point like 20231012T10:11:12Z, 20231012T101112Z or 2023-10-12T10:11:12Z")
	}
	return t.UTC(), nil
}

// selector is the copy as the dr.failover verb reads it.
func selector(at time.Time) string {
	if at.IsZero() {
		return Latest
	}
	return xotag.FormatDatetime(at)
}

// copies lists the standby copies (of vm when not "").
func (s *Server) copies(ctx context.Context, vm string) ([]DRCopy, error) {
	var out []DRCopy
	err := app.Request(ctx, s.env.Conn.NATS(), s.env.Subjects, verbDRList, map[string]string{"vm": vm}, &out)
	return out, drError(err, vm)
}

// failover fails vm over to the copy at (zero: the latest).
func (s *Server) failover(ctx context.Context, vm string, at time.Time, start bool) (Failover, error) {
	req := map[string]any{"vm": vm, "copy": selector(at), "start": start}
	var res Failover
	err := app.Request(ctx, s.env.Conn.NATS(), s.env.Subjects, verbDRFailover, req, &res)
	return res, drError(err, vm)
}

// drError maps an API error: no such copy is a 404, anything else a
// failure of what the gateway depends on (the server, NATS, the pools).
func drError(err error, vm string) error {
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, app.ErrNoServer) && strings.Contains(err.Error(), "no complete copy"):
		return missing("vm", vm, err.Error())
	}
	return upstream(err)
}
