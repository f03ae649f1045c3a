#!/usr/bin/env bash
# Installs the npm package xen-api@4.7.6 (Xen Orchestra's XAPI client) into
# "$XBR_TOOLS/npm": the external client that tests/external runs against the
# XAPI simulator. Idempotent: exits at once when that version is present.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.7.6
TOOLS="${XBR_TOOLS:-$PWD/.cache/tools}"
PREFIX="$TOOLS/npm"
PKG="$PREFIX/node_modules/xen-api/package.json"
if [ -f "$PKG" ] && grep -q "\"version\": \"$VERSION\"" "$PKG"; then
	exit 0
fi
command -v npm >/dev/null || { echo "tool-xen-api: npm is not installed" >&2; exit 1; }
mkdir -p "$PREFIX"
echo "tool-xen-api: installing xen-api@$VERSION into $PREFIX" >&2
npm install --prefix "$PREFIX" --no-audit --no-fund --yes --loglevel=error "xen-api@$VERSION" >&2
test -f "$PKG"
