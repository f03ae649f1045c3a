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
		o        followOpts
	)
	cmd := &cobra.Command{
		Use:   "run JOB",
		Short: "Run a job now (a manual fire of one of its schedules)",
		Long: `run publishes a manual xbr.schedule.due for JOB on the backbone of a running
server. The run uses the schedule's settings (retention, ...): --schedule picks
one, default the job's first. With --wait it follows the run and exits 0 on
success, 1 on failure or partial success, 3 when the run was skipped.

While it waits, a terminal shows one live line per VM in flight (bytes, rate,
ETA); otherwise each progress event is a plain line. --json writes
newline-delimited JSON instead: {"type":"requested"}, then "progress" and
"event" objects (the event's type and payload), and a final "result" object
with the xbr.run.completed payload and the exit code.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJob(cmd, &cf, args[0], schedule, o)
		},
	}
	cf.add(cmd)
	cmd.Flags().StringVar(&schedule, "schedule", "", "schedule whose settings the run uses (default the job's first)")
	o.add(cmd, "run")
	return cmd
}

// followOpts are the --wait and --json flags of the commands that follow
// what they asked for.
type followOpts struct{ wait, json bool }

func (o *followOpts) add(cmd *cobra.Command, what string) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annotationJSONStream] = "true"
	cmd.Flags().BoolVar(&o.wait, "wait", false, "follow the "+what+" until it ends")
	cmd.Flags().BoolVar(&o.json, "json", false, "print newline-delimited JSON objects instead of text")
}

func runJob(cmd *cobra.Command, cf *clientFlags, job, sched string, o followOpts) error {
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
	var watches []*bus.Watch
	if o.wait { // watch before publishing so no event is missed
		if watches, err = watchRun(cmd.Context(), conn); err != nil {
			return err
		}
		defer closeWatches(watches)
	}
	msg, err := subjects.Message(events.Meta{ID: id, Source: events.Source("cli"), Time: due.FireTime}, due)
	if err != nil {
		return err
	}
	if _, err := conn.Publish(cmd.Context(), msg.Subject, msg.Event); err != nil {
		return fmt.Errorf("publish the run: %w", err)
	}
	v := newView(cmd, o.json)
	v.Object("requested", jsonLine{Event: string(due.EventType()), Time: due.FireTime, Data: due})
	v.Line("run %s: job %s, schedule %s requested", id, job, sched)
	if !o.wait {
		v.Close()
		return nil
	}
	return followRun(cmd.Context(), v, watches, id)
}

// watchRun watches the new events of the lifecycle and progress streams.
func watchRun(ctx context.Context, conn *bus.Conn) ([]*bus.Watch, error) {
	names := events.StreamNames{}.WithDefaults()
	var ws []*bus.Watch
	for _, stream := range []string{names.Events, names.Progress} {
		w, err := conn.Watch(ctx, bus.WatchOptions{Stream: stream, DeliverNew: true})
		if err != nil {
			closeWatches(ws)
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

func closeWatches(ws []*bus.Watch) {
	for _, w := range ws {
		w.Close()
	}
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
