package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"xbr/shared/cli/serve"
	"xbr/shared/config"
	"xbr/shared/repo"
)

func newRepoCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "repo", Short: "Create incremental-backup repositories and their keys"}
	cmd.AddCommand(newRepoInitCmd(), newRepoKeyCmd())
	return cmd
}

func newRepoInitCmd() *cobra.Command {
	var file, rmt, keyFile, chunkSize string
	cmd := &cobra.Command{
		Use:   "init --remote R [--encryption-key-file F]",
		Short: "Create the chunk repository (xbr-repo/) on a remote",
		Long: `init writes xbr-repo/config.json on remote R of the configuration file: the
repository that incremental backups store their chunks and manifests in, beside
Xen Orchestra's tree. With --encryption-key-file (made by 'xbr repo key'; by
default the remote's encryption_key_file) every
chunk and manifest is encrypted and chunk ids are keyed; config.json holds only
a check value that refuses a wrong key. Keep the key file safe: without it the
repository cannot be read. init refuses a remote that has a repository already.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rmt == "" {
				return &ExitError{Code: 2, Err: errors.New("--remote is required")}
			}
			var cs config.ByteSize
			if chunkSize != "" {
				var err error
				if cs, err = config.ParseByteSize(chunkSize); err != nil {
					return &ExitError{Code: 2, Err: fmt.Errorf("--chunk-size %q: %w", chunkSize, err)}
				}
			}
			return repoInit(cmd, file, rmt, keyFile, int(cs))
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "config", defaultConfigFile(), "configuration file with the remotes (env XBR_CONFIG)")
	f.StringVar(&rmt, "remote", "", "the remote to create the repository on")
	f.StringVar(&keyFile, "encryption-key-file", "", "encrypt with the key in this file (see 'xbr repo key')")
	f.StringVar(&chunkSize, "chunk-size", "", "chunk size, a multiple of 64KiB up to 16MiB (default: the remote's chunk_size, else 1MiB)")
	return cmd
}

func repoInit(cmd *cobra.Command, file, rmt, keyFile string, chunkSize int) error {
	cfg, err := config.Load(file)
	if err != nil {
		return err
	}
	rc, ok := cfg.Remote(rmt)
	if !ok {
		return &ExitError{Code: 2, Err: fmt.Errorf("remote %q is not in %s", rmt, file)}
	}
	switch {
	case keyFile == "":
		keyFile = rc.EncryptionKeyFile // the key every backup will open the repository with
	case rc.EncryptionKeyFile != "" && keyFile != rc.EncryptionKeyFile:
		return &ExitError{Code: 2, Err: fmt.Errorf("--encryption-key-file %s: remote %s is configured with encryption_key_file %s, which backups will open the repository with",
			keyFile, rmt, rc.EncryptionKeyFile)}
	}
	var key repo.Key
	if keyFile != "" {
		if key, err = repo.ReadKeyFile(keyFile); err != nil {
			return err
		}
	}
	r, err := serve.OpenRemote(cmd.Context(), rc)
	if err != nil {
		return err
	}
	if chunkSize == 0 {
		chunkSize = int(rc.ChunkSize) // what a backup's first run would create; 0: the default
	}
	rp, err := repo.Init(cmd.Context(), r, repo.InitOptions{ChunkSize: chunkSize, Key: key})
	if err != nil {
		return err
	}
	c := rp.Config()
	mode := "plain"
	if c.Encryption != nil {
		mode = "encrypted (" + c.Encryption.Algorithm + ")"
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "repository created on remote %s: %s, chunks of %s, ids %s\n",
		rmt, mode, config.ByteSize(c.ChunkSize).Human(), c.ChunkID)
	return err
}

func newRepoKeyCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "key --out FILE",
		Short: "Generate a repository encryption key file",
		Long: `key writes a new random 256-bit key to FILE (mode 0600), never replacing an
existing file. Give it to 'xbr repo init --encryption-key-file' and keep a copy
somewhere safe: a lost key loses every restore point of the repository.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return &ExitError{Code: 2, Err: errors.New("--out is required")}
			}
			k, err := repo.GenerateKey()
			if err != nil {
				return err
			}
			if err := repo.WriteKeyFile(out, k); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "key written to %s\n", out)
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the key file to create")
	return cmd
}
