#!/usr/bin/env bash
# Scale and soak of one "xbr serve" (every function, embedded NATS) against
# the XAPI simulator, with 1 MiB disks and compression none so that what is
# measured is xbr's own cost per VM, not the transfer (issue 19).
#
# Scale row, for each N: one full job over N VMs (concurrency 8, a directory
# remote): run time, per-VM ms, VMs/hour, xbr serve's peak RSS (VmHWM) and
# the XAPI calls per VM backup (from the simulator's GET /sim/stats), with
# the top methods.
# Soak row: a 10-VM job run SOAK times back to back (retention 3): RSS after
# run 100 and after the last, and the heap in use after a forced GC at both
# points (serve --debug-listen, /debug/pprof/heap?gc=1&debug=1).
#
# Usage: scripts/bench-scale.sh ["100 300 1000"]
#   XBR_BENCH_SOAK_RUNS  runs of the soak (default 1000; 0 skips it)
#   XBR_BENCH_PROFILES   a directory: the soak saves heap profiles there after
#                        run 100 and after the last (go tool pprof -diff_base)
#   XBR_BENCH_DUPLICATE_WINDOW  nats.duplicate_window of the soak's world (default
#                        2s; the scale rows use the config's default, 1h). The
#                        soak runs a month of runs in minutes; its window is
#                        scaled the same way (1,000 runs a month: one run every
#                        43 minutes, so 1h holds about one run; here a run takes
#                        about half a second), so nats-server's duplicate map
#                        holds what it would hold in a real month. Set 1h to see
#                        the map hold all 1,000 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
NS="${1:-100 300 1000}"
SOAK="${XBR_BENCH_SOAK_RUNS:-1000}"
SIM_PORT="${XBR_BENCH_SIM_PORT:-18521}"
NATS_PORT="${XBR_BENCH_NATS_PORT:-18522}"
DEBUG_PORT="${XBR_BENCH_DEBUG_PORT:-18523}"
WORK="$(mktemp -d)"
BIN="$WORK/xbr"
go build -o "$BIN" .
URL="http://127.0.0.1:$SIM_PORT"
NATS="nats://127.0.0.1:$NATS_PORT"
SIM_PID="" SERVE_PID=""
stop_world() {
	for p in $SERVE_PID $SIM_PID; do kill "$p" 2>/dev/null || true; done
	for p in $SERVE_PID $SIM_PID; do wait "$p" 2>/dev/null || true; done
	SIM_PID="" SERVE_PID=""
}
trap 'stop_world; rm -rf "$WORK"' EXIT

wait_port() {
	for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
	echo "port $1 never opened" >&2
	return 1
}

# start_world N CONCURRENCY RETENTION [DUPLICATE_WINDOW]: the simulator with N VMs and xbr serve
# with job "bench".
start_world() {
	rm -rf "$WORK/w" && mkdir -p "$WORK/w/remote"
	"$BIN" xapi-sim --listen "127.0.0.1:$SIM_PORT" --vms "$1" --disk-size 1MiB --data-dir "$WORK/w/sim" >"$WORK/w/sim.log" 2>&1 &
	SIM_PID=$!
	wait_port "$SIM_PORT"
	cat >"$WORK/w/xbr.yaml" <<YAML
pools:
  - {name: lab, url: "$URL", username: root, password: "\${XBR_BENCH_POOL_PASSWORD}"}
nats:
  duplicate_window: ${4:-1h}
remotes:
  - {name: nfs, type: dir, path: "$WORK/w/remote"}
jobs:
  - name: bench
    mode: full
    pools: [lab]
    remotes: [nfs]
    compression: none
    concurrency: $2
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: $3}
YAML
	export XBR_DATA_DIR="$WORK/w/data" # the CLI finds serve's client identity there
	XBR_BENCH_POOL_PASSWORD=xapisim "$BIN" serve --config "$WORK/w/xbr.yaml" --data-dir "$WORK/w/data" \
		--nats-listen "127.0.0.1:$NATS_PORT" --http 127.0.0.1:0 --debug-listen "127.0.0.1:$DEBUG_PORT" \
		--log-format json --log-level warn >"$WORK/w/serve.log" 2>&1 &
	SERVE_PID=$!
	wait_port "$NATS_PORT"
	wait_port "$DEBUG_PORT"
	# the ports open before the functions answer queries: wait for the jobs query
	for _ in $(seq 300); do "$BIN" jobs ls --nats "$NATS" >/dev/null 2>&1 && return 0; sleep 0.2; done
	echo "xbr serve never answered the jobs query" >&2
	return 1
}

