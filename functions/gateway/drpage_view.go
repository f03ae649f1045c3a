package gateway

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"xbr/events"
	"xbr/shared/failovers"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// sourceCheckTimeout bounds looking for the original VM on the other pools:
// in a disaster its pool is often gone, and the page must still answer.
const sourceCheckTimeout = 5 * time.Second

// drRow is one copy as the pages show it.
type drRow struct {
	UUID, Name, VMUUID, VMName, VMLabel string
	Job, Schedule, Pool, SR, SRName     string
	RecoveryPoint                       time.Time
	Age, State, StateClass, PowerState  string
	Complete, StartBlocked              bool
	FailoverURL                         string
}

// drVM is a source VM with its copies, newest first.
type drVM struct {
	UUID, Label string
	LatestURL   string // failover to the latest complete copy ("" when none)
	Copies      []drRow
}

type drListData struct {
	Configured bool
	VMs        []drVM
}

type drConfirmData struct {
	Copy             drRow
	Asked            string // the copy as asked for: latest or a recovery point
	FormVM, FormCopy string // what the form pins: the copy's uuid and recovery point
	Nonce            string
	Source           drSource
}

type drDoneData struct {
	Copy       drRow
	Status     failovers.Status
	Result     *events.FailoverCompleted // nil until completed
	Repeated   bool                      // the same form was submitted before: this is that outcome
	AskedStart bool
}

// drSource is what the gateway found out about the copy's original VM.
type drSource struct {
	Found            bool
	Pool, PowerState string
	Running          bool
	Unreachable      []string // pools that could not be asked
	NameLabel        string
}

// groupCopies groups the listed copies by source VM, VMs by name.
func (s *Server) groupCopies(ctx context.Context, cs []events.DRCopy) []drVM {
	srs := map[string]map[string]string{}
	byVM := map[string]*drVM{}
	var order []*drVM
	for _, c := range cs {
		row := s.copyRow(ctx, c, srs)
		v := byVM[c.VMUUID]
		if v == nil {
			v = &drVM{UUID: c.VMUUID, Label: row.VMLabel}
			byVM[c.VMUUID], order = v, append(order, v)
		}
		v.Copies = append(v.Copies, row)
	}
	out := make([]drVM, 0, len(order))
	for _, v := range order {
		slices.SortStableFunc(v.Copies, func(a, b drRow) int { return b.RecoveryPoint.Compare(a.RecoveryPoint) })
		if slices.ContainsFunc(v.Copies, func(r drRow) bool { return r.Complete }) {
			v.LatestURL = failoverURL(v.UUID, Latest)
		}
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b drVM) int { return cmp.Or(cmp.Compare(a.Label, b.Label), cmp.Compare(a.UUID, b.UUID)) })
	return out
}

// copyRow is c for a page; srs caches the SR names per pool (nil: no cache).
func (s *Server) copyRow(ctx context.Context, c events.DRCopy, srs map[string]map[string]string) drRow {
	if srs == nil {
		srs = map[string]map[string]string{}
	}
	r := drRow{UUID: c.UUID, Name: c.Name, VMUUID: c.VMUUID, VMName: c.VMName, VMLabel: cmp.Or(c.VMName, c.VMUUID),
		Job: c.Job, Schedule: c.Schedule, Pool: c.Pool, SR: c.SR, RecoveryPoint: c.Datetime,
		Age: AgeInWords(s.now().Sub(c.Datetime)), PowerState: c.PowerState, Complete: c.SR != "", StartBlocked: c.StartBlocked}
	r.State, r.StateClass = copyState(c)
	if r.Complete {
		r.FailoverURL = failoverURL(c.VMUUID, xotag.FormatDatetime(c.Datetime))
		if _, ok := srs[c.Pool]; !ok {
			srs[c.Pool] = s.srNames(ctx, c.Pool)
		}
		r.SRName = srs[c.Pool][c.SR]
	}
	return r
}

// copyState is the copy's state in words and the CSS class showing it.
func copyState(c events.DRCopy) (string, string) {
	switch {
	case c.SR == "":
		return "interrupted", "state-failed"
	case c.StartBlocked:
		return "standby", "state-completed"
	}
	return "failed-over", "state-running"
}

// srNames maps the pool's SR uuids to their names; empty when the pool
// cannot be asked (the page then shows the uuid alone).
func (s *Server) srNames(ctx context.Context, pool string) map[string]string {
	out := map[string]string{}
	srs, err := s.listSRs(ctx, pool)
	if err != nil {
		reqLogFrom(ctx, s).Warn("listing SRs for the DR page failed", "pool", pool, "err", err)
		return out
	}
	for _, sr := range srs {
		out[sr.UUID] = sr.Name
	}
	return out
}

// sourceVM looks for the copy's original VM on the pools other than the
// copy's, to warn when it still runs (the copy has the same MAC addresses).
func (s *Server) sourceVM(ctx context.Context, c events.DRCopy) drSource {
	ctx, cancel := context.WithTimeout(ctx, sourceCheckTimeout)
	defer cancel()
	var src drSource
	for _, pool := range s.env.Pools.Names() {
		if pool == c.Pool || ctx.Err() != nil {
			continue
		}
		client, err := s.env.Pools.Client(ctx, pool)
		var ref xapi.VMRef
		if err == nil {
			ref, err = client.VMByUUID(ctx, c.VMUUID)
		}
		if xapi.IsCode(err, "UUID_INVALID") {
			continue
		}
		var rec xapi.VM
		if err == nil {
			rec, err = client.VMRecord(ctx, ref)
		}
		if err != nil {
			src.Unreachable = append(src.Unreachable, pool)
			reqLogFrom(ctx, s).Warn("looking for the original VM failed", "pool", pool, "err", err)
			continue
		}
		return drSource{Found: true, Pool: pool, PowerState: string(rec.PowerState), NameLabel: rec.NameLabel,
			Running: rec.PowerState != xapi.Halted, Unreachable: src.Unreachable}
	}
	return src
}

// reqLogFrom is the request's logger when ctx is a request's, else the server's.
func reqLogFrom(ctx context.Context, s *Server) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return s.log
}

func failoverURL(vm, copy string) string {
	return "/dr/failover?" + url.Values{"vm": {vm}, "copy": {copy}}.Encode()
}

// AgeInWords is how long ago something happened, roughly: "just now",
// "45 s ago", "12 min ago", "3 h ago", "5 days ago" ("in the future" for a
// negative d: a clock ahead of ours).
func AgeInWords(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}
