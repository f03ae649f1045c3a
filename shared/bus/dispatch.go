package bus

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
)

// Shared log attribute keys.
const (
	KeyFunction   = "function"
	KeyIdentity   = "identity" // the NATS identity a connection logs in as
	KeyEventID    = "event_id"
	KeyEventType  = "event_type"
	KeySubject    = "subject"
	KeyRun        = "run"
	KeyJob        = "job"
	KeyStreamSeq  = "stream_seq"
	KeyDeliveries = "deliveries"
)

// Headers added to a message copied to the DLQ (the original headers and
// body are kept).
const (
	HeaderDLQReason     = "Xbr-Dlq-Reason"
	HeaderDLQFunction   = "Xbr-Dlq-Function"
	HeaderDLQSubject    = "Xbr-Dlq-Subject"
	HeaderDLQStream     = "Xbr-Dlq-Stream"
	HeaderDLQStreamSeq  = "Xbr-Dlq-Stream-Seq"
	HeaderDLQDeliveries = "Xbr-Dlq-Deliveries"
)

const ackTimeout = 10 * time.Second

// dispatch handles one message and settles it: ack, nak or term.
func (l *loop) dispatch(ctx context.Context, msg jetstream.Msg) {
	d := delivery(msg, l.cfg.MaxDeliver)
	log := l.log.With(KeySubject, msg.Subject(), KeyStreamSeq, d.StreamSeq, KeyDeliveries, d.Attempt)
	rec, err := l.cfg.DLQ.Decode(msg.Subject(), msg.Headers(), msg.Data()) // the consumer's prefix
	if err != nil {
		log = log.With(KeyEventID, msg.Headers().Get("ce-id"))
		l.deadLetter(ctx, ctx, log, msg, d, err.Error())
		return
	}
	log = log.With(KeyEventID, rec.Event.ID(), KeyEventType, rec.Event.Type())
	if t := events.Type(rec.Event.Type()); l.conn.checkSources && !events.AllowedSource(t, rec.Event.Source()) {
		l.deadLetter(ctx, ctx, log, msg, d, fmt.Sprintf("source %q may not produce %s (producers: %s)",
			rec.Event.Source(), t, strings.Join(events.Producers(t), ", ")))
		return
	}
	for _, k := range []struct{ ext, key string }{{events.ExtensionRun, KeyRun}, {events.ExtensionJob, KeyJob}} {
		if v, ok := rec.Event.Extensions()[k.ext]; ok {
			log = log.With(k.key, v)
		}
	}
	stop := l.heartbeat(msg, log)
	outs, err := l.call(ctx, Event{Received: rec, Delivery: d})
	stop()
	l.settle(ctx, log, msg, d, outs, err)
}

func (l *loop) settle(ctx context.Context, log *slog.Logger, msg jetstream.Msg, d Delivery, outs []Out, err error) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	if (err == nil || IsPermanent(err)) && !l.publishFollowUps(ctx, actx, log, msg, d, outs) {
		return
	}
	switch {
	case err == nil:
		if aerr := msg.DoubleAck(actx); aerr != nil {
			log.Warn("ack failed; the event will be redelivered", "error", aerr)
			return
		}
		log.Info("event handled", "follow_ups", len(outs))
	case IsPermanent(err):
		l.deadLetter(ctx, actx, log, msg, d, err.Error())
	case ctx.Err() != nil && d.Last(): // a nak would never be delivered again: keep it in the DLQ
		l.deadLetter(ctx, actx, log, msg, d, fmt.Sprintf("cut off by a shutdown on its last delivery (%d): %v", d.Max, err))
	case ctx.Err() != nil:
		log.Warn("handler cancelled by shutdown; redelivering", "error", err)
		l.nak(log, msg, 0)
	case d.Last():
		l.deadLetter(ctx, actx, log, msg, d, fmt.Sprintf("max deliveries (%d) reached: %v", d.Max, err))
	default:
		delay := l.cfg.Backoff(d.Attempt)
		log.Warn("handler failed; retrying", "error", err, "retry_in", delay)
		l.nak(log, msg, delay)
	}
}

// publishFollowUps publishes outs; when that fails the event is redelivered,
// or, on its last delivery, dead-lettered. It reports whether they went out.
func (l *loop) publishFollowUps(stop, ctx context.Context, log *slog.Logger, msg jetstream.Msg, d Delivery, outs []Out) bool {
	err := l.publishAll(ctx, outs)
	switch {
	case err == nil:
		return true
	case d.Last():
		l.deadLetter(stop, ctx, log, msg, d, fmt.Sprintf("max deliveries (%d) reached: publishing follow-ups: %v", d.Max, err))
	default:
		log.Error("publishing follow-ups failed; will retry", "error", err)
		l.nak(log, msg, l.cfg.Backoff(d.Attempt))
	}
	return false
}

