package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/history"
	"xbr/shared/vmname"
)

func newHistoryCmd() *cobra.Command {
	var (
		cf            clientFlags
		job, run, vm  string
		asJSON, rates bool
		limit         int
		staleAfter    time.Duration
		streams       events.StreamNames
	)
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Show past and running runs as task trees (from the XBR_EVENTS stream)",
		Long: `history replays the XBR_EVENTS stream (and XBR_PROGRESS for transfer rates)
from its start and shows each run as Xen Orchestra's task tree: run, VM,
snapshot, export, transfer per remote, prune; with status (success, failure,
partial, skipped, interrupted, pending), start, duration, size, throughput and
the error of every failure. A run with no event for --stale-after and no end is
shown interrupted. Newest first. No server is needed, only the backbone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			conn, _, err := cf.connect()
			if err != nil {
				return err
			}
			defer conn.Close()
			p := history.New(history.Options{StaleAfter: staleAfter, KeepRuns: math.MaxInt}) // a one-off replay: every run
			if err := history.Load(cmd.Context(), conn, streams, p); err != nil {
				return err
			}
			runs, err := filterVM(p.Runs(), history.Filter(p.Runs(), job, run), vm)
			if err != nil {
				return err
			}
			if run != "" && len(runs) == 0 {
				return fmt.Errorf("no run %q in the history", run)
			}
			if job != "" && len(runs) == 0 {
				if err := checkJobKnown(cmd, &cf, job); err != nil {
					return err
				}
			}
			if limit > 0 && len(runs) > limit {
				runs = runs[:limit]
			}
			return writeHistory(cmd, p, runs, asJSON, rates)
		},
	}
	cf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&job, "job", "", "only this job's runs")
	f.StringVar(&run, "run", "", "only this run (or restore request) id")
	f.StringVar(&vm, "vm", "", "only runs with a task about this VM, by uuid or exact name (a name several VMs share is refused)")
	f.BoolVar(&asJSON, "json", false, "print JSON (the task trees, and with --rates the rate series)")
	f.BoolVar(&rates, "rates", false, "also print each run's transfer-rate samples")
	f.IntVar(&limit, "limit", 0, "show at most this many runs (0: all)")
	f.StringVar(&streams.Events, "events-stream", envOr("XBR_EVENTS_STREAM", events.DefaultEventsStream), "lifecycle stream ($XBR_EVENTS_STREAM)")
	f.StringVar(&streams.Progress, "progress-stream", envOr("XBR_PROGRESS_STREAM", events.DefaultProgressStream), "progress stream ($XBR_PROGRESS_STREAM)")
	f.DurationVar(&staleAfter, "stale-after", history.DefaultStaleAfter, "a run with no event for this long is interrupted")
	return cmd
}

// historyRun is one run in --json output.
type historyRun struct {
	history.Run
	Rates []history.RatePoint `json:"rates,omitempty"`
}

func writeHistory(cmd *cobra.Command, p *history.Projection, runs []history.Run, asJSON, rates bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		list := make([]historyRun, len(runs))
		for i, r := range runs {
			list[i].Run = r
			if rates {
				list[i].Rates = p.Rates(r.ID)
			}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	if len(runs) == 0 {
		_, err := fmt.Fprintln(out, "no runs")
		return err
	}
	if err := history.WriteText(out, runs); err != nil {
		return err
	}
	if !rates {
		return nil
	}
	for _, r := range runs {
		for _, pt := range p.Rates(r.ID) {
			fmt.Fprintf(out, "rate %s %s %s %s/s %d/%d\n", r.ID, pt.Time.Format(time.RFC3339), pt.VMUUID,
				history.HumanBytes(pt.BytesPerSecond), pt.Bytes, pt.TotalBytes)
		}
	}
	return nil
}

// checkJobKnown asks the running server's jobs query whether job exists:
// a job with no run yet shows an empty history, a misspelt one an error
// naming the known jobs. Without a server to ask, no run of job is an error.
func checkJobKnown(cmd *cobra.Command, cf *clientFlags, job string) error {
	jobs, err := fetchJobs(cmd, cf)
	if err != nil {
		return fmt.Errorf("--job: no run of job %q in the history, and the jobs query failed: %w", job, err)
	}
	names := make([]string, 0, len(jobs))
	for _, j := range jobs {
		if j.Name == job {
			return nil
		}
		names = append(names, j.Name)
	}
	sort.Strings(names)
	return fmt.Errorf("--job: no job %q (jobs: %s)", job, strings.Join(names, ", "))
}

// filterVM keeps the runs about vm ("": every run), a uuid or a name that all (the whole
// history) knows (vmname.Resolve, as every door resolves VMs).
func filterVM(all, runs []history.Run, vm string) ([]history.Run, error) {
	if vm == "" {
		return runs, nil
	}
	var known []vmname.Known
	for uuid, name := range history.VMNames(all) {
		known = append(known, vmname.Known{UUID: uuid, Name: name})
	}
	uuid, err := vmname.Resolve(vm, known)
	var none *vmname.NotFoundError
	if errors.As(err, &none) {
		none.Where = "is in the history"
	}
	if err != nil {
		return nil, err
	}
	return history.FilterVM(runs, uuid), nil
}
