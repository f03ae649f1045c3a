#!/usr/bin/env bash
# Installs what the test suites need into .cache/tools (idempotent, cached):
# each scripts/tool-*.sh installs one tool and is a no-op when it is present.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in scripts/tool-*.sh; do
	[ -e "$t" ] || continue
	bash "$t"
done