// call runs the handler, turning a panic into an error.
func (l *loop) call(ctx context.Context, ev Event) (outs []Out, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return l.h.Handle(ctx, ev)
}

func (l *loop) publishAll(ctx context.Context, outs []Out) error {
	for _, o := range outs {
		if _, err := l.conn.Publish(ctx, o.Subject, o.Event); err != nil {
			return err
		}
	}
	return nil
}

func (l *loop) nak(log *slog.Logger, msg jetstream.Msg, delay time.Duration) {
	var err error
	if delay > 0 {
		err = msg.NakWithDelay(delay)
	} else {
		err = msg.Nak()
	}
	if err != nil {
		log.Warn("nak failed; the event will be redelivered after AckWait", "error", err)
	}
}

// heartbeat sends InProgress every Heartbeat until stop is called.
func (l *loop) heartbeat(msg jetstream.Msg, log *slog.Logger) (stop func()) {
	if l.cfg.Heartbeat < 0 {
		return func() {}
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(l.cfg.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := msg.InProgress(); err != nil {
					log.Warn("in-progress heartbeat failed", "error", err)
				}
			}
		}
	}()
	return func() { close(done); <-exited }
}

// deadLetter copies msg to the function's DLQ subject with the reason, then
// terminates it. If the copy cannot be stored the message is nak'ed, so it
// is never dropped silently; on its last delivery, where a nak is never
// delivered again, the copy is tried until it is stored or the function
// stops (then the log names the event's stream sequence).
func (l *loop) deadLetter(stop, ctx context.Context, log *slog.Logger, msg jetstream.Msg, d Delivery, reason string) {
	reason = events.SanitizeReason(reason)
	subject := l.cfg.DLQ.DLQ(l.cfg.Function)
	cp := nats.NewMsg(subject)
	for k, v := range msg.Headers() {
		if jetStreamHeader(k) {
			continue
		}
		cp.Header[k] = append([]string(nil), v...)
	}
	cp.Header.Set(HeaderDLQReason, reason)
	cp.Header.Set(HeaderDLQFunction, l.cfg.Function)
	cp.Header.Set(HeaderDLQSubject, msg.Subject())
	cp.Header.Set(HeaderDLQStream, d.Stream)
	cp.Header.Set(HeaderDLQStreamSeq, strconv.FormatUint(d.StreamSeq, 10))
	cp.Header.Set(HeaderDLQDeliveries, strconv.FormatUint(d.Attempt, 10))
	cp.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("dlq-%s-%s-%d", l.cfg.Function, d.Stream, d.StreamSeq))
	cp.Data = msg.Data()
	_, err := l.conn.js.PublishMsg(ctx, cp)
	if err != nil && !d.Last() {
		log.Error("copy to DLQ failed; will retry", "dlq", subject, "reason", reason, "error", err)
		l.nak(log, msg, l.cfg.Backoff(d.Attempt))
		return
	}
	// On the last delivery a nak is never delivered again: the copy is tried until it is
	// stored (the message held in progress meanwhile) or the function stops.
	for wait := time.Second; err != nil; wait = min(2*wait, 30*time.Second) {
		log.Error("copy to DLQ failed on the event's last delivery; trying again", "dlq", subject, "reason", reason,
			"error", err, "retry_in", wait)
		_ = msg.InProgress()
		select {
		case <-stop.Done():
			log.Error("stopping: the event was neither handled nor copied to the DLQ; it stays in its stream",
				"stream", d.Stream, KeyStreamSeq, d.StreamSeq, "reason", reason)
			return
		case <-time.After(wait):
		}
		pctx, cancel := context.WithTimeout(context.WithoutCancel(stop), ackTimeout)
		_, err = l.conn.js.PublishMsg(pctx, cp)
		cancel()
	}
	if err := msg.TermWithReason(reason); err != nil {
		log.Warn("term failed", "error", err)
	}
	log.Error("event terminated and copied to the DLQ", "dlq", subject, "reason", reason)
}

// jetStreamHeader reports whether k is one of JetStream's publish headers
// (Nats-Expected-Stream, Nats-Expected-Last-Sequence, Nats-Rollup,
// Nats-TTL, Nats-Msg-Id, ...). The stored event keeps those its publisher
// set; on the DLQ copy they would be checked against the DLQ stream, which
// refuses it, and the event could never be dead-lettered.
func jetStreamHeader(k string) bool {
	return len(k) >= 5 && strings.EqualFold(k[:5], "Nats-")
}

func delivery(msg jetstream.Msg, maxDeliver int) Delivery {
	d := Delivery{Attempt: 1, Max: uint64(max(maxDeliver, 0))}
	if meta, err := msg.Metadata(); err == nil {
		d.Stream, d.StreamSeq, d.Attempt, d.Stored = meta.Stream, meta.Sequence.Stream, meta.NumDelivered, meta.Timestamp
	}
	return d
}
