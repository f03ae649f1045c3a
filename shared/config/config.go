package config

import (
	"time"

	"xbr/events"
	"xbr/shared/schedule"
	"xbr/shared/xapi"
)

// Defaults applied to zero values.
const (
	DefaultNATSListen      = "127.0.0.1:4222"
	DefaultPrefix          = "xbr"
	DefaultStreamReplicas  = 1
	DefaultEventsMaxAge    = events.DefaultEventsMaxAge
	DefaultDuplicateWindow = events.DefaultDuplicateWindow
	DefaultGatewayListen   = "127.0.0.1:8080"
	DefaultDataDir         = "var"
	DefaultCatchUp         = time.Hour
	DefaultConcurrency     = 2
	DefaultRetryBackoff    = time.Minute
	DefaultTimezone        = "UTC"
	// DefaultStallTimeout is a pool's stall_timeout when it is not set: the
	// XAPI client's own default.
	DefaultStallTimeout = xapi.DefaultStallTimeout
	// MinStallTimeout is the shortest stall_timeout accepted: XAPI keeps a
	// healthy export flowing with a keep-alive block every 5 s, so a shorter
	// bound would fail healthy transfers on a loaded host.
	MinStallTimeout = 30 * time.Second
	// DefaultChunkSize is the chunk size of a new incremental repository.
	DefaultChunkSize ByteSize = 1 << 20
)

// Config is the whole configuration file.
type Config struct {
	NATS    NATS     `yaml:"nats"`
	Pools   []Pool   `yaml:"pools"`
	Remotes []Remote `yaml:"remotes"`
	Jobs    []Job    `yaml:"jobs"`
	Gateway Gateway  `yaml:"gateway"`
	// Reports are the reports not tied to one run (the daily report).
	Reports Reports `yaml:"reports"`
	// DataDir holds the embedded NATS store and other local state.
	DataDir string `yaml:"data_dir"`
	// CatchUp is how far back the timer still fires a missed schedule (once).
	CatchUp time.Duration `yaml:"catch_up"`
	// File is where the configuration was read from ("" when built in code).
	File string `yaml:"-"`
}

// NATS says how to reach the event backbone. An empty URL means the
// embedded server, listening on Listen.
type NATS struct {
	URL             string        `yaml:"url"`
	Listen          string        `yaml:"listen"`
	Prefix          string        `yaml:"prefix"`
	CredentialsFile string        `yaml:"credentials_file"`
	NKeyFile        string        `yaml:"nkey_file"`
	User            string        `yaml:"user"`
	Password        Secret        `yaml:"password"`
	Token           Secret        `yaml:"token"`
	TLS             TLS           `yaml:"tls"`
	StreamReplicas  int           `yaml:"stream_replicas"`
	EventsMaxAge    time.Duration `yaml:"events_max_age"`
	// DuplicateWindow is how long the streams remember an event id, so that
	// publishing the same event again (a redelivered handler, a second
	// timer) is a no-op. The server holds one entry per event published
	// within it: a shorter window costs less memory on a busy backbone.
	DuplicateWindow time.Duration `yaml:"duplicate_window"`
	// EventsMaxBytes, ProgressMaxBytes and DLQMaxBytes cap the size of the
	// history, progress and dead-letter streams (0: no cap); when a stream
	// is full its oldest messages are dropped. On a shared backbone they
	// keep xbr from filling the disk other streams use.
	EventsMaxBytes   ByteSize `yaml:"events_max_bytes"`
	ProgressMaxBytes ByteSize `yaml:"progress_max_bytes"`
	DLQMaxBytes      ByteSize `yaml:"dlq_max_bytes"`
}

