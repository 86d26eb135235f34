#!/usr/bin/env bash
# `make faults`: the daemon against a real slapd while things go wrong, one table (scenario,
# requests, lost, applied twice, not applied, leaked, time): SIGKILL at 20 random moments in
# a 10,000-request drain, slapd SIGSTOPped 30 s, slapd killed and restarted, the queue's
# filesystem (a small tmpfs; needs root) full then freed, 1,000 hostile rows among 1,000
# good ones. JSON under bench/results/. Exits 1 when any check fails.
#   scripts/faults.sh --short   the CI form (smaller N, fewer kills; scripts/ci-checks/20-faults-short.sh)
#   FAULTS_BUILD=release        use the release build (default: the debug build, as CI has it)
#   FAULTS_ONLY=sigkill,hostile run a subset (sigkill, sigstop, restart, fsfull, hostile)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${FAULTS_BUILD:-debug}" = release ]; then
  scripts/release-build.sh
  bin=$(swift build -c release --show-bin-path)
else
  swift build --product writebackd >/dev/null
  swift build --product writeback-bench >/dev/null
  bin=$(swift build --show-bin-path)
fi
args=(--bin-dir "$bin" --results-dir bench/results)
[ -n "${FAULTS_ONLY:-}" ] && args+=(--only "$FAULTS_ONLY")
exec "$bin/writeback-bench" faults "${args[@]}" "$@"
