#!/usr/bin/env bash
# Incremental-forever backups (issue 15) against a full XVA backup with zstd,
# on real "xbr xapi-sim" and "xbr serve" processes, as a markdown table:
#
#   first run       an incremental job's first run of a VM of SIZE (default
#                   4GiB) against a full job with compression zstd of the same
#                   VM (throughput ratio, target >= 0.8)
#   incremental     1% of the disk's 64 KiB blocks rewritten by the guest
#                   (POST /sim/vdi/<uuid>/write): half of them scattered single
#                   blocks, half in five contiguous runs; then the second run:
#                   bytes read from the host (GET /sim/stats, target <= 1.5x the
#                   changed bytes rounded up to chunks; the changed
#                   64 KiB blocks alone are shown beside it), bytes stored
#                   (new chunk files, target <= the changed chunks compressed
#                   with zstd -3), time (target <= 10% of the first run)
#   clones          five VMs of CLONE_SIZE (default 1GiB) with the same content
#                   (xapi-sim --same-content, clones of one template), each with
#                   2% own writes, backed up into one repository: stored bytes
#                   against a repository holding one of them (target <= 1.3x).
#                   Twice: writes shaped as files (1 MiB runs at random block
#                   offsets), and mixed as above (half scattered 64 KiB blocks,
#                   each of which makes a whole 1 MiB chunk new)
#   restore         `xbr restore --wait` of the incremental point against the
#                   full XVA backup of the same VM (throughput, target >= 0.8x)
#   GC              BenchmarkGC100k (shared/repo): a GC over 100,000 chunks on a
#                   dir remote, time and peak heap
#   serve RSS       VmHWM of the `xbr serve` process after all of the above
#                   (target < 300 MiB)
#
# Every repository has the chunk size CHUNK_KIB (default 1024: the default 1 MiB;
# 64 is XAPI's changed-block size, the finest a repository can have).
#
# Usage: scripts/bench-incremental.sh [SIZE]   env: XBR (binary), CLONE_SIZE, CHUNK_KIB
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-4GiB}"
CLONE_SIZE="${CLONE_SIZE:-1GiB}"
CHUNK_KIB="${CHUNK_KIB:-1024}"
case "$CHUNK_KIB" in 64 | 128 | 256 | 512 | 1024 | 2048 | 4096) ;; *) echo "bench-incremental: CHUNK_KIB=$CHUNK_KIB: want 64, 128, ..., 4096" >&2; exit 1 ;; esac
export CHUNK_KIB
WORK="$(mktemp -d)"
BIN="${XBR:-$WORK/xbr}"
[ -x "$BIN" ] || go build -o "$BIN" .
command -v zstd >/dev/null || { echo "bench-incremental: zstd is needed" >&2; exit 1; }
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 600); do grep -q "$2" "$1" && return 0; sleep 0.1; done; echo "bench-incremental: no '$2' in $1" >&2; cat "$1" >&2; exit 1; }
log() { echo "bench-incremental: $*" >&2; }

start_sim() { # name port args...
	local name=$1 port=$2
	shift 2
	"$BIN" xapi-sim --listen "127.0.0.1:$port" --nbd nbd --data-dir "$WORK/$name" --pool-name "$name" "$@" >"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	wait_for "$WORK/$name.log" listening
}
SIM="http://127.0.0.1:$(free_port)"
CLONES="http://127.0.0.1:$(free_port)"
start_sim sim "${SIM##*:}" --vms 1 --disk-size "$SIZE"
start_sim clones "${CLONES##*:}" --vms 10 --disk-size "$CLONE_SIZE" --same-content

# sim.py: the simulator's JSON-RPC, guest writes and byte counters.
cat >"$WORK/sim.py" <<'PY'
import json, os, random, subprocess, sys, urllib.request

CHUNK = int(os.environ["CHUNK_KIB"]) * 1024

