package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// check validates a defaulted configuration; problems go to p.
func (c *Config) check(p *problems) {
	c.checkNATS(p)
	names := func(kind string, n int, name func(int) string) {
		list := make([]string, n)
		for i := range list {
			list[i] = name(i)
			p.name(fmt.Sprintf("%s[%d].name", kind, i), list[i])
		}
		p.unique(kind, list)
	}
	names("pools", len(c.Pools), func(i int) string { return c.Pools[i].Name })
	names("remotes", len(c.Remotes), func(i int) string { return c.Remotes[i].Name })
	names("jobs", len(c.Jobs), func(i int) string { return c.Jobs[i].Name })
	for i := range c.Pools {
		checkPool(p, fmt.Sprintf("pools[%d]", i), &c.Pools[i])
	}
	for i, r := range c.Remotes {
		checkRemote(p, fmt.Sprintf("remotes[%d]", i), r)
	}
	ids := map[string]int{}
	for i := range c.Jobs {
		c.checkJob(p, fmt.Sprintf("jobs[%d]", i), &c.Jobs[i])
		if other, ok := ids[c.Jobs[i].ID]; ok {
			p.addValue(fmt.Sprintf("jobs[%d].id", i), c.Jobs[i].ID, "also the id of jobs[%d]: two jobs would share their backups' retention", other)
		}
		ids[c.Jobs[i].ID] = i
	}
	c.checkScheduleIDs(p)
	c.Gateway.check(p)
	c.Reports.Daily.check(p)
	if c.CatchUp < 0 {
		p.addValue("catch_up", c.CatchUp.String(), "must not be negative")
	}
}

// checkScheduleIDs rejects a schedule id used by two jobs (checkJob checks
// one job's): Xen Orchestra's schedule ids are unique, and pool metadata
// backups are kept per schedule id and pool, so the retention of one job
// would delete the other's. Two jobs sharing their id are reported already.
func (c *Config) checkScheduleIDs(p *problems) {
	type at struct{ job, sched int }
	first := map[string]at{}
	for i, j := range c.Jobs {
		for k, s := range j.Schedules {
			prev, dup := first[s.ID]
			switch {
			case s.ID == "":
			case !dup:
				first[s.ID] = at{i, k}
			case prev.job != i && c.Jobs[prev.job].ID != j.ID:
				p.addValue(fmt.Sprintf("jobs[%d].schedules[%d].id", i, k), s.ID,
					"also the id of jobs[%d].schedules[%d]: schedule ids are unique across jobs (a metadata job's retention would delete the other job's backups)", prev.job, prev.sched)
			}
		}
	}
}

var subjectPrefix = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)

