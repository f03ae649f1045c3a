#!/usr/bin/env bash
# make bench: xbr against curl/gzip/pigz/zstd baselines on the same simulated VM.
# BENCH_SIZES overrides the VM sizes (default 1GiB,6GiB).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for t in curl pigz zstd gzip; do command -v "$t" >/dev/null || need+=("$t"); done
if [ ${#need[@]} -gt 0 ]; then
	echo "bench: installing ${need[*]}" >&2
	apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi
echo "== the simulator alone: /export of an 8 GiB VM to curl -o /dev/null (target >= 1 GB/s)"
bash scripts/bench-sim.sh 8GiB
echo "== full backup: xbr against curl, gzip -6, pigz, zstd on the same VM"
go run ./scripts/bench -xbr bin/xbr -sizes "${BENCH_SIZES:-1GiB,6GiB}" "$@"
for extra in scripts/bench-restore.sh scripts/bench-replicate.sh scripts/bench-scaleout.sh scripts/bench-scale.sh scripts/bench-incremental.sh scripts/bench-prune-gc.sh; do
	if [ -x "$extra" ]; then bash "$extra"; fi
done
