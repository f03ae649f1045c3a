package cli

import (
	"errors"
	"slices"

	"xbr/events"
	"xbr/shared/vmname"
)

// protectionOfVM keeps the protection of vm (a uuid or an exact name,
// resolved among every VM the query answered with vmname.Resolve,
// as every door resolves VMs), if its state is one of states (none: any).
func protectionOfVM(vms []events.ProtectionVM, vm string, states []string) ([]events.ProtectionVM, error) {
	known := make([]vmname.Known, len(vms))
	for i, v := range vms {
		known[i] = vmname.Known{UUID: v.UUID, Name: v.Name, Pool: v.Pool}
	}
	uuid, err := vmname.Resolve(vm, known)
	if none := new(vmname.NotFoundError); errors.As(err, &none) {
		none.Where = "is known to the configured pools and jobs"
	}
	if err != nil {
		return nil, err
	}
	out := []events.ProtectionVM{}
	for _, v := range vms {
		if v.UUID == uuid && (len(states) == 0 || slices.Contains(states, v.State)) {
			out = append(out, v)
		}
	}
	return out, nil
}