// TLS names PEM files for a client connection.
type TLS struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Pool is an XCP-ng / XenServer pool reached through its master's XAPI.
type Pool struct {
	Name     string `yaml:"name"`
	URL      string `yaml:"url"`
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// TLSFingerprint pins the SHA-256 of the server certificate, normalised
	// to 64 lowercase hex digits without colons.
	TLSFingerprint string `yaml:"tls_fingerprint"`
	// HostFingerprints pin other hosts of the pool by address, besides the
	// fingerprints the pool publishes (see the README's security section).
	HostFingerprints []HostPin `yaml:"host_fingerprints"`
	// Insecure skips certificate verification (lab use only).
	Insecure bool `yaml:"insecure"`
	// StallTimeout is how long an HTTP transfer with the pool (an export,
	// an export_raw_vdi disk read, an import) may wait for the host before
	// it fails as stalled (xapi.WithStallTimeout; 0: DefaultStallTimeout).
	// A restore into the pool gives the backup's read from its remote the
	// same bound ("the backup read stalled").
	// Raise it behind a buffering proxy or a slow link; lower it to detect
	// a hung host sooner, to MinStallTimeout at the least. NBD reads keep
	// their own bound (nbd.DefaultTimeout).
	StallTimeout time.Duration `yaml:"stall_timeout"`
}

// HostPin trusts one pool host, at Address as XAPI's host.address names it
// (optionally with a port), by the SHA-256 of its certificate.
type HostPin struct {
	Address     string `yaml:"address"`
	Fingerprint string `yaml:"fingerprint"`
}

// Remote types.
const (
	RemoteDir = "dir"
	RemoteS3  = "s3"
)

// Remote is where backups are written: a directory or an S3 bucket+prefix.
type Remote struct {
	Name      string `yaml:"name"`
	Type      string `yaml:"type"`
	Path      string `yaml:"path"`
	Endpoint  string `yaml:"endpoint"`
	Bucket    string `yaml:"bucket"`
	Prefix    string `yaml:"prefix"`
	Region    string `yaml:"region"`
	AccessKey Secret `yaml:"access_key"`
	SecretKey Secret `yaml:"secret_key"`
	// ChunkSize is the chunk size of the incremental repository (xbr-repo/)
	// created on this remote: a multiple of 64 KiB, 64 KiB to 16 MiB
	// (default 1 MiB). It is read when the repository is created.
	ChunkSize ByteSize `yaml:"chunk_size"`
	// EncryptionKeyFile holds the key (made by `xbr repo key`) that encrypts
	// the remote's incremental repository; empty: a plain repository.
	EncryptionKeyFile string `yaml:"encryption_key_file"`
}

// Job modes.
const (
	ModeFull      = "full"
	ModeSnapshot  = "snapshot"
	ModeReplicate = "replicate"
	// ModeVerify jobs re-read the backups on their remotes on a schedule
	// (shared/integrity), as Proxmox Backup Server's verify jobs do.
	ModeVerify = "verify"
	// ModeGC jobs collect the garbage of the incremental repositories
	// (xbr-repo/) on their remotes on a schedule (the prune function).
	ModeGC = "gc"
	// ModeMirror jobs copy the restore points of the incremental repository
	// on their source remote to their remotes (the targets), each of which
	// keeps its own retention.
	ModeMirror = "mirror"
	// ModeMetadata jobs back up the database of each of their pools
	// (GET /pool/xmldbdump) to their remotes in Xen Orchestra's layout,
	// with xbr's own state beside it (functions/metadata).
	ModeMetadata = "metadata"
	// ModeIncremental jobs store restore points in each remote's chunk
	// repository, reading only changed blocks (CBT + NBD) when they can.
	ModeIncremental = "incremental"
)

// Modes are every job mode, in the order the mode error lists them.
var Modes = []string{ModeFull, ModeSnapshot, ModeReplicate, ModeIncremental, ModeVerify, ModeGC, ModeMirror, ModeMetadata}

// CBT options of incremental jobs.
const (
	// CBTEnable turns changed-block tracking on for every disk of the job's
	// VMs (VDI.enable_cbt) before each snapshot.
	CBTEnable = "enable"
	// CBTUseIfEnabled uses changed-block tracking where it is already on
	// and reads whole disks elsewhere.
	CBTUseIfEnabled = "use-if-enabled"
)

// Codecs (compression) and other enumerations.
const (
	CodecGzip = "gzip"
	CodecZstd = "zstd"
	CodecNone = "none"

	OverlapSkip  = "skip"
	OverlapQueue = "queue"

	ReportAlways  = "always"
	ReportFailure = "failure"
	ReportNever   = "never"
)

