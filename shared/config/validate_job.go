package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"xbr/shared/schedule"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

var powerStates = []string{"Running", "Halted", "Suspended", "Paused"}

func (c *Config) checkJob(p *problems, path string, j *Job) {
	j.ID = checkID(p, path+".id", j.ID, IDNamespace, j.Name)
	hasPool := func(n string) bool { _, ok := c.Pool(n); return ok }
	hasRemote := func(n string) bool { _, ok := c.Remote(n); return ok }
	p.oneOf(path+".mode", j.Mode, Modes...)
	if len(j.Pools) == 0 && j.Mode != ModeVerify && j.Mode != ModeGC && j.Mode != ModeMirror {
		p.add(path+".pools", "missing (the pools whose VMs the job handles)")
	}
	p.refs(path+".pools", "pool", j.Pools, hasPool)
	p.refs(path+".remotes", "remote", j.Remotes, hasRemote)
	checkVMs(p, path+".vms", &j.VMs, j.Pools)
	checkCompression(p, path, j)
	p.notNegative(path+".concurrency", j.Concurrency)
	p.notNegative(path+".retries", j.Retries)
	for field, d := range map[string]time.Duration{"retry_backoff": j.RetryBackoff, "vm_timeout": j.VMTimeout, "rpo": j.RPO} {
		if d < 0 {
			p.addValue(path+"."+field, d.String(), "must not be negative")
		}
	}
	p.oneOf(path+".on_overlap", j.OnOverlap, OverlapSkip, OverlapQueue)
	p.oneOf(path+".report_when", j.ReportWhen, ReportAlways, ReportFailure, ReportNever)
	checkWebhook(p, path+".report_webhook", j.ReportWebhook)
	if j.Deep && j.Mode != ModeVerify {
		p.add(path+".deep", "only for verify jobs")
	}
	if validMode(j.Mode) {
		c.checkMode(p, path, j, hasPool)
	}
	c.checkPlainWrites(p, path, j)
	checkHealth(p, path+".health_check", j.Mode, j.HealthCheck)
	if len(j.Schedules) == 0 {
		p.add(path+".schedules", "missing (at least one schedule holds the retention)")
	}
	names := make([]string, len(j.Schedules))
	ids := map[string]int{}
	for i := range j.Schedules {
		names[i] = j.Schedules[i].Name
		sp := fmt.Sprintf("%s.schedules[%d]", path, i)
		j.Schedules[i].ID = checkID(p, sp+".id", j.Schedules[i].ID, j.ID, j.Schedules[i].Name)
		if k, dup := ids[j.Schedules[i].ID]; dup && j.Schedules[i].ID != "" {
			p.addValue(sp+".id", j.Schedules[i].ID, "also the id of %s.schedules[%d] (retention would count both as one)", path, k)
		} else {
			ids[j.Schedules[i].ID] = i
		}
		checkSchedule(p, sp, &j.Schedules[i], j.Mode)
		checkHealth(p, sp+".health_check", j.Mode, j.Schedules[i].HealthCheck)
	}
	p.unique(path+".schedules", names)
}

// checkPlainWrites refuses a full or metadata job on a remote with an
// encryption_key_file: the key encrypts the remote's incremental repository
// alone, and these jobs would write plain files (XVAs of every disk, pool
// databases) beside it, on a remote its operator takes for encrypted.
func (c *Config) checkPlainWrites(p *problems, path string, j *Job) {
	if j.Mode != ModeFull && j.Mode != ModeMetadata {
		return
	}
	for _, name := range j.Remotes {
		if r, ok := c.Remote(name); ok && r.EncryptionKeyFile != "" {
			p.addValue(path+".remotes", name, "this remote has an encryption_key_file, which encrypts only its incremental repository: "+
				"a %s job would write plain files there; give the job a remote without a key (another path or prefix)", j.Mode)
		}
	}
}

