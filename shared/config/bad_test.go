package config_test

import (
	"strings"
	"testing"

	"xbr/shared/config"
)

// base is a valid file; each case edits it. Its lines, for the expected texts:
//
//	1 pools:            7   - name: nfs       13     remotes: [nfs]
//	2   - name: lab     8     type: dir       14     schedules:
//	3     url: …        9     path: /mnt/b    15       - name: daily
//	4     username:    10 jobs:               16         cron: "0 2 * * *"
//	5     password:    11   - name: nightly   17         timezone: Europe/Paris
//	6 remotes:         12     pools: [lab]    18         retention: 3
const base = `pools:
  - name: lab
    url: https://xcp.example
    username: root
    password: ${XBR_PW}
remotes:
  - name: nfs
    type: dir
    path: /mnt/b
jobs:
  - name: nightly
    pools: [lab]
    remotes: [nfs]
    schedules:
      - name: daily
        cron: "0 2 * * *"
        timezone: Europe/Paris
        retention: 3
`

const pw = "s3cret-Pw!"

func env(vars ...string) config.Option {
	m := map[string]string{}
	for i := 0; i+1 < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	return config.WithLookupEnv(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
}

// edit applies old/new replacements to base, each of which must match.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	s := base
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("base has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func TestBadConfigs(t *testing.T) {
	const job = "  - name: nightly\n"
	tests := []struct {
		name  string
		edits []string
		env   []string
		want  string
	}{
		{"syntax error", []string{"username: root", "username: root: x"}, nil,
			"xbr.yaml:4: syntax error: mapping values are not allowed in this context"},
		{"unknown field", []string{"path: /mnt/b", "pth: /mnt/b"}, nil,
			"xbr.yaml:7: remotes[0].path: missing\n" +
				"xbr.yaml:9: remotes[0].pth: unknown field (did you mean path?)"},
		{"unknown top-level field", []string{"jobs:", "job:"}, nil,
			"xbr.yaml:10: job: unknown field (did you mean jobs?)"},
		{"job id not a uuid", []string{"  - name: nightly\n", "  - name: nightly\n    id: nightly-1\n"}, nil,
			`xbr.yaml:12: jobs[0].id: "nightly-1": not a UUID (want 8-4-4-4-12 lowercase hex digits)`},
		{"schedule id not a uuid", []string{"      - name: daily\n", "      - name: daily\n        id: 6C2B6F0E-7E3A-4D8E-A0F4-9D2C1B3A4E5F\n"}, nil,
			`xbr.yaml:16: jobs[0].schedules[0].id: "6C2B6F0E-7E3A-4D8E-A0F4-9D2C1B3A4E5F": not a UUID (want 8-4-4-4-12 lowercase hex digits)`},
		{"schedule ids shared", []string{"      - name: daily\n", "      - name: daily\n        id: 6c2b6f0e-7e3a-4d8e-a0f4-9d2c1b3a4e5f\n",
			"        retention: 3\n", "        retention: 3\n      - {name: weekly, id: 6c2b6f0e-7e3a-4d8e-a0f4-9d2c1b3a4e5f, cron: \"0 3 * * 0\", retention: 2}\n"}, nil,
			`xbr.yaml:20: jobs[0].schedules[1].id: "6c2b6f0e-7e3a-4d8e-a0f4-9d2c1b3a4e5f": also the id of jobs[0].schedules[0] (retention would count both as one)`},
		{"bad cron", []string{`"0 2 * * *"`, `"61 2 * * *"`}, nil,
			`xbr.yaml:16: jobs[0].schedules[0].cron: "61 2 * * *": minute 61 is out of range 0-59`},
		{"cron with 6 fields", []string{`"0 2 * * *"`, `"0 0 2 * * *"`}, nil,
			`xbr.yaml:16: jobs[0].schedules[0].cron: "0 0 2 * * *": expected 5 fields (minute hour day-of-month month day-of-week), got 6`},
		{"bad timezone", []string{"Europe/Paris", "Europe/Pariss"}, nil,
			`xbr.yaml:17: jobs[0].schedules[0].timezone: "Europe/Pariss": not an IANA time zone (e.g. Europe/Paris, UTC)`},
		{"machine-local timezone", []string{"Europe/Paris", "Local"}, nil,
			`xbr.yaml:17: jobs[0].schedules[0].timezone: "Local": not an IANA time zone (e.g. Europe/Paris, UTC)`},
		{"unknown remote", []string{"remotes: [nfs]", "remotes: [nfs, s3]"}, nil,
			`xbr.yaml:13: jobs[0].remotes[1]: "s3": no remote has this name`},
		{"unknown pool", []string{"pools: [lab]", "pools: [lab, prod, lab]"}, nil,
			`xbr.yaml:12: jobs[0].pools[1]: "prod": no pool has this name` + "\n" +
				`xbr.yaml:12: jobs[0].pools[2]: "lab": listed twice`},
		{"duplicate names", []string{"path: /mnt/b\n", "path: /mnt/b\n  - name: nfs\n    type: dir\n    path: /mnt/c\n"}, nil,
			`xbr.yaml:10: remotes[1].name: "nfs": duplicate name (also remotes[0])`},
		{"missing env var", nil, []string{}, "xbr.yaml:5: pools[0].password: environment variable XBR_PW is not set"},
		{"malformed env reference", []string{"username: root", "username: ${USER"}, nil,
			`xbr.yaml:4: pools[0].username: malformed ${VAR} reference in "${USER"`},
		{"URL without scheme", []string{"https://xcp.example", "xcp.example"}, nil,
			`xbr.yaml:3: pools[0].url: "xcp.example": not an absolute URL with a host (e.g. https://host:port)`},
		{"URL with wrong scheme", []string{"https://xcp.example", "ftp://xcp.example"}, nil,
			`xbr.yaml:3: pools[0].url: "ftp://xcp.example": scheme must be https or http`},
		{"bad size", []string{"remotes: [nfs]\n", "remotes: [nfs]\n    rate_limit: 50MiBs\n"}, nil,
			`xbr.yaml:14: jobs[0].rate_limit: "50MiBs": unknown unit "MiBs" (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`},
		{"bad duration", []string{"remotes: [nfs]\n", "remotes: [nfs]\n    vm_timeout: 1d\n"}, nil,
			`xbr.yaml:14: jobs[0].vm_timeout: "1d": not a duration (e.g. 90s, 30m, 2h45m)`},
		{"bad stall timeout", []string{"username: root", "username: root\n    stall_timeout: 10"}, nil,
			`xbr.yaml:5: pools[0].stall_timeout: "10": not a duration (e.g. 90s, 30m, 2h45m)`},
		{"negative stall timeout", []string{"username: root", "username: root\n    stall_timeout: -1m"}, nil,
			`xbr.yaml:5: pools[0].stall_timeout: "-1m0s": must not be negative`},
		{"stall timeout shorter than XAPI's keep-alive can bear", []string{"username: root", "username: root\n    stall_timeout: 3s"}, nil,
			`xbr.yaml:5: pools[0].stall_timeout: "3s": must be 0 (the default, 10m0s) or at least 30s: XAPI sends an export's keep-alive every 5 s`},
		{"negative retention", []string{"retention: 3", "retention: -1"}, nil,
			`xbr.yaml:18: jobs[0].schedules[0].retention: "-1": must not be negative`},
		{"negative duration", []string{"remotes: [nfs]\n", "remotes: [nfs]\n    retry_backoff: -5s\n"}, nil,
			`xbr.yaml:14: jobs[0].retry_backoff: "-5s": must not be negative`},
		{"negative rpo", []string{"remotes: [nfs]\n", "remotes: [nfs]\n    rpo: -26h\n"}, nil,
			`xbr.yaml:14: jobs[0].rpo: "-26h0m0s": must not be negative`},
		{"bad mode", []string{job, job + "    mode: delta\n"}, nil,
			`xbr.yaml:12: jobs[0].mode: "delta": must be full, snapshot, replicate, incremental, verify, gc, mirror, metadata`},
		{"replicate without target", []string{job, job + "    mode: replicate\n", "    remotes: [nfs]\n", "", "retention: 3", "copy_retention: 1"}, nil,
			"xbr.yaml:11: jobs[0].target.pool: missing (replicate copies VMs to this pool)\n" +
				"xbr.yaml:11: jobs[0].target.sr: missing (the SR, by UUID or name, that receives the copies)"},
		{"snapshot without snapshot_retention", []string{job, job + "    mode: snapshot\n", "    remotes: [nfs]\n", ""}, nil,
			"xbr.yaml:15: jobs[0].schedules[0].snapshot_retention: must be at least 1 for a snapshot job\n" +
				"xbr.yaml:18: jobs[0].schedules[0].retention: only for full and incremental jobs (a snapshot job keeps nothing on remotes)"},
		{"snapshot_retention on a full job", []string{"retention: 3", "retention: 3\n        snapshot_retention: 2"}, nil,
			"xbr.yaml:19: jobs[0].schedules[0].snapshot_retention: only for snapshot jobs (a full job keeps no snapshot; add a snapshot job for rolling snapshots)"},
		{"target on a full job", []string{"remotes: [nfs]\n", "remotes: [nfs]\n    target: {pool: lab, sr: x}\n"}, nil,
			"xbr.yaml:14: jobs[0].target: only for replicate jobs"},
		{"not an integer", []string{"retention: 3", "retention: three"}, nil,
			`xbr.yaml:18: jobs[0].schedules[0].retention: "three": not an integer`},
		{"not a boolean", []string{"retention: 3", "retention: 3\n        enabled: yes"}, nil,
			`xbr.yaml:19: jobs[0].schedules[0].enabled: "yes": not true or false`},
		{"scalar where a list belongs", []string{"pools: [lab]", "pools: lab"}, nil,
			`xbr.yaml:12: jobs[0].pools: "lab": expected a list`},
		{"list where a value belongs", []string{"username: root", "username: [root]"}, nil,
			"xbr.yaml:4: pools[0].username: expected a single value, not a list"},
		{"duplicate field", []string{"username: root", "username: root\n    username: admin"}, nil,
			"xbr.yaml:5: pools[0].username: duplicate field"},
		{"bad name", []string{"name: nightly", "name: night ly"}, nil,
			`xbr.yaml:11: jobs[0].name: "night ly": use up to 64 letters, digits, "-" or "_", starting with a letter or digit`},
		{"bad fingerprint", []string{"username: root", "username: root\n    tls_fingerprint: AB:CD"}, nil,
			`xbr.yaml:5: pools[0].tls_fingerprint: "AB:CD": not a SHA-256 fingerprint (64 hex digits, colons allowed)`},
		{"bad host pin", []string{"username: root", "username: root\n    host_fingerprints: [{address: \"evil/x\", fingerprint: AB}]"}, nil,
			`xbr.yaml:5: pools[0].host_fingerprints[0].address: "evil/x": not a host address (an IP address or a host name, optionally with :port)` + "\n" +
				`xbr.yaml:5: pools[0].host_fingerprints[0].fingerprint: "AB": not a SHA-256 fingerprint (64 hex digits, colons allowed)`},
		{"bad VM uuid and mixed selection", []string{"pools: [lab]", "pools: [lab]\n    vms: {uuids: [not-a-uuid], tags: [prod]}"}, nil,
			"xbr.yaml:13: jobs[0].vms.uuids: choose uuids or pool/tags/power_state, not both\n" +
				`xbr.yaml:13: jobs[0].vms.uuids[0]: "not-a-uuid": not a UUID`},
		{"bad power state", []string{"pools: [lab]", "pools: [lab]\n    vms: {power_state: on}"}, nil,
			`xbr.yaml:13: jobs[0].vms.power_state: "on": must be Running, Halted, Suspended, Paused`},
		{"double compression", []string{"remotes: [nfs]\n", "remotes: [nfs]\n    compression: gzip\n    xapi_compression: zstd\n"}, nil,
			"xbr.yaml:14: jobs[0].compression: XAPI already compresses (xapi_compression: zstd): set compression to none"},
		{"s3 remote without bucket", []string{"type: dir\n    path: /mnt/b", "type: s3\n    endpoint: http://127.0.0.1:7070\n    prefix: /abs"}, nil,
			"xbr.yaml:7: remotes[0].bucket: missing\n" +
				`xbr.yaml:10: remotes[0].prefix: "/abs": must be a relative key prefix without ".." (e.g. team-a/xbr)`},
		{"s3 field on a dir remote", []string{"path: /mnt/b", "path: /mnt/b\n    bucket: b1"}, nil,
			"xbr.yaml:10: remotes[0].bucket: only for s3 remotes"},
		{"embedded NATS with replicas", []string{"pools:\n", "nats:\n  stream_replicas: 3\n  listen: localhost\npools:\n"}, nil,
			`xbr.yaml:2: nats.stream_replicas: "3": the embedded server keeps 1 replica; set nats.url to use a cluster` + "\n" +
				`xbr.yaml:3: nats.listen: "localhost": not a host:port address (e.g. 127.0.0.1:8080)`},
		{"bad duplicate window", []string{"pools:\n", "nats:\n  duplicate_window: -1s\npools:\n"}, nil,
			`xbr.yaml:2: nats.duplicate_window: "-1s": must not be negative`},
		{"duplicate window over the history", []string{"pools:\n", "nats:\n  events_max_age: 1h\n  duplicate_window: 2h\npools:\n"}, nil,
			`xbr.yaml:3: nats.duplicate_window: "2h0m0s": must not exceed nats.events_max_age (1h0m0s)`},
		{"bad repository settings", []string{"path: /mnt/b", "path: /mnt/b\n    chunk_size: 100KiB\n    encryption_key_file: /nonexistent/xbr.key"}, nil,
			`xbr.yaml:10: remotes[0].chunk_size: "100KiB": must be a multiple of 64KiB from 64KiB to 16MiB` + "\n" +
				`xbr.yaml:11: remotes[0].encryption_key_file: "/nonexistent/xbr.key": cannot read: no such file or directory` + "\n" +
				`xbr.yaml:15: jobs[0].remotes: "nfs": this remote has an encryption_key_file, which encrypts only its incremental repository: ` +
				`a full job would write plain files there; give the job a remote without a key (another path or prefix)`},
		{"bad NATS url", []string{"pools:\n", "nats:\n  url: http://nats:4222\npools:\n"}, nil,
			`xbr.yaml:2: nats.url: "http://nats:4222": scheme must be nats or tls or ws or wss`},
		{"no schedules", []string{"    schedules:\n      - name: daily\n        cron: \"0 2 * * *\"\n        timezone: Europe/Paris\n        retention: 3\n", ""}, nil,
			"xbr.yaml:11: jobs[0].schedules: missing (at least one schedule holds the retention)"},
		{"missing fields", []string{"    url: https://xcp.example\n", "", "    type: dir\n", ""}, nil,
			"xbr.yaml:2: pools[0].url: missing\n" +
				"xbr.yaml:6: remotes[0].type: missing (dir or s3)"},
		{"second document", []string{"retention: 3\n", "retention: 3\n---\nfoo: 1\n"}, nil, "xbr.yaml:19: only one YAML document is allowed"},
		{"empty file", []string{base, "# nothing\n"}, nil, "xbr.yaml: the file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := []string{"XBR_PW", pw}
			if tt.env != nil {
				e = tt.env
			}
			_, err := config.Parse("xbr.yaml", []byte(edit(t, tt.edits...)), env(e...))
			if err == nil {
				t.Fatalf("no error, want:\n%s", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
}
