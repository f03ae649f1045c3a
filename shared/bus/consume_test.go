package bus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
)

// dlqMessage returns the last DLQ copy for function.
func (e *env) dlqMessage(t *testing.T, function string) *nats.Msg {
	t.Helper()
	s, err := e.conn.JetStream().Stream(context.Background(), events.DefaultDLQStream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.GetLastMsgForSubject(context.Background(), subjects.DLQ(function))
	if err != nil {
		t.Fatalf("no DLQ message for %s: %v", function, err)
	}
	return &nats.Msg{Subject: raw.Subject, Header: raw.Header, Data: raw.Data}
}

func TestMalformedEventIsTerminatedCopiedToDLQAndConsumerGoesOn(t *testing.T) {
	e := newEnv(t)
	var handled counter
	e.consume(t, exportConsumer("export"), bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		handled.add(ev)
		return nil, nil
	}))
	garbage := nats.NewMsg(subjects.For(events.TypeExportRequested, "nightly", testVM))
	garbage.Header.Set("ce-specversion", "1.0")
	garbage.Header.Set("ce-id", "bad-1")
	garbage.Header.Set("ce-source", "/test")
	garbage.Header.Set("ce-type", "xbr.export.requested")
	garbage.Header.Set("ce-time", "2026-11-29T01:00:00Z")
	garbage.Header.Set("Content-Type", "application/json")
	garbage.Data = []byte(`{"vm_uuid":"zz"}`)
	if _, err := e.conn.JetStream().PublishMsg(context.Background(), garbage); err != nil {
		t.Fatal(err)
	}
	e.publish(t, exportRequested(t, "good"))

	testsupport.Eventually(t, 10*time.Second, "the good event handled and everything settled", func() bool {
		return handled.n() == 1 && e.settled(t, "export")()
	})
	dlq := e.dlqMessage(t, "export")
	reason := dlq.Header.Get(bus.HeaderDLQReason)
	if !strings.Contains(reason, `vm_uuid: "zz" is not a UUID`) {
		t.Errorf("DLQ reason %q does not say what is wrong", reason)
	}
	if dlq.Header.Get(bus.HeaderDLQSubject) != garbage.Subject || dlq.Header.Get("ce-id") != "bad-1" ||
		string(dlq.Data) != string(garbage.Data) || dlq.Header.Get(bus.HeaderDLQFunction) != "export" {
		t.Errorf("DLQ copy does not keep the original: %v %s", dlq.Header, dlq.Data)
	}
	if !strings.Contains(e.logs.String(), "copied to the DLQ") || !strings.Contains(e.logs.String(), "event_id=bad-1") {
		t.Errorf("logs do not report the termination:\n%s", e.logs)
	}
	if n := e.subjectCount(t, events.DefaultDLQStream, subjects.DLQ("export")); n != 1 {
		t.Errorf("DLQ holds %d copies, want 1", n)
	}
}

// TestMalformedEventWithJetStreamPublishHeadersReachesDLQ: an event
// published with JetStream's publish expectations (here the standard
// "expect stream" option of the clients) keeps those headers in the stream;
// its DLQ copy must not carry them, or the DLQ stream refuses the copy and
// the poison event is retried until it silently stops, never dead-lettered.
func TestMalformedEventWithJetStreamPublishHeadersReachesDLQ(t *testing.T) {
	e := newEnv(t)
	e.consume(t, exportConsumer("export"), bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		return nil, nil
	}))
	poison := nats.NewMsg(subjects.For(events.TypeExportRequested, "nightly", testVM))
	poison.Header.Set("ce-specversion", "1.0")
	poison.Header.Set("ce-id", "bad-2")
	poison.Header.Set("ce-source", "/test")
	poison.Header.Set("ce-type", "xbr.export.requested")
	poison.Header.Set("ce-time", "2026-11-29T01:00:00Z")
	poison.Header.Set("Content-Type", "application/json")
	poison.Header.Set("Nats-Expected-Stream", events.DefaultEventsStream)
	poison.Data = []byte(`{"vm_uuid":"zz"}`)
	if _, err := e.conn.JetStream().PublishMsg(context.Background(), poison); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, 10*time.Second, "the poison event dead-lettered", func() bool {
		return e.subjectCount(t, events.DefaultDLQStream, subjects.DLQ("export")) == 1
	})
	testsupport.Eventually(t, 10*time.Second, "settled", e.settled(t, "export"))
	dlq := e.dlqMessage(t, "export")
	if dlq.Header.Get("ce-id") != "bad-2" || !strings.Contains(dlq.Header.Get(bus.HeaderDLQReason), "is not a UUID") {
		t.Errorf("DLQ copy %v does not keep the event and its reason", dlq.Header)
	}
	if got := dlq.Header.Get(bus.HeaderDLQDeliveries); got != "1" {
		t.Errorf("dead-lettered on delivery %s, want 1 (a malformed event is not retried)", got)
	}
}

