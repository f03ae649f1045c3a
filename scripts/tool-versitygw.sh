#!/usr/bin/env bash
# Installs the versitygw S3 gateway (POSIX backend) that the S3 remote tests run against.
# Idempotent: exits at once when "$XBR_TOOLS/bin/versitygw" already exists.
# The first build takes about 80 s on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v1.8.0
TOOLS="${XBR_TOOLS:-$PWD/.cache/tools}"
BIN="$TOOLS/bin/versitygw"
if [ -x "$BIN" ]; then
	exit 0
fi
mkdir -p "$TOOLS/bin"
echo "tool-versitygw: building versitygw $VERSION into $TOOLS/bin (about 80 s the first time)" >&2
# Build outside the project module so go.mod is never touched.
cd "$TOOLS"
GOBIN="$TOOLS/bin" go install "github.com/versity/versitygw/cmd/versitygw@$VERSION"
test -x "$BIN"
