package runs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
)

// header is the value of run.<id>: the run without its VMs and the
// counters that its VMs' ends update, so a VM's end reads and rewrites a
// value whose size does not depend on the number of VMs. A run recorded
// with its VMs inline (one that ended as it started, or one recorded by an
// earlier xbr) has Plan "" and Run.VMs set.
type header struct {
	Run
	Plan      string `json:"plan,omitempty"`      // the key of the run's plan
	Requested int    `json:"requested,omitempty"` // VMs with a request (not planned)
	Initial   int    `json:"initial,omitempty"`   // requests made as the run started
	// Finished counts the ends recorded: ordinals 0..Finished-1 are taken,
	// and ordinal f released request position Initial+f.
	Finished  int `json:"finished,omitempty"`
	Succeeded int `json:"succeeded,omitempty"`
	Failed    int `json:"failed,omitempty"` // neither success nor skipped
	// Pending are ends counted here but not yet on their VM's record (at
	// most the VMs ending at once, and those whose worker crashed between
	// the two writes): a repeated Finish finds its ordinal here.
	Pending map[string]pending `json:"pending,omitempty"`
	EndedBy string             `json:"ended_by,omitempty"` // the VM whose end ended the run
	// Lock is the job's lock as the run held it when it was recorded
	// (none for a fire skipped because another run held it): a redelivered
	// fire of the run counts its tries from the lock's Delivery.
	Lock *Lock `json:"lock,omitempty"`
}

type pending struct {
	Ordinal int             `json:"ordinal"`
	Result  events.VMResult `json:"result"`
}

// plan is the value of run.<id>.plan.<nonce>, written once when the run
// starts: its VMs in order, the planned ones with their result. Being
// immutable, it is decoded once per process and kept (plans).
type plan struct {
	VMs []VM `json:"vms"`

	index    map[string]int // uuid → index in VMs
	requests []int          // request position → index in VMs
	position []int          // index in VMs → request position, -1 for a planned VM
}

// vmRecord is the value of run.<id>.vm.<index>: what happened to one VM.
// It exists once an attempt or the VM's end is recorded.
type vmRecord struct {
	Attempts []string         `json:"attempts,omitempty"`
	Ordinal  *int             `json:"ordinal,omitempty"` // its end's ordinal, once recorded
	Result   *events.VMResult `json:"result,omitempty"`
}

func (p *plan) derive() {
	p.index = make(map[string]int, len(p.VMs))
	p.requests, p.position = p.requests[:0], make([]int, len(p.VMs))
	for i, v := range p.VMs {
		p.index[v.UUID], p.position[i] = i, -1
		if !v.Planned {
			p.position[i] = len(p.requests)
			p.requests = append(p.requests, i)
		}
	}
}

// vm is VM i of the run as h and its record say.
func (h *header) vm(p *plan, i int, rec vmRecord) VM {
	v := p.VMs[i]
	if v.Result != nil { // the kept plan's own: hand out a copy
		res := *v.Result
		v.Result = &res
	}
	v.Attempts = slices.Clone(rec.Attempts)
	pend, isPending := h.Pending[v.UUID]
	switch {
	case v.Planned:
		v.State = VMDone
	case rec.Ordinal != nil && rec.Result != nil:
		res := *rec.Result
		v.State, v.Result = VMDone, &res
	case isPending:
		res := pend.Result
		v.State, v.Result = VMDone, &res
	case p.position[i] < h.Initial+h.Finished:
		v.State = VMActive
	default:
		v.State = VMQueued
	}
	return v
}

// run is the run of h with VMs vms (nil for the header alone).
func (h *header) run(vms ...VM) Run {
	r := h.Run
	if h.Plan != "" {
		r.VMs = vms
	}
	return r
}

// count records res as the end with the next ordinal and returns it; the
// caller ends the run when it was the last request.
func (h *header) count(res events.VMResult) int {
	f := h.Finished
	h.Finished++
	succ, fail := tally(&res)
	h.Succeeded, h.Failed = h.Succeeded+succ, h.Failed+fail
	if h.Pending == nil {
		h.Pending = map[string]pending{}
	}
	h.Pending[res.VMUUID] = pending{Ordinal: f, Result: res}
	return f
}

// plans keeps decoded plans: a plan never changes, so a kept one is never
// stale. Bounded: a miss costs one read of the plan.
type plans struct {
	mu    sync.Mutex
	byKey map[string]*plan
	order []string
}

const keptPlans = 32

func (ps *plans) get(key string) (*plan, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.byKey[key]
	return p, ok
}

func (ps *plans) put(key string, p *plan) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.byKey == nil {
		ps.byKey = map[string]*plan{}
	}
	if _, ok := ps.byKey[key]; ok {
		return
	}
	if len(ps.order) >= keptPlans {
		delete(ps.byKey, ps.order[0])
		ps.order = ps.order[1:]
	}
	ps.byKey[key] = p
	ps.order = append(ps.order, key)
}

