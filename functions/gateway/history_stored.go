package gateway

import (
	"context"
	"fmt"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/history"
)

// storedMargin widens the time span replayed for a stored run: its
// schedule.due comes just before its run.started.
const storedMargin = time.Minute

// storedRun answers for a run (or restore) that is not in the History
// projection, which holds the newest gateway.history_runs: its own
// run.started, run.completed or restore events are found by their subject,
// which names it; then, for a run, the lifecycle events stored while it ran
// are replayed, and those about it are applied to a projection of its own.
// Its progress samples are not kept that long and are not shown.
func (s *Server) storedRun(ctx context.Context, id string) (history.Run, bool, error) {
	stream := s.env.Streams.WithDefaults().Events
	p := history.New(history.Options{Now: s.now})
	var first, last time.Time
	mine := func(r events.Received) bool {
		if fmt.Sprint(r.Event.Extensions()[events.ExtensionRun]) != id {
			return true
		}
		at := r.Event.Time()
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
		p.Apply(r)
		return true
	}
	if err := s.scan(ctx, stream, s.ownFilters(id), time.Unix(0, 0), mine); err != nil {
		return history.Run{}, false, err
	}
	run, ok := p.Run(id)
	if !ok {
		return history.Run{}, false, nil
	}
	if history.IsJobRun(run.Message) {
		until := last.Add(storedMargin)
		err := s.scan(ctx, stream, s.env.Subjects.LifecycleFilters(), first.Add(-storedMargin), func(r events.Received) bool {
			return r.Event.Time().Before(until) && mine(r)
		})
		if err != nil {
			return history.Run{}, false, err
		}
		run, _ = p.Run(id)
	}
	return run, true, nil
}

// ownFilters are the subjects that name run (or restore) id.
func (s *Server) ownFilters(id string) []string {
	tok := events.Token(id)
	var out []string
	for _, t := range []events.Type{events.TypeRunStarted, events.TypeRunCompleted} {
		out = append(out, strings.TrimSuffix(s.env.Subjects.Filter(t), ">")+"*."+tok)
	}
	for _, t := range []events.Type{events.TypeRestoreRequested, events.TypeRestoreStarted,
		events.TypeRestoreCompleted, events.TypeRestoreFailed} {
		out = append(out, strings.TrimSuffix(s.env.Subjects.Filter(t), ">")+tok)
	}
	return out
}
