package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/fn"
)

func newProtectionCmd() *cobra.Command {
	var (
		cf     clientFlags
		pool   string
		states []string
		asJSON bool
		vm     string
		short  = "Show every VM's protection: ok, late, failing, unprotected, excluded or missing"
	)
	cmd := &cobra.Command{
		Use: "protection", Short: short, Args: cobra.NoArgs,
		Long: short + `.
One line per VM of the configured pools, worst state first: the jobs that
select it, the age of its newest good copy, and its last good copy per kind
(backup, replica, snapshot) and where it lives. late: no success within the
job's RPO (rpo: on the job, or its schedule's interval plus a grace);
failing: the last attempt failed; unprotected: no job selects it; excluded:
tagged xo:no-bak; missing: a job names it by UUID and no pool has it.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := protectionRequest(pool, states)
			if err != nil {
				return err
			}
			if vm != "" { // resolved among every VM of the pool, then filtered by state
				req.States = nil
			}
			vms, err := askProtection(cmd, &cf, req)
			if err == nil && vm != "" {
				vms, err = protectionOfVM(vms, vm, states)
			}
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(vms)
			}
			return printProtection(cmd.OutOrStdout(), vms)
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&pool, "pool", "", "only the VMs of this pool")
	cmd.Flags().StringSliceVar(&states, "state", nil, "only VMs in these states, comma-separated (e.g. late,failing,unprotected)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&vm, "vm", "", "only this VM, by uuid or exact name (a name several VMs share is refused, listing them)")
	return cmd
}

// protectionRequest checks --state against the known states.
func protectionRequest(pool string, states []string) (events.ProtectionRequest, error) {
	known := events.ProtectionStates()
	for _, s := range states {
		if !slices.Contains(known, s) {
			return events.ProtectionRequest{}, fmt.Errorf("--state: unknown state %q (known: %s)", s, strings.Join(known, ", "))
		}
	}
	return events.ProtectionRequest{Pool: pool, States: states}, nil
}

func askProtection(cmd *cobra.Command, cf *clientFlags, req events.ProtectionRequest) ([]events.ProtectionVM, error) {
	conn, subjects, err := cf.connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := cf.requestCtx(cmd.Context())
	defer cancel()
	return fn.Ask(ctx, conn.NATS(), subjects, events.QueryProtection, req)
}

func printProtection(w io.Writer, vms []events.ProtectionVM) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tPOOL\tVM\tVM UUID\tAGE\tJOBS\tLAST GOOD COPIES\tREASON")
	for _, v := range vms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.State, drDash(v.Pool), drDash(v.Name), v.UUID,
			protectionAge(v.AgeSeconds), drDash(strings.Join(v.Jobs, ",")), drDash(lastCopies(v.Last)), drDash(v.Reason))
	}
	return tw.Flush()
}

func protectionAge(s int64) string {
	if s < 0 {
		return "never"
	}
	return (time.Duration(s) * time.Second).String()
}

// lastCopies is "backup 2026-12-01T02:00:00Z on nfs; snapshot ...".
func lastCopies(cs []events.LastCopy) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, c.Kind+" "+c.At.UTC().Format(time.RFC3339)+" on "+c.Where+" ("+c.Job+")")
	}
	return strings.Join(parts, "; ")
}
