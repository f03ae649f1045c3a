package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"xbr/shared/xapi/xapisim"
)

// row is one measured way of getting the VM's XVA onto disk.
type row struct {
	name    string
	seconds float64
	out     int64   // bytes written
	rssKiB  int64   // peak RSS of the measured process (xbr only)
	stage   float64 // xbr only: MB/s of the export stage alone, from the backup's metadata
}

// settle flushes dirty pages and drops the page cache (root only; ignored
// otherwise) so a row does not pay for the previous row's writeback.
func settle() {
	_ = exec.Command("sync").Run()
	_ = os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o644)
}

// benchSize runs every baseline and every xbr codec on a VM of size bytes.
func benchSize(xbrBin, work string, size int64, skipSlow bool) ([]row, error) {
	dataDir := filepath.Join(work, "sim")
	sim, err := xapisim.New(xapisim.Options{VMs: 2, DiskSize: size, DataDir: dataDir, Logger: quietLogger()})
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	vm := haltedVM(sim)
	user, pass := sim.Credentials()
	export := fmt.Sprintf("%s/export?uuid=%s", url, vm)
	curl := fmt.Sprintf("curl -sf -u %s:%s '%s'", user, pass, export)
	out := filepath.Join(work, "out")
	baselines := [][2]string{
		{"curl > file", curl + " -o " + out},
		{"curl > file, fsync", curl + " -o " + out + " && sync " + out},
		{"curl | gzip -6", curl + " | gzip -6 > " + out},
		{"curl | pigz -p2 -6", curl + " | pigz -p2 -6 > " + out},
		{"curl | zstd -T2 -3", curl + " | zstd -q -T2 -3 -o " + out},
	}
	var rows []row
	for _, b := range baselines {
		if skipSlow && b[0] == "curl | gzip -6" {
			continue
		}
		r, err := shell(b[0], b[1], out)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	for _, codec := range []string{"none", "gzip", "zstd"} {
		r, err := xbrBackup(xbrBin, work, url, user, pass, vm, codec)
		if err != nil {
			return nil, fmt.Errorf("xbr %s: %w", codec, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func haltedVM(sim *xapisim.Server) string {
	for _, v := range sim.VMs() {
		if v.PowerState == "Halted" && !v.IsSnapshot && !v.IsTemplate {
			return v.UUID
		}
	}
	return sim.VMs()[0].UUID
}

func shell(name, script, out string) (row, error) {
	_ = os.Remove(out)
	settle()
	start := time.Now()
	cmd := exec.Command("bash", "-o", "pipefail", "-c", script)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return row{}, fmt.Errorf("%s: %w", name, err)
	}
	secs := time.Since(start).Seconds()
	st, err := os.Stat(out)
	if err != nil {
		return row{}, err
	}
	return row{name: name, seconds: secs, out: st.Size()}, nil
}

// xbrBackup runs `xbr serve` on a config with one job backing up vm with codec
// to a directory, triggers it with `xbr run --wait`, and returns the time of
// the run (snapshot, export, compression, write, cleanup) and serve's peak RSS.
func xbrBackup(xbrBin, work, url, user, pass, vm, codec string) (row, error) {
	dir := filepath.Join(work, "xbr-"+codec)
	_ = os.RemoveAll(dir)
	remote := filepath.Join(dir, "remote")
	if err := os.MkdirAll(remote, 0o755); err != nil {
		return row{}, err
	}
	cfg := filepath.Join(dir, "xbr.yaml")
	yaml := fmt.Sprintf(`pools: [{name: bench, url: %q, username: %q, password: "${XBR_BENCH_PASSWORD}"}]
remotes: [{name: disk, type: dir, path: %q}]
jobs:
  - name: bench
    pools: [bench]
    vms: {uuids: [%q]}
    remotes: [disk]
    compression: %s
    concurrency: 1
    schedules: [{name: manual, cron: "0 0 1 1 *", retention: 1}]
`, url, user, remote, vm, codec)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		return row{}, err
	}
	srv, natsURL, err := startServe(xbrBin, cfg, dir, pass)
	if err != nil {
		return row{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	settle()
	start := time.Now()
	run := exec.CommandContext(ctx, xbrBin, "run", "bench", "--wait", "--nats", natsURL,
		"--data-dir", filepath.Join(dir, "data")) // where serve keeps the client identity
	run.Stderr = os.Stderr
	runOut, runErr := run.Output()
	secs := time.Since(start).Seconds()
	rss, stopErr := stopServe(srv)
	if runErr != nil {
		return row{}, fmt.Errorf("xbr run: %w\n%s", runErr, runOut)
	}
	if stopErr != nil {
		return row{}, stopErr
	}
	size, err := treeSize(remote, ".xva")
	if err != nil {
		return row{}, err
	}
	stage, err := exportStage(remote)
	if err != nil {
		return row{}, err
	}
	return row{name: "xbr backup, " + codec, seconds: secs, out: size, rssKiB: rss, stage: stage}, nil
}

func stopServe(srv *exec.Cmd) (int64, error) {
	_ = srv.Process.Signal(syscall.SIGTERM)
	err := srv.Wait()
	var rss int64
	if ru, ok := srv.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss // KiB on Linux
	}
	if err != nil && !strings.Contains(err.Error(), "signal") {
		return rss, fmt.Errorf("xbr serve: %w", err)
	}
	return rss, nil
}

func treeSize(root, suffix string) (int64, error) {
	var n int64
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, suffix) {
			n += info.Size()
		}
		return err
	})
	return n, err
}
