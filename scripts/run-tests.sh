#!/usr/bin/env bash
# The whole suite: one debug build (sources and tests), then every test. Directory tests start
# their own slapd and Samba AD DC on loopback and stop them by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
swift build --build-tests
built=$(date +%s)
echo "build: $((built - start)) s"
# A hung test must not hold CI until its own limit: the suite takes 3-6 minutes here, so after
# TEST_TIMEOUT (default 40 min) it is stopped and fails with a message; the servers' watchdogs
# stop slapd, Samba and PostgreSQL when the test process is gone.
rc=0
timeout --signal=TERM --kill-after=30s "${TEST_TIMEOUT:-40m}" swift test --skip-build "$@" || rc=$?
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then echo "run-tests: the suite did not finish within ${TEST_TIMEOUT:-40m}: a test hangs" >&2; fi
[ "$rc" = 0 ] || exit "$rc"
echo "tests: $(( $(date +%s) - built )) s"
