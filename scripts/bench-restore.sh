#!/usr/bin/env bash
# Restore throughput: `xbr restore --wait` against `curl -T <file> /import` of
# the same stored XVA into the same simulated pool, uncompressed and gzip.
# Starts "xbr xapi-sim" (one VM of SIZE, default 1GiB) and "xbr serve" with a
# directory remote per codec, backs the VM up once per codec (xbr run --wait),
# then times each restore RUNS times (default 2) and keeps the best.
# Usage: scripts/bench-restore.sh [SIZE]     env: XBR (binary), RUNS
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-1GiB}"
RUNS="${RUNS:-2}"
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
wait_for() { for _ in $(seq 300); do grep -q "$2" "$1" && return 0; sleep 0.1; done; echo "bench-restore: no '$2' in $1" >&2; cat "$1" >&2; exit 1; }

SIM_PORT=$(free_port)
"$BIN" xapi-sim --listen "127.0.0.1:$SIM_PORT" --vms 2 --disk-size "$SIZE" --data-dir "$WORK/sim" >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
SIM="http://127.0.0.1:$SIM_PORT"
wait_for "$WORK/sim.log" listening
rpc() { curl -s -X POST --data "$1" "$SIM/jsonrpc"; }
result() { python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print(r[0] if isinstance(r, list) else r)"; }
SESSION=$(rpc '{"jsonrpc":"2.0","id":1,"method":"session.login_with_password","params":["root","xapisim"]}' | result)
VMREF=$(rpc "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"VM.get_by_name_label\",\"params\":[\"$SESSION\",\"vm-02\"]}" | result)
VM=$(rpc "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"VM.get_uuid\",\"params\":[\"$SESSION\",\"$VMREF\"]}" | result)

mkdir -p "$WORK/none" "$WORK/gzip"
cat >"$WORK/xbr.yaml" <<YAML
pools:
  - {name: sim, url: "$SIM", username: root, password: xapisim}
remotes:
  - {name: none, type: dir, path: "$WORK/none"}
  - {name: gzip, type: dir, path: "$WORK/gzip"}
jobs:
YAML
for codec in none gzip; do
	cat >>"$WORK/xbr.yaml" <<YAML
  - name: bench-$codec
    mode: full
    pools: [sim]
    vms: {uuids: [$VM]}
    remotes: [$codec]
    compression: $codec
    schedules: [{name: manual, cron: "0 0 1 1 *", timezone: UTC, retention: 1}]
YAML
done
: >"$WORK/serve.log"
export XBR_DATA_DIR="$WORK/data" # the CLI finds serve's client identity there
"$BIN" serve --config "$WORK/xbr.yaml" --data-dir "$WORK/data" --nats-listen "127.0.0.1:$(free_port)" \
	--http "127.0.0.1:$(free_port)" --log-format json 2>"$WORK/serve.log" &
PIDS+=($!)
wait_for "$WORK/serve.log" '"xbr serving"'
NATS=$(grep '"xbr serving"' "$WORK/serve.log" | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['nats'])")

now() { date +%s.%N; }
mbps() { python3 -c "import sys; print(f'{int(sys.argv[1]) / (float(sys.argv[3]) - float(sys.argv[2])) / 1e6:.0f}')" "$@"; }
best() { python3 -c "import sys; print(max(int(x) for x in sys.argv[1:]))" "$@"; }
printf '%-6s %10s %14s %14s %7s\n' codec "xva MB" "xbr MB/s" "curl -T MB/s" ratio
for codec in none gzip; do
	"$BIN" run "bench-$codec" --wait --nats "$NATS" >/dev/null
	ID=$("$BIN" backups ls --remote "$codec" --json --nats "$NATS" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
	FILE=$(find "$WORK/$codec" -name '*.xva')
	BYTES=$(stat -c %s "$FILE")
	xs=() cs=()
	for _ in $(seq "$RUNS"); do
		t0=$(now); "$BIN" restore "$ID" --pool sim --wait --nats "$NATS" >/dev/null; t1=$(now)
		xs+=("$(mbps "$BYTES" "$t0" "$t1")")
		t0=$(now); curl -sf -H "Expect:" -T "$FILE" "$SIM/import?session_id=$SESSION" -o /dev/null; t1=$(now)
		cs+=("$(mbps "$BYTES" "$t0" "$t1")")
	done
	X=$(best "${xs[@]}") C=$(best "${cs[@]}")
	printf '%-6s %10d %14s %14s %7s\n' "$codec" $((BYTES / 1000000)) "$X" "$C" "$(python3 -c "print(f'{$X / $C:.2f}')")"
done
echo "(restore of a $SIZE VM disk; best of $RUNS; xbr includes the CLI, NATS, SHA-256 verification and VM finishing)"