// Job is a backup, snapshot or replication job.
type Job struct {
	Name string `yaml:"name"`
	// ID is the job's UUID, Xen Orchestra's jobId (in each backup's metadata and in the
	// xo:backup:job key of its snapshots). Optional: by default a UUIDv5 of Name (DeriveID),
	// so renaming a job changes it; set it to keep a job's backups across a rename.
	ID    string      `yaml:"id"`
	Mode  string      `yaml:"mode"`
	Pools []string    `yaml:"pools"`
	VMs   VMSelection `yaml:"vms"`
	// Remotes are written at once by full jobs; an incremental job has
	// exactly one.
	Remotes []string `yaml:"remotes"`
	// Compression done by xbr: gzip (default), zstd or none.
	Compression string `yaml:"compression"`
	// XAPICompression asks XAPI to compress the export instead: none
	// (default), gzip or zstd. Compression is then none.
	XAPICompression string `yaml:"xapi_compression"`
	// Concurrency is the number of VMs handled at once (default 2).
	Concurrency int `yaml:"concurrency"`
	// Retries per failed VM (default 0), RetryBackoff apart, doubling.
	Retries      int           `yaml:"retries"`
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// RateLimit caps the bytes per second of a whole run (0: unlimited).
	RateLimit ByteSize `yaml:"rate_limit"`
	// VMTimeout bounds the work on one VM (0: none).
	VMTimeout time.Duration `yaml:"vm_timeout"`
	// RPO is how old a VM's newest good copy by this job may be before the
	// VM is shown late (0: the job's longest gap between schedule fires
	// plus a grace; see shared/protection).
	RPO time.Duration `yaml:"rpo"`
	// OnOverlap: skip (default) or queue a fire while a run is going on.
	OnOverlap string `yaml:"on_overlap"`
	// Target is the standby pool and SR of a replicate job.
	Target Target `yaml:"target"`
	// ReportWhen: always, failure (default) or never.
	ReportWhen string `yaml:"report_when"`
	// ReportWebhook is a Slack-compatible incoming webhook URL the run
	// report is posted to (per ReportWhen). A secret: the URL is the key.
	ReportWebhook Secret `yaml:"report_webhook"`
	// Deep makes a verify job parse every XVA and check every chunk.
	Deep bool `yaml:"deep"`
	// Source is the remote whose incremental repository a mirror job copies
	// to its Remotes.
	Source string `yaml:"source"`
	// CBT says whether an incremental job turns changed-block tracking on
	// (enable, the default) or only uses it where it is on (use-if-enabled).
	CBT string `yaml:"cbt"`
	// HealthCheck boots each new backup (full, incremental) or standby copy
	// (replicate) as a test VM; a schedule's own health_check overrides it.
	HealthCheck *HealthCheck `yaml:"health_check"`
	Schedules   []Schedule   `yaml:"schedules"`
}

// VMSelection picks the VMs of a job: explicit UUIDs, or "smart" selection by
// pool, tags (all must be present) and power state. Empty selects every VM of
// the job's pools. VMs tagged xo:no-bak are always excluded.
type VMSelection struct {
	UUIDs      []string `yaml:"uuids"`
	Pool       string   `yaml:"pool"`
	Tags       []string `yaml:"tags"`
	PowerState string   `yaml:"power_state"` // Running, Halted, Suspended or Paused
}

// Target is where a replicate job puts its copies.
type Target struct {
	Pool string `yaml:"pool"`
	SR   string `yaml:"sr"` // UUID or name label
}

// Schedule is one cron schedule of a job with its retention depths.
type Schedule struct {
	Name string `yaml:"name"`
	// ID is the schedule's UUID, Xen Orchestra's scheduleId. Optional: by default a UUIDv5
	// of Name under the job's ID.
	ID       string `yaml:"id"`
	Cron     string `yaml:"cron"`
	Timezone string `yaml:"timezone"`
	// Enabled defaults to true when the field is absent.
	Enabled bool `yaml:"enabled"`
	// Retention is the number of backups kept per VM on each remote.
	Retention int `yaml:"retention"`
	// SnapshotRetention is the number of rolling snapshots kept per VM.
	SnapshotRetention int `yaml:"snapshot_retention"`
	// CopyRetention is the number of standby copies kept per VM (replicate).
	CopyRetention int `yaml:"copy_retention"`
	// LongTerm keeps extra backups per calendar bucket (GFS).
	LongTerm LongTerm `yaml:"long_term"`
	// HealthCheck replaces the job's health_check for this schedule's
	// runs (skip: true turns it off).
	HealthCheck *HealthCheck `yaml:"health_check"`

	// Spec and Location are Cron and Timezone, parsed.
	Spec     schedule.Cron  `yaml:"-"`
	Location *time.Location `yaml:"-"`
}

