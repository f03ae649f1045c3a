package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/cli/serve"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/integrity"
	"xbr/shared/remote"
)

func newVerifyCmd() *cobra.Command {
	var (
		cf         clientFlags
		file, rmt  string
		deep, noEv bool
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "verify [BACKUP-ID]",
		Short: "Re-read backups and check them against their SHA-256 (--deep: every XVA chunk)",
		Long: `verify re-reads one backup (BACKUP-ID, e.g. nfs:<vm-uuid>/20260501T020000Z) or
every backup of a remote (--remote R) and checks each against the size and
SHA-256 its metadata records. It reads the remotes of the configuration file;
with none (no --config, no XBR_CONFIG, no ./xbr.yaml) it asks the running
server to verify, which has the remotes.
--deep also parses the XVA and checks every chunk's checksum and that every
disk is complete, which finds corruption even when the SHA-256 was recomputed.
Restore points of the remote's incremental repository (nfs:xbr-repo/<vm-uuid>/<ts>)
are verified too: every chunk a point uses must exist, and with --deep its
content must hash to its id; a missing or damaged chunk fails every point that
uses it, and the error names the chunk and those points. A damaged manifest
fails its point alone. One restore point (BACKUP-ID) is checked alone: its
manifest and its chunks.
Each result is published as xbr.verify.completed or xbr.verify.failed on the
backbone (unless --no-events). --json prints the reports as a JSON array.
On a terminal, a live line shows the backup being read (bytes, rate, ETA).
Exit status: 0 all good, 1 any failure, 2 bad arguments.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (rmt != "") {
				return &ExitError{Code: 2, Err: errors.New("give either a BACKUP-ID or --remote R")}
			}
			target := rmt
			if len(args) == 1 {
				target = args[0]
			}
			if !cmd.Flags().Changed("config") && !fileExists(file) {
				req := integrity.Request{Remote: rmt, Deep: deep}
				if len(args) == 1 {
					req = integrity.Request{BackupID: args[0], Deep: deep}
				}
				return verifyOnServer(cmd, &cf, req, asJSON)
			}
			return runVerify(cmd, &cf, file, target, verifyOpts{one: len(args) == 1, deep: deep, publish: !noEv, json: asJSON})
		},
	}
	cf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&file, "config", defaultConfigFile(), "configuration file with the remotes (env XBR_CONFIG)")
	f.StringVar(&rmt, "remote", "", "verify every backup of this remote")
	f.BoolVar(&deep, "deep", false, "also parse the XVA: every chunk hash and every disk complete")
	f.BoolVar(&noEv, "no-events", false, "do not publish the results on the backbone")
	f.BoolVar(&asJSON, "json", false, "print the reports as JSON")
	return cmd
}

// verifyOpts are runVerify's switches.
type verifyOpts struct {
	one, deep, publish, json bool
}

func runVerify(cmd *cobra.Command, cf *clientFlags, file, target string, o verifyOpts) error {
	one, deep, publish := o.one, o.deep, o.publish
	ctx := cmd.Context()
	cfg, err := config.Load(file)
	if err != nil {
		return err
	}
	remoteName, id := target, catalog.ID{}
	if one {
		if id, err = catalog.ParseID(target); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		remoteName = id.Remote
	}
	rc, ok := cfg.Remote(remoteName)
	if !ok {
		return fmt.Errorf("remote %q is not in %s", remoteName, file)
	}
	rm, err := serve.OpenRemote(ctx, rc)
	if err != nil {
		return err
	}
	start := time.Now().UTC()
	live := newVerifyProgress(cmd, o.json)
	results, verr := verifyLocally(ctx, cfg, rm, remoteName, id, one, integrity.Options{Deep: deep, Progress: live.update})
	live.close()
	if verr != nil && len(results) == 0 {
		return verr
	}
	reports := make([]integrity.Report, 0, len(results))
	for _, r := range results {
		reports = append(reports, r.Report())
	}
	failed, err := writeVerify(cmd.OutOrStdout(), reports, o.json)
	if err != nil {
		return err
	}
	if publish {
		if err := publishVerify(ctx, cf, results, start); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "xbr: results not published: %v\n", err)
		}
	}
	if verr != nil { // the results above are the full backups; the restore points were not checked
		return &ExitError{Code: 1, Err: fmt.Errorf("restore points of remote %s not verified: %w", remoteName, verr)}
	}
	if failed > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d backup(s) failed verification", failed, len(results))}
	}
	return nil
}

// verifyLocally verifies backup id (one) or every backup and restore point
// of the remote rm. When the backups were verified but the restore points
// could not be, it returns the backups' results with the error.
func verifyLocally(ctx context.Context, cfg *config.Config, rm remote.Remote, name string, id catalog.ID, one bool, o integrity.Options) ([]integrity.Result, error) {
	repos := fn.NewRepos(cfg.Remotes, fn.NewRemotes(cfg.Remotes, serve.OpenRemote))
	switch {
	case one && id.Repo:
		return []integrity.Result{integrity.RepoPoint(ctx, repos, id, o)}, nil
	case one:
		return []integrity.Result{integrity.Backup(ctx, rm, id, o)}, nil
	}
	results, err := integrity.All(ctx, rm, o)
	if err != nil {
		return nil, err
	}
	points, err := integrity.RemotePoints(ctx, repos, name, o)
	return append(results, points...), err
}

// writeVerify prints the reports as text or JSON and counts the failures.
func writeVerify(w io.Writer, reports []integrity.Report, asJSON bool) (failed int, err error) {
	if !asJSON {
		return printVerify(w, reports), nil
	}
	for _, r := range reports {
		if !r.OK && r.Skipped == "" {
			failed++
		}
	}
	if reports == nil {
		reports = []integrity.Report{} // [] rather than null
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return failed, enc.Encode(reports)
}

func printVerify(w io.Writer, results []integrity.Report) (failed int) {
	skipped := 0
	for _, r := range results {
		if r.Skipped != "" {
			skipped++
			fmt.Fprintf(w, "skipped %s  %s\n", r.ID, r.Skipped)
			continue
		}
		if r.OK {
			fmt.Fprintf(w, "ok      %s  %s  sha256:%s  %s\n", r.ID, config.ByteSize(r.Bytes).Human(), r.SHA256, r.Duration().Round(time.Millisecond))
			continue
		}
		failed++
		fmt.Fprintf(w, "FAILED  %s  %s\n", r.ID, r.Error)
	}
	if skipped > 0 {
		fmt.Fprintf(w, "%d verified, %d failed, %d skipped\n", len(results)-failed-skipped, failed, skipped)
		return failed
	}
	fmt.Fprintf(w, "%d verified, %d failed\n", len(results)-failed, failed)
	return failed
}

func publishVerify(ctx context.Context, cf *clientFlags, results []integrity.Result, start time.Time) error {
	conn, subjects, err := cf.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := cf.requestCtx(ctx)
	defer cancel()
	for _, r := range results {
		if r.Skipped != "" {
			continue // not verified: no event
		}
		msg, err := subjects.Message(events.Meta{ID: r.EventID(start.Format(time.RFC3339Nano)),
			Source: events.Source("cli"), Time: time.Now().UTC()}, r.Payload("", ""))
		if err != nil {
			return err
		}
		if _, err := conn.Publish(ctx, msg.Subject, msg.Event); err != nil {
			return err
		}
	}
	return nil
}

// verifyOnServer asks a running server to verify; it publishes the results.
func verifyOnServer(cmd *cobra.Command, cf *clientFlags, req integrity.Request, asJSON bool) error {
	if req.BackupID != "" {
		if _, err := catalog.ParseID(req.BackupID); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
	}
	conn, subjects, err := cf.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	timeout := cf.timeout
	if !cmd.Flags().Changed("timeout") {
		timeout = 30 * time.Minute // reading whole backups takes a while
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	reports, err := fn.Ask(ctx, conn.NATS(), subjects, integrity.QueryVerify, req)
	if err != nil {
		return err
	}
	failed, err := writeVerify(cmd.OutOrStdout(), reports, asJSON)
	if err != nil {
		return err
	}
	if failed > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d backup(s) failed verification", failed, len(reports))}
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
