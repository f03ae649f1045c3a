#!/usr/bin/env bash
# Measures what one export worker does per hour on the XAPI simulator, and
# xbr's orchestration overhead per VM.
#
# Starts "xbr xapi-sim" with N VMs of SIZE, one "xbr serve --functions export"
# process (embedded NATS: one worker, the job's concurrency C), runs a full
# backup job of every VM to a directory remote with "xbr run --wait", and
# compares it with the floor: curl of a VM's /export to a file (mean of ten).
#
#   VMs/hour per worker  = N / run wall time
#   overhead per VM (ms) = run wall time x C / N - floor per VM
#
# The overhead is what xbr adds around the transfer: planning, the KV run
# record, snapshot create/destroy, events, fsyncs, metadata, the next VM's
# request. Usage: scripts/bench-scaleout.sh [N] [SIZE] [CODEC] [C]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-50}"
SIZE="${2:-16MiB}"
CODEC="${3:-none}"
C="${4:-2}"
SIM_PORT="${XBR_BENCH_SIM_PORT:-18511}"
NATS_PORT="${XBR_BENCH_NATS_PORT:-18512}"
WORK="$(mktemp -d)"
BIN="$WORK/xbr"
go build -o "$BIN" .
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" xapi-sim --listen "127.0.0.1:$SIM_PORT" --vms "$N" --disk-size "$SIZE" --data-dir "$WORK/sim" >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
URL="http://127.0.0.1:$SIM_PORT"
for _ in $(seq 100); do grep -q listening "$WORK/sim.log" && break; sleep 0.1; done

# The floor: curl /export of ten halted VMs (even-numbered) to a file, one at a time.
rpc() { curl -s -X POST --data "$1" "$URL/jsonrpc"; }
SESSION=$(rpc '{"jsonrpc":"2.0","id":1,"method":"session.login_with_password","params":["root","xapisim"]}' |
	python3 -c "import json,sys; print(json.load(sys.stdin)['result'])")
vmref() {
	rpc "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"VM.get_by_name_label\",\"params\":[\"$SESSION\",\"$1\"]}" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['result'][0])"
}
FLOOR_START=$(date +%s.%N)
FLOOR_VMS=0
for i in $(seq 2 2 20); do
	[ "$i" -le "$N" ] || break
	vm=$(printf 'vm-%02d' "$i")
	FLOOR_VMS=$((FLOOR_VMS + 1))
	curl -fsS -o "$WORK/floor.xva" "$URL/export?session_id=$SESSION&ref=$(vmref $vm)"
done
FLOOR_END=$(date +%s.%N)
XVA_BYTES=$(stat -c %s "$WORK/floor.xva")
rm -f "$WORK/floor.xva"

mkdir -p "$WORK/remote"
cat >"$WORK/xbr.yaml" <<YAML
pools:
  - {name: lab, url: "$URL", username: root, password: "\${XBR_BENCH_POOL_PASSWORD}"}
remotes:
  - {name: nfs, type: dir, path: "$WORK/remote"}
jobs:
  - name: bench
    mode: full
    pools: [lab]
    remotes: [nfs]
    compression: $CODEC
    concurrency: $C
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 1}
YAML
export XBR_BENCH_POOL_PASSWORD=xapisim
export XBR_DATA_DIR="$WORK/data" # the CLI finds serve's client identity there
"$BIN" serve --config "$WORK/xbr.yaml" --functions export --data-dir "$WORK/data" \
	--nats-listen "127.0.0.1:$NATS_PORT" --http 127.0.0.1:0 --log-format json --log-level warn >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do grep -q '"xbr serving"' "$WORK/serve.log" 2>/dev/null && break; sleep 0.1; done
# warn level hides the serving line: wait for the port instead.
for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && break; sleep 0.1; done

RUN_START=$(date +%s.%N)
"$BIN" run bench --wait --nats "nats://127.0.0.1:$NATS_PORT" >"$WORK/run.out"
RUN_END=$(date +%s.%N)
BACKUPS=$(find "$WORK/remote" -name '*.json' | wc -l)

python3 - "$N" "$SIZE" "$CODEC" "$C" "$FLOOR_START" "$FLOOR_END" "$RUN_START" "$RUN_END" "$BACKUPS" "$XVA_BYTES" "$FLOOR_VMS" <<'PY'
import os, sys
n, size, codec, c = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
floor = (float(sys.argv[6]) - float(sys.argv[5])) / int(sys.argv[11])
run = float(sys.argv[8]) - float(sys.argv[7])
backups, xva = int(sys.argv[9]), int(sys.argv[10])
per_vm_slot = run * c / n
print(f"{n} VMs x {size} (XVA {xva / 2**20:.1f} MiB), codec {codec}, job concurrency {c}, one export worker")
print(f"run: {run:.2f} s, {backups} backups committed")
print(f"VMs/hour per export worker: {n / run * 3600:,.0f}")
print(f"floor (curl /export to a file): {floor * 1000:.0f} ms per VM")
print(f"per VM in xbr: {per_vm_slot * 1000:.0f} ms per concurrency slot -> orchestration overhead {(per_vm_slot - floor) * 1000:.0f} ms per VM")
print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
if backups != n:
    sys.exit(f"expected {n} backups, found {backups}")
PY
