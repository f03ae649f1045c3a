package events

import "slices"

// Identities that are not functions.
const (
	// IdentityAdmin creates and updates the streams; `xbr serve` uses it at
	// start-up only.
	IdentityAdmin = "admin"
	// IdentityAuditor reads every stream and publishes nothing.
	IdentityAuditor = "auditor"
	// IdentityClient is the CLI and external tools; its events carry the
	// source Source("cli").
	IdentityClient = "client"
)

// Role is what one identity may do on the bus: the one table the embedded
// server's users, `xbr nats permissions` and the dispatcher's source check
// are derived from.
type Role struct {
	Name     string   // identity: a function's name, or admin, auditor, client
	Source   string   // CloudEvents source of the events it publishes
	Produces []Type   // event types it may publish
	Consumes []Type   // event types its durable consumers read
	Durables []string // names of its durable consumers
	Buckets  []string // KV buckets it reads and writes (the admin creates them)
	Reads    bool     // reads the streams with its own (ephemeral) consumers
	Answers  bool     // answers the queries (<prefix>.api.*) in the queue group, and $SRV discovery
	Calls    bool     // calls every query, and $SRV discovery
	Asks     bool     // calls the queries that change nothing (not Endpoint.Writes), and $SRV discovery
	Admin    bool     // creates and updates the streams and the KV buckets
}

// KV buckets of the functions (timer.StateBucket, runs.DefaultBucket); their
// configurations are bus.Topology.KVConfigs.
const (
	BucketTimer = "xbr_timer"
	BucketRuns  = "xbr_runs"
	// BucketGatewaySeen holds the webhook and chat signatures the gateways
	// accepted, so each is accepted once on every replica.
	BucketGatewaySeen = "xbr_gateway_seen"
	// BucketHealthCheck holds the health checks waiting for the restore of
	// their test VM (the request, by request id), and for its TTL the
	// outcome of those that ended, which a redelivery answers again.
	BucketHealthCheck = "xbr_healthcheck"
)

