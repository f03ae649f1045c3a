// Package metrics exposes xbr's Prometheus metrics, /healthz and /readyz.
//
// The counters are a projection of the event streams (Apply), fed by
// history.Follow from the start of XBR_EVENTS and XBR_PROGRESS, so they
// count the work of every process on the backbone, whichever did it, and
// come back identical after a restart. Consumer lag and pending work are
// read from JetStream at scrape time (consumer info: NumPending,
// NumAckPending, NumRedelivered) for every consumer of xbr's streams.
//
// Metrics (all prefixed xbr_):
//
//	runs_total{job,status}                  runs ended, by status (success, failure, partial, skipped, interrupted)
//	runs_in_progress                        runs started and not ended
//	vm_results_total{job,status}            per-VM outcomes of ended runs
//	backup_bytes_written_total{job,remote}  bytes of committed backups
//	export_bytes_read_total{job}            XVA bytes read from XAPI
//	export_duration_seconds{job}            histogram of successful VM exports
//	run_duration_seconds{job}               histogram of ended runs
//	restore_duration_seconds                histogram of successful restores
//	restore_bytes_total                     bytes imported by restores
//	failures_total{kind}                    export, snapshot, prune, restore, replicate, verify failures
//	verify_total{remote,result}             verifications (ok, failed)
//	healthchecks_total{job,result,reason}   health checks ended (passed, failed; the failure's reason)
//	job_last_success_timestamp_seconds{job} time of the job's last successful run
//	events_total{type}                      events seen on the streams
//	consumer_pending_messages{stream,consumer}      messages not yet delivered
//	consumer_ack_pending_messages{stream,consumer}  delivered, not yet acknowledged (work in flight)
//	consumer_redelivered_messages{stream,consumer}  delivered more than once
//	stream_messages{stream}, stream_bytes{stream}   what the streams hold
//
// Mount (or ForStreams + Routes + Feed) wires it into an http.ServeMux; Healthz
// is the liveness handler for processes without the gateway.
package metrics
