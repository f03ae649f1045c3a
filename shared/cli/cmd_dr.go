package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/fn"
)

func newDrCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "dr", Short: "Disaster recovery: the copies on the standby pools, and failover"}
	cmd.AddCommand(newDrLsCmd(), newDrFailoverCmd())
	return cmd
}

func newDrLsCmd() *cobra.Command {
	var (
		cf      clientFlags
		vm      string
		pool    string
		asJSON  bool
		lsShort = "List the replicated copies per VM with their age (the recovery point)"
	)
	cmd := &cobra.Command{
		Use: "ls", Short: lsShort, Args: cobra.NoArgs,
		Long: lsShort + `.
The copies are read on the target pools of the replicate jobs (or --pool).
STATE is standby (start blocked, ready for failover), failed-over (start
unblocked by 'xbr dr failover'; never pruned) or interrupted (a transfer that
did not complete; the next replication of the VM destroys it). A pool that
does not answer is left out, and the server logs why; when none answers, or
with --pool, its error is the answer.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := listCopies(cmd, &cf, events.DRListRequest{VM: vm, Pool: pool})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			return printCopies(cmd.OutOrStdout(), out)
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&vm, "vm", "", "only copies of this VM (source uuid or name, or copy uuid)")
	cmd.Flags().StringVar(&pool, "pool", "", "look on this configured pool only")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func listCopies(cmd *cobra.Command, cf *clientFlags, req events.DRListRequest) ([]events.DRCopy, error) {
	conn, subjects, err := cf.connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := cf.requestCtx(cmd.Context())
	defer cancel()
	return fn.Ask(ctx, conn.NATS(), subjects, events.QueryDRList, req)
}

func printCopies(w io.Writer, cs []events.DRCopy) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VM\tVM UUID\tRECOVERY POINT\tAGE\tSTATE\tPOWER\tJOB\tSCHEDULE\tPOOL\tCOPY UUID")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", drDash(c.VMName), c.VMUUID,
			c.Datetime.UTC().Format(time.RFC3339), drAge(c.AgeSeconds), c.State, c.PowerState, c.Job, c.Schedule, c.Pool, c.UUID)
	}
	return tw.Flush()
}

func drAge(s int64) string {
	return (time.Duration(s) * time.Second).String()
}

func drDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
