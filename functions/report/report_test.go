package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/report"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/testsupport"
)

func TestShouldSend(t *testing.T) {
	tests := []struct {
		when, status string
		want         bool
	}{
		{"always", "success", true}, {"always", "failure", true},
		{"failure", "success", false}, {"failure", "failure", true}, {"failure", "partial", true},
		{"failure", "interrupted", true}, {"failure", "skipped", true}, {"", "success", false},
		{"never", "failure", false},
	}
	for _, tt := range tests {
		if got := report.ShouldSend(tt.when, tt.status); got != tt.want {
			t.Errorf("ShouldSend(%q, %q) = %v", tt.when, tt.status, got)
		}
	}
}

// slack stands in for an incoming webhook: it records the texts it got and
// fails the first `fail` posts with HTTP 500.
type slack struct {
	mu    sync.Mutex
	texts []string
	fail  int
}

func (s *slack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Text string `json:"text"`
	}
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &m) != nil || m.Text == "" {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		http.Error(w, "rollup_error", http.StatusInternalServerError)
		return
	}
	s.texts = append(s.texts, m.Text)
	_, _ = io.WriteString(w, "ok")
}

func (s *slack) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.texts...)
}

func TestWebhookErrorHidesURL(t *testing.T) {
	sl := &slack{fail: 1}
	srv := httptest.NewServer(sl)
	defer srv.Close()
	url := srv.URL + "/services/T000/B000/SECRETTOKEN"
	err := report.Webhook{URL: url}.Post(context.Background(), report.Message{Title: "title", Body: "body"})
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Fatalf("err = %v", err)
	}
	srv.Close()
	err = report.Webhook{URL: url}.Post(context.Background(), report.Message{Title: "title", Body: "body"})
	if err == nil || strings.Contains(err.Error(), "SECRETTOKEN") || strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("connection error = %v", err)
	}
}

const vmA = "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"