// header reads run runID's header and its revision.
func (c *Coordinator) header(ctx context.Context, runID string) (header, uint64, error) {
	e, err := c.kv.Get(ctx, runKey(runID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return header{}, 0, fmt.Errorf("run %s: %w", runID, ErrNotFound)
	}
	if err != nil {
		return header{}, 0, fmt.Errorf("read run %s: %w", runID, err)
	}
	var h header
	if err := json.Unmarshal(e.Value(), &h); err != nil {
		return header{}, 0, fmt.Errorf("decode run %s: %w", runID, err)
	}
	return h, e.Revision(), nil
}

// putHeader writes h over revision rev (0: creates it).
func (c *Coordinator) putHeader(ctx context.Context, h header, rev uint64) (uint64, error) {
	data, err := json.Marshal(h)
	if err != nil {
		return 0, fmt.Errorf("encode run %s: %w", h.ID, err)
	}
	if rev == 0 {
		return c.kv.Create(ctx, runKey(h.ID), data)
	}
	return c.kv.Update(ctx, runKey(h.ID), data, rev)
}

// plan returns the plan of the run of h.
func (c *Coordinator) plan(ctx context.Context, h header) (*plan, error) {
	if p, ok := c.plans.get(h.Plan); ok {
		return p, nil
	}
	e, err := c.kv.Get(ctx, h.Plan)
	if err != nil {
		return nil, fmt.Errorf("read the plan of run %s: %w", h.ID, err)
	}
	p := &plan{}
	if err := json.Unmarshal(e.Value(), p); err != nil {
		return nil, fmt.Errorf("decode the plan of run %s: %w", h.ID, err)
	}
	p.derive()
	c.plans.put(h.Plan, p)
	return p, nil
}

// putPlan writes the plan of r under a fresh key: a fire planned twice at
// once (a redelivery) writes two plans, and the header that is created
// first names the one that counts.
func (c *Coordinator) putPlan(ctx context.Context, r Run) (string, *plan, error) {
	nonce := make([]byte, 6)
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, err
	}
	key := planKey(r.ID, hex.EncodeToString(nonce))
	p := &plan{VMs: make([]VM, len(r.VMs))}
	for i, v := range r.VMs {
		p.VMs[i] = VM{UUID: v.UUID, Name: v.Name, Pool: v.Pool, Result: v.Result, Planned: v.Planned}
	}
	data, err := json.Marshal(p)
	if err != nil {
		return "", nil, fmt.Errorf("encode the plan of run %s: %w", r.ID, err)
	}
	if _, err := c.kv.Put(ctx, key, data); err != nil {
		return "", nil, fmt.Errorf("record the plan of run %s: %w", r.ID, err)
	}
	p.derive()
	c.plans.put(key, p)
	return key, p, nil
}

// record reads the record of VM i of run runID and its revision (0 when
// there is none yet).
func (c *Coordinator) record(ctx context.Context, runID string, i int) (vmRecord, uint64, error) {
	e, err := c.kv.Get(ctx, vmKey(runID, i))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return vmRecord{}, 0, nil
	}
	if err != nil {
		return vmRecord{}, 0, fmt.Errorf("read VM %d of run %s: %w", i, runID, err)
	}
	var rec vmRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return vmRecord{}, 0, fmt.Errorf("decode VM %d of run %s: %w", i, runID, err)
	}
	return rec, e.Revision(), nil
}

// putRecord writes rec over revision rev (0: creates it).
func (c *Coordinator) putRecord(ctx context.Context, runID string, i int, rec vmRecord, rev uint64) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode VM %d of run %s: %w", i, runID, err)
	}
	if rev == 0 {
		_, err = c.kv.Create(ctx, vmKey(runID, i), data)
	} else {
		_, err = c.kv.Update(ctx, vmKey(runID, i), data, rev)
	}
	return err
}

// full is the run of h with every VM: one read per VM with a request, for
// the few callers that need them all (run.completed, a redelivered fire).
func (c *Coordinator) full(ctx context.Context, h header) (Run, error) {
	if h.Plan == "" {
		return h.Run, nil
	}
	p, err := c.plan(ctx, h)
	if err != nil {
		return Run{}, err
	}
	vms := make([]VM, len(p.VMs))
	byOrdinal := make(map[int]string, len(p.requests))
	for i := range p.VMs {
		var rec vmRecord
		if !p.VMs[i].Planned {
			if rec, _, err = c.record(ctx, h.ID, i); err != nil {
				return Run{}, err
			}
		}
		vms[i] = h.vm(p, i, rec)
		if rec.Ordinal != nil {
			byOrdinal[*rec.Ordinal] = vms[i].UUID
		}
	}
	for u, pend := range h.Pending {
		byOrdinal[pend.Ordinal] = u
	}
	for pos, i := range p.requests {
		if pos >= h.Initial && vms[i].State != VMQueued {
			vms[i].ReleasedBy = byOrdinal[pos-h.Initial]
		}
	}
	return h.run(vms...), nil
}
