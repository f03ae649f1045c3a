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
