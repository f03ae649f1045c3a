package bus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/testsupport"
)

// TestEventFromAForbiddenSourceGoesToDLQ is issue 12's defence in depth: a
// consumer on a connection that checks sources dead-letters, with the
// reason, an event whose source may not produce its type, and handles the
// same event from an allowed producer.
func TestEventFromAForbiddenSourceGoesToDLQ(t *testing.T) {
	e := newEnv(t)
	checking, err := bus.Connect(e.srv.ClientURL(), bus.ConnectOptions{Name: t.Name(), CheckSources: true}, e.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = checking.Close() })
	var handled counter
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- checking.Consume(ctx, exportConsumer("export"), bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
			handled.add(ev)
			return nil, nil
		}))
	}()
	t.Cleanup(func() { cancel(); <-done })

	forged := exportRequested(t, "forged") // source /xbr/test
	good := exportRequested(t, "nightly")
	good.Event.SetSource(events.Source("export"))
	e.publish(t, forged)
	e.publish(t, good)
	testsupport.Eventually(t, 10*time.Second, "the allowed event handled, the forged one settled", func() bool {
		return handled.n() == 1 && e.settled(t, "export")()
	})
	reason := e.dlqMessage(t, "export").Header.Get(bus.HeaderDLQReason)
	if !strings.Contains(reason, `source "/xbr/test" may not produce xbr.export.requested`) {
		t.Errorf("DLQ reason %q does not name the source", reason)
	}
}

// TestEventOnAnotherTypesSubjectGoesToDLQ: NATS permissions are by subject,
// so an identity that may publish one type's subjects could otherwise put an
// event of another type (one it may not publish) before that subject's
// consumers. The type an event says it is must be the type its subject
// carries; one that is not is dead-lettered with the reason, never handled.
func TestEventOnAnotherTypesSubjectGoesToDLQ(t *testing.T) {
	e := newEnv(t)
	var handled counter
	e.consume(t, exportConsumer("export"), bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		handled.add(ev)
		return nil, nil
	}))
	good := exportRequested(t, "nightly")
	p := events.ExportCompleted{RunID: "run-1", Job: "other", Schedule: "daily", VMUUID: testVM, Pool: "lab",
		Timestamp: "20261129T010000Z", Codec: events.CodecGzip, Size: 10, BytesRead: 20,
		SHA256:  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Backups: []events.RemoteBackup{{Remote: "nfs", BackupID: "nfs/" + testVM + "/20261129T010000Z"}}}
	other, err := subjects.Message(events.Meta{ID: events.DeriveID("smuggled"), Source: events.Source("export"), Time: time.Now()}, p)
	if err != nil {
		t.Fatal(err)
	}
	other.Subject = exportRequested(t, "other").Subject // an export.completed on an export.requested subject
	e.publish(t, other)
	e.publish(t, good)
	testsupport.Eventually(t, 10*time.Second, "the matching event handled, the other settled", func() bool {
		return handled.n() == 1 && e.settled(t, "export")()
	})
	reason := e.dlqMessage(t, "export").Header.Get(bus.HeaderDLQReason)
	if !strings.Contains(reason, "xbr.export.completed") || !strings.Contains(reason, other.Subject) {
		t.Errorf("DLQ reason %q does not name the type and the subject", reason)
	}
}

// TestConsumerUnderAnotherPrefixIsRefused: the loop binds types to subjects
// under the DLQ's prefix, so a consumer whose filters lie under another
// prefix would dead-letter every event; it is refused at start instead.
func TestConsumerUnderAnotherPrefixIsRefused(t *testing.T) {
	e := newEnv(t)
	cfg := exportConsumer("acme")
	acme, err := events.NewSubjects("acme.backup")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DLQ = acme
	_, err = e.conn.EnsureConsumer(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), `not under the prefix "acme.backup"`) {
		t.Fatalf("EnsureConsumer with xbr filters and an acme.backup DLQ: %v, want a refusal naming the prefix", err)
	}
	cfg.Subjects = []string{acme.Filter(events.TypeExportRequested)}
	if _, err := e.conn.EnsureConsumer(context.Background(), cfg); err != nil {
		t.Fatalf("EnsureConsumer under its own prefix: %v", err)
	}
}

// TestWatchRefusesAnEventOnAnotherTypesSubject: readers of the streams (the
// history and protection views, `run --wait`, auditors' tools) must not take
// a smuggled event for what it claims to be. A connection that knows its
// prefix gives such a record an Err and no event, as a malformed one.
func TestWatchRefusesAnEventOnAnotherTypesSubject(t *testing.T) {
	e := newEnv(t)
	good := exportRequested(t, "nightly")
	p := events.ExportCompleted{RunID: "run-1", Job: "other", Schedule: "daily", VMUUID: testVM, Pool: "lab",
		Timestamp: "20261129T010000Z", Codec: events.CodecGzip, Size: 10, BytesRead: 20,
		SHA256:  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Backups: []events.RemoteBackup{{Remote: "nfs", BackupID: "nfs/" + testVM + "/20261129T010000Z"}}}
	other, err := subjects.Message(events.Meta{ID: events.DeriveID("smuggled-watch"), Source: events.Source("export"), Time: time.Now()}, p)
	if err != nil {
		t.Fatal(err)
	}
	other.Subject = exportRequested(t, "other").Subject
	e.publish(t, other)
	e.publish(t, good)

	s := events.Subjects{}
	checking, err := bus.Connect(e.srv.ClientURL(), bus.ConnectOptions{Name: t.Name(), Subjects: &s}, e.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = checking.Close() })
	for _, c := range []struct {
		conn   *bus.Conn
		refuse bool
	}{{checking, true}, {e.conn, false}} {
		w, err := c.conn.Watch(context.Background(), bus.WatchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		first, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		second, err := w.Next(ctx)
		cancel()
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		if second.Err != nil || second.Event.Event.Type() != string(events.TypeExportRequested) {
			t.Errorf("the matching event: %v, %q", second.Err, second.Event.Event.Type())
		}
		if c.refuse && (first.Err == nil || !strings.Contains(first.Err.Error(), "carries other events")) {
			t.Errorf("the smuggled export.completed read by a connection that knows its prefix: err %v, want refused", first.Err)
		}
		if !c.refuse && first.Err != nil {
			t.Errorf("a connection without a prefix refused %v", first.Err)
		}
	}
}
