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
