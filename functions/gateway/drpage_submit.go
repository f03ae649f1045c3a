package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"xbr/events"
	"xbr/shared/failovers"
	"xbr/shared/xotag"
)

// submit is POST /dr/failover: the confirmation's form. It publishes
// xbr.failover.requested (requested_by "web" or "web:<user>") and shows the outcome: done,
// refused (with the way back to the confirmation, where force can be
// ticked), or still pending after the failover wait.
func (p *drPages) submit(w http.ResponseWriter, r *http.Request) {
	f, nonce, err := readFailoverForm(w, r)
	if err == nil {
		nonce, err = p.s.forms.Check(nonce, failoverAction, userOf(r))
	}
	if err != nil {
		p.errorPage(w, r, err)
		return
	}
	st, repeated, err := p.once.Do(r.Context(), nonce, func(ctx context.Context) (failovers.Status, error) {
		return p.s.failover(ctx, f.Params(webUser(r), "web:"+nonce))
	})
	var refused *refusedError
	if errors.As(err, &refused) {
		p.refusedPage(w, r, f, refused)
		return
	}
	if err != nil {
		p.errorPage(w, r, err)
		return
	}
	row := p.doneRow(r.Context(), f, st)
	p.s.render(w, r, http.StatusOK, "dr_done", view{Title: "Failover of " + row.VMLabel,
		Crumbs: []crumb{{"Disaster recovery", "/dr"}, {"Failover of " + row.VMLabel, ""}},
		Data:   drDoneData{Copy: row, Status: st, Result: st.Completed, Repeated: repeated, AskedStart: f.Start}})
}

// doneRow is the failed-over copy as dr.ls shows it now; the request's
// copy when it cannot be listed (or the failover is still pending).
func (p *drPages) doneRow(ctx context.Context, f FailoverRequest, st failovers.Status) drRow {
	vm, sel := f.VM, failovers.CopyString(f.At)
	if c := st.Completed; c != nil {
		vm, sel = c.CopyUUID, c.RecoveryPoint
	}
	if c, err := p.chooseCopy(ctx, vm, sel); err == nil {
		return p.s.copyRow(ctx, c, nil)
	}
	row := drRow{UUID: vm, Name: vm, VMLabel: vm}
	if c := st.Completed; c != nil {
		at, _ := time.Parse(xotag.StampLayout, c.RecoveryPoint)
		row = p.s.copyRow(ctx, events.DRCopy{CopyRecord: events.CopyRecord{UUID: c.CopyUUID, Name: c.CopyName, Pool: c.Pool,
			VMUUID: c.VMUUID, Job: c.Job, Datetime: at, PowerState: c.PowerState}}, nil)
	}
	return row
}

// refusedPage is a 409: the original VM runs; the way back to the
// confirmation, where the force box can be ticked.
func (p *drPages) refusedPage(w http.ResponseWriter, r *http.Request, f FailoverRequest, err *refusedError) {
	reqLog(r).Warn("failover refused", "vm", f.VM, "err", err)
	back := "/dr/failover?" + url.Values{"vm": {f.VM}, "copy": {failovers.CopyString(f.At)}}.Encode()
	p.s.render(w, r, http.StatusConflict, "dr_error", view{Title: "Failover refused", Crumbs: []crumb{{"Disaster recovery", "/dr"}},
		Data: struct {
			Code                 int
			Message, Field, Back string
		}{http.StatusConflict, err.Error(), "", back}})
}
