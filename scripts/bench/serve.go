package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// startServe runs `xbr serve --config cfg` with its own embedded NATS and
// returns once it logs where NATS listens.
func startServe(xbrBin, cfg, dir, pass string) (*exec.Cmd, string, error) {
	cmd := exec.Command(xbrBin, "serve", "--config", cfg, "--data-dir", filepath.Join(dir, "data"),
		"--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-format", "json", "--functions", "export")
	cmd.Env = append(os.Environ(), "XBR_BENCH_PASSWORD="+pass)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) == nil && l["msg"] == "xbr serving" {
			go drain(sc)
			url, _ := l["nats"].(string)
			return cmd, url, nil
		}
	}
	_ = cmd.Wait()
	return nil, "", fmt.Errorf("xbr serve exited before serving")
}

func drain(sc *bufio.Scanner) {
	for sc.Scan() {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) == nil && (l["level"] == "ERROR" || l["level"] == "WARN") {
			fmt.Fprintln(os.Stderr, "xbr serve:", sc.Text())
		}
	}
}

// exportStage reads the backup's metadata on the remote and returns the
// export stage's own rate: raw XVA bytes over the export's duration
// (snapshot to commit), without the CLI, planning and cleanup around it.
func exportStage(remote string) (float64, error) {
	var rate float64
	err := filepath.Walk(remote, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || filepath.Ext(p) != ".json" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var m struct {
			Xbr struct {
				RawSize    int64 `json:"raw_size"`
				DurationMS int64 `json:"duration_ms"`
			} `json:"xbr"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if m.Xbr.DurationMS > 0 {
			rate = float64(m.Xbr.RawSize) / (float64(m.Xbr.DurationMS) / 1000) / 1e6
		}
		return nil
	})
	return rate, err
}
