package xapi

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"xbr/shared/xapi/xmlrpc"
)

// vmCache is one pool's VM records kept current as Xen Orchestra's client
// keeps its objects: the first question costs one event.from with an empty
// token (every VM record, one transfer); each later question first asks
// event.from for what changed since the last token (timeout 0: no wait), so
// asking again costs the changes, not the pool. EVENTS_LOST (the token is
// too old) starts over from an empty token.
type vmCache struct {
	mu    sync.Mutex // held across a catch-up: one at a time
	token string
	vms   map[VMRef]VM
}

// CachedVMs returns every VM record of the pool, as VMs does, from the
// client's view of the pool brought up to date with event.from. The map is
// the caller's; the records' maps and slices are shared and must not be
// modified. Use it where many questions are asked of a large pool (VM
// selection, listing replicas); use VMRecord for one VM.
func (c *Client) CachedVMs(ctx context.Context) (map[VMRef]VM, error) {
	v := &c.vmCache
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.catchUp(ctx, c); err != nil {
		return nil, err
	}
	return maps.Clone(v.vms), nil
}

func (v *vmCache) catchUp(ctx context.Context, c *Client) error {
	if v.vms == nil {
		v.token = ""
	}
	res, err := c.Call(ctx, "event.from", []string{"vm"}, v.token, 0.0)
	if IsCode(err, "EVENTS_LOST") {
		v.vms, v.token = nil, ""
		res, err = c.Call(ctx, "event.from", []string{"vm"}, "", 0.0)
	}
	if err != nil {
		return fmt.Errorf("VM view: %w", err)
	}
	if v.vms == nil {
		v.vms = map[VMRef]VM{}
	}
	token, err := v.apply(res)
	if err != nil {
		v.vms = nil // start over next time
		return fmt.Errorf("VM view: event.from: %w", err)
	}
	v.token = token
	return nil
}

// apply folds an event.from result into the view and returns its token.
func (v *vmCache) apply(res any) (string, error) {
	m, ok := xmlrpc.AsMap(res)
	if !ok {
		return "", fmt.Errorf("result is %s, not a struct", describeValue(res))
	}
	token, ok := m["token"].(string)
	if !ok {
		return "", fmt.Errorf("token is %s, not a string", describeValue(m["token"]))
	}
	list, ok := m["events"].([]any)
	if !ok && m["events"] != nil {
		return "", fmt.Errorf("events is %s, not an array", describeValue(m["events"]))
	}
	for i, e := range list {
		if err := v.applyEvent(e); err != nil {
			return "", fmt.Errorf("event %d: %w", i, err)
		}
	}
	return token, nil
}

func (v *vmCache) applyEvent(e any) error {
	ev, ok := xmlrpc.AsMap(e)
	if !ok {
		return fmt.Errorf("is %s, not a struct", describeValue(e))
	}
	ref, _ := ev["ref"].(string)
	if ref == "" {
		return fmt.Errorf("ref is %s, not a ref", describeValue(ev["ref"]))
	}
	if class, _ := ev["class"].(string); class != "vm" && class != "VM" {
		return nil
	}
	switch op, _ := ev["operation"].(string); op {
	case "del":
		delete(v.vms, VMRef(ref))
	case "add", "mod":
		rec, err := decodeVM(ev["snapshot"])
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		v.vms[VMRef(ref)] = rec
	default:
		return fmt.Errorf("operation is %s, want add, mod or del", describeValue(ev["operation"]))
	}
	return nil
}