run_job() {
	"$BIN" run bench --wait --nats "$NATS" >"$WORK/w/run.out" 2>&1 && return 0
	echo "xbr run failed:" >&2
	cat "$WORK/w/run.out" >&2
	echo "last lines of xbr serve's log:" >&2
	tail -n 40 "$WORK/w/serve.log" >&2
	return 1
}
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$SERVE_PID/status"; }
# Two forced collections: the first only moves idle pooled buffers (the
# sinks' blocks, nats-server's) to the pools' victim caches.
# heap_inuse prints the heap in use and the heap memory held from the OS
# (HeapSys - HeapReleased), in bytes, as "INUSE,HELD".
heap_inuse() {
	curl -fsS "http://127.0.0.1:$DEBUG_PORT/debug/pprof/heap?gc=1" >/dev/null
	curl -fsS "http://127.0.0.1:$DEBUG_PORT/debug/pprof/heap?gc=1&debug=1" |
		awk '$2 == "HeapInuse" {u = $4} $2 == "HeapSys" {s = $4} $2 == "HeapReleased" {r = $4} END {print u "," s - r}'
}

# profile RUN saves a heap profile (after a forced GC) to XBR_BENCH_PROFILES.
profile() {
	[ -n "${XBR_BENCH_PROFILES:-}" ] || return 0
	mkdir -p "$XBR_BENCH_PROFILES"
	curl -fsS "http://127.0.0.1:$DEBUG_PORT/debug/pprof/heap?gc=1" >"$XBR_BENCH_PROFILES/heap-run$1.pb.gz"
}

scale_row() {
	local n=$1
	start_world "$n" 8 1
	curl -fsS "$URL/sim/stats" >"$WORK/w/before.json"
	local t0 t1
	t0=$(date +%s.%N)
	run_job
	t1=$(date +%s.%N)
	curl -fsS "$URL/sim/stats" >"$WORK/w/after.json"
	local backups
	backups=$(find "$WORK/w/remote" -name '*.json' | wc -l)
	python3 - "$n" "$t0" "$t1" "$(kib VmHWM)" "$backups" "$WORK/w/before.json" "$WORK/w/after.json" <<'PY'
import json, sys
n, t0, t1, hwm, backups = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
before, after = (json.load(open(p))["calls"] for p in sys.argv[6:8])
delta = {m: c - before.get(m, 0) for m, c in after.items() if c - before.get(m, 0)}
run = t1 - t0
top = sorted(delta.items(), key=lambda kv: -kv[1])[:5]
print(f"| {n:,} | {run:.1f} s | {run * 1000 / n:.0f} ms | {n / run * 3600:,.0f} | {hwm / 1024:.0f} MiB | "
      f"{sum(delta.values()) / n:.1f} ({', '.join(f'{m} {c / n:.1f}' for m, c in top)}) |")
if backups != n:
    sys.exit(f"expected {n} backups, found {backups}")
PY
	stop_world
}

soak_row() {
	local window="${XBR_BENCH_DUPLICATE_WINDOW:-2s}"
	start_world 10 2 3 "$window"
	local rss100="" heap100="" i
	for i in $(seq "$SOAK"); do
		run_job || { echo "soak: run $i failed" >&2; return 1; }
		if [ "$i" -eq 100 ]; then rss100=$(kib VmRSS); heap100=$(heap_inuse); profile 100; fi
	done
	local rss heap
	rss=$(kib VmRSS)
	heap=$(heap_inuse)
	profile "$SOAK"
	python3 - "$SOAK" "$rss100" "$heap100" "$rss" "$heap" "$window" <<'PY'
import sys
n = int(sys.argv[1])
rss100 = int(sys.argv[2] or 0)
(heap100, held100), (heap, held) = ((int(v) for v in (a or "0,0").split(",")) for a in (sys.argv[3], sys.argv[5]))
rss = int(sys.argv[4])
def mib(k): return f"{k / 1024:.0f} MiB"
print(f"soak (duplicate window {sys.argv[6]}): 10-VM job x {n} runs: RSS after run 100 {mib(rss100)}, after run {n} {mib(rss)}"
      + (f" ({(rss - rss100) * 100 / rss100:+.0f}%)" if rss100 else "")
      + f"; heap in use after GC {heap100 / 2**20:.1f} -> {heap / 2**20:.1f} MiB"
      + f"; heap held from the OS {held100 / 2**20:.1f} -> {held / 2**20:.1f} MiB")
PY
	stop_world
}

echo "| VMs | run | per VM | VMs/hour | xbr serve peak RSS | XAPI calls per VM backup (top methods) |"
echo "|---|---|---|---|---|---|"
for n in $NS; do scale_row "$n"; done
if [ "$SOAK" -gt 0 ]; then soak_row; fi
echo "load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
