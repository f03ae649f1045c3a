package gateway

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/restoreclient"
)

// Bounds of the recent-restores list.
const (
	recentWindow    = 30 * 24 * time.Hour
	recentMaxEvents = 20000
	recentShown     = 20
)

// recent returns the newest restores requested within recentWindow, newest
// first, as restoreclient.Status projections of their stored lifecycle events
// (plus the last progress event of those still running).
func (s *Server) recent(ctx context.Context) ([]restoreclient.Status, error) {
	names := s.env.Streams.WithDefaults()
	var filters []string
	for _, t := range []events.Type{events.TypeRestoreRequested, events.TypeRestoreStarted,
		events.TypeRestoreCompleted, events.TypeRestoreFailed} {
		filters = append(filters, s.env.Subjects.Filter(t))
	}
	byID := map[string]*restoreclient.Status{}
	err := s.scanNewest(ctx, names.Events, filters, s.now().Add(-recentWindow), func(r events.Received) bool {
		id := requestIDOf(r)
		st := byID[id]
		if st == nil {
			st = &restoreclient.Status{RequestID: id}
			byID[id] = st
		}
		st.Apply(r)
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]restoreclient.Status, 0, len(byID))
	for _, st := range byID {
		if st.State != "" && !st.RequestedAt.IsZero() {
			out = append(out, *st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RequestedAt.After(out[j].RequestedAt) })
	if len(out) > recentShown {
		out = out[:recentShown]
	}
	for i, st := range out {
		if st.State == restoreclient.StateRunning {
			if fresh, err := s.lookup(ctx, st.RequestID); err == nil {
				out[i] = fresh
			}
		}
	}
	return out, nil
}

func requestIDOf(r events.Received) string {
	switch p := r.Payload.(type) {
	case events.RestoreRequested:
		return p.RequestID
	case events.RestoreStarted:
		return p.RequestID
	case events.RestoreCompleted:
		return p.RequestID
	case events.RestoreFailed:
		return p.RequestID
	}
	return ""
}

// scan reads the events stored on stream under filters since a time, in
// order, without waiting for new ones, until fn returns false: the oldest
// recentMaxEvents of them at most.
func (s *Server) scan(ctx context.Context, stream string, filters []string, since time.Time, fn func(events.Received) bool) error {
	cons, pending, err := s.consumer(ctx, stream, filters, since, 0)
	if err != nil {
		return err
	}
	return s.read(ctx, stream, cons, pending, fn)
}

// scanNewest is scan for the newest events: when more than recentMaxEvents
// are stored since the time, it starts at the stream sequence (found by
// bisection) from which the newest recentMaxEvents of them are left, so that
// the newest are read, not the oldest.
func (s *Server) scanNewest(ctx context.Context, stream string, filters []string, since time.Time, fn func(events.Received) bool) error {
	cons, pending, err := s.consumer(ctx, stream, filters, since, 0)
	if err != nil || pending <= recentMaxEvents {
		if err != nil {
			return err
		}
		return s.read(ctx, stream, cons, pending, fn)
	}
	lo, err := firstSeq(ctx, cons) // the first event since the time
	dropConsumer(s.env.Conn.JetStream(), stream, cons)
	if err != nil {
		return upstream(fmt.Errorf("read stream %s: %w", stream, err))
	}
	info, err := s.env.Conn.JetStream().Stream(ctx, stream)
	if err != nil {
		return upstream(fmt.Errorf("read stream %s: %w", stream, err))
	}
	hi := info.CachedInfo().State.LastSeq + 1
	for lo+1 < hi { // pending from lo > recentMaxEvents; from hi <= it
		mid := lo + (hi-lo)/2
		c, n, err := s.consumer(ctx, stream, filters, time.Time{}, mid)
		if err != nil {
			return err
		}
		dropConsumer(s.env.Conn.JetStream(), stream, c)
		if n > recentMaxEvents {
			lo = mid
		} else {
			hi = mid
		}
	}
	if cons, pending, err = s.consumer(ctx, stream, filters, time.Time{}, hi); err != nil {
		return err
	}
	return s.read(ctx, stream, cons, pending, fn)
}

// firstSeq is the stream sequence of the first event cons delivers.
func firstSeq(ctx context.Context, cons jetstream.Consumer) (uint64, error) {
	m, err := cons.Next(jetstream.FetchMaxWait(2 * time.Second))
	if err != nil {
		return 0, err
	}
	md, err := m.Metadata()
	if err != nil {
		return 0, err
	}
	return md.Sequence.Stream, ctx.Err()
}

// consumer opens an ordered consumer of the events stored on stream under
// filters since a time (from stream sequence seq when not 0), and says how
// many there are.
func (s *Server) consumer(ctx context.Context, stream string, filters []string, since time.Time, seq uint64) (jetstream.Consumer, int, error) {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: filters, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since}
	if seq > 0 {
		cfg.DeliverPolicy, cfg.OptStartTime, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, nil, seq
	}
	cons, err := s.env.Conn.JetStream().OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return nil, 0, upstream(fmt.Errorf("read stream %s: %w", stream, err))
	}
	info, err := cons.Info(ctx)
	if err != nil {
		dropConsumer(s.env.Conn.JetStream(), stream, cons)
		return nil, 0, upstream(fmt.Errorf("read stream %s: %w", stream, err))
	}
	return cons, int(info.NumPending), nil
}

// read hands the pending events of cons to fn, recentMaxEvents at most, and
// drops the consumer.
func (s *Server) read(ctx context.Context, stream string, cons jetstream.Consumer, pending int, fn func(events.Received) bool) error {
	defer dropConsumer(s.env.Conn.JetStream(), stream, cons)
	left := min(pending, recentMaxEvents)
	for left > 0 {
		batch, err := cons.Fetch(min(left, 500), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return upstream(fmt.Errorf("read stream %s: %w", stream, err))
		}
		n, more := 0, true
		for m := range batch.Messages() {
			n++
			if r, err := s.env.Subjects.Decode(m.Subject(), m.Headers(), m.Data()); err == nil && more {
				more = fn(r)
			}
		}
		if !more {
			return nil
		}
		if err := batch.Error(); err != nil && n == 0 {
			return upstream(fmt.Errorf("read stream %s: %w", stream, err))
		}
		if n == 0 || ctx.Err() != nil { // what was pending aged out, or the request ended
			return ctx.Err()
		}
		left -= n
	}
	return nil
}

// dropConsumer deletes a scan's ordered consumer, which the server would
// otherwise keep (with a client of its own) for its 5-minute inactivity
// threshold after every page view.
func dropConsumer(js jetstream.JetStream, stream string, cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = js.DeleteConsumer(ctx, stream, info.Name) // best effort
}
