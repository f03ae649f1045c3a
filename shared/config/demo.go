package config

import (
	"path/filepath"
	"time"
)

// Demo names used by the embedded demo.
const (
	DemoPool                = "demo"
	DemoRemote              = "local"
	DemoJob                 = "demo-nightly"
	DemoSchedule            = "nightly"
	DemoIncrementalJob      = "demo-incremental"
	DemoIncrementalSchedule = "nightly"
)

// Demo returns the configuration of the self-contained demo that
// "xbr serve" runs without --config (architecture §3): the embedded NATS
// server, a pool "demo" at the built-in simulator's xapiURL, a directory
// remote "local" under <dataDir>/remote, and two jobs of every VM on that
// remote: "demo-nightly", full backups (XVA, gzip) kept 3 deep, at 02:00
// Europe/Paris; and "demo-incremental", incremental restore points in the
// remote's chunk repository (xbr-repo/) with changed block tracking turned
// on (read over NBD, which the demo's simulator serves), kept 7 deep, at
// 03:00 Europe/Paris.
func Demo(dataDir, xapiURL, username string, password Secret) (*Config, error) {
	c := &Config{
		DataDir: dataDir,
		Pools:   []Pool{{Name: DemoPool, URL: xapiURL, Username: username, Password: password}},
		Remotes: []Remote{{Name: DemoRemote, Type: RemoteDir, Path: filepath.Join(dataDir, "remote")}},
		Jobs:    []Job{demoFullJob(), demoIncrementalJob()},
		CatchUp: time.Hour,
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	return c, nil
}

func demoFullJob() Job {
	return Job{
		Name:        DemoJob,
		Mode:        ModeFull,
		Pools:       []string{DemoPool},
		Remotes:     []string{DemoRemote},
		Compression: CodecGzip,
		Schedules: []Schedule{{
			Name: DemoSchedule, Cron: "0 2 * * *", Timezone: "Europe/Paris", Enabled: true, Retention: 3,
		}},
	}
}

func demoIncrementalJob() Job {
	return Job{
		Name:    DemoIncrementalJob,
		Mode:    ModeIncremental,
		CBT:     CBTEnable,
		Pools:   []string{DemoPool},
		Remotes: []string{DemoRemote},
		Schedules: []Schedule{{
			Name: DemoIncrementalSchedule, Cron: "0 3 * * *", Timezone: "Europe/Paris", Enabled: true, Retention: 7,
		}},
	}
}
