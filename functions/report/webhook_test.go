package report_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/report"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/testsupport"
)

// tcpReceiver is a webhook receiver on 127.0.0.1 that accepts connections
// and hands each to serve; every connection is closed when t ends. It
// returns the receiver's address.
func tcpReceiver(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); serve(c) }()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// silent reads the request and never answers.
func silent(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

// trickling starts an answer and sends one more byte of a header every
// 20 ms, never ending it.
func trickling(c net.Conn) {
	go func() { _, _ = io.Copy(io.Discard, c) }()
	if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Slow: "); err != nil {
		return
	}
	for {
		time.Sleep(20 * time.Millisecond)
		if _, err := io.WriteString(c, "a"); err != nil {
			return
		}
	}
}

// TestWebhookGivesUpOnAReceiverThatNeverAnswers: a receiver that accepts
// the connection and never answers, or answers a byte at a time, fails the
// POST once its Timeout has passed, with an error that says so and does not
// carry the URL. Without a bound the reporter would wait for it forever.
func TestWebhookGivesUpOnAReceiverThatNeverAnswers(t *testing.T) {
	const bound = 200 * time.Millisecond
	for name, serve := range map[string]func(net.Conn){"silent": silent, "trickling": trickling} {
		t.Run(name, func(t *testing.T) {
			url := "http://" + tcpReceiver(t, serve) + "/services/T000/B000/SECRETTOKEN"
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel() // frees the POST when the test fails
			done := make(chan error, 1)
			go func() {
				done <- report.Webhook{URL: url, Timeout: bound}.Post(ctx, report.Message{Title: "title", Body: "body"})
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("Post has not returned 5s after its %s timeout: the receiver holds the report", bound)
			}
			if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") {
				t.Errorf("err = %v, want the POST given up with no answer within %s", err, bound)
			}
			if err != nil && (strings.Contains(err.Error(), "SECRETTOKEN") || strings.Contains(err.Error(), "127.0.0.1")) {
				t.Errorf("the error carries the URL: %v", err)
			}
		})
	}
}

// TestRunReportRetriedAfterAWebhookThatNeverAnswers: the report function's
// POST to a webhook that holds the request without answering fails after
// the bound, and the bus delivers the run.completed again: the next POST,
// answered, carries the report.
func TestRunReportRetriedAfterAWebhookThatNeverAnswers(t *testing.T) {
	var posts atomic.Int32
	release := make(chan struct{})
	sl := &slack{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if posts.Add(1) == 1 { // the first POST is held, never answered
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		sl.ServeHTTP(w, r)
	}))
	defer hook.Close()
	defer close(release)

	cfg := &config.Config{Jobs: []config.Job{{Name: "nightly", ReportWhen: config.ReportFailure,
		ReportWebhook: config.NewSecret(hook.URL + "/services/T/B/X")}}}
	conn := testsupport.StartNATS(t)
	rp := &report.Reporter{Job: cfg.Job, PostTimeout: 300 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- conn.Consume(ctx, bus.ConsumerConfig{Function: report.Name,
			Subjects: []string{events.Subjects{}.Filter(events.TypeRunCompleted)}, DrainTimeout: time.Second,
			Backoff: func(uint64) time.Duration { return 50 * time.Millisecond }}, rp)
	}()
	defer func() { cancel(); <-done }()

	m, err := events.Subjects{}.Message(events.Meta{ID: events.DeriveID("hold-test", "r1"), Source: "/test", Time: time.Now().UTC()},
		events.RunCompleted{RunID: "r1", Job: "nightly", Schedule: "daily", Status: "failure", DurationMS: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Publish(ctx, m.Subject, m.Event); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, 10*time.Second, "the report, posted again after the held POST", func() bool { return len(sl.got()) > 0 })
	if got := sl.got()[0]; !strings.HasPrefix(got, "xbr backup run nightly/daily: FAILURE") {
		t.Errorf("report %q", got)
	}
	if n := posts.Load(); n < 2 {
		t.Errorf("%d POSTs, want the held one and its retry", n)
	}
}
