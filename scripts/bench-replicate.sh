#!/usr/bin/env bash
# Replication throughput against curl baselines, on the same two simulated
# pools (two "xbr xapi-sim" processes: a source with a halted VM of SIZE,
# default 512MiB, and a standby pool).
#
#   pipe    curl /export | curl -T - /import. Plain "curl -T -" sends
#           Transfer-Encoding: chunked, which /import rejects
#           (IMPORT_ERROR_CANNOT_HANDLE_CHUNKED). The equivalent that works:
#           learn the XVA's length N with one export first (the simulator's
#           export of a halted VM is byte-for-byte the same each time), then
#           stream with -H "Content-Length: N" -H "Transfer-Encoding:" so curl
#           sends a plain body of known length, concurrently with the export.
#           This is the baseline that matches what replication does.
#   file    curl /export to a file, then curl -T file /import (sequential; the
#           sum is what a copy through an intermediate file costs).
#   xbr     BenchmarkReplicate (functions/replicate): snapshot, /export
#           streamed into /import, name/tag/block/keys, prune the previous
#           copy, destroy the snapshot. Per-iteration MB/s of the XVA bytes.
#
# CODEC=zstd|gzip asks XAPI to compress in both the baseline and xbr.
# Usage: scripts/bench-replicate.sh [SIZE]   (ITER=3 replications by default)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-512MiB}"
ITER="${ITER:-3}"
CODEC="${CODEC:-}"
SRC_PORT="${XBR_BENCH_PORT:-18521}"
DST_PORT=$((SRC_PORT + 1))
WORK="$(mktemp -d)"
BIN="$WORK/xbr"
go build -o "$BIN" .
"$BIN" xapi-sim --listen "127.0.0.1:$SRC_PORT" --vms 2 --disk-size "$SIZE" --data-dir "$WORK/src" --pool-name main >"$WORK/src.log" 2>&1 &
SRC_PID=$!
"$BIN" xapi-sim --listen "127.0.0.1:$DST_PORT" --vms 1 --disk-size 1MiB --data-dir "$WORK/dst" --pool-name standby >"$WORK/dst.log" 2>&1 &
DST_PID=$!
trap 'kill "$SRC_PID" "$DST_PID" 2>/dev/null; wait "$SRC_PID" "$DST_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
SRC="http://127.0.0.1:$SRC_PORT"
DST="http://127.0.0.1:$DST_PORT"
for _ in $(seq 100); do grep -q listening "$WORK/src.log" && grep -q listening "$WORK/dst.log" && break; sleep 0.1; done

rpc() { curl -s -X POST --data "$2" "$1/jsonrpc"; }
result() { python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print(r[0] if isinstance(r, list) else r)"; }
login() { rpc "$1" '{"jsonrpc":"2.0","id":1,"method":"session.login_with_password","params":["root","xapisim"]}' | result; }
S_SRC=$(login "$SRC")
S_DST=$(login "$DST")
VM=$(rpc "$SRC" "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"VM.get_by_name_label\",\"params\":[\"$S_SRC\",\"vm-02\"]}" | result)
COMP=false
[ -n "$CODEC" ] && COMP="$CODEC"
[ "$CODEC" = gzip ] && COMP=true
EXPORT="$SRC/export?session_id=$S_SRC&ref=$VM&use_compression=$COMP"
IMPORT="$DST/import?session_id=$S_DST"
now() { date +%s.%N; }

N=$(curl -s -o /dev/null -w '%{size_download}' "$EXPORT") # the length, and a warm-up

T0=$(now)
curl -s "$EXPORT" | curl -s -o /dev/null -T - -H "Content-Length: $N" -H "Transfer-Encoding:" "$IMPORT"
T1=$(now)
curl -s -o "$WORK/x.xva" "$EXPORT"
T2=$(now)
curl -s -o /dev/null -T "$WORK/x.xva" "$IMPORT"
T3=$(now)
rm -f "$WORK/x.xva"

BENCH=$(XBR_BENCH_SRC_URL="$SRC" XBR_BENCH_DST_URL="$DST" XBR_BENCH_CODEC="$CODEC" \
	go test -run '^$' -bench '^BenchmarkReplicate$' -benchtime "${ITER}x" ./functions/replicate | grep '^BenchmarkReplicate')
echo "$BENCH"

python3 - "$N" "$SIZE" "${CODEC:-none}" "$T0" "$T1" "$T2" "$T3" "$BENCH" <<'PY'
import os, sys
n, size, codec = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t0, t1, t2, t3 = map(float, sys.argv[4:8])
fields = sys.argv[8].split()
xbr = float(fields[fields.index("MB/s") - 1])
pipe = n / (t1 - t0) / 1e6
exp, imp = n / (t2 - t1) / 1e6, n / (t3 - t2) / 1e6
file_ = n / (t3 - t1) / 1e6
print(f"\nreplication of a {size} disk VM, XVA {n} bytes, codec {codec}; "
      f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
print(f"{'path':44} {'MB/s':>8} {'xbr/path':>9}")
for name, v in [("curl /export | curl -T - (Content-Length)", pipe),
                ("curl /export > file; curl -T file (total)", file_),
                ("  of which curl /export > file", exp),
                ("  of which curl -T file /import", imp),
                ("xbr replicate (BenchmarkReplicate)", xbr)]:
    print(f"{name:44} {v:8.0f} {xbr / v:9.2f}")
PY
