#!/usr/bin/env bash
# Installs Debian's chromium, the headless browser that tests/gateway_test.go drives
# (through chromedp) over the Restore view. Idempotent: exits at once when
# /usr/bin/chromium exists. Needs root (apt-get), as on the project's machines.
set -euo pipefail
BIN=/usr/bin/chromium
if [ -x "$BIN" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "tool-chromium: $BIN is missing and installing it needs root (apt-get install chromium)" >&2
	exit 1
fi
echo "tool-chromium: installing Debian's chromium (apt-get)" >&2
apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >&2
test -x "$BIN"
