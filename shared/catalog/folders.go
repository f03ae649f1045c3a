package catalog

import (
	"context"
	"strings"
	"sync"

	"xbr/shared/remote"
)

// VMFolders returns the uuids of the VM folders on r, sorted, from one level of Root: the
// entries that are not VM folders (XO's <uuid>.lock folders, its .queue, foreign ones) are
// left out, and nothing inside the folders is read.
func VMFolders(ctx context.Context, r Lister) ([]string, error) {
	_, folders, err := remote.ListFolder(ctx, r, Root)
	if err != nil {
		return nil, err
	}
	var vms []string
	for _, f := range folders {
		vm := strings.TrimSuffix(strings.TrimPrefix(f, Root), "/")
		if ValidateVMUUID(vm) == nil {
			vms = append(vms, vm)
		}
	}
	return vms, nil
}

// FolderFiles returns the files directly in vm's folder, sorted by key: the backups, their
// checksums and XO's cache.json.gz, never what lies below (XO keeps its delta backups' VHDs
// under vdis/, one file per 2 MiB block in VHD-directory mode: a listing of the whole tree
// would hold some 500,000 names per TiB of disk).
func FolderFiles(ctx context.Context, r Lister, vmUUID string) ([]remote.Info, error) {
	files, _, err := remote.ListFolder(ctx, r, VMPrefix(vmUUID))
	return files, err
}

// listFiles returns the files directly in the VM folders of r: vm's only, or every VM's when
// vm is "". It lists a few folders at a time, as List reads files.
func listFiles(ctx context.Context, r Lister, vm string) ([]remote.Info, error) {
	if vm != "" {
		return FolderFiles(ctx, r, vm)
	}
	vms, err := VMFolders(ctx, r)
	if err != nil {
		return nil, err
	}
	perVM := make([][]remote.Info, len(vms))
	errs := make([]error, len(vms))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(readers, len(vms)) {
		wg.Go(func() {
			for i := range next {
				perVM[i], errs[i] = FolderFiles(ctx, r, vms[i])
			}
		})
	}
	for i := range vms {
		next <- i
	}
	close(next)
	wg.Wait()
	var all []remote.Info
	for i := range vms {
		if errs[i] != nil {
			return nil, errs[i]
		}
		all = append(all, perVM[i]...)
	}
	return all, nil
}
