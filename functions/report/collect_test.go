package report_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/report"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/testsupport"
)

// TestRunReportWaitIsBounded: a report waits for the run's health checks,
// but not forever: a check that stops moving is reported unfinished after
// its timeout plus the grace, and a backed-up VM that got no check (its tags
// do not qualify) holds the report only for the settle time.
func TestRunReportWaitIsBounded(t *testing.T) {
	sl := &slack{}
	hook := httptest.NewServer(sl)
	defer hook.Close()
	hc := &config.HealthCheck{SR: "Local storage", Timeout: time.Second}
	job := config.Job{Name: "nightly", ReportWhen: config.ReportAlways, HealthCheck: hc,
		ReportWebhook: config.NewSecret(hook.URL + "/services/T/B/X")}
	conn := testsupport.StartNATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	rp := &report.Reporter{Job: func(string) (config.Job, bool) { return job, true }, Conn: conn,
		HealthGrace: time.Second, HealthSettle: 500 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		done <- conn.Consume(ctx, bus.ConsumerConfig{Function: report.Name, Concurrency: 2,
			Subjects: []string{events.Subjects{}.Filter(events.TypeRunCompleted)}}, rp)
	}()
	defer func() { cancel(); <-done }()
	const stuck, unchecked = "4e1d3c2b5a69788796a5b4c3d2e1f001", "4e1d3c2b5a69788796a5b4c3d2e1f002"
	ok := []events.VMResult{{VMUUID: vmA, VMName: "web-1", Status: "success"}}
	start := time.Now()
	publish(t, conn, events.HealthCheckRequested{RequestID: "hc-" + stuck, BackupID: "nfs:" + vmA + "/20261129T010000Z",
		RunID: stuck, Job: "nightly", Schedule: "daily", VMUUID: vmA, VMName: "web-1", Pool: "lab", SR: "Local storage",
		Method: events.HealthMethodGuestMetrics, TimeoutMS: 1000})
	publish(t, conn, events.RunCompleted{RunID: stuck, Job: "nightly", Schedule: "daily", Status: "success", Results: ok})
	publish(t, conn, events.RunCompleted{RunID: unchecked, Job: "nightly", Schedule: "daily", Status: "success", Results: ok})
	testsupport.Eventually(t, 20*time.Second, "both reports", func() bool { return len(sl.got()) == 2 })
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("the stuck check's report came after %s, before its timeout plus the grace", waited)
	}
	var titles []string
	for _, r := range sl.got() {
		title, _, _ := strings.Cut(r, "\n")
		titles = append(titles, title)
	}
	if !strings.HasSuffix(titles[0], "SUCCESS (1 success of 1 VMs)") || !strings.Contains(titles[1], "SUCCESS (1 success of 1 VMs)") ||
		!strings.HasSuffix(titles[1], "; health checks: 1 unfinished") {
		t.Errorf("titles %q, want the unchecked run's first (settled), then the stuck one's, unfinished", titles)
	}
}

