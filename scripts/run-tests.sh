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
# Checks that are not XCTest/Swift Testing suites (faults short form, fuzz smoke, package
# install, rules lint): one executable script each under scripts/ci-checks/, run in name order.
# Each prints what it measured and exits non-zero on failure.
passed=0; failed=0
for check in scripts/ci-checks/*.sh; do
  [ -e "$check" ] || continue
  t0=$(date +%s)
  if bash "$check"; then passed=$((passed + 1)); s=ok; else failed=$((failed + 1)); s=FAILED; fi
  echo "ci-check $(basename "$check"): $s in $(( $(date +%s) - t0 )) s"
done
if [ $((passed + failed)) -gt 0 ]; then
  echo "ci-checks: $passed passed, $failed failed"
  [ "$failed" = 0 ] || exit 1
fi