// LongTerm is the number of daily, weekly, monthly and yearly backups kept
// in addition to the depth, evaluated in the schedule's time zone.
type LongTerm struct {
	Daily   int `yaml:"daily"`
	Weekly  int `yaml:"weekly"`
	Monthly int `yaml:"monthly"`
	Yearly  int `yaml:"yearly"`
}

// Gateway is the HTTP front door.
type Gateway struct {
	Listen             string `yaml:"listen"`
	WebhookSecret      Secret `yaml:"webhook_secret"`
	SlackSigningSecret Secret `yaml:"slack_signing_secret"`
	MattermostToken    Secret `yaml:"mattermost_token"`
	// ChatResponseHosts are the hosts (host, or host:port for that port only) a chat
	// command's response_url may name for the gateway to post a restore's or failover's outcome to;
	// default Slack's, DefaultChatResponseHosts. Another host gets no outcome posted, so
	// a holder of a chat secret cannot make the gateway POST to an internal address.
	ChatResponseHosts []string `yaml:"chat_response_hosts"`
	// PublicNames are the Host values the web page answers to besides the
	// listen address and the loopback names (host or host:port).
	PublicNames []string `yaml:"public_names"`
	// UsersFile is an htpasswd file of bcrypt hashes: the page asks for a
	// login (HTTP basic) from the users it lists.
	UsersFile string      `yaml:"users_file"`
	Auth      GatewayAuth `yaml:"auth"`
	// AllowAnonymous lets the page listen beyond loopback with no login.
	AllowAnonymous bool `yaml:"allow_anonymous"`
	// CSRFSecret keys the page's form tokens; set the same on every replica
	// behind one name. Unset: a random key per process.
	CSRFSecret Secret `yaml:"csrf_secret"`
	// HistoryRuns bounds the runs and restores the History pages hold in
	// memory (0: 100); an older one is read from the stream when asked for.
	HistoryRuns int `yaml:"history_runs"`
}

// GatewayAuth is the trusted-proxy login: a proxy in front of the gateway
// authenticates users and names them in ProxyHeader, believed only from a
// peer in TrustedProxies (IP addresses or CIDRs).
type GatewayAuth struct {
	ProxyHeader    string   `yaml:"proxy_header"`
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// HasLogin reports whether the page asks who is there.
func (g Gateway) HasLogin() bool { return g.UsersFile != "" || g.Auth.ProxyHeader != "" }

// Pool returns the pool named name.
func (c *Config) Pool(name string) (Pool, bool) {
	for _, p := range c.Pools {
		if p.Name == name {
			return p, true
		}
	}
	return Pool{}, false
}

// Remote returns the remote named name.
func (c *Config) Remote(name string) (Remote, bool) {
	for _, r := range c.Remotes {
		if r.Name == name {
			return r, true
		}
	}
	return Remote{}, false
}

// Job returns the job named name.
func (c *Config) Job(name string) (Job, bool) { return JobNamed(c.Jobs, name) }

// JobNamed returns the job named name among jobs: the one job lookup, for
// the functions that are handed their jobs rather than the whole Config.
func JobNamed(jobs []Job, name string) (Job, bool) {
	for _, j := range jobs {
		if j.Name == name {
			return j, true
		}
	}
	return Job{}, false
}

// Schedule returns the job's schedule named name.
func (j Job) Schedule(name string) (Schedule, bool) {
	for _, s := range j.Schedules {
		if s.Name == name {
			return s, true
		}
	}
	return Schedule{}, false
}

// Timer returns the schedule as the timer evaluates it.
func (s Schedule) Timer() schedule.Schedule {
	return schedule.Schedule{Cron: s.Spec, Location: s.Location, Enabled: s.Enabled}
}

// All reports whether the selection is empty: every VM of the job's pools.
func (v VMSelection) All() bool {
	return len(v.UUIDs) == 0 && v.Pool == "" && len(v.Tags) == 0 && v.PowerState == ""
}