// TestRunReportSurvivesShutdownDuringHealthWait: with report_when: failure,
// a successful run is reported only if a health check fails, so its report
// waits for the checks. A report function stopped during that wait (a
// restart, a rolling update) must leave the run.completed to be redelivered,
// not acknowledge it: the check that fails afterwards is then reported.
func TestRunReportSurvivesShutdownDuringHealthWait(t *testing.T) {
	sl := &slack{}
	hook := httptest.NewServer(sl)
	defer hook.Close()
	hc := &config.HealthCheck{SR: "Local storage", Timeout: time.Minute}
	job := config.Job{Name: "nightly", ReportWhen: config.ReportFailure, HealthCheck: hc,
		ReportWebhook: config.NewSecret(hook.URL + "/services/T/B/X")}
	conn := testsupport.StartNATS(t)
	consume := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		rp := &report.Reporter{Job: func(string) (config.Job, bool) { return job, true }, Conn: conn}
		done := make(chan error, 1)
		go func() {
			done <- conn.Consume(ctx, bus.ConsumerConfig{Function: report.Name, DrainTimeout: 200 * time.Millisecond,
				Subjects: []string{events.Subjects{}.Filter(events.TypeRunCompleted)}}, rp)
		}()
		return func() { cancel(); <-done }
	}
	const run = "4e1d3c2b5a69788796a5b4c3d2e1f003"
	request, backup := "hc-"+run, "nfs:"+vmA+"/20261129T010000Z"
	stop := consume()
	publish(t, conn, events.HealthCheckRequested{RequestID: request, BackupID: backup, RunID: run, Job: "nightly",
		Schedule: "daily", VMUUID: vmA, VMName: "web-1", Pool: "lab", SR: "Local storage",
		Method: events.HealthMethodGuestMetrics, TimeoutMS: 60000})
	publish(t, conn, events.RunCompleted{RunID: run, Job: "nightly", Schedule: "daily", Status: "success",
		Results: []events.VMResult{{VMUUID: vmA, VMName: "web-1", Status: "success"}}})
	testsupport.Eventually(t, 10*time.Second, "the reporter waiting for the check", func() bool {
		cons, err := conn.JetStream().Consumer(context.Background(), events.DefaultEventsStream, report.Name)
		if err != nil {
			return false
		}
		info, err := cons.Info(context.Background())
		return err == nil && info.NumAckPending == 1
	})
	stop() // shut down while the report waits for the check
	publish(t, conn, events.HealthCheckFailed{RequestID: request, BackupID: backup, Job: "nightly", VMUUID: vmA,
		Pool: "lab", SR: "Local storage", Reason: events.HealthReasonBootFailed, Error: "the VM did not start"})
	stop = consume()
	defer stop()
	testsupport.Eventually(t, 15*time.Second, "the failed check's report after the restart", func() bool {
		return len(sl.got()) == 1
	})
	if title, _, _ := strings.Cut(sl.got()[0], "\n"); !strings.HasSuffix(title, "; health checks: 1 failed") {
		t.Errorf("report title %q, want the failed check", title)
	}
}

var published int

func publish(t *testing.T, conn *bus.Conn, p events.Payload) {
	t.Helper()
	published++
	m, err := events.Subjects{}.Message(events.Meta{ID: events.DeriveID("collect-test", fmt.Sprint(published)), Source: "/test",
		Time: time.Now()}, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Publish(context.Background(), m.Subject, m.Event); err != nil {
		t.Fatal(err)
	}
}

// TestRunReportRetriedWhenTheChecksCannotBeRead: with report_when: failure a
// successful run is reported only if one of its health checks failed. When
// the run's events cannot be read back (here: the connection is gone), that
// is not known, so the run.completed is retried rather than acknowledged
// with no report.
func TestRunReportRetriedWhenTheChecksCannotBeRead(t *testing.T) {
	hc := &config.HealthCheck{SR: "Local storage", Timeout: time.Minute}
	job := config.Job{Name: "nightly", ReportWhen: config.ReportFailure, HealthCheck: hc,
		ReportWebhook: config.NewSecret("http://127.0.0.1:1/services/T/B/X")}
	conn := testsupport.StartNATS(t)
	rp := &report.Reporter{Job: func(string) (config.Job, bool) { return job, true }, Conn: conn}
	m, err := events.Subjects{}.Message(events.Meta{ID: "run-done", Source: events.Source("export"), Time: time.Now()},
		events.RunCompleted{RunID: "4e1d3c2b5a69788796a5b4c3d2e1f004", Job: "nightly", Schedule: "daily", Status: "success",
			Results: []events.VMResult{{VMUUID: vmA, VMName: "web-1", Status: "success"}}})
	if err != nil {
		t.Fatal(err)
	}
	ev := testsupport.Deliver(t, m, 1, 5)
	ev.Delivery.Stream = events.DefaultEventsStream
	_ = conn.Close()
	if _, err := rp.Handle(context.Background(), ev); err == nil {
		t.Fatal("Handle acknowledged the run though its health checks could not be read; want an error to retry")
	}
}
