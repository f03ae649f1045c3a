package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"xbr/shared/catalog"
	"xbr/shared/cli/serve"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/repo"
	"xbr/shared/repoimage"
)

// restoreDiskImages writes the disks of repository restore point backupID
// into dir as raw images, reading the remote of the configuration file.
func restoreDiskImages(cmd *cobra.Command, file, backupID, dir string) error {
	id, err := catalog.ParseID(backupID)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	name, ok := id.RepoPoint()
	if !ok {
		return &ExitError{Code: 2, Err: fmt.Errorf("--disk-image: backup %s is a full XVA backup; it writes the disks of repository restore points (<remote>:xbr-repo/<vm-uuid>/<timestamp>)", id)}
	}
	cfg, err := config.Load(file)
	if err != nil {
		return err
	}
	if _, ok := cfg.Remote(id.Remote); !ok {
		return &ExitError{Code: 2, Err: fmt.Errorf("backup %s: remote %q is not in %s", id, id.Remote, file)}
	}
	p, err := repo.ParsePoint(name)
	if err != nil {
		return err
	}
	rp, err := fn.NewRepos(cfg.Remotes, fn.NewRemotes(cfg.Remotes, serve.OpenRemote)).Open(cmd.Context(), id.Remote)
	if errors.Is(err, fn.ErrNoRepository) {
		return fmt.Errorf("backup %s does not exist: %w", id, err)
	}
	if err != nil {
		return err
	}
	pt, err := repoimage.Open(cmd.Context(), rp, p)
	if err != nil {
		return err
	}
	paths, err := pt.WriteImages(cmd.Context(), dir)
	if err != nil {
		return err
	}
	for _, path := range paths {
		if _, err := fmt.Fprintf(cmd.OutOrStdout(), "%s\n", path); err != nil {
			return err
		}
	}
	return nil
}
