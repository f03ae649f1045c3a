package restore

import (
	"context"
	"fmt"
	"sync"

	"xbr/shared/restoreclient"
	"xbr/shared/xapi"
)

// nameTries bounds how often a restore gives its name up to another VM
// that took it meanwhile.
const nameTries = 5

// namer serialises the naming of restored VMs per pool within this
// process: the free name is picked, set and checked by one restore at a
// time.
type namer struct {
	mu    sync.Mutex
	pools map[string]chan struct{} // a lock per pool, held by sending
}

func (n *namer) lock(ctx context.Context, pool string) (unlock func(), err error) {
	n.mu.Lock()
	if n.pools == nil {
		n.pools = map[string]chan struct{}{}
	}
	l, ok := n.pools[pool]
	if !ok {
		l = make(chan struct{}, 1)
		n.pools[pool] = l
	}
	n.mu.Unlock()
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// nameVM gives vm, imported for request requestID, a name no other VM of
// the pool has: want, or the next free "<want> (n)". Picking a free name
// and setting it are two calls, so after the rename the pool is asked
// again (cheaply: xapi.Client.CachedVMs asks for the changes only) and the
// VM gives its name up when another VM has it too (rival), picking again.
// Within this process the restores of a pool name one at a time; another
// restore (another process, or a Handler of its own) may still take the
// same free name, which the check sorts out.
func (h *Handler) nameVM(ctx context.Context, c *xapi.Client, pool string, vm xapi.VMRef, want, requestID string) error {
	unlock, err := h.names.lock(ctx, pool)
	if err != nil {
		return fmt.Errorf("name the restored VM: %w", err)
	}
	defer unlock()
	for try := 1; ; try++ {
		name, holder, err := restoreclient.FreeName(ctx, c, want, requestID, vm)
		if err != nil {
			return fmt.Errorf("name the restored VM: %w", err)
		}
		if holder != "" {
			h.log.Warn("restored VM renamed: another VM has its name", "request", requestID, "vm_uuid", holder, "name", name)
		}
		if err := c.SetNameLabel(ctx, vm, name); err != nil {
			return fmt.Errorf("rename the restored VM: %w", err)
		}
		vms, err := c.CachedVMs(ctx)
		if err != nil {
			return fmt.Errorf("name the restored VM: check the name: %w", err)
		}
		other := rival(vms, vm, name, requestID)
		if other == "" {
			return nil
		}
		if try == nameTries {
			h.log.Warn("restored VM keeps a name another VM took meanwhile", "request", requestID, "vm_uuid", other, "name", name)
			return nil
		}
		h.log.Info("restored VM's name taken meanwhile: named again", "request", requestID, "vm_uuid", other, "name", name)
	}
}

// rival is the uuid of a VM other than vm that has name and keeps it
// ("" when none). A VM of the user or one whose restore has finished keeps
// its name; of two restores being finished (of other requests) that got
// the same name at once, the VM whose uuid sorts first keeps it, so that
// exactly one of them names itself again.
func rival(vms map[xapi.VMRef]xapi.VM, vm xapi.VMRef, name, requestID string) string {
	mine, ok := vms[vm]
	if !ok {
		return ""
	}
	for ref, o := range vms {
		req := o.OtherConfig[KeyRequest]
		if ref == vm || o.IsASnapshot || o.NameLabel != name || req == requestID || (o.IsATemplate && req == "") {
			continue
		}
		if req == "" || finished(o) || o.UUID < mine.UUID {
			return o.UUID
		}
	}
	return ""
}