func TestReportFunctionPostsPerReportWhen(t *testing.T) {
	sl := &slack{fail: 1} // the first post fails: the bus retries it
	hook := httptest.NewServer(sl)
	defer hook.Close()
	secret := config.NewSecret(hook.URL + "/services/T/B/X")
	cfg := &config.Config{Jobs: []config.Job{
		{Name: "nightly", ReportWhen: config.ReportFailure, ReportWebhook: secret},
		{Name: "loud", ReportWhen: config.ReportAlways, ReportWebhook: secret},
		{Name: "quiet", ReportWhen: config.ReportNever, ReportWebhook: secret},
		{Name: "nohook", ReportWhen: config.ReportAlways},
	}}
	conn := testsupport.StartNATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	env := &fn.Env{Config: cfg, Conn: conn, Log: slog.New(slog.DiscardHandler), Now: time.Now}
	done := make(chan error, 1)
	go func() { done <- report.Run(ctx, env) }()
	defer func() { cancel(); <-done }()

	now := time.Now().UTC()
	runs := []events.RunCompleted{
		{RunID: "r1", Job: "nightly", Schedule: "daily", Status: "success", DurationMS: 1000},
		{RunID: "r2", Job: "nightly", Schedule: "daily", Status: "partial", DurationMS: 61000, Results: []events.VMResult{
			{VMUUID: vmA, VMName: "web-1", Status: "failure", Error: "export vm web-1: remote nfs: no space left on device"}}},
		{RunID: "r3", Job: "quiet", Schedule: "daily", Status: "failure"},
		{RunID: "r4", Job: "nohook", Schedule: "daily", Status: "failure"},
		{RunID: "r5", Job: "nightly", Schedule: "daily", Status: "skipped", Reason: "already running (run r2)"},
		{RunID: "r6", Job: "loud", Schedule: "hourly", Status: "success", DurationMS: 3000},
	}
	for i, p := range runs {
		m, err := events.Subjects{}.Message(events.Meta{ID: events.DeriveID("report-test", p.RunID), Source: "/test", Time: now.Add(time.Duration(i) * time.Second)}, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Publish(ctx, m.Subject, m.Event); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(sl.got()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("reports received: %q", sl.got())
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := sl.got()
	slices.SortFunc(got, func(a, b string) int { return strings.Compare(order(a), order(b)) })
	want := []string{"xbr backup run nightly/daily: PARTIAL (1 failure of 1 VMs) in 1m1s", "xbr backup run nightly/daily: SKIPPED", "xbr backup run loud/hourly: SUCCESS in 3s"}
	if len(got) != len(want) {
		t.Fatalf("got %d reports, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if first, _, _ := strings.Cut(got[i], "\n"); first != want[i] {
			t.Errorf("report %d title %q, want %q", i, first, want[i])
		}
	}
	if strings.Count(got[0], "PARTIAL") != 2 { // the title, and the run's line in the tree
		t.Errorf("report body:\n%s", got[0])
	}
	if !strings.Contains(got[0], "no space left on device") || !strings.Contains(got[1], "already running (run r2)") {
		t.Errorf("report bodies lack the error or the reason:\n%s\n%s", got[0], got[1])
	}
}

// order sorts reports by the order the runs were published (r2, r5, r6):
// the first post failed and was retried after the others.
func order(text string) string {
	for _, k := range []string{"PARTIAL", "SKIPPED", "SUCCESS"} {
		if strings.Contains(text, k) {
			return k[:1] + map[string]string{"PARTIAL": "1", "SKIPPED": "2", "SUCCESS": "3"}[k]
		}
	}
	return text
}

// TestIncrementalRunReportCarriesPathAndBytes: the report is made from the
// run's events read back from the stream, so an incremental VM's line says
// how it was read (cbt or full scan) and what it read and stored.
func TestIncrementalRunReportCarriesPathAndBytes(t *testing.T) {
	sl := &slack{}
	hook := httptest.NewServer(sl)
	defer hook.Close()
	cfg := &config.Config{Jobs: []config.Job{{Name: "incr", Mode: config.ModeIncremental, ReportWhen: config.ReportAlways,
		ReportWebhook: config.NewSecret(hook.URL + "/services/T/B/X")}}}
	conn := testsupport.StartNATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	env := &fn.Env{Config: cfg, Conn: conn, Log: slog.New(slog.DiscardHandler), Now: time.Now}
	done := make(chan error, 1)
	go func() { done <- report.Run(ctx, env) }()
	defer func() { cancel(); <-done }()
	const run, stamp = "4e1d3c2b5a69788796a5b4c3d2e1f001", "20261129T010000Z"
	now := time.Now().UTC()
	payloads := []events.Payload{
		events.RunStarted{RunID: run, Job: "incr", Schedule: "nightly", Mode: events.ModeIncremental, FireTime: now,
			VMs: []events.RunVM{{VMUUID: vmA, VMName: "web-1", Pool: "lab"}}},
		events.IncrementalCompleted{RunID: run, Job: "incr", Schedule: "nightly", VMUUID: vmA, VMName: "web-1",
			Pool: "lab", Timestamp: stamp, Path: events.PathFullScan, PathReason: "first-run", BytesRead: 160 << 20,
			BytesStored: 61 << 20, ChunksNew: 150, ChunksReused: 10, DedupRatio: 1.07, DurationMS: 900,
			BytesPerSecond: 177 << 20, Backups: []events.RemoteBackup{{Remote: "nfs", BackupID: "nfs:xbr-repo/" + vmA + "/" + stamp}}},
		events.RunCompleted{RunID: run, Job: "incr", Schedule: "nightly", Status: "success", DurationMS: 1000,
			Results: []events.VMResult{{VMUUID: vmA, VMName: "web-1", Status: "success"}}},
	}
	for i, p := range payloads {
		m, err := events.Subjects{}.Message(events.Meta{ID: events.DeriveID("incr-report-test", fmt.Sprint(i)), Source: "/test",
			Time: now.Add(time.Duration(i) * time.Millisecond)}, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Publish(ctx, m.Subject, m.Event); err != nil {
			t.Fatal(err)
		}
	}
	testsupport.Eventually(t, 20*time.Second, "the report", func() bool { return len(sl.got()) > 0 })
	want := "full scan (first-run): read 160.0 MiB from the host, stored 61.0 MiB new in 150 new chunks, reused 10, dedup ratio 1.07"
	if got := sl.got()[0]; !strings.Contains(got, want) {
		t.Errorf("the report lacks %q:\n%s", want, got)
	}
}

// TestWebhookEscapesSlackControlCharacters: Slack reads "<...>" as a link or
// a mention even inside a code block, so a VM named "<!channel>" or an error
// text quoting "<https://...|...>" must reach the webhook escaped (&, <, >
// as HTML entities, as Slack's formatting reference asks), never as markup.
func TestWebhookEscapesSlackControlCharacters(t *testing.T) {
	sl := &slack{}
	srv := httptest.NewServer(sl)
	defer srv.Close()
	title := "xbr backup run nightly/daily: FAILURE"
	body := "vm web <!channel> FAILURE\n  error: HTTP 502 <https://evil.example/x|restore here> & retry\n"
	if err := (report.Webhook{URL: srv.URL + "/services/T/B/X"}).Post(context.Background(), report.Message{Title: title, Body: body}); err != nil {
		t.Fatal(err)
	}
	got := sl.got()
	if len(got) != 1 {
		t.Fatalf("posts: %q", got)
	}
	for _, bad := range []string{"<!channel>", "<https://", " & "} {
		if strings.Contains(got[0], bad) {
			t.Errorf("the posted text carries %q unescaped:\n%s", bad, got[0])
		}
	}
	for _, want := range []string{"&lt;!channel&gt;", "&lt;https://evil.example/x|restore here&gt; &amp; retry"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("the posted text lacks %q:\n%s", want, got[0])
		}
	}
}
