package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
)

// WatchOptions select what a Watch reads. By default every stored event of
// the stream, then new ones as they arrive.
type WatchOptions struct {
	Stream     string   // [events.DefaultEventsStream]
	Subjects   []string // filter subjects; empty = all of the stream
	DeliverNew bool     // only events published after the Watch starts
	StartSeq   uint64   // from this stream sequence
	StartTime  time.Time
}

// Record is one stored message read by a Watch. Err is set (and Event is
// empty) when the message is not a valid event; the Watch goes on.
type Record struct {
	Stream  string
	Seq     uint64
	Stored  time.Time
	Pending uint64 // messages after this one at the time it was delivered
	Event   events.Received
	Err     error
}

// Watch reads a stream in order with an ephemeral ordered consumer: for
// `xbr history`, `xbr run --wait`, progress bars and audit tools.
type Watch struct {
	js       jetstream.JetStream
	stream   string
	cons     jetstream.Consumer
	msgs     jetstream.MessagesContext
	subjects *events.Subjects // the connection's: see ConnectOptions.Subjects
}

// Watch starts reading o.Stream.
func (c *Conn) Watch(ctx context.Context, o WatchOptions) (*Watch, error) {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: o.Subjects, DeliverPolicy: jetstream.DeliverAllPolicy}
	switch {
	case o.DeliverNew:
		cfg.DeliverPolicy = jetstream.DeliverNewPolicy
	case o.StartSeq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, o.StartSeq
	case !o.StartTime.IsZero():
		t := o.StartTime
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	stream := orDefault(o.Stream, events.DefaultEventsStream)
	cons, err := c.js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("watch stream %s: %w", stream, err)
	}
	msgs, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("watch stream %s: %w", stream, err)
	}
	return &Watch{js: c.js, stream: stream, cons: cons, msgs: msgs, subjects: c.subjects}, nil
}

// Pump sends w's records to out until ctx ends or w fails, then sends that
// error to errs: a follower's loop selects on both. Run it in a goroutine.
func (w *Watch) Pump(ctx context.Context, out chan<- Record, errs chan<- error) {
	for {
		r, err := w.Next(ctx)
		if err != nil {
			errs <- err
			return
		}
		select {
		case out <- r:
		case <-ctx.Done():
			errs <- ctx.Err()
			return
		}
	}
}

// Next blocks for the next record, or returns ctx's error.
func (w *Watch) Next(ctx context.Context) (Record, error) {
	msg, err := w.msgs.Next(jetstream.NextContext(ctx))
	if err != nil {
		return Record{}, err
	}
	var r Record
	if meta, merr := msg.Metadata(); merr == nil {
		r.Stream, r.Seq, r.Stored, r.Pending = meta.Stream, meta.Sequence.Stream, meta.Timestamp, meta.NumPending
	}
	if w.subjects != nil {
		r.Event, r.Err = w.subjects.Decode(msg.Subject(), msg.Headers(), msg.Data())
	} else {
		r.Event, r.Err = events.Decode(msg.Subject(), msg.Headers(), msg.Data())
	}
	return r, nil
}

// deleteTimeout bounds the deletion of a Watch's consumer on Close.
const deleteTimeout = 5 * time.Second

// Close stops the Watch and deletes its consumer on the server. An ordered
// consumer is otherwise left there (with a server-side client) until its
// inactivity threshold, 5 minutes, passes: every `xbr run --wait`, history
// replay or page view would leave one behind.
func (w *Watch) Close() {
	w.msgs.Stop()
	info := w.cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), deleteTimeout)
	defer cancel()
	_ = w.js.DeleteConsumer(ctx, w.stream, info.Name) // best effort: the threshold removes it anyway
}