// Roles is every identity, functions first, in a stable order.
func Roles() []Role {
	runs := []Type{TypeRunStarted, TypeRunCompleted}
	return []Role{
		{Name: "timer", Produces: []Type{TypeScheduleDue}, Buckets: []string{BucketTimer}},
		{Name: "snapshot", Produces: append(slices.Clone(runs), TypeSnapshotRequested, TypeSnapshotCompleted, TypeSnapshotFailed),
			Consumes: []Type{TypeScheduleDue, TypeSnapshotRequested}, Durables: []string{"snapshot-plan", "snapshot-worker"},
			Buckets: []string{BucketRuns}},
		{Name: "prune", Produces: []Type{TypePruneCompleted, TypePruneFailed, TypeGCCompleted, TypeGCFailed, TypeRunCompleted,
			TypeRemoteUsage},
			Consumes: []Type{TypeExportCompleted, TypeIncrementalCompleted, TypeSnapshotCompleted, TypeRunStarted, TypeScheduleDue,
				TypeRunCompleted},
			Durables: []string{"prune"}},
		{Name: "replicate", Produces: append(slices.Clone(runs), TypeReplicateRequested, TypeReplicateStarted,
			TypeReplicateProgress, TypeReplicateCompleted, TypeReplicateFailed, TypeFailoverCompleted, TypeFailoverFailed),
			Consumes: []Type{TypeScheduleDue, TypeReplicateRequested, TypeReplicateCompleted, TypeReplicateFailed,
				TypeFailoverRequested},
			Durables: append(runDurables("replicate"), "replicate-failover"), Buckets: []string{BucketRuns}},
		{Name: "restore", Produces: []Type{TypeRestoreStarted, TypeRestoreProgress, TypeRestoreCompleted, TypeRestoreFailed},
			Consumes: []Type{TypeRestoreRequested}, Durables: []string{"restore"}},
		{Name: "gateway", Produces: []Type{TypeScheduleDue, TypeRestoreRequested, TypeFailoverRequested, TypeHealthCheckRequested},
			Reads: true, Calls: true,
			Buckets: []string{BucketGatewaySeen}},
		{Name: "export", Produces: append(slices.Clone(runs), TypeExportRequested, TypeExportStarted, TypeExportProgress,
			TypeExportCompleted, TypeExportFailed),
			Consumes: []Type{TypeScheduleDue, TypeExportRequested, TypeExportCompleted, TypeExportFailed},
			Durables: runDurables("export"), Buckets: []string{BucketRuns}},
		{Name: "incremental", Produces: append(slices.Clone(runs), TypeIncrementalRequested, TypeIncrementalStarted,
			TypeIncrementalProgress, TypeIncrementalCompleted, TypeIncrementalFailed),
			Consumes: []Type{TypeScheduleDue, TypeIncrementalRequested, TypeIncrementalCompleted, TypeIncrementalFailed},
			Durables: runDurables("incremental"), Buckets: []string{BucketRuns}},
		{Name: "verify", Produces: append(slices.Clone(runs), TypeVerifyCompleted, TypeVerifyFailed),
			Consumes: []Type{TypeScheduleDue}, Durables: []string{"verify"}},
		{Name: "mirror", Produces: append(slices.Clone(runs), TypeMirrorRequested, TypeMirrorCompleted, TypeMirrorFailed),
			Consumes: []Type{TypeScheduleDue, TypeMirrorRequested, TypeMirrorCompleted, TypeMirrorFailed},
			Durables: runDurables("mirror"), Buckets: []string{BucketRuns}},
		{Name: "metadata", Produces: append(slices.Clone(runs), TypeMetadataCompleted, TypeMetadataFailed),
			Consumes: []Type{TypeScheduleDue}, Durables: []string{"metadata"}, Buckets: []string{BucketTimer, BucketRuns}},
		{Name: "healthcheck", Produces: []Type{TypeHealthCheckRequested, TypeHealthCheckStarted, TypeHealthCheckCompleted,
			TypeHealthCheckFailed, TypeRestoreRequested},
			Consumes: []Type{TypeExportCompleted, TypeIncrementalCompleted, TypeReplicateCompleted, TypeHealthCheckRequested,
				TypeRestoreCompleted, TypeRestoreFailed},
			Durables: []string{"healthcheck-trigger", "healthcheck"}, Buckets: []string{BucketHealthCheck}},
		{Name: "report", Consumes: []Type{TypeRunCompleted}, Durables: []string{"report"}, Buckets: []string{BucketTimer},
			Reads: true, Asks: true},
		{Name: IdentityClient, Source: Source("cli"), Reads: true, Calls: true,
			Produces: []Type{TypeScheduleDue, TypeRestoreRequested, TypeFailoverRequested, TypeVerifyCompleted,
				TypeVerifyFailed, TypeHealthCheckRequested}},
		{Name: IdentityAuditor, Reads: true, Asks: true},
		{Name: IdentityAdmin, Admin: true},
	}
}

func runDurables(fn string) []string { return []string{fn + "-plan", fn + "-worker", fn + "-runner"} }

// RoleOf returns the role of identity name.
func RoleOf(name string) (Role, bool) {
	for _, r := range withSources(Roles()) {
		if r.Name == name {
			return r, true
		}
	}
	return Role{}, false
}

// IsFunction reports whether the role is one of xbr's functions (and so
// answers the queries).
func (r Role) IsFunction() bool {
	return r.Name != IdentityClient && r.Name != IdentityAuditor && r.Name != IdentityAdmin
}

func withSources(rs []Role) []Role {
	for i := range rs {
		if rs[i].IsFunction() {
			rs[i].Source, rs[i].Answers = Source(rs[i].Name), true
		}
	}
	return rs
}

// Producers are the identities allowed to publish events of type t.
func Producers(t Type) []string {
	var out []string
	for _, r := range withSources(Roles()) {
		if slices.Contains(r.Produces, t) {
			out = append(out, r.Name)
		}
	}
	return out
}

// AllowedSource reports whether an event of type t may carry source: the
// source of one of the type's producers.
func AllowedSource(t Type, source string) bool {
	for _, r := range withSources(Roles()) {
		if r.Source == source && slices.Contains(r.Produces, t) {
			return true
		}
	}
	return false
}

// UserName is the NATS user of identity (xbr-export, xbr-client, ...).
func UserName(identity string) string { return "xbr-" + identity }