func (c *Config) checkNATS(p *problems) {
	n := c.NATS
	for _, u := range strings.Split(n.URL, ",") {
		if n.URL != "" {
			p.url("nats.url", strings.TrimSpace(u), "nats", "tls", "ws", "wss")
		}
	}
	p.listen("nats.listen", n.Listen)
	if !subjectPrefix.MatchString(n.Prefix) {
		p.addValue("nats.prefix", n.Prefix, `use subject tokens of letters, digits, "-" or "_", separated by dots`)
	}
	var auth []string
	for _, a := range []struct {
		field string
		set   bool
	}{{"credentials_file", n.CredentialsFile != ""}, {"nkey_file", n.NKeyFile != ""},
		{"user", n.User != "" || n.Password.IsSet()}, {"token", n.Token.IsSet()}} {
		if a.set {
			auth = append(auth, a.field)
		}
	}
	if len(auth) > 1 {
		p.add("nats."+auth[1], "choose one way to authenticate: %s are all set", strings.Join(auth, ", "))
	}
	if (n.User == "") != !n.Password.IsSet() {
		p.add("nats.password", "user and password go together")
	}
	p.readable("nats.credentials_file", n.CredentialsFile)
	p.readable("nats.nkey_file", n.NKeyFile)
	p.readable("nats.tls.ca", n.TLS.CA)
	p.readable("nats.tls.cert", n.TLS.Cert)
	p.readable("nats.tls.key", n.TLS.Key)
	if (n.TLS.Cert == "") != (n.TLS.Key == "") {
		p.add("nats.tls.key", "cert and key go together")
	}
	switch {
	case n.StreamReplicas < 1 || n.StreamReplicas > 5:
		p.addValue("nats.stream_replicas", strconv.Itoa(n.StreamReplicas), "must be 1 to 5")
	case n.URL == "" && n.StreamReplicas > 1:
		p.addValue("nats.stream_replicas", strconv.Itoa(n.StreamReplicas), "the embedded server keeps 1 replica; set nats.url to use a cluster")
	}
	if n.EventsMaxAge < 0 {
		p.addValue("nats.events_max_age", n.EventsMaxAge.String(), "must not be negative")
	}
	for field, v := range map[string]ByteSize{"events_max_bytes": n.EventsMaxBytes,
		"progress_max_bytes": n.ProgressMaxBytes, "dlq_max_bytes": n.DLQMaxBytes} {
		if v < 0 {
			p.addValue("nats."+field, strconv.FormatInt(int64(v), 10), "must not be negative")
		}
	}
	switch {
	case n.DuplicateWindow < 0:
		p.addValue("nats.duplicate_window", n.DuplicateWindow.String(), "must not be negative")
	case n.EventsMaxAge > 0 && n.DuplicateWindow > n.EventsMaxAge:
		p.addValue("nats.duplicate_window", n.DuplicateWindow.String(),
			"must not exceed nats.events_max_age (%s)", n.EventsMaxAge)
	}
	c.checkEmbeddedLogin(p)
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func checkPool(p *problems, path string, pool *Pool) {
	if pool.URL == "" {
		p.add(path+".url", "missing")
	} else {
		p.url(path+".url", pool.URL, "https", "http")
	}
	if pool.Username == "" {
		p.add(path+".username", "missing")
	}
	if !pool.Password.IsSet() {
		p.add(path+".password", "missing (set password or password_file)")
	}
	if pool.TLSFingerprint != "" {
		fp := strings.ToLower(strings.ReplaceAll(pool.TLSFingerprint, ":", ""))
		if !hex64.MatchString(fp) {
			p.addValue(path+".tls_fingerprint", pool.TLSFingerprint, "not a SHA-256 fingerprint (64 hex digits, colons allowed)")
		}
		pool.TLSFingerprint = fp
		if pool.Insecure {
			p.add(path+".insecure", "insecure and tls_fingerprint exclude each other (a pin is verified)")
		}
	}
	for i := range pool.HostFingerprints {
		pin := &pool.HostFingerprints[i]
		at := fmt.Sprintf("%s.host_fingerprints[%d]", path, i)
		if !hostAddrRE.MatchString(pin.Address) {
			p.addValue(at+".address", pin.Address, "not a host address (an IP address or a host name, optionally with :port)")
		}
		fp := strings.ToLower(strings.ReplaceAll(pin.Fingerprint, ":", ""))
		if !hex64.MatchString(fp) {
			p.addValue(at+".fingerprint", pin.Fingerprint, "not a SHA-256 fingerprint (64 hex digits, colons allowed)")
		}
		pin.Fingerprint = fp
	}
	switch t := pool.StallTimeout; {
	case t < 0:
		p.addValue(path+".stall_timeout", t.String(), "must not be negative")
	case t > 0 && t < MinStallTimeout:
		p.addValue(path+".stall_timeout", t.String(), "must be 0 (the default, %s) or at least %s: XAPI sends an export's keep-alive every 5 s",
			DefaultStallTimeout, MinStallTimeout)
	}
}

// hostAddrRE accepts an IPv4 address, a host name or a bracketed IPv6
// address, optionally with a port, or a bare IPv6 address.
var hostAddrRE = regexp.MustCompile(`^(([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$`)

var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func checkRemote(p *problems, path string, r Remote) {
	s3Fields := map[string]bool{"endpoint": r.Endpoint != "", "bucket": r.Bucket != "", "prefix": r.Prefix != "",
		"region": r.Region != "", "access_key": r.AccessKey.IsSet(), "secret_key": r.SecretKey.IsSet()}
	switch r.Type {
	case "":
		p.add(path+".type", "missing (dir or s3)")
	case RemoteDir:
		if r.Path == "" {
			p.add(path+".path", "missing")
		}
		for f, set := range s3Fields {
			if set {
				p.add(path+"."+f, "only for s3 remotes")
			}
		}
	case RemoteS3:
		checkS3(p, path, r)
	default:
		p.addValue(path+".type", r.Type, "must be dir or s3")
	}
	checkRepository(p, path, r)
}

// Bounds of a repository's chunk size (shared/repo checks the same).
const (
	minChunkSize = 64 << 10
	maxChunkSize = 16 << 20
)

// checkRepository checks the settings of the remote's incremental repository.
func checkRepository(p *problems, path string, r Remote) {
	if cs := int64(r.ChunkSize); cs != 0 && (cs < minChunkSize || cs > maxChunkSize || cs%minChunkSize != 0) {
		p.addValue(path+".chunk_size", r.ChunkSize.String(), "must be a multiple of 64KiB from 64KiB to 16MiB")
	}
	p.readable(path+".encryption_key_file", r.EncryptionKeyFile)
}

func checkS3(p *problems, path string, r Remote) {
	if r.Path != "" {
		p.add(path+".path", "only for dir remotes (s3 remotes use bucket and prefix)")
	}
	if r.Endpoint == "" {
		p.add(path+".endpoint", "missing")
	} else {
		p.url(path+".endpoint", r.Endpoint, "https", "http")
	}
	switch {
	case r.Bucket == "":
		p.add(path+".bucket", "missing")
	case !bucketRE.MatchString(r.Bucket) || strings.Contains(r.Bucket, ".."):
		p.addValue(path+".bucket", r.Bucket, "not a bucket name (3-63 lowercase letters, digits, dots and hyphens)")
	}
	if strings.HasPrefix(r.Prefix, "/") || strings.Contains(r.Prefix, "\\") || hasDotDot(r.Prefix) {
		p.addValue(path+".prefix", r.Prefix, `must be a relative key prefix without ".." (e.g. team-a/xbr)`)
	}
	if r.AccessKey.IsSet() != r.SecretKey.IsSet() {
		p.add(path+".secret_key", "access_key and secret_key go together")
	}
}

func hasDotDot(prefix string) bool {
	for _, seg := range strings.Split(prefix, "/") {
		if seg == ".." || seg == "." {
			return true
		}
	}
	return false
}
