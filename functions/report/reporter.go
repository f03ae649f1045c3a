package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
)

// Name is the report function's name (durable consumer, DLQ subject).
const Name = "report"

// DefaultMaxAge: older run.completed events are not reported.
const DefaultMaxAge = 24 * time.Hour

// Reporter sends the report of each ended run per its job's settings.
type Reporter struct {
	Job    func(name string) (config.Job, bool) // the configured jobs
	Client *http.Client                         // [http.DefaultClient]
	Log    *slog.Logger                         // [discard]
	Now    func() time.Time                     // [time.Now]
	MaxAge time.Duration                        // [DefaultMaxAge]
	// Conn reads the run's events back from the stream; nil: the report
	// is made of the run.completed alone, health checks unknown.
	Conn         *bus.Conn
	HealthGrace  time.Duration // [DefaultHealthGrace]
	HealthSettle time.Duration // [DefaultHealthSettle]
	PostTimeout  time.Duration // bounds the webhook POST [PostTimeout]
}

var _ bus.Handler = (*Reporter)(nil)

// Handle reports one xbr.run.completed; it publishes nothing. With
// report_when: failure, a successful run whose health check failed is
// reported too.
func (rp *Reporter) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	p, ok := ev.Payload.(events.RunCompleted)
	if !ok {
		return nil, nil
	}
	job, ok := rp.Job(p.Job)
	if !ok || !job.ReportWebhook.IsSet() {
		return nil, nil
	}
	send := ShouldSend(job.ReportWhen, p.Status)
	checked := job.HealthCheckFor(p.Schedule) != nil && job.ReportWhen == config.ReportFailure
	if !send && !checked {
		return nil, nil
	}
	log := rp.log().With("job", p.Job, "run", p.RunID)
	if age := rp.now().Sub(ev.Delivery.Stored); !ev.Delivery.Stored.IsZero() && age > rp.maxAge() {
		log.Info("run ended too long ago; no report sent", "age", age.Round(time.Second))
		return nil, nil
	}
	run, read := rp.collect(ctx, ev, p, job)
	if err := ctx.Err(); err != nil {
		return nil, err // stopped while waiting for the checks: redelivered, not acked
	}
	if !send && healthOutcomes(run)[healthFailed] == 0 {
		if !read && rp.Conn != nil {
			// Whether a check failed is not known: try again rather than stay silent.
			return nil, errors.New("the run's health checks could not be read back from the stream")
		}
		return nil, nil // report_when failure: the run and its checks passed
	}
	if err := (Webhook{URL: job.ReportWebhook.Reveal(), Client: rp.Client, Timeout: rp.PostTimeout}).Post(ctx,
		Message{Title: Title(run), Body: Tree(run), More: "xbr history --run " + p.RunID}); err != nil {
		return nil, err // retried with back-off by the bus
	}
	log.Info("run report sent", "status", p.Status)
	return nil, nil
}

func (rp *Reporter) log() *slog.Logger {
	if rp.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return rp.Log
}

func (rp *Reporter) now() time.Time {
	if rp.Now == nil {
		return time.Now()
	}
	return rp.Now()
}

func (rp *Reporter) maxAge() time.Duration {
	if rp.MaxAge <= 0 {
		return DefaultMaxAge
	}
	return rp.MaxAge
}

// DailyInterval is how often the daily report's schedule is evaluated.
const DailyInterval = 5 * time.Second

// Run is the report function: it consumes xbr.run.completed until ctx ends
// and, when configured, sends the daily report on its schedule.
func Run(ctx context.Context, env *fn.Env) error {
	log := env.Log.With(bus.KeyFunction, Name)
	if d := env.Config.Reports.Daily; d.Enabled() {
		kv, err := stateKV(ctx, env.Conn, env.Config.NATS.StreamReplicas)
		if err != nil {
			return fmt.Errorf("daily report: %w", err)
		}
		daily := &Daily{Config: d, KV: kv, CatchUp: env.Config.CatchUp, Log: log,
			Ask: func(ctx context.Context) ([]events.ProtectionVM, error) {
				ctx, cancel := context.WithTimeout(ctx, DailyAskTimeout)
				defer cancel()
				return fn.Ask(ctx, env.Conn.NATS(), env.Subjects, events.QueryProtection, events.ProtectionRequest{})
			},
			Post: Webhook{URL: d.Webhook.Reveal()}.Post}
		go daily.Run(ctx, env.Now, DailyInterval)
	}
	rp := &Reporter{Job: env.Job, Log: log, Now: env.Now, Conn: env.Conn}
	// Concurrency: a report waiting for its run's health checks does not
	// hold back the reports of other runs.
	return env.Conn.Consume(ctx, bus.ConsumerConfig{Function: Name, Stream: env.Streams.WithDefaults().Events,
		Subjects: []string{env.Subjects.Filter(events.TypeRunCompleted)}, DLQ: env.Subjects, Concurrency: 8}, rp)
}

// Function is the report function as `xbr serve` runs it.
func Function() fn.Function { return fn.Function{Name: Name, Run: Run} }
