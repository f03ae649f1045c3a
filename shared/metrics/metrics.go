package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"xbr/events"
)

// Metrics is the set of xbr metrics on its own registry.
type Metrics struct {
	reg *prometheus.Registry
	lag *Lag // nil: no JetStream gauges

	mu       sync.Mutex
	seen     *recentSet
	inFlight map[string]bool
	lastOK   map[string]float64

	runs, vmResults, bytesWritten, bytesRead *prometheus.CounterVec
	failures, verifies, eventsSeen           *prometheus.CounterVec
	incPoints, incRead, healthChecks         *prometheus.CounterVec
	incPatched, incUnreadable                *prometheus.CounterVec
	restoreBytes                             prometheus.Counter
	runsInProgress                           prometheus.Gauge
	lastSuccess                              *prometheus.GaugeVec
	exportDur, runDur                        *prometheus.HistogramVec
	restoreDur                               prometheus.Histogram
}

// durationBuckets span a small VM's seconds to a large one's hours.
var durationBuckets = prometheus.ExponentialBuckets(1, 2.5, 12) // 1s .. ~6.6h

// New returns the metrics with nothing counted yet; lag, when not nil,
// adds the JetStream consumer and stream gauges, read at every scrape.
func New(lag *Lag) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), lag: lag, seen: newRecentSet(seenWindow), inFlight: map[string]bool{}, lastOK: map[string]float64{}}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "xbr", Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	m.runs = counter("runs_total", "Runs ended, by job and status.", "job", "status")
	m.vmResults = counter("vm_results_total", "Per-VM outcomes of ended runs.", "job", "status")
	m.bytesWritten = counter("backup_bytes_written_total", "Bytes of committed backups, per remote.", "job", "remote")
	m.bytesRead = counter("export_bytes_read_total", "XVA bytes read from XAPI by successful exports.", "job")
	m.failures = counter("failures_total", "Failed steps by kind.", "kind")
	m.verifies = counter("verify_total", "Backup verifications by remote and result.", "remote", "result")
	m.eventsSeen = counter("events_total", "Events seen on xbr's streams, by type.", "type")
	m.healthChecks = counter("healthchecks_total", "Health checks ended, by job, result (passed, failed) and failure reason.",
		"job", "result", "reason")
	m.incPoints = counter("incremental_points_total", "Incremental restore points committed, by the path taken and why a disk was read whole.",
		"job", "path", "reason")
	m.incRead = counter("incremental_bytes_read_total", "Bytes incremental backups read from the host (NBD or raw export).", "job")
	m.incPatched = counter("incremental_chunks_patched_total",
		"Changed chunks incremental backups built from their base chunk with only the changed blocks read from the host.", "job")
	m.incUnreadable = counter("incremental_base_chunks_unreadable_total",
		"Base chunks incremental backups could not read back (missing or damaged; read whole from the host instead).", "job")
	m.restoreBytes = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "xbr", Name: "restore_bytes_total", Help: "Bytes imported by successful restores."})
	m.runsInProgress = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "xbr", Name: "runs_in_progress", Help: "Runs started and not ended."})
	m.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "xbr", Name: "job_last_success_timestamp_seconds",
		Help: "Unix time of the job's last successful run."}, []string{"job"})
	hist := func(name, help string, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "xbr", Name: name, Help: help, Buckets: durationBuckets}, labels)
	}
	m.exportDur = hist("export_duration_seconds", "Duration of successful VM exports.", "job")
	m.runDur = hist("run_duration_seconds", "Duration of ended runs.", "job")
	m.restoreDur = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "xbr", Name: "restore_duration_seconds",
		Help: "Duration of successful restores.", Buckets: durationBuckets})
	m.reg.MustRegister(m.restoreBytes, m.runsInProgress, m.lastSuccess, m.exportDur, m.runDur, m.restoreDur)
	return m
}

// Registry is the registry the metrics live on (to add process or Go
// collectors, or gather in tests).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Apply counts one event; an event id seen among the last seenWindow is
// ignored.
func (m *Metrics) Apply(r events.Received) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen.add(r.Event.Type() + "/" + r.Event.ID()) {
		return
	}
	m.eventsSeen.WithLabelValues(r.Event.Type()).Inc()
	switch p := r.Payload.(type) {
	case events.RunStarted:
		m.started(p.RunID)
	case events.RunCompleted:
		m.completed(p, r.Event.Time())
	case events.ExportCompleted:
		for _, b := range p.Backups {
			m.bytesWritten.WithLabelValues(p.Job, b.Remote).Add(float64(p.Size))
		}
		m.bytesRead.WithLabelValues(p.Job).Add(float64(p.BytesRead))
		m.exportDur.WithLabelValues(p.Job).Observe(seconds(p.DurationMS))
	case events.IncrementalCompleted:
		m.incPoints.WithLabelValues(p.Job, p.Path, p.PathReason).Inc()
		m.incRead.WithLabelValues(p.Job).Add(float64(p.BytesRead))
		m.incPatched.WithLabelValues(p.Job).Add(float64(p.ChunksPatched))
		m.incUnreadable.WithLabelValues(p.Job).Add(float64(p.BaseChunksUnreadable))
		for _, b := range p.Backups {
			m.bytesWritten.WithLabelValues(p.Job, b.Remote).Add(float64(p.BytesStored))
		}
	case events.RestoreCompleted:
		m.restoreBytes.Add(float64(p.Bytes))
		m.restoreDur.Observe(seconds(p.DurationMS))
	case events.HealthCheckCompleted:
		m.healthChecks.WithLabelValues(p.Job, "passed", "").Inc()
	case events.HealthCheckFailed:
		m.healthChecks.WithLabelValues(p.Job, "failed", p.Reason).Inc()
	case events.VerifyCompleted:
		m.verifies.WithLabelValues(p.Remote, "ok").Inc()
	case events.VerifyFailed:
		m.verifies.WithLabelValues(p.Remote, "failed").Inc()
		m.failures.WithLabelValues("verify").Inc()
	case events.ExportFailed, events.SnapshotFailed, events.PruneFailed, events.RestoreFailed, events.ReplicateFailed,
		events.IncrementalFailed, events.GCFailed:
		m.failures.WithLabelValues(r.Type().Domain()).Inc()
	}
}

func (m *Metrics) started(run string) {
	if !m.inFlight[run] {
		m.inFlight[run] = true
		m.runsInProgress.Inc()
	}
}

func (m *Metrics) completed(p events.RunCompleted, at time.Time) {
	if m.inFlight[p.RunID] {
		delete(m.inFlight, p.RunID)
		m.runsInProgress.Dec()
	}
	if p.Status != events.StatusSkipped {
		m.runDur.WithLabelValues(p.Job).Observe(seconds(p.DurationMS))
	}
	for _, r := range p.Results {
		m.vmResults.WithLabelValues(p.Job, r.Status).Inc()
	}
	if p.Status == events.StatusSuccess {
		if ts := float64(at.Unix()); ts > m.lastOK[p.Job] {
			m.lastOK[p.Job] = ts
			m.lastSuccess.WithLabelValues(p.Job).Set(ts)
		}
	}
	// Counted last: a scrape that sees the run counted sees all of it.
	m.runs.WithLabelValues(p.Job, p.Status).Inc()
}

func seconds(ms int64) float64 { return float64(ms) / 1000 }
