package report

import (
	"context"
	"crypto/rand"
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
// (events.BucketTimer): the time its schedule was evaluated up to, and the
// claim on a fire being sent. A job's key there is "<job>.<schedule>"; no
// job token holds a "/".
const DailyKey = "report/daily"

// DailyAskTimeout bounds the daily report's protection query.
const DailyAskTimeout = time.Minute

// DailyClaimStale is how old another replica's claim on a fire must be
// before this one takes the fire over: the claimer died (or lost NATS)
// before the report went out. A claim lasts one attempt, the protection
// query and the POST, at most DailyAskTimeout + PostTimeout (90 s): a
// failed attempt gives the claim back. 5 minutes leaves over 3 minutes for
// the hosts' clocks to differ (the claim's time is the claimer's) and
// delays the report of a dead claimer by at most 5 minutes, well within
// the default catch_up of an hour.
const DailyClaimStale = 5 * time.Minute

// Daily sends the protection report on its schedule: every missing,
// failing, late and unprotected VM, from the same protection query that
// `xbr protection` asks. Like the timer it remembers in the state bucket
// how far it has evaluated its schedule, so a restart neither repeats nor
// loses a fire within the catch-up window.
//
// Every replica of the report function runs a Daily on the same state, and
// the report is sent once however many run: a replica claims a due fire in
// the state with compare-and-set before it asks and posts, the others skip
// the fire while the claim is fresh, and the claimer advances the state
// once the report is posted (at least once: a claimer that dies after the
// POST and before that store has its fire sent again). A failed attempt,
// also one cut short by a shutdown, gives the claim back, so the next tick
// of any replica (a restarted one too) tries again; a claim older than
// DailyClaimStale is taken over, so a fire is not lost with a claimer that
// died. A fire older than the catch-up window is not sent.
type Daily struct {
	Config  config.DailyReport
	Ask     func(ctx context.Context) ([]events.ProtectionVM, error)
	Post    func(ctx context.Context, m Message) error
	KV      jetstream.KeyValue
	CatchUp time.Duration // [config.DefaultCatchUp]
	Log     *slog.Logger  // [discard]
	// Replica names this Daily in its claims; each replica needs its own
	// [random, set on the first Tick].
	Replica string
}

// Tick evaluates the schedule at now and sends the report when a fire is
// due and no other replica holds a fresh claim on it; on an error the state
// is not advanced and the next tick (of any replica) retries. One Daily
// ticks from one goroutine at a time.
func (d *Daily) Tick(ctx context.Context, now time.Time) error {
	st, rev, err := loadState(ctx, d.KV)
	if err != nil {
		return err
	}
	if st.Checked.IsZero() { // never evaluated: start now, catch nothing up
		_, err := storeState(ctx, d.KV, dailyState{Checked: now.UTC()}, rev)
		return ignoreRace(err)
	}
	if !now.After(st.Checked) { // the clock went back: keep the state, or a sent fire comes due again
		return nil
	}
	if c := st.Claim; c != nil && c.Replica != d.replica() && now.Sub(c.At) < DailyClaimStale {
		d.log().Debug("daily report: another replica is sending it", "fire", c.Fire, "replica", c.Replica)
		return nil
	}
	dec := schedule.Decide(d.Config.Schedule(), st.Checked, now, d.catchUp())
	// The store that ends an attempt outlives a shutdown during it (bounded by
	// the KV's own timeout): a claim left behind would hold the restarted
	// function (a new replica) back for DailyClaimStale, and a sent fire left
	// unrecorded would be sent again once the claim is stale.
	settle := context.WithoutCancel(ctx)
	if !dec.Fire.IsZero() {
		if rev, err = d.claim(ctx, st, rev, dec.Fire, now); err != nil {
			return ignoreRace(err) // lost: another replica claimed the fire first
		}
		if err := d.send(ctx, dec.Fire); err != nil {
			// Give the claim back: the next tick of any replica tries again.
			_, rerr := storeState(settle, d.KV, dailyState{Checked: st.Checked}, rev)
			return errors.Join(err, ignoreRace(rerr))
		}
	}
	_, err = storeState(settle, d.KV, dailyState{Checked: now.UTC()}, rev)
	if errors.Is(err, errRaced) {
		d.log().Warn("daily report sent, but another replica took over the claim meanwhile and may send it too",
			"fire", dec.Fire, "claim_stale", DailyClaimStale)
	}
	return ignoreRace(err)
}

// claim records in the state that this replica sends fire, unless another
// replica changed the state since it was read (errRaced), and returns the
// state's new revision.
func (d *Daily) claim(ctx context.Context, st dailyState, rev uint64, fire, now time.Time) (uint64, error) {
	if c := st.Claim; c != nil && c.Replica != d.replica() {
		d.log().Info("daily report: taking over a stale claim", "fire", c.Fire, "replica", c.Replica, "claimed", c.At)
	}
	st.Claim = &dailyClaim{Fire: fire.UTC(), At: now.UTC(), Replica: d.replica()}
	return storeState(ctx, d.KV, st, rev)
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

func (d *Daily) replica() string {
	if d.Replica == "" {
		d.Replica = rand.Text()
	}
	return d.Replica
}

// stateKV opens the timer's state bucket (creating it, as the timer does,
// when the report starts first and its connection may).
func stateKV(ctx context.Context, conn *bus.Conn, replicas int) (jetstream.KeyValue, error) {
	return conn.EnsureKV(ctx, bus.Topology{Replicas: replicas}.KVConfig(events.BucketTimer))
}
