package replicate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/config"
	"xbr/shared/xapi"
)

// sourceTimeout bounds the look at one source pool: a pool that does not
// answer in time is unreachable, the disaster failover is made for.
const sourceTimeout = 15 * time.Second

// sourceState is what a failover knew of the copy's source VM.
type sourceState struct {
	State string // events.SourceHalted, Running, Absent or Unreachable
	Pool  string // the pool that said so (or did not answer)
	Name  string // the source VM's name, for messages
	Note  string // why the source could not be checked
}

// checkSource looks for the source VM of cp (by uuid) on the source pools
// of the job that made the copy (every configured pool when the job is
// gone). A pool where it runs (or is paused) wins; then one where it is
// halted; then an unreachable pool (the VM may be there); else absent.
func (d Deps) checkSource(ctx context.Context, cp Copy) sourceState {
	out := sourceState{State: events.SourceAbsent, Name: cp.VMName}
	if out.Name == "" {
		out.Name = cp.VMUUID
	}
	var notes []string
	for _, pool := range sourcePools(d.Config, cp.Job) {
		state, name, err := d.sourceOn(ctx, pool, cp.VMUUID)
		if err != nil {
			notes = append(notes, fmt.Sprintf("source pool %s did not answer (%s)", pool, events.Reason(err)))
		}
		if rank(state) > rank(out.State) {
			out.State, out.Pool = state, pool
			if name != "" {
				out.Name = name
			}
		}
	}
	if out.State == events.SourceUnreachable {
		out.Note = strings.Join(notes, "; ") + ": failed over without checking the source VM"
	}
	return out
}

// sourceOn is the state of VM uuid on pool, within sourceTimeout even when
// a call does not heed ctx (the pool's login, which another caller may be
// holding): such a pool is given up on as unreachable, and its goroutine
// ends when that call does.
func (d Deps) sourceOn(ctx context.Context, pool, uuid string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, sourceTimeout)
	defer cancel()
	type answer struct {
		state, name string
		err         error
	}
	ch := make(chan answer, 1)
	go func() {
		state, name, err := d.lookSource(ctx, pool, uuid)
		ch <- answer{state, name, err}
	}()
	select {
	case a := <-ch:
		return a.state, a.name, a.err
	case <-ctx.Done():
		select {
		case a := <-ch: // it came in meanwhile
			return a.state, a.name, a.err
		default:
		}
		return events.SourceUnreachable, "", fmt.Errorf("pool %s: no answer within %s: %w", pool, sourceTimeout, ctx.Err())
	}
}

func (d Deps) lookSource(ctx context.Context, pool, uuid string) (string, string, error) {
	c, err := d.Pools.Client(ctx, pool)
	if err != nil {
		return events.SourceUnreachable, "", err
	}
	ref, err := c.VMByUUID(ctx, uuid)
	if xapi.IsCode(err, "UUID_INVALID") {
		return events.SourceAbsent, "", nil
	}
	if err != nil {
		return events.SourceUnreachable, "", err
	}
	rec, err := c.VMRecord(ctx, ref)
	if err != nil {
		return events.SourceUnreachable, "", err
	}
	if rec.PowerState == xapi.Running || rec.PowerState == xapi.Paused {
		return events.SourceRunning, rec.NameLabel, nil
	}
	return events.SourceHalted, rec.NameLabel, nil
}

func rank(state string) int {
	return slices.Index([]string{events.SourceAbsent, events.SourceUnreachable, events.SourceHalted, events.SourceRunning}, state)
}

// sourcePools are the pools of job (a replicate job), or every configured
// pool when no such job is configured any more.
func sourcePools(cfg *config.Config, job string) []string {
	if j, ok := cfg.Job(job); ok && j.Mode == config.ModeReplicate && len(j.Pools) > 0 {
		return j.Pools
	}
	var out []string
	for _, p := range cfg.Pools {
		out = append(out, p.Name)
	}
	return out
}
