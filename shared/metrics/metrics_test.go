package metrics_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/metrics"
	"xbr/shared/testsupport"
)

const (
	runID = "4e1d3c2b5a69788796a5b4c3d2e1f001"
	vmA   = "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"
	vmB   = "7c3d2f9e-4e5b-4a6c-8d8e-3f2b1c0d9e8a"
	sha   = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

var t0 = time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC)

func serve(t *testing.T, conn *bus.Conn) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	mux := http.NewServeMux()
	metrics.Mount(ctx, conn, events.StreamNames{}, slog.New(slog.DiscardHandler), mux)
	mux.HandleFunc("GET /healthz", metrics.Healthz)
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// sample returns the value of the series (name and labels exactly as
// exposed, e.g. `xbr_runs_total{job="a",status="success"}`), or -1.
func sample(body, series string) float64 {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

func publish(t *testing.T, conn *bus.Conn, at time.Duration, p events.Payload) {
	t.Helper()
	when := t0.Add(at)
	m, err := events.Subjects{}.Message(events.Meta{ID: events.DeriveID("metrics-test", string(p.EventType()), when.String()),
		Source: events.Source("test"), Time: when}, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Publish(context.Background(), m.Subject, m.Event); err != nil {
		t.Fatal(err)
	}
}

func scrapeUntil(t *testing.T, url, series string, want float64) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get(t, url+"/metrics")
		if got := sample(body, series); got == want {
			return body
		} else if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v\n%s", series, got, want, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCountersMoveAfterARun(t *testing.T) {
	conn := testsupport.StartNATS(t)
	// An audit consumer that never acks: its lag must show.
	if _, err := conn.JetStream().CreateOrUpdateConsumer(context.Background(), events.DefaultEventsStream,
		jetstream.ConsumerConfig{Durable: "audit", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, conn)
	_, before := get(t, srv.URL+"/metrics")
	if v := sample(before, `xbr_runs_total{job="nightly",status="partial"}`); v != -1 {
		t.Fatalf("runs counted before any run: %v", v)
	}
	if v := sample(before, `xbr_consumer_pending_messages{consumer="audit",stream="XBR_EVENTS"}`); v != 0 {
		t.Fatalf("audit lag before any event = %v, want 0", v)
	}
	publish(t, conn, 0, events.RunStarted{RunID: runID, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: t0,
		VMs: []events.RunVM{{VMUUID: vmA, Pool: "lab"}, {VMUUID: vmB, Pool: "lab"}}})
	scrapeUntil(t, srv.URL, "xbr_runs_in_progress", 1)
	publish(t, conn, 5*time.Second, events.ExportProgress{RunID: runID, Job: "nightly", VMUUID: vmA, Transfer: events.Transfer{Bytes: 1 << 20, BytesPerSecond: 1 << 20}})
	publish(t, conn, 10*time.Second, events.ExportCompleted{RunID: runID, Job: "nightly", Schedule: "daily", VMUUID: vmA, Pool: "lab",
		Timestamp: "20261129T010000Z", Codec: "gzip", Size: 3000, BytesRead: 9000, SHA256: sha, DurationMS: 8000,
		Backups: []events.RemoteBackup{{Remote: "nfs", BackupID: "nfs:" + vmA + "/20261129T010000Z"}, {Remote: "gw", BackupID: "gw:" + vmA + "/20261129T010000Z"}}})
	publish(t, conn, 11*time.Second, events.ExportFailed{RunID: runID, Job: "nightly", Schedule: "daily", VMUUID: vmB, Pool: "lab", Error: "boom"})
	publish(t, conn, 11*time.Second, events.HealthCheckFailed{RequestID: "hc-1", BackupID: "nfs/" + vmA + "/20261129T010000Z",
		Job: "nightly", Pool: "lab", Reason: events.HealthReasonTimeout, Error: "no report within 10m0s"})
	publish(t, conn, 11*time.Second, events.HealthCheckCompleted{RequestID: "hc-2", BackupID: "gw/" + vmA + "/20261129T010000Z",
		Job: "nightly", Pool: "lab", SR: "Local storage", Method: events.HealthMethodGuestMetrics, BootMS: 900, DurationMS: 3000})
	publish(t, conn, 12*time.Second, events.RunCompleted{RunID: runID, Job: "nightly", Schedule: "daily", Status: events.StatusPartial,
		DurationMS: 12000, Results: []events.VMResult{{VMUUID: vmA, Status: "success"}, {VMUUID: vmB, Status: "failure", Error: "boom"}}})
	// Progress comes from its own stream, read apart from the lifecycle one.
	scrapeUntil(t, srv.URL, `xbr_events_total{type="xbr.export.progress"}`, 1)
	body := scrapeUntil(t, srv.URL, `xbr_runs_total{job="nightly",status="partial"}`, 1)
	for series, want := range map[string]float64{
		"xbr_runs_in_progress": 0,
		`xbr_backup_bytes_written_total{job="nightly",remote="nfs"}`:             3000,
		`xbr_backup_bytes_written_total{job="nightly",remote="gw"}`:              3000,
		`xbr_export_bytes_read_total{job="nightly"}`:                             9000,
		`xbr_export_duration_seconds_count{job="nightly"}`:                       1,
		`xbr_export_duration_seconds_sum{job="nightly"}`:                         8,
		`xbr_run_duration_seconds_sum{job="nightly"}`:                            12,
		`xbr_vm_results_total{job="nightly",status="failure"}`:                   1,
		`xbr_failures_total{kind="export"}`:                                      1,
		`xbr_healthchecks_total{job="nightly",reason="timeout",result="failed"}`: 1,
		`xbr_healthchecks_total{job="nightly",reason="",result="passed"}`:        1,
		`xbr_events_total{type="xbr.export.progress"}`:                           1,
		`xbr_consumer_pending_messages{consumer="audit",stream="XBR_EVENTS"}`:    6,
		`xbr_stream_messages{stream="XBR_PROGRESS"}`:                             1,
		`xbr_stream_up{stream="XBR_EVENTS"}`:                                     1,
	} {
		if got := sample(body, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	publish(t, conn, time.Hour, events.RunCompleted{RunID: "4e1d3c2b5a69788796a5b4c3d2e1f002", Job: "nightly", Schedule: "daily", Status: events.StatusSuccess, DurationMS: 1000})
	body = scrapeUntil(t, srv.URL, `xbr_runs_total{job="nightly",status="success"}`, 1)
	if got := sample(body, `xbr_job_last_success_timestamp_seconds{job="nightly"}`); got != float64(t0.Add(time.Hour).Unix()) {
		t.Errorf("last success = %v", got)
	}
}

// TestRestartCountsTheSame: a new process replays the streams and exposes
// the same counters.
func TestRestartCountsTheSame(t *testing.T) {
	conn := testsupport.StartNATS(t)
	for i, st := range []string{"success", "success", "failure"} {
		publish(t, conn, time.Duration(i)*time.Hour, events.RunCompleted{RunID: events.DeriveID("r", st, strconv.Itoa(i)), Job: "j", Schedule: "s", Status: st})
	}
	for range 2 {
		srv := serve(t, conn)
		scrapeUntil(t, srv.URL, `xbr_runs_total{job="j",status="success"}`, 2)
		scrapeUntil(t, srv.URL, `xbr_runs_total{job="j",status="failure"}`, 1)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	ready := serve(t, testsupport.StartNATS(t))
	if code, body := get(t, ready.URL+"/readyz"); code != http.StatusOK || !strings.Contains(body, "ready") {
		t.Errorf("readyz with streams = %d %q", code, body)
	}
	noStreams := serve(t, testsupport.StartBareNATS(t))
	if code, body := get(t, noStreams.URL+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "XBR_EVENTS") {
		t.Errorf("readyz without streams = %d %q", code, body)
	}
	if code, _ := get(t, noStreams.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz = %d", code)
	}
	_, body := get(t, noStreams.URL+"/metrics")
	if sample(body, `xbr_stream_up{stream="XBR_EVENTS"}`) != 0 {
		t.Errorf("stream_up without streams:\n%s", body)
	}
}
