package report

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/history"
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
}

var _ bus.Handler = (*Reporter)(nil)

// Handle reports one xbr.run.completed; it publishes nothing.
func (rp *Reporter) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	p, ok := ev.Payload.(events.RunCompleted)
	if !ok {
		return nil, nil
	}
	job, ok := rp.Job(p.Job)
	if !ok || !job.ReportWebhook.IsSet() || !ShouldSend(job.ReportWhen, p.Status) {
		return nil, nil
	}
	log := rp.log().With("job", p.Job, "run", p.RunID)
	if age := rp.now().Sub(ev.Delivery.Stored); !ev.Delivery.Stored.IsZero() && age > rp.maxAge() {
		log.Info("run ended too long ago; no report sent", "age", age.Round(time.Second))
		return nil, nil
	}
	proj := history.New(history.Options{Now: rp.now})
	proj.Apply(ev.Received)
	run, _ := proj.Run(p.RunID)
	if err := (Webhook{URL: job.ReportWebhook.Reveal(), Client: rp.Client}).Post(ctx, Title(run), Tree(run)); err != nil {
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

// Run is the report function: it consumes xbr.run.completed until ctx ends.
func Run(ctx context.Context, env *fn.Env) error {
	rp := &Reporter{Job: env.Job, Log: env.Log.With(bus.KeyFunction, Name), Now: env.Now,
		Client: &http.Client{Timeout: 30 * time.Second}}
	return env.Conn.Consume(ctx, bus.ConsumerConfig{Function: Name, Stream: env.Streams.WithDefaults().Events,
		Subjects: []string{env.Subjects.Filter(events.TypeRunCompleted)}, DLQ: env.Subjects}, rp)
}

// Function is the report function as `xbr serve` runs it.
func Function() fn.Function { return fn.Function{Name: Name, Run: Run} }
