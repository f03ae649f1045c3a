package restoreclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
)

// ErrNotFound: no xbr.restore.requested with this id is stored.
var ErrNotFound = errors.New("no such restore request")

// lifecycle are the stored event types of one restore, in the order Lookup applies them.
var lifecycle = []events.Type{
	events.TypeRestoreRequested, events.TypeRestoreStarted,
	events.TypeRestoreCompleted, events.TypeRestoreFailed,
}

// Subjects are the subjects of request id's lifecycle events (stream Events)
// and of its progress events (stream Progress).
func Subjects(s events.Subjects, id string) (lifecycleSubjects []string, progress string) {
	for _, t := range lifecycle {
		lifecycleSubjects = append(lifecycleSubjects, s.For(t, id))
	}
	return lifecycleSubjects, s.For(events.TypeRestoreProgress, id)
}

// Lookup returns the current status of request id from the last stored event
// of each kind. A request that was never published gives ErrNotFound; one
// whose request event has aged out but whose outcome is stored still answers.
func Lookup(ctx context.Context, js jetstream.JetStream, s events.Subjects, names events.StreamNames, id string) (Status, error) {
	if err := events.ValidToken(id); err != nil {
		return Status{}, fmt.Errorf("restore id: %w", err)
	}
	names = names.WithDefaults()
	subjects, progress := Subjects(s, id)
	st := Status{RequestID: id}
	found := false
	for i, subj := range append(subjects[:2:2], progress, subjects[2], subjects[3]) {
		stream := names.Events
		if i == 2 {
			stream = names.Progress
		}
		r, ok, err := lastEvent(ctx, js, s, stream, subj)
		if err != nil {
			return Status{}, err
		}
		if ok && st.Apply(r) {
			found = true
		}
	}
	if !found {
		return Status{}, fmt.Errorf("restore %s: %w", id, ErrNotFound)
	}
	return st, nil
}

func lastEvent(ctx context.Context, js jetstream.JetStream, s events.Subjects, stream, subject string) (events.Received, bool, error) {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return events.Received{}, false, fmt.Errorf("restore status: stream %s: %w", stream, err)
	}
	m, err := st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return events.Received{}, false, nil
	}
	if err != nil {
		return events.Received{}, false, fmt.Errorf("restore status: read %s: %w", subject, err)
	}
	r, err := s.Decode(m.Subject, m.Header, m.Data)
	if err != nil {
		return events.Received{}, false, nil // a malformed or misplaced event tells nothing about the restore
	}
	return r, true, nil
}

// Watcher opens ordered reads of a stream; *bus.Conn is one.
type Watcher interface {
	Watch(ctx context.Context, o bus.WatchOptions) (*bus.Watch, error)
}

// Follow reads request id's events from the start (so nothing published
// before the call is missed) and calls fn with the status after every change,
// until the restore is done or ctx ends. It returns the last status.
func Follow(ctx context.Context, w Watcher, s events.Subjects, names events.StreamNames, id string, fn func(Status)) (Status, error) {
	names = names.WithDefaults()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	subjects, progress := Subjects(s, id)
	recs := make(chan bus.Record)
	errs := make(chan error, 2)
	for _, o := range []bus.WatchOptions{
		{Stream: names.Events, Subjects: subjects},
		{Stream: names.Progress, Subjects: []string{progress}},
	} {
		watch, err := w.Watch(ctx, o)
		if err != nil {
			return Status{}, fmt.Errorf("follow restore %s: %w", id, err)
		}
		defer watch.Close()
		go watch.Pump(ctx, recs, errs)
	}
	st := Status{RequestID: id}
	for {
		select {
		case r := <-recs:
			if r.Err == nil && st.Apply(r.Event) {
				if fn != nil {
					fn(st)
				}
				if st.Done() {
					return st, nil
				}
			}
		case err := <-errs:
			return st, fmt.Errorf("follow restore %s: %w", id, err)
		}
	}
}
