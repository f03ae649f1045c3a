#!/usr/bin/env bash
# Installs golangci-lint (for make lint) into $XBR_TOOLS/bin; about 3 minutes the first time.
set -euo pipefail
: "${XBR_TOOLS:=$(cd "$(dirname "$0")/.." && pwd)/.cache/tools}"
bin="$XBR_TOOLS/bin/golangci-lint"
[ -x "$bin" ] && exit 0
mkdir -p "$XBR_TOOLS/bin"
echo "installing golangci-lint into $XBR_TOOLS/bin" >&2
GOBIN="$XBR_TOOLS/bin" go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
