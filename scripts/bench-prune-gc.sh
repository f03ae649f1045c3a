#!/usr/bin/env bash
# The cost of retention in an incremental job as its VMs grow: real
# "xbr xapi-sim" and "xbr serve" processes, one job over N VMs (4 MiB disks,
# concurrency 4, retention 1, a directory remote), run three times; the
# second and third runs each delete one restore point per VM. Shows each
# run's wall time and the CPU that xbr serve spent from the run's start until
# it was idle again (its prunes and the repository's GC included), as a
# markdown table. The repository is collected once per run; when it was
# collected once per VM, every GC read every manifest and its sweep marker
# held the run's backups back, so both grew with the square of the VMs.
#
# Usage: scripts/bench-prune-gc.sh ["N1 N2 ..."]   (default "60 120"; env XBR: the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${1:-60 120}"
WORK="$(mktemp -d)"
BIN="${XBR:-$WORK/xbr}"
[ -x "$BIN" ] || go build -o "$BIN" .
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "bench-prune-gc: no '$2' in $1" >&2; cat "$1" >&2; exit 1; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

echo
echo "retention of an incremental job, one point deleted per VM per run; load $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
echo
echo "| VMs | run | wall | xbr serve CPU until idle | per VM |"
echo "|---|---|---|---|---|"
for n in $SIZES; do
	w="$WORK/$n"
	mkdir -p "$w/repo"
	port=$(free_port)
	"$BIN" xapi-sim --listen "127.0.0.1:$port" --nbd nbd --data-dir "$w/sim" --pool-name sim --vms "$n" --disk-size 4MiB >"$w/sim.log" 2>&1 &
	sim=$!
	PIDS+=("$sim")
	wait_for "$w/sim.log" listening
	cat >"$w/xbr.yaml" <<YAML
pools: [{name: sim, url: "http://127.0.0.1:$port", username: root, password: xapisim}]
remotes: [{name: repo, type: dir, path: "$w/repo"}]
jobs:
  - {name: incr, mode: incremental, pools: [sim], remotes: [repo], concurrency: 4, schedules: [{name: m, cron: "0 0 1 1 *", timezone: UTC, retention: 1}]}
YAML
	export XBR_DATA_DIR="$w/data"
	"$BIN" serve --config "$w/xbr.yaml" --data-dir "$w/data" --nats-listen "127.0.0.1:$(free_port)" \
		--http "127.0.0.1:$(free_port)" --log-format json 2>"$w/serve.log" &
	serve=$!
	PIDS+=("$serve")
	wait_for "$w/serve.log" '"xbr serving"'
	nats=$(grep '"xbr serving"' "$w/serve.log" | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['nats'])")
	"$BIN" run incr --wait --nats "$nats" >/dev/null
	for run in 2 3; do
		c0=$(ticks "$serve")
		t0=$(date +%s.%N)
		"$BIN" run incr --wait --nats "$nats" >"$w/run.out" 2>&1 || { cat "$w/run.out" >&2; exit 1; }
		t1=$(date +%s.%N)
		prev=-1 # idle: no CPU used for 2 s
		while c=$(ticks "$serve"); [ "$c" != "$prev" ]; do prev=$c; sleep 2; done
		python3 -c "import sys; n,run,t0,t1,c,hz=sys.argv[1:]; cpu=int(c)/int(hz); print(f'| {n} | {run} | {float(t1)-float(t0):.2f} s | {cpu:.2f} s | {1000*cpu/int(n):.0f} ms |')" \
			"$n" "$run" "$t0" "$t1" "$((prev - c0))" "$hz"
	done
	kill "$serve" "$sim"
	wait "$serve" "$sim" 2>/dev/null || true
done
