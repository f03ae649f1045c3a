#!/usr/bin/env bash
# Runs versitygw (POSIX backend) in the foreground for manual tests and demos.
# Go tests start their own gateway through shared/remote/s3/s3test instead.
#
#   scripts/s3gw.sh [ROOT_DIR] [ADDR]      defaults: ./var/s3root 127.0.0.1:7070
#
# Credentials come from ROOT_ACCESS_KEY / ROOT_SECRET_KEY (defaults: xbrtest / xbrtestsecret,
# for local use only). Buckets are folders under ROOT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/tool-versitygw.sh
BIN="${XBR_VERSITYGW:-${XBR_TOOLS:-$PWD/.cache/tools}/bin/versitygw}"
ROOT="${1:-var/s3root}"
ADDR="${2:-127.0.0.1:7070}"
mkdir -p "$ROOT"
export ROOT_ACCESS_KEY="${ROOT_ACCESS_KEY:-xbrtest}"
export ROOT_SECRET_KEY="${ROOT_SECRET_KEY:-xbrtestsecret}"
echo "s3gw: versitygw on http://$ADDR over $ROOT (access key $ROOT_ACCESS_KEY)" >&2
exec "$BIN" --port "$ADDR" --quiet --keep-alive posix "$ROOT"
