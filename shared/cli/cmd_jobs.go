package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/fn"
)

func newJobsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Short: "Inspect the jobs of a running server"}
	var (
		cf      clientFlags
		asJSON  bool
		lsShort = "List the jobs and their schedules with the next fire time (in the schedule's time zone)"
	)
	ls := &cobra.Command{
		Use: "ls", Short: lsShort, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			jobs, err := fetchJobs(cmd, &cf)
			if err != nil {
				return err
			}
			jobs = inJobZones(jobs)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(jobs)
			}
			return printJobs(cmd.OutOrStdout(), jobs)
		},
	}
	cf.add(ls)
	ls.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(ls)
	return cmd
}

func fetchJobs(cmd *cobra.Command, cf *clientFlags) ([]events.JobInfo, error) {
	conn, subjects, err := cf.connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := cf.requestCtx(cmd.Context())
	defer cancel()
	return fn.Ask(ctx, conn.NATS(), subjects, events.QueryJobs, events.NoRequest{})
}

func printJobs(w io.Writer, jobs []events.JobInfo) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tMODE\tSCHEDULE\tCRON\tTIMEZONE\tRETENTION\tNEXT\tREMOTES\tCODEC")
	for _, j := range jobs {
		for _, s := range j.Schedules {
			next := "disabled"
			if s.Enabled {
				next = s.Next.Format(nextLayout)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", j.Name, j.Mode, s.Name, s.Cron,
				s.Timezone, s.Retention, next, strings.Join(j.Remotes, ","), j.Codec)
		}
	}
	return tw.Flush()
}

// nextLayout shows a fire time with its zone's abbreviation (CET, EDT, UTC;
// the offset where the zone has none), beside the TIMEZONE column.
const nextLayout = "2006-01-02 15:04:05 MST"

// inJobZones returns jobs with each schedule's next fire time in that
// schedule's time zone, so the table and --json (RFC 3339, with the offset)
// show the time the cron expression speaks of. An unknown zone keeps the
// time as the server sent it.
func inJobZones(jobs []events.JobInfo) []events.JobInfo {
	for i := range jobs {
		for k := range jobs[i].Schedules {
			s := &jobs[i].Schedules[k]
			if loc, err := time.LoadLocation(s.Timezone); err == nil && s.Timezone != "" {
				s.Next = s.Next.In(loc)
			}
		}
	}
	return jobs
}