func TestPermanentErrorGoesToDLQWithoutRetry(t *testing.T) {
	e := newEnv(t)
	var calls counter
	e.consume(t, exportConsumer("export"), bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		calls.add(ev)
		return nil, bus.Permanent(errors.New("pool lab is not configured"))
	}))
	e.publish(t, exportRequested(t, "nightly"))
	testsupport.Eventually(t, 10*time.Second, "settled", func() bool { return calls.n() == 1 && e.settled(t, "export")() })
	if got := e.dlqMessage(t, "export").Header.Get(bus.HeaderDLQReason); got != "permanent: pool lab is not configured" {
		t.Errorf("reason %q", got)
	}
	if calls.n() != 1 {
		t.Errorf("permanent error retried: %d calls", calls.n())
	}
}

func TestFailingHandlerIsRetriedWithBackoffThenSucceeds(t *testing.T) {
	e := newEnv(t)
	backoff := bus.ExponentialBackoff(100*time.Millisecond, time.Second)
	cfg := exportConsumer("export")
	cfg.Backoff = backoff
	var calls counter
	e.consume(t, cfg, bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		if calls.add(ev) < 3 {
			return nil, errors.New("xapi: connection reset")
		}
		return []bus.Out{followUp(t, ev)}, nil
	}))
	req := exportRequested(t, "nightly")
	e.publish(t, req)
	done := subjects.For(events.TypeExportCompleted, "nightly", testVM)
	testsupport.Eventually(t, 10*time.Second, "follow-up published", func() bool { return e.subjectCount(t, events.DefaultEventsStream, done) == 1 })
	testsupport.Eventually(t, 10*time.Second, "acked", e.settled(t, "export"))
	attempts, times := calls.snapshot()
	if len(attempts) != 3 || attempts[0] != 1 || attempts[1] != 2 || attempts[2] != 3 {
		t.Fatalf("deliveries %v, want [1 2 3]", attempts)
	}
	for i := 1; i < len(times); i++ {
		if gap, min := times[i].Sub(times[i-1]), backoff(uint64(i)); gap < min {
			t.Errorf("retry %d came after %s, before its back-off %s", i, gap, min)
		}
	}
	if !strings.Contains(e.logs.String(), "retrying") {
		t.Error("retries are not logged")
	}
}

func TestMaxDeliveriesGoesToDLQ(t *testing.T) {
	e := newEnv(t)
	cfg := exportConsumer("export")
	cfg.MaxDeliver = 3
	var calls counter
	e.consume(t, cfg, bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		calls.add(ev)
		return nil, errors.New("remote nfs: input/output error")
	}))
	e.publish(t, exportRequested(t, "nightly"))
	testsupport.Eventually(t, 10*time.Second, "dead-lettered", func() bool {
		return e.subjectCount(t, events.DefaultDLQStream, subjects.DLQ("export")) == 1
	})
	testsupport.Eventually(t, 10*time.Second, "settled", e.settled(t, "export"))
	dlq := e.dlqMessage(t, "export")
	if got := dlq.Header.Get(bus.HeaderDLQReason); got != "max deliveries (3) reached: remote nfs: input/output error" {
		t.Errorf("reason %q", got)
	}
	if dlq.Header.Get(bus.HeaderDLQDeliveries) != "3" || calls.n() != 3 {
		t.Errorf("deliveries header %q, %d calls; want 3", dlq.Header.Get(bus.HeaderDLQDeliveries), calls.n())
	}
}

func TestFollowUpsAreNotPublishedTwiceOnRedelivery(t *testing.T) {
	e := newEnv(t)
	var calls counter
	e.consume(t, exportConsumer("export"), bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		out := followUp(t, ev)
		if calls.add(ev) == 1 {
			// The second follow-up cannot be stored (no stream has its
			// subject): the first is published, then the event is redelivered.
			orphan := out
			orphan.Subject = "nowhere.at.all"
			return []bus.Out{out, orphan}, nil
		}
		return []bus.Out{out}, nil
	}))
	e.publish(t, exportRequested(t, "nightly"))
	testsupport.Eventually(t, 10*time.Second, "handled twice and settled", func() bool { return calls.n() == 2 && e.settled(t, "export")() })
	done := subjects.For(events.TypeExportCompleted, "nightly", testVM)
	if n := e.subjectCount(t, events.DefaultEventsStream, done); n != 1 {
		t.Errorf("stream holds %d copies of the follow-up, want exactly 1", n)
	}
}

func TestPublishIsIdempotent(t *testing.T) {
	e := newEnv(t)
	m := exportRequested(t, "nightly")
	first, err := e.conn.Publish(context.Background(), m.Subject, m.Event)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.conn.Publish(context.Background(), m.Subject, m.Event)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !second.Duplicate || e.subjectCount(t, events.DefaultEventsStream, m.Subject) != 1 {
		t.Errorf("duplicate flags %v/%v, stream count %d", first.Duplicate, second.Duplicate,
			e.subjectCount(t, events.DefaultEventsStream, m.Subject))
	}
}