func (c *Config) checkMode(p *problems, path string, j *Job, hasPool func(string) bool) {
	switch j.Mode {
	case ModeFull:
		if len(j.Remotes) == 0 {
			p.add(path+".remotes", "missing (a full job writes to at least one remote)")
		}
	case ModeVerify:
		if len(j.Remotes) == 0 {
			p.add(path+".remotes", "missing (a verify job reads the backups of at least one remote)")
		}
	case ModeIncremental:
		checkIncremental(p, path, j)
	case ModeGC:
		if len(j.Remotes) == 0 {
			p.add(path+".remotes", "missing (a gc job collects the garbage of the incremental repositories of at least one remote)")
		}
		noPoolsNoVMs(p, path, j, "it works on its remotes' repositories", "it collects whole repositories")
	case ModeMirror:
		c.checkMirror(p, path, j)
	case ModeMetadata:
		checkMetadata(p, path, j)
	case ModeSnapshot, ModeReplicate:
		if len(j.Remotes) > 0 {
			p.add(path+".remotes", "a %s job writes to no remote", j.Mode)
		}
	}
	if j.Mode != ModeMirror && j.Source != "" {
		p.add(path+".source", "only for mirror jobs")
	}
	if j.CBT != "" && j.Mode != ModeIncremental {
		p.add(path+".cbt", "only for incremental jobs")
	}
	if j.Mode != ModeReplicate {
		if j.Target != (Target{}) {
			p.add(path+".target", "only for replicate jobs")
		}
		return
	}
	switch {
	case j.Target.Pool == "":
		p.add(path+".target.pool", "missing (replicate copies VMs to this pool)")
	case !hasPool(j.Target.Pool):
		p.addValue(path+".target.pool", j.Target.Pool, "no pool has this name")
	}
	if j.Target.SR == "" {
		p.add(path+".target.sr", "missing (the SR, by UUID or name, that receives the copies)")
	}
}

func checkVMs(p *problems, path string, v *VMSelection, jobPools []string) {
	smart := v.Pool != "" || len(v.Tags) > 0 || v.PowerState != ""
	if len(v.UUIDs) > 0 && smart {
		p.add(path+".uuids", "choose uuids or pool/tags/power_state, not both")
	}
	seen := map[string]bool{}
	for i, u := range v.UUIDs {
		ip := fmt.Sprintf("%s.uuids[%d]", path, i)
		lu := strings.ToLower(u)
		switch {
		case !uuidRE.MatchString(lu):
			p.addValue(ip, u, "not a UUID")
		case seen[lu]:
			p.addValue(ip, u, "listed twice")
		}
		seen[lu], v.UUIDs[i] = true, lu
	}
	if v.Pool != "" && !contains(jobPools, v.Pool) {
		p.addValue(path+".pool", v.Pool, "not one of the job's pools")
	}
	for i, t := range v.Tags {
		if strings.TrimSpace(t) == "" {
			p.add(fmt.Sprintf("%s.tags[%d]", path, i), "empty tag")
		}
	}
	if v.PowerState != "" {
		for _, s := range powerStates {
			if strings.EqualFold(v.PowerState, s) {
				v.PowerState = s
				return
			}
		}
		p.addValue(path+".power_state", v.PowerState, "must be %s", strings.Join(powerStates, ", "))
	}
}

func checkSchedule(p *problems, path string, s *Schedule, mode string) {
	p.name(path+".name", s.Name)
	if s.Cron == "" {
		p.add(path+".cron", "missing (5 fields: minute hour day-of-month month day-of-week)")
	} else if spec, err := schedule.Parse(s.Cron); err != nil {
		p.addValue(path+".cron", s.Cron, "%v", err)
	} else {
		s.Spec = spec
	}
	if loc, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "Local" {
		p.addValue(path+".timezone", s.Timezone, "not an IANA time zone (e.g. Europe/Paris, UTC)")
	} else {
		s.Location = loc
	}
	counts := []struct {
		field string
		v     int
	}{{"retention", s.Retention}, {"snapshot_retention", s.SnapshotRetention}, {"copy_retention", s.CopyRetention},
		{"long_term.daily", s.LongTerm.Daily}, {"long_term.weekly", s.LongTerm.Weekly},
		{"long_term.monthly", s.LongTerm.Monthly}, {"long_term.yearly", s.LongTerm.Yearly}}
	for _, c := range counts {
		p.notNegative(path+"."+c.field, c.v)
	}
	if validMode(mode) {
		checkRetention(p, path, s, mode)
	}
}

// checkID returns a configured id after checking it is a canonical UUID, or derives one
// from name under namespace.
func checkID(p *problems, path, id, namespace, name string) string {
	if id == "" {
		return DeriveID(namespace, name)
	}
	if !uuidRE.MatchString(id) {
		p.addValue(path, id, "not a UUID (want 8-4-4-4-12 lowercase hex digits)")
	}
	return id
}

