package restoreclient

import (
	"context"
	"fmt"
	"strings"

	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// VMLister lists a pool's VMs; *xapi.Client is one.
type VMLister interface {
	VMs(ctx context.Context) (map[xapi.VMRef]xapi.VM, error)
}

// FreeName is want, or "<want> (n)" with the smallest n >= 2 that no VM of
// the pool has, and the uuid of the VM that has want ("" when none). The VM
// except and any VM that restore request requestID made do not count: a
// retried request keeps its name. Templates do not count either, except a
// VM another restore request is finishing: it is a template (as exported)
// until its last step, and holds the name it was given.
func FreeName(ctx context.Context, c VMLister, want, requestID string, except xapi.VMRef) (name, holder string, err error) {
	vms, err := c.VMs(ctx)
	if err != nil {
		return "", "", fmt.Errorf("list VMs: %w", err)
	}
	taken := map[string]string{}
	for ref, vm := range vms {
		req := vm.OtherConfig[xotag.KeyRestoreRequest]
		if ref == except || vm.IsASnapshot || (vm.IsATemplate && req == "") || req == requestID {
			continue
		}
		if _, ok := taken[vm.NameLabel]; !ok || vm.UUID < taken[vm.NameLabel] {
			taken[vm.NameLabel] = vm.UUID
		}
	}
	holder, ok := taken[want]
	if !ok {
		return want, "", nil
	}
	for n := 2; ; n++ {
		name := fmt.Sprintf("%s (%d)", want, n)
		if _, ok := taken[name]; !ok {
			return name, holder, nil
		}
	}
}

// DefaultVMName is a restored VM's name when the request names none, as Xen
// Orchestra names it: "<source name> (<backup time>)", the source uuid when
// the name is blank.
func DefaultVMName(src, uuid, basename string) string {
	if len(src) > 200 {
		src = src[:200]
	}
	if strings.TrimSpace(src) == "" {
		src = uuid
	}
	return src + " (" + basename + ")"
}
