#!/usr/bin/env bash
# Measures how fast the XAPI simulator serves an uncompressed /export:
# builds xbr, starts "xbr xapi-sim" with one VM of SIZE (default 8GiB), and
# times "curl -s -o /dev/null" of /export of its halted VM. Prints MB/s.
# Usage: scripts/bench-sim.sh [SIZE]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-8GiB}"
PORT="${XBR_BENCH_PORT:-18499}"
BIN="$(mktemp -d)/xbr"
go build -o "$BIN" .
OUT="$(mktemp)"
# --vms 2: vm-01 runs, vm-02 is halted and exportable.
"$BIN" xapi-sim --listen "127.0.0.1:$PORT" --vms 2 --disk-size "$SIZE" >"$OUT" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$(dirname "$BIN")" "$OUT"' EXIT
URL="http://127.0.0.1:$PORT"
for _ in $(seq 100); do grep -q listening "$OUT" && break; sleep 0.1; done
rpc() { curl -s -X POST --data "$1" "$URL/jsonrpc"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['result'])"; }
SESSION=$(rpc '{"jsonrpc":"2.0","id":1,"method":"session.login_with_password","params":["root","xapisim"]}' | field)
VM=$(rpc "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"VM.get_by_name_label\",\"params\":[\"$SESSION\",\"vm-02\"]}" |
	python3 -c "import json,sys; print(json.load(sys.stdin)['result'][0])")
simcpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
CPU0=$(simcpu)
START=$(date +%s.%N)
BYTES=$(curl -s -o /dev/null -w '%{size_download}' "$URL/export?session_id=$SESSION&ref=$VM")
END=$(date +%s.%N)
CPU1=$(simcpu)
python3 - "$BYTES" "$START" "$END" "$SIZE" "$((CPU1 - CPU0))" "$(getconf CLK_TCK)" <<'PY'
import os, sys
n, t0, t1, size = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
cpu = int(sys.argv[5]) / int(sys.argv[6])
secs = t1 - t0
print(f"xapi-sim /export of a {size} disk (uncompressed XVA, zero chunks omitted): "
      f"{n} bytes in {secs:.2f} s = {n / secs / 1e6:.0f} MB/s through curl")
print(f"simulator CPU: {cpu:.2f} s ({n / max(cpu, 0.01) / 1e6:.0f} MB per CPU-second); "
      f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
PY
