#!/usr/bin/env bash
# The whole suite: one debug build (sources and tests), then every test. Directory tests start
# their own slapd and Samba AD DC on loopback and stop them by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
swift build --build-tests
built=$(date +%s)
echo "build: $((built - start)) s"
swift test --skip-build "$@"
echo "tests: $(( $(date +%s) - built )) s"