def rpc(url, method, *params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    with urllib.request.urlopen(url + "/jsonrpc", body) as r:
        return json.load(r)["result"]

def vm_disk(url, name):
    s = rpc(url, "session.login_with_password", "root", "xapisim")
    vm = rpc(url, "VM.get_by_name_label", s, name)[0]
    for vbd in rpc(url, "VM.get_VBDs", s, vm):
        if rpc(url, "VBD.get_type", s, vbd) == "Disk":
            vdi = rpc(url, "VBD.get_VDI", s, vbd)
            return s, rpc(url, "VM.get_uuid", s, vm), vdi, rpc(url, "VDI.get_uuid", s, vdi), rpc(url, "VDI.get_virtual_size", s, vdi)

def write(url, vdi_uuid, off, length, seed):
    q = f"{url}/sim/vdi/{vdi_uuid}/write?offset={off}&length={length}&seed={seed}"
    urllib.request.urlopen(urllib.request.Request(q, method="POST")).read()

def rewrite(url, name, fraction, seed, shape):
    """Rewrites fraction of the disk's 64 KiB blocks, as shape says: "mixed", half of them
    scattered single blocks and half in five contiguous runs; "files", runs of 16 blocks
    (1 MiB, as files are written) at random block offsets. Prints the changed chunks."""
    _, _, _, uuid, size = vm_disk(url, name)
    blocks, rnd = int(size) // 65536, random.Random(seed)
    total = max(2, int(blocks * fraction))
    run = max(1, total // 2 // 5) if shape == "mixed" else 16
    changed = set()
    for i in range(5 if shape == "mixed" else -(-total // run)):
        start = rnd.randrange(0, blocks - run)
        changed.update(range(start, start + run))
        write(url, uuid, start * 65536, run * 65536, seed * 1000 + i)
    while shape == "mixed" and len(changed) < total:
        b = rnd.randrange(blocks)
        if b not in changed:
            changed.add(b)
            write(url, uuid, b * 65536, 65536, seed * 1000 + 999)
    for c in sorted({b * 65536 // CHUNK for b in changed}):
        print(c)
    print(len(changed), file=sys.stderr)

def read_bytes(url):
    with urllib.request.urlopen(url + "/sim/stats") as r:
        b = json.load(r)["bytes"]
    print(sum(b.get(k, 0) for k in ("nbd_read", "export_raw_vdi", "export")))

def compressed(url, name, chunks_file):
    """zstd -3 size of the listed chunks of the VM's disk, read through /export_raw_vdi."""
    s, _, vdi, _, _ = vm_disk(url, name)
    want = {int(l) for l in open(chunks_file) if l.strip()}
    total, i = 0, 0
    with urllib.request.urlopen(f"{url}/export_raw_vdi?session_id={s}&vdi={vdi}&format=raw") as r:
        while True:
            chunk = r.read(CHUNK)
            if not chunk:
                break
            if i in want:
                total += len(subprocess.run(["zstd", "-3", "-q", "-c"], input=chunk, capture_output=True, check=True).stdout)
            i += 1
    print(total)

cmd = sys.argv[1]
if cmd == "uuid":
    print(vm_disk(sys.argv[2], sys.argv[3])[1])
elif cmd == "rewrite":
    rewrite(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
elif cmd == "read":
    read_bytes(sys.argv[2])
elif cmd == "compressed":
    compressed(sys.argv[2], sys.argv[3], sys.argv[4])
PY
sim() { python3 "$WORK/sim.py" "$@"; }
uuids() { local out=() i; for i in "$@"; do out+=("$(sim uuid "$CLONES" "$(printf 'vm-%02d' "$i")")"); done; local IFS=,; echo "${out[*]}"; }

mkdir -p "$WORK/r-repo" "$WORK/r-full" "$WORK/r-one-files" "$WORK/r-five-files" "$WORK/r-one-mixed" "$WORK/r-five-mixed"
cat >"$WORK/xbr.yaml" <<YAML
pools:
  - {name: sim, url: "$SIM", username: root, password: xapisim}
  - {name: clones, url: "$CLONES", username: root, password: xapisim}
remotes:
  - {name: repo, type: dir, path: "$WORK/r-repo", chunk_size: ${CHUNK_KIB}KiB}
  - {name: full, type: dir, path: "$WORK/r-full"}
  - {name: one-files, type: dir, path: "$WORK/r-one-files", chunk_size: ${CHUNK_KIB}KiB}
  - {name: five-files, type: dir, path: "$WORK/r-five-files", chunk_size: ${CHUNK_KIB}KiB}
  - {name: one-mixed, type: dir, path: "$WORK/r-one-mixed", chunk_size: ${CHUNK_KIB}KiB}
  - {name: five-mixed, type: dir, path: "$WORK/r-five-mixed", chunk_size: ${CHUNK_KIB}KiB}
jobs:
  - {name: incr, mode: incremental, pools: [sim], remotes: [repo], schedules: [{name: m, cron: "0 0 1 1 *", timezone: UTC, retention: 5}]}
  - {name: fullz, mode: full, pools: [sim], remotes: [full], compression: zstd, schedules: [{name: m, cron: "0 0 1 1 *", timezone: UTC, retention: 1}]}
  - {name: one-files, mode: incremental, pools: [clones], vms: {uuids: [$(uuids 1)]}, remotes: [one-files], schedules: [{name: m, cron: "0 0 1 1 *", timezone: UTC, retention: 5}]}
  - {name: five-files, mode: incremental, pools: [clones], vms: {uuids: [$(uuids 1 2 3 4 5)]}, remotes: [five-files], schedules: [{name: m, cron: "0 0 1 1 *", timezone: UTC, retention: 5}]}
  - {name: one-mixed, mode: incremental, pools: [clones], vms: {uuids: [$(uuids 6)]}, remotes: [one-mixed], schedules: [{name: m, cron: "0 0 1 1 *", timezone: UTC, retention: 5}]}
  - {name: five-mixed, mode: incremental, pools: [clones], vms: {uuids: [$(uuids 6 7 8 9 10)]}, remotes: [five-mixed], schedules: [{name: m, cron: "0 0 1 1 *", timezone: UTC, retention: 5}]}
YAML
: >"$WORK/serve.log"
export XBR_DATA_DIR="$WORK/data" # the CLI finds serve's client identity there
"$BIN" serve --config "$WORK/xbr.yaml" --data-dir "$WORK/data" --nats-listen "127.0.0.1:$(free_port)" \
	--http "127.0.0.1:$(free_port)" --functions incremental,export,restore,prune --log-format json 2>"$WORK/serve.log" &
SERVE=$!
PIDS+=("$SERVE")
wait_for "$WORK/serve.log" '"xbr serving"'
NATS=$(grep '"xbr serving"' "$WORK/serve.log" | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['nats'])")

now() { date +%s.%N; }
timed() { # prints the seconds "$@" took
	local t0 t1
	t0=$(now)
	"$@" >"$WORK/last.out" 2>&1 || { cat "$WORK/last.out" >&2; tail -20 "$WORK/serve.log" >&2; exit 1; }
	t1=$(now)
	python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$t1"
}
chunk_bytes() { find "$1/xbr-repo/chunks" -type f -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
repo_bytes() { find "$1/xbr-repo" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
point_id() { "$BIN" backups ls --remote "$1" --json --nats "$NATS" | python3 -c "import json,sys; print(sorted(json.load(sys.stdin), key=lambda b: b['id'])[-1]['id'])"; }

log "full XVA backup (zstd) of the $SIZE VM"
T_FULL=$(timed "$BIN" run fullz --wait --nats "$NATS")
log "first incremental run"
T_FIRST=$(timed "$BIN" run incr --wait --nats "$NATS")
log "guest rewrites 1% of the blocks"
sim rewrite "$SIM" vm-01 0.01 1 mixed >"$WORK/changed" 2>"$WORK/changed-blocks"
READ0=$(sim read "$SIM")
STORED0=$(chunk_bytes "$WORK/r-repo")
log "second incremental run"
T_INCR=$(timed "$BIN" run incr --wait --nats "$NATS")
READ=$(($(sim read "$SIM") - READ0))
STORED=$(($(chunk_bytes "$WORK/r-repo") - STORED0))
CHANGED=$(($(wc -l <"$WORK/changed") * CHUNK_KIB * 1024))
BLOCKS=$(($(cat "$WORK/changed-blocks") * 65536))
BOUND=$(sim compressed "$SIM" vm-01 "$WORK/changed")

log "restores"
T_RFULL=$(timed "$BIN" restore "$(point_id full)" --pool sim --wait --nats "$NATS")
T_RINCR=$(timed "$BIN" restore "$(point_id repo)" --pool sim --wait --nats "$NATS")

log "five clones with 2% own writes each, twice: writes shaped as files, then mixed"
for i in $(seq 10); do
	shape=files
	[ "$i" -gt 5 ] && shape=mixed
	sim rewrite "$CLONES" "$(printf 'vm-%02d' "$i")" 0.02 $((10 + i)) "$shape" >/dev/null
done
for job in one-files five-files one-mixed five-mixed; do "$BIN" run "$job" --wait --nats "$NATS" >/dev/null; done
ONE_F=$(repo_bytes "$WORK/r-one-files")
FIVE_F=$(repo_bytes "$WORK/r-five-files")
ONE_M=$(repo_bytes "$WORK/r-one-mixed")
FIVE_M=$(repo_bytes "$WORK/r-five-mixed")
RSS=$(awk '/VmHWM/ {print $2}' "/proc/$SERVE/status")

log "BenchmarkGC100k"
GC=$(go test -run '^$' -bench '^BenchmarkGC100k$' -benchtime 1x ./shared/repo | grep '^BenchmarkGC100k')

python3 - "$SIZE" "$CLONE_SIZE" "$T_FULL" "$T_FIRST" "$T_INCR" "$READ" "$STORED" "$CHANGED" "$BOUND" "$T_RFULL" "$T_RINCR" "$ONE_F" "$FIVE_F" "$ONE_M" "$FIVE_M" "$RSS" "$GC" "$BLOCKS" <<'PY'
import os, sys
size, clone_size = sys.argv[1], sys.argv[2]
t_full, t_first, t_incr = map(float, sys.argv[3:6])
read, stored, changed, bound = map(int, sys.argv[6:10])
t_rfull, t_rincr = map(float, sys.argv[10:12])
one_f, five_f, one_m, five_m, rss = map(int, sys.argv[12:17])
gc = sys.argv[17].split()
blocks = int(sys.argv[18])
gc_s = float(gc[gc.index("ns/op") - 1]) / 1e9
gc_heap = float(gc[gc.index("peak-heap-MiB") - 1])
mib = lambda n: f"{n / 1048576:.1f} MiB"
ok = lambda c: "yes" if c else "**no**"
print(f"\nincremental backups of a {size} VM (clones: five of {clone_size}), chunks of {os.environ['CHUNK_KIB']} KiB; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
print("| measure | xbr | baseline | ratio | target | met |")
print("|---|---|---|---|---|---|")
rows = [
    ("first run (time; throughput vs full XVA zstd)", f"{t_first:.1f} s", f"full XVA zstd {t_full:.1f} s", t_full / t_first, ">= 0.8x", t_full / t_first >= 0.8),
    ("incremental run: read from the host", mib(read), f"changed chunks {mib(changed)} (changed blocks {mib(blocks)})", read / changed, "<= 1.5x", read <= 1.5 * changed),
    ("incremental run: stored", mib(stored), f"changed chunks, zstd -3: {mib(bound)}", stored / bound, "<= 1.0x", stored <= bound),
    ("incremental run: time", f"{t_incr:.1f} s", f"first run {t_first:.1f} s", t_incr / t_first, "<= 0.10x", t_incr <= 0.1 * t_first),
    ("five clones, 2% own writes each as 1 MiB runs (files): stored", mib(five_f), f"one of them {mib(one_f)}", five_f / one_f, "<= 1.3x", five_f <= 1.3 * one_f),
    ("five clones, 2% own writes each, half scattered 64 KiB blocks: stored", mib(five_m), f"one of them {mib(one_m)}", five_m / one_m, "<= 1.3x", five_m <= 1.3 * one_m),
    ("restore of the incremental point (time; throughput vs full XVA)", f"{t_rincr:.1f} s", f"full XVA zstd {t_rfull:.1f} s", t_rfull / t_rincr, ">= 0.8x", t_rfull / t_rincr >= 0.8),
]
for name, x, base, r, target, met in rows:
    print(f"| {name} | {x} | {base} | {r:.3f} | {target} | {ok(met)} |")
print(f"| GC over 100,000 chunks (BenchmarkGC100k) | {gc_s:.1f} s, peak heap {gc_heap:.0f} MiB | | | reported | |")
print(f"| `xbr serve` peak RSS (VmHWM) | {rss / 1024:.0f} MiB | | | < 300 MiB | {ok(rss < 300 * 1024)} |")
PY
