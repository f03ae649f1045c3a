package restore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/repoimage"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// Marks the restore leaves on the new VM.
const (
	// TagRestored is the tag every restored VM gets, as Xen Orchestra does.
	TagRestored = "restored from backup"
	// KeyRequest is the other_config key holding the restore request id: a
	// redelivered request finds its VM by it instead of importing again.
	KeyRequest = xotag.KeyRestoreRequest
)

// errTarget is a target (pool, SR) that does not exist: a final failure.
var errTarget = errors.New("restore target")

type xapiClient interface {
	Pool(ctx context.Context) (xapi.PoolRef, xapi.Pool, error)
	SRs(ctx context.Context) (map[xapi.SRRef]xapi.SR, error)
	CachedVMs(ctx context.Context) (map[xapi.VMRef]xapi.VM, error)
}

// resolveSR finds the SR named by want (xapi.ResolveSR); an SR that does
// not exist, is ambiguous or is missing as the default is a final failure.
func resolveSR(ctx context.Context, c xapiClient, want string) (xapi.SRRef, xapi.SR, error) {
	ref, sr, err := xapi.ResolveSR(ctx, c, want)
	if errors.Is(err, xapi.ErrNoSuchSR) || errors.Is(err, xapi.ErrAmbiguousSR) || errors.Is(err, xapi.ErrNoDefaultSR) {
		return "", xapi.SR{}, fmt.Errorf("%w: %w", errTarget, err)
	}
	return ref, sr, err
}

// findRestored returns the VM an earlier delivery of request id imported.
func findRestored(ctx context.Context, c xapiClient, id string) (xapi.VMRef, bool, error) {
	vms, err := c.CachedVMs(ctx)
	if err != nil {
		return "", false, fmt.Errorf("look for an earlier restore: %w", err)
	}
	var found []xapi.VMRef
	for ref, vm := range vms {
		if !vm.IsASnapshot && vm.OtherConfig[KeyRequest] == id {
			found = append(found, ref)
		}
	}
	if len(found) == 0 {
		return "", false, nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i] < found[j] })
	return found[0], true, nil
}

// VMName is the restored VM's name: the requested one, else Xen Orchestra's
// "<source name> (<backup time>)".
func VMName(requested string, meta catalog.Metadata) string {
	if requested != "" {
		return requested
	}
	return defaultName(meta.VMName(), meta.VMUUID(), meta.Basename())
}

// PointVMName is VMName for a repository restore point: the requested name,
// else "<source name> (<point time>)".
func PointVMName(requested string, p *repoimage.Point, id catalog.ID) string {
	if requested != "" {
		return requested
	}
	return defaultName(p.VMName(), id.VM, id.Timestamp())
}

func defaultName(src, uuid, basename string) string {
	return restoreclient.DefaultVMName(src, uuid, basename)
}

// Description says where a restored VM came from.
func Description(at time.Time, id catalog.ID) string {
	return fmt.Sprintf("Restored on %s from %s backup %s", at.UTC().Format(time.RFC3339), id.Remote, id)
}
