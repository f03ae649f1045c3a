package failovers

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
)

// ErrNotFound: no event of this failover request is stored.
var ErrNotFound = errors.New("no such failover request")

// lifecycle are the event types of one failover, in the order Lookup applies them.
var lifecycle = []events.Type{events.TypeFailoverRequested, events.TypeFailoverCompleted, events.TypeFailoverFailed}

// Subjects are the subjects of request id's events (stream Events).
func Subjects(s events.Subjects, id string) []string {
	out := make([]string, 0, len(lifecycle))
	for _, t := range lifecycle {
		out = append(out, s.For(t, id))
	}
	return out
}

// Lookup returns the current status of request id from the last stored
// event of each kind; a request never published gives ErrNotFound.
func Lookup(ctx context.Context, js jetstream.JetStream, s events.Subjects, names events.StreamNames, id string) (Status, error) {
	if err := events.ValidToken(id); err != nil {
		return Status{}, fmt.Errorf("failover id: %w", err)
	}
	st, err := js.Stream(ctx, names.WithDefaults().Events)
	if err != nil {
		return Status{}, fmt.Errorf("failover status: %w", err)
	}
	status, found := Status{RequestID: id}, false
	for _, subj := range Subjects(s, id) {
		m, err := st.GetLastMsgForSubject(ctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return Status{}, fmt.Errorf("failover status: read %s: %w", subj, err)
		}
		if r, err := s.Decode(m.Subject, m.Header, m.Data); err == nil && status.Apply(r) {
			found = true
		}
	}
	if !found {
		return Status{}, fmt.Errorf("failover %s: %w", id, ErrNotFound)
	}
	return status, nil
}

// Watcher opens ordered reads of a stream; *bus.Conn is one.
type Watcher interface {
	Watch(ctx context.Context, o bus.WatchOptions) (*bus.Watch, error)
}

// Follow reads request id's events from the start (nothing published
// before the call is missed) and calls fn (when not nil) after every
// change, until the failover is done or ctx ends. It returns the last status.
func Follow(ctx context.Context, w Watcher, s events.Subjects, names events.StreamNames, id string, fn func(Status)) (Status, error) {
	watch, err := w.Watch(ctx, bus.WatchOptions{Stream: names.WithDefaults().Events, Subjects: Subjects(s, id)})
	if err != nil {
		return Status{}, fmt.Errorf("follow failover %s: %w", id, err)
	}
	defer watch.Close()
	st := Status{RequestID: id}
	for !st.Done() {
		r, err := watch.Next(ctx)
		if err != nil {
			return st, fmt.Errorf("follow failover %s: %w", id, err)
		}
		if r.Err == nil && st.Apply(r.Event) && fn != nil {
			fn(st)
		}
	}
	return st, nil
}
