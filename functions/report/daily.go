package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/schedule"
)

// DailyKey is the daily report's key in the timer's state bucket
// (events.BucketTimer): the time its schedule was evaluated up to. A job's
// key there is "<job>.<schedule>"; no job token holds a "/".
const DailyKey = "report/daily"

// Daily sends the protection report on its schedule: every missing,
// failing, late and unprotected VM, from the same protection query that
// `xbr protection` asks. Like the timer it remembers in the state bucket
// how far it has evaluated its schedule, so a restart neither repeats nor
// loses a fire within the catch-up window; the report is posted before
// the state advances (at least once).
type Daily struct {
	Config  config.DailyReport
	Ask     func(ctx context.Context) ([]events.ProtectionVM, error)
	Post    func(ctx context.Context, m Message) error
	KV      jetstream.KeyValue
	CatchUp time.Duration // [config.DefaultCatchUp]
	Log     *slog.Logger  // [discard]
}

// Tick evaluates the schedule at now and sends the report when a fire is
// due; on an error the state is not advanced and the next tick retries.
func (d *Daily) Tick(ctx context.Context, now time.Time) error {
	last, rev, err := loadChecked(ctx, d.KV)
	if err != nil {
		return err
	}
	if last.IsZero() { // never evaluated: start now, catch nothing up
		return storeChecked(ctx, d.KV, now, rev)
	}
	if !now.After(last) { // the clock went back: keep the state, or a sent fire comes due again
		return nil
	}
	dec := schedule.Decide(d.Config.Schedule(), last, now, d.catchUp())
	if !dec.Fire.IsZero() {
		if err := d.send(ctx, dec.Fire); err != nil {
			return err
		}
	}
	return storeChecked(ctx, d.KV, now, rev)
}

// Run ticks every interval until ctx is cancelled.
func (d *Daily) Run(ctx context.Context, now func() time.Time, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := d.Tick(ctx, now()); err != nil && ctx.Err() == nil {
			d.log().Warn("daily report failed; retried on the next tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (d *Daily) send(ctx context.Context, fire time.Time) error {
	vms, err := d.Ask(ctx)
	if err != nil {
		return fmt.Errorf("daily report: protection query: %w", err)
	}
	title, need := DailyTitle(vms, fire.In(d.location()))
	if need == 0 && d.Config.When == config.ReportFailure {
		d.log().Info("daily report not sent: every VM is protected", "fire", fire)
		return nil
	}
	more := "xbr protection --state " + strings.Join(attention, ",")
	if err := d.Post(ctx, Message{Title: title, Body: ProtectionText(vms), More: more}); err != nil {
		return err
	}
	d.log().Info("daily report sent", "fire", fire, "attention", need)
	return nil
}

// DailyTitle is the daily report's first line and the number of VMs that
// need attention (missing, failing, late or unprotected).
func DailyTitle(vms []events.ProtectionVM, fire time.Time) (string, int) {
	n := 0
	for _, v := range vms {
		if slices.Contains(attention, v.State) {
			n++
		}
	}
	day := fire.Format("2006-01-02")
	if n == 0 {
		return fmt.Sprintf("xbr daily report %s: all %d VMs protected", day, len(vms)), 0
	}
	return fmt.Sprintf("xbr daily report %s: %d of %d VMs need attention", day, n, len(vms)), n
}

func (d *Daily) location() *time.Location {
	if d.Config.Location == nil {
		return time.UTC
	}
	return d.Config.Location
}

func (d *Daily) catchUp() time.Duration {
	if d.CatchUp <= 0 {
		return config.DefaultCatchUp
	}
	return d.CatchUp
}

func (d *Daily) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}

// checked is the state's value, as the timer writes its own.
type checked struct {
	Checked time.Time `json:"checked"`
}

func loadChecked(ctx context.Context, kv jetstream.KeyValue) (time.Time, uint64, error) {
	e, err := kv.Get(ctx, DailyKey)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return time.Time{}, 0, nil
	}
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("daily report: read state %s: %w", DailyKey, err)
	}
	var s checked
	if json.Unmarshal(e.Value(), &s) != nil {
		return time.Time{}, e.Revision(), nil // unreadable: start over
	}
	return s.Checked, e.Revision(), nil
}

// storeChecked advances the state with compare-and-set; losing the race to
// another replica is fine (it sent the same fire).
func storeChecked(ctx context.Context, kv jetstream.KeyValue, now time.Time, rev uint64) error {
	data, _ := json.Marshal(checked{Checked: now.UTC()})
	var err error
	if rev == 0 {
		_, err = kv.Create(ctx, DailyKey, data)
	} else {
		_, err = kv.Update(ctx, DailyKey, data, rev)
	}
	var apiErr *jetstream.APIError
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) &&
		!(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence) {
		return fmt.Errorf("daily report: store state %s: %w", DailyKey, err)
	}
	return nil
}

// stateKV opens the timer's state bucket, creating it as the timer does
// when the report starts first.
func stateKV(ctx context.Context, conn *bus.Conn, replicas int) (jetstream.KeyValue, error) {
	kv, err := conn.JetStream().KeyValue(ctx, events.BucketTimer)
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return kv, err
	}
	return conn.EnsureKV(ctx, jetstream.KeyValueConfig{Bucket: events.BucketTimer, History: 1, Replicas: max(replicas, 1),
		Description: "xbr timer: per schedule, the time it was evaluated up to"})
}
