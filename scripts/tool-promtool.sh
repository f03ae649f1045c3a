#!/usr/bin/env bash
# Installs promtool, which tests/alert_rules_test.go runs over the alert rules of
# docs/operations.md, from Debian's prometheus package: the package is downloaded
# and only /usr/bin/promtool is unpacked into "$XBR_TOOLS/bin" (no Prometheus server
# is installed or started). Idempotent: exits at once when promtool is there.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${XBR_TOOLS:-$PWD/.cache/tools}"
BIN="$TOOLS/bin/promtool"
if [ -x "$BIN" ]; then
	exit 0
fi
mkdir -p "$TOOLS/bin"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "tool-promtool: unpacking promtool from Debian's prometheus package into $TOOLS/bin" >&2
download() { (cd "$tmp" && apt-get download -qq prometheus) >/dev/null 2>&1; }
if ! download; then
	if [ "$(id -u)" != 0 ]; then
		echo "tool-promtool: apt-get download prometheus failed; as root, apt-get update first" >&2
		exit 1
	fi
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	download
fi
dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
install -m 0755 "$tmp/x/usr/bin/promtool" "$BIN"
"$BIN" --version >/dev/null
