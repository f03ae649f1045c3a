#!/usr/bin/env bash
# make bench: xbr against curl/gzip/pigz/zstd baselines on the same simulated VM.
# BENCH_SIZES overrides the VM sizes (default 1GiB,6GiB).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for t in curl pigz zstd gzip; do command -v "$t" >/dev/null || need+=("$t"); done
if [ ${#need[@]} -gt 0 ]; then
	echo "bench: installing ${need[*]}" >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
go run ./scripts/bench -xbr bin/xbr -sizes "${BENCH_SIZES:-1GiB,6GiB}" "$@"
for extra in scripts/bench-restore.sh scripts/bench-replicate.sh; do
	if [ -x "$extra" ]; then bash "$extra"; fi
done
