package config

import (
	"path/filepath"
	"time"
)

// Demo names used by the embedded demo.
const (
	DemoPool     = "demo"
	DemoRemote   = "local"
	DemoJob      = "demo-nightly"
	DemoSchedule = "nightly"
)

// Demo returns the configuration of the self-contained demo that
// "xbr serve" runs without --config (architecture §3): the embedded NATS
// server, a pool "demo" at the built-in simulator's xapiURL, a directory
// remote "local" under <dataDir>/remote, and a full-backup job
// "demo-nightly" of every VM, gzip, depth 3, at 02:00 Europe/Paris.
func Demo(dataDir, xapiURL, username string, password Secret) (*Config, error) {
	c := &Config{
		DataDir: dataDir,
		Pools:   []Pool{{Name: DemoPool, URL: xapiURL, Username: username, Password: password}},
		Remotes: []Remote{{Name: DemoRemote, Type: RemoteDir, Path: filepath.Join(dataDir, "remote")}},
		Jobs: []Job{{
			Name:        DemoJob,
			Mode:        ModeFull,
			Pools:       []string{DemoPool},
			Remotes:     []string{DemoRemote},
			Compression: CodecGzip,
			Schedules: []Schedule{{
				Name: DemoSchedule, Cron: "0 2 * * *", Timezone: "Europe/Paris", Enabled: true, Retention: 3,
			}},
		}},
		CatchUp: time.Hour,
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	return c, nil
}
