package history

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
)

// Applier is what Load and Follow feed (*Projection, or a metrics set).
type Applier interface {
	Apply(r events.Received)
}

// Load replays the lifecycle and progress streams from their start up to
// the last message stored when Load was called, into a. A missing progress
// stream is not an error (it is short-lived and optional for an auditor);
// a missing lifecycle stream is.
func Load(ctx context.Context, conn *bus.Conn, names events.StreamNames, a Applier) error {
	names = names.WithDefaults()
	if err := replay(ctx, conn, names.Events, a); err != nil {
		return err
	}
	err := replay(ctx, conn, names.Progress, a)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	return err
}

func replay(ctx context.Context, conn *bus.Conn, stream string, a Applier) error {
	s, err := conn.JetStream().Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("history: stream %s: %w", stream, err)
	}
	last := s.CachedInfo().State.LastSeq
	if s.CachedInfo().State.Msgs == 0 {
		return nil
	}
	w, err := conn.Watch(ctx, bus.WatchOptions{Stream: stream})
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer w.Close()
	for {
		rec, err := w.Next(ctx)
		if err != nil {
			return fmt.Errorf("history: reading %s: %w", stream, err)
		}
		if rec.Err == nil {
			a.Apply(rec.Event)
		}
		if rec.Seq >= last || rec.Pending == 0 {
			return nil
		}
	}
}

// Follow replays both streams from their start and keeps applying new
// events until ctx is cancelled (then it returns nil) or reading fails;
// the caller cancels ctx afterwards to stop the other stream's reader. The
// web page and the metrics use it.
func Follow(ctx context.Context, conn *bus.Conn, names events.StreamNames, a Applier) error {
	names = names.WithDefaults()
	errc := make(chan error, 2)
	for _, stream := range []string{names.Events, names.Progress} {
		w, err := conn.Watch(ctx, bus.WatchOptions{Stream: stream})
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		go func() {
			defer w.Close()
			for {
				rec, err := w.Next(ctx)
				if err != nil {
					errc <- err
					return
				}
				if rec.Err == nil {
					a.Apply(rec.Event)
				}
			}
		}()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("history: following the streams: %w", err)
	}
}
