package cli

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/fn"
	"xbr/shared/schedule"
)

// Exit codes of `xbr run --wait`.
const (
	exitRunFailed  = 1 // failure or partial
	exitRunSkipped = 3 // skipped (already running, nothing selected)
)

func newRunCmd() *cobra.Command {
	var (
		cf       clientFlags
		schedule string
		wait     bool
	)
	cmd := &cobra.Command{
		Use:   "run JOB",
		Short: "Run a job now (a manual fire of one of its schedules)",
		Long: `run publishes a manual xbr.schedule.due for JOB on the backbone of a running
server. The run uses the schedule's settings (retention, ...): --schedule picks
one, default the job's first. With --wait it follows the run and exits 0 on
success, 1 on failure or partial success, 3 when the run was skipped.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJob(cmd, &cf, args[0], schedule, wait)
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&schedule, "schedule", "", "schedule whose settings the run uses (default the job's first)")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the run until it completes")
	return cmd
}

func runJob(cmd *cobra.Command, cf *clientFlags, job, sched string, wait bool) error {
	conn, subjects, err := cf.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	mode, sched, err := pickSchedule(cmd.Context(), cf, conn, subjects, job, sched)
	if err != nil {
		return err
	}
	due := schedule.ManualFire(mode, job, sched, requester(), time.Now())
	id := due.RunID
	var w *bus.Watch
	if wait { // watch before publishing so no event is missed
		if w, err = conn.Watch(cmd.Context(), bus.WatchOptions{DeliverNew: true}); err != nil {
			return err
		}
		defer w.Close()
	}
	msg, err := subjects.Message(events.Meta{ID: id, Source: events.Source("cli"), Time: due.FireTime}, due)
	if err != nil {
		return err
	}
	if _, err := conn.Publish(cmd.Context(), msg.Subject, msg.Event); err != nil {
		return fmt.Errorf("publish the run: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "run %s: job %s, schedule %s requested\n", id, job, sched)
	if !wait {
		return nil
	}
	return followRun(cmd, w, id)
}

// pickSchedule asks the server for job and returns its mode (the fire's
// subject names it) and the schedule to fire: sched, or the job's first.
func pickSchedule(ctx context.Context, cf *clientFlags, conn *bus.Conn, s events.Subjects, job, sched string) (mode, name string, err error) {
	ctx, cancel := cf.requestCtx(ctx)
	defer cancel()
	jobs, err := fn.Ask(ctx, conn.NATS(), s, events.QueryJobs, events.NoRequest{})
	if err != nil {
		return "", "", err
	}
	for _, j := range jobs {
		if j.Name != job {
			continue
		}
		if len(j.Schedules) == 0 {
			return "", "", fmt.Errorf("job %q has no schedule", job)
		}
		if sched == "" {
			return j.Mode, j.Schedules[0].Name, nil
		}
		for _, sc := range j.Schedules {
			if sc.Name == sched {
				return j.Mode, sched, nil
			}
		}
		return "", "", fmt.Errorf("job %q has no schedule %q", job, sched)
	}
	return "", "", fmt.Errorf("no job %q on this server (see 'xbr jobs ls')", job)
}

func requester() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return "cli:" + name + "@" + host
}
