package protection

import (
	"slices"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/config"
	"xbr/shared/history"
)

// KindOf is the kind of copy a job of mode makes ("" for modes that
// protect no VM on their own).
func KindOf(mode string) string {
	switch mode {
	case config.ModeFull, config.ModeIncremental:
		return events.CopyBackup
	case config.ModeReplicate:
		return events.CopyReplica
	case config.ModeSnapshot:
		return events.CopySnapshot
	}
	return ""
}

// outcome is what the history says of one VM under one job.
type outcome struct {
	ok, failed time.Time
	okRun      string
	where      string
	err        string
}

// key names a VM under a job.
type key struct{ job, vm string }

// outcomes folds the runs of the protecting jobs into the newest success and
// the newest failed attempt per VM and job.
func outcomes(runs []history.Run, jobs map[string]config.Job) map[key]*outcome {
	out := map[key]*outcome{}
	for _, r := range runs {
		j, ok := jobs[r.Job]
		if !ok || r.Message == history.KindRestore {
			continue
		}
		for _, t := range r.Tasks {
			if t.Message != history.KindVM || t.VMUUID == "" {
				continue
			}
			k := key{j.Name, strings.ToLower(t.VMUUID)}
			o := out[k]
			if o == nil {
				o = &outcome{}
				out[k] = o
			}
			o.fold(r, t, j)
		}
	}
	return out
}

func (o *outcome) fold(r history.Run, t *history.Task, j config.Job) {
	at := firstSet(t.End, r.End, r.LastEvent)
	switch t.Status {
	case history.StatusSuccess:
		if at.After(o.ok) {
			o.ok, o.okRun, o.where = at, r.ID, where(t, j)
		}
	case history.StatusFailure, history.StatusInterrupted:
		if at.After(o.failed) {
			o.failed, o.err = at, firstText(t.Error, t.Reason, r.Reason, t.Status)
		}
	}
}

// where says where a successful VM task's copy lives.
func where(t *history.Task, j config.Job) string {
	switch KindOf(j.Mode) {
	case events.CopyReplica:
		return "pool " + j.Target.Pool
	case events.CopySnapshot:
		return "" // on the VM's own pool: filled in by judge
	}
	var remotes []string
	var walk func(*history.Task)
	walk = func(c *history.Task) {
		if c.Remote != "" && c.Status == history.StatusSuccess && c.Message != history.KindPrune &&
			c.Message != history.KindVerify && !slices.Contains(remotes, c.Remote) {
			remotes = append(remotes, c.Remote)
		}
		for _, g := range c.Tasks {
			walk(g)
		}
	}
	walk(t)
	if len(remotes) == 0 {
		remotes = j.Remotes
	}
	return strings.Join(remotes, ", ")
}

func firstSet(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Time{}
}

func firstText(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
