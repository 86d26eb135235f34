#!/usr/bin/env bash
# `make bench`: builds the release binaries (as `make release` ships them) and runs every
# benchmark. Each prints its figures beside a baseline measured in the same run.
#   directory: the LDAPDirectory pool against raw C over libldap and an ldappasswd loop
#     (BENCH_USERS, default 6000 per run; BENCH_CONNECTIONS, default 4; BENCH_LDAPPASSWD_USERS, 200);
#   policy: the policy engine against its own goals;
#   drain: the whole daemon against C baselines A (search + Password Modify) and A1 (Password
#     Modify alone) over 4 StartTLS connections and B (ldappasswd per reset); cost per request
#     at several N, the default policy (history 24, scrypt), enqueue→written latency, one
#     round with slapd's fsync on. JSON under bench/results/.
#     BENCH_DRAIN_REQUESTS (default 10000), BENCH_DRAIN_SCALES (default 1000,10000; add
#     100000 with BENCH_DRAIN_100K=1, about 3 more minutes), BENCH_LATENCY_REQUESTS (100),
#     BENCH_HISTORY_REQUESTS (200), BENCH_FSYNC_REQUESTS (2000).
#   audit: the audit trail (scripts/bench-audit.sh).
#   pickup: enqueue→written latency of requests arriving one at a time, SQLite and PostgreSQL,
#     event-driven (inotify / NOTIFY) against polling alone, and the daemon's idle CPU after each
#     (BENCH_PICKUP_REQUESTS, default 200; BENCH_IDLE_SECONDS, default 60).
#   BENCH_ONLY=drain (or directory, policy, audit, pickup; comma separated) runs a subset.
#   BENCH_JOURNALED_FS=1 (root): the drain's and pick-up's files (queue, state, outbox, audit,
#     slapd's database) on a fresh loop-mounted ext4 with a journal, as a Debian server has,
#     instead of $TMPDIR or /tmp (scripts/testenv/journaled-fs.sh says why).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/release-build.sh
bin=$(swift build -c release --show-bin-path)
if [ "${BENCH_JOURNALED_FS:-0}" = 1 ]; then
  fsdir=$(mktemp -d /tmp/wb-journaled.XXXXXX)
  trap 'scripts/testenv/journaled-fs.sh stop "$fsdir"; rmdir "$fsdir" 2>/dev/null || true' EXIT
  export TMPDIR=$(scripts/testenv/journaled-fs.sh start "$fsdir" | sed -n 's/^MOUNT=//p')
fi
work=${TMPDIR:-/tmp}
echo "work files under $work: $(findmnt -no FSTYPE,SOURCE --target "$work" | tr -s ' ')$(
  dev=$(findmnt -no SOURCE --target "$work"); dumpe2fs -h "$dev" 2>/dev/null | grep -q has_journal && echo ', journal' || echo ', no journal')"
only=${BENCH_ONLY:-directory,policy,audit,drain,pickup}
want() { [[ ",$only," == *",$1,"* ]]; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if want directory; then
  "$bin/writeback-bench" directory --users "${BENCH_USERS:-6000}" --connections "${BENCH_CONNECTIONS:-4}" \
      --ldappasswd-users "${BENCH_LDAPPASSWD_USERS:-200}"
fi
if want policy; then "$bin/writeback-bench" policy; fi
if want audit; then scripts/bench-audit.sh "$bin/writebackctl"; fi
if want drain; then
  scales=${BENCH_DRAIN_SCALES:-1000,10000}
  [ "${BENCH_DRAIN_100K:-0}" = 1 ] && scales="$scales,100000"
  "$bin/writeback-bench" drain --bin-dir "$bin" --requests "${BENCH_DRAIN_REQUESTS:-10000}" --scales "$scales" \
      --latency-requests "${BENCH_LATENCY_REQUESTS:-100}" --history-requests "${BENCH_HISTORY_REQUESTS:-200}" \
      --fsync-requests "${BENCH_FSYNC_REQUESTS:-2000}" --connections "${BENCH_CONNECTIONS:-4}" --results-dir bench/results
fi
if want pickup; then
  "$bin/writeback-bench" pickup --requests "${BENCH_PICKUP_REQUESTS:-200}" --idle-seconds "${BENCH_IDLE_SECONDS:-60}"
fi
