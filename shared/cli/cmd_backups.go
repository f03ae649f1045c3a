package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/restoreclient"
)

func newBackupsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "backups", Short: "Inspect the backups on the remotes of a running server"}
	var (
		cf     clientFlags
		q      restoreclient.Query
		asJSON bool
	)
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the backups, newest first, with the id 'xbr restore' takes",
		Long: `ls lists the full backups on the remotes (read from their .json files),
newest first: VM name, time (in the time zone of the schedule that took it, else
the local one, with the zone named), size, codec, job, schedule and the backup id that
'xbr restore' accepts. Backups written by Xen Orchestra are listed too (their
codec shows as "?" until a restore sniffs it). --json prints an array of
objects with id, remote, vm_uuid, vm_name, timestamp, size, codec, job,
schedule and more. HEALTH (health_check in JSON) is the backup's last health
check from the event history: "boots", "FAILED (<reason>)", or "-" when none
ran.

Pool metadata backups (xo-pool-metadata-backups/, written by a job of mode
metadata or by Xen Orchestra) are listed after them with the mode
"metadata", the pool's name in the VM column and the id that
'xbr restore-metadata' accepts; in --json they follow the VM backups, with
"mode": "metadata", pool_uuid and pool_name.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			listing, zones, err := fetchBackups(cmd, &cf, q)
			if err != nil {
				return err
			}
			for _, p := range listing.Problems {
				fmt.Fprintln(cmd.ErrOrStderr(), "xbr: warning:", p)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(jsonBackups(listing))
			}
			return printBackups(cmd.OutOrStdout(), listing, zones)
		},
	}
	cf.add(ls)
	ls.Flags().StringVar(&q.Remote, "remote", "", "only this remote (default: every configured remote)")
	ls.Flags().StringVar(&q.VM, "vm", "", "only this VM, by uuid or exact name (a name several VMs share is refused)")
	ls.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(ls)
	return cmd
}

// fetchBackups asks for the listing, the health checks that annotate it and
// the schedules' time zones that its times are shown in.
func fetchBackups(cmd *cobra.Command, cf *clientFlags, q restoreclient.Query) (restoreclient.Listing, map[string]*time.Location, error) {
	conn, subjects, err := cf.connect()
	if err != nil {
		return restoreclient.Listing{}, nil, err
	}
	defer conn.Close()
	ctx, cancel := cf.requestCtx(cmd.Context())
	defer cancel()
	listing, err := fn.Ask(ctx, conn.NATS(), subjects, restoreclient.QueryBackups, q)
	if err != nil {
		return listing, nil, err
	}
	checks, err := restoreclient.HealthChecks(ctx, conn.JetStream(), conn, subjects, events.StreamNames{})
	if err != nil {
		listing.Problems = append(listing.Problems, "health checks not shown: "+err.Error())
	}
	restoreclient.AnnotateHealth(listing.Backups, checks)
	var zones map[string]*time.Location
	if jobs, err := fn.Ask(ctx, conn.NATS(), subjects, events.QueryJobs, events.NoRequest{}); err == nil {
		zones = scheduleZones(jobs)
	}
	return listing, zones, nil
}

// scheduleZones maps "<job>/<schedule>" to the schedule's time zone, so a
// backup's time reads as its cron expression does.
func scheduleZones(jobs []events.JobInfo) map[string]*time.Location {
	zones := map[string]*time.Location{}
	for _, j := range jobs {
		for _, s := range j.Schedules {
			if loc, err := time.LoadLocation(s.Timezone); err == nil {
				zones[j.Name+"/"+s.Name] = loc
			}
		}
	}
	return zones
}

// backupTime shows t in the zone of the schedule that took it, else in the
// local zone, with the zone named.
func backupTime(zones map[string]*time.Location, job, schedule string, t time.Time) string {
	if loc, ok := zones[job+"/"+schedule]; ok {
		return t.In(loc).Format(nextLayout)
	}
	return t.Local().Format(nextLayout)
}

// jsonBackups is the --json array: the VM backups, then the pool metadata backups.
func jsonBackups(l restoreclient.Listing) []any {
	out := make([]any, 0, len(l.Backups)+len(l.Metadata))
	for _, b := range l.Backups {
		out = append(out, b)
	}
	for _, m := range l.Metadata {
		out = append(out, m)
	}
	return out
}

func printBackups(w io.Writer, l restoreclient.Listing, zones map[string]*time.Location) error {
	backups, metadata := l.Backups, l.Metadata
	if len(backups) == 0 && len(metadata) == 0 {
		_, err := fmt.Fprintln(w, "no backups")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VM\tTIME\tMODE\tSIZE\tCODEC\tJOB\tSCHEDULE\tHEALTH\tID")
	for _, b := range backups {
		codec := b.Codec
		if codec == "" {
			codec = "?"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(b.VMName), backupTime(zones, b.Job, b.Schedule, b.Timestamp),
			orDash(b.Mode), config.ByteSize(b.Size).Human(), codec, orDash(b.Job), orDash(b.Schedule), healthWord(b.HealthCheck), b.ID)
	}
	for _, m := range metadata {
		fmt.Fprintf(tw, "pool %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(m.PoolName), backupTime(zones, m.Job, m.Schedule, m.Timestamp),
			m.Mode, config.ByteSize(m.Size).Human(), "none", orDash(m.Job), orDash(m.Schedule), m.ID)
	}
	return tw.Flush()
}

// healthWord is a backup's last health check in a word: "boots", "FAILED
// (<reason>)", or "-" when none ran.
func healthWord(h *catalog.Health) string {
	switch {
	case h == nil:
		return "-"
	case h.Passed:
		return "boots"
	}
	return "FAILED (" + h.Reason + ")"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
