package restoreclient

import (
	"xbr/shared/catalog"
	"xbr/shared/vmname"
)

// ByVM is the backups, in their order, of the VM vm designates among them
// (vmname.Resolve, the rule every door follows): a uuid with no backup
// gives none; a name no backup carries is a *vmname.NotFoundError, a name
// several VMs share a *vmname.AmbiguousError.
func ByVM(backups []catalog.Backup, vm string) ([]catalog.Backup, error) {
	known := make([]vmname.Known, 0, len(backups))
	for _, b := range backups {
		known = append(known, vmname.Known{UUID: b.VMUUID, Name: b.VMName, Pool: b.Pool})
	}
	uuid, err := vmname.Resolve(vm, known)
	if err != nil {
		return nil, err
	}
	var out []catalog.Backup
	for _, b := range backups {
		if b.VMUUID == uuid {
			out = append(out, b)
		}
	}
	return out, nil
}