func validMode(m string) bool { return slices.Contains(Modes, m) }

// checkWebhook accepts an absolute http(s) URL; the value is a secret and
// never quoted.
func checkWebhook(p *problems, path string, s Secret) {
	if !s.IsSet() || s.unresolved {
		return
	}
	u, err := url.Parse(s.Reveal())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		p.add(path, "not an absolute http(s) URL (the value is a secret and is not shown)")
	}
}

// checkRetention requires the depth that the job's mode uses and rejects
// the ones it does not use.
func checkRetention(p *problems, path string, s *Schedule, mode string) {
	need := map[string]string{ModeFull: "retention", ModeIncremental: "retention", ModeSnapshot: "snapshot_retention",
		ModeReplicate: "copy_retention", ModeMirror: "retention", ModeMetadata: "retention"}[mode]
	values := map[string]int{"retention": s.Retention, "snapshot_retention": s.SnapshotRetention, "copy_retention": s.CopyRetention}
	if need != "" && values[need] == 0 {
		p.add(path+"."+need, "must be at least 1 for a %s job", mode)
	}
	keeps := mode == ModeFull || mode == ModeIncremental || mode == ModeMirror || mode == ModeMetadata
	if !keeps && s.Retention > 0 {
		p.add(path+".retention", "only for full and incremental jobs (a %s job keeps nothing on remotes)", mode)
	}
	if mode != ModeSnapshot && s.SnapshotRetention > 0 {
		p.add(path+".snapshot_retention", "only for snapshot jobs (a %s job keeps no snapshot; add a snapshot job for rolling snapshots)", mode)
	}
	if mode != ModeReplicate && s.CopyRetention > 0 {
		p.add(path+".copy_retention", "only for replicate jobs")
	}
	if (!keeps || mode == ModeMetadata) && s.LongTerm != (LongTerm{}) {
		p.add(path+".long_term", "only for full and incremental jobs")
	}
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// checkCompression checks the compression fields: one compressor at most on
// full jobs, none set on incremental jobs (their chunks are always zstd).
func checkCompression(p *problems, path string, j *Job) {
	if j.Mode == ModeIncremental {
		fields := []struct{ name, v string }{{"compression", j.Compression}, {"xapi_compression", j.XAPICompression}}
		for _, f := range fields {
			if f.v != "" {
				p.addValue(path+"."+f.name, f.v, "not for incremental jobs (the repository compresses every chunk with zstd)")
			}
		}
		return
	}
	p.oneOf(path+".compression", j.Compression, CodecGzip, CodecZstd, CodecNone)
	p.oneOf(path+".xapi_compression", j.XAPICompression, CodecNone, CodecGzip, CodecZstd)
	if j.Compression != CodecNone && j.XAPICompression != CodecNone {
		p.add(path+".compression", "XAPI already compresses (xapi_compression: %s): set compression to none", j.XAPICompression)
	}
}

// checkIncremental checks what only incremental jobs have: one remote (its
// repository holds the points; copies are a mirror job's work) and cbt.
func checkIncremental(p *problems, path string, j *Job) {
	switch len(j.Remotes) {
	case 0:
		p.add(path+".remotes", "missing (an incremental job writes to one remote's repository)")
	case 1:
	default:
		p.add(path+".remotes", "an incremental job writes to exactly one remote (%d given): use a mirror job to copy restore points to another remote", len(j.Remotes))
	}
	p.oneOf(path+".cbt", j.CBT, CBTEnable, CBTUseIfEnabled)
}

// checkMetadata checks a metadata job: the pools whose database it backs
// up, at least one remote, and nothing that selects or compresses VMs (the
// dump is stored as XAPI serves it, as Xen Orchestra stores it).
func checkMetadata(p *problems, path string, j *Job) {
	if len(j.Remotes) == 0 {
		p.add(path+".remotes", "missing (a metadata job writes each pool's database to at least one remote)")
	}
	if j.VMs.Pool != "" || len(j.VMs.UUIDs) > 0 || len(j.VMs.Tags) > 0 || j.VMs.PowerState != "" {
		p.add(path+".vms", "a metadata job selects no VM (it backs up each pool's whole database)")
	}
}
