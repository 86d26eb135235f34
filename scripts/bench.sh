#!/usr/bin/env bash
# `make bench`: builds writeback-bench in release mode and runs every benchmark. Each prints its
# figures beside a baseline measured in the same run (directory: raw C over libldap and an
# ldappasswd loop against a throwaway slapd, after a warm-up pass, in two rounds of mirrored
# order so the server's drift cancels; policy: its own goals).
#   BENCH_USERS (default 6000 per run; the slapd gets 8x that), BENCH_CONNECTIONS (default 4),
#   BENCH_LDAPPASSWD_USERS (default 200), BENCH_PICKUP_REQUESTS (default 200: enqueue→written latency,
#   one at a time, SQLite and PostgreSQL, event-driven against polling), BENCH_IDLE_SECONDS (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/release-build.sh --product writeback-bench   # as `make release` ships
bin=$(swift build -c release --show-bin-path)/writeback-bench
"$bin" directory --users "${BENCH_USERS:-6000}" --connections "${BENCH_CONNECTIONS:-4}" \
    --ldappasswd-users "${BENCH_LDAPPASSWD_USERS:-200}"
"$bin" policy
scripts/release-build.sh --product writebackctl
scripts/bench-audit.sh "$(swift build -c release --show-bin-path)/writebackctl"
scripts/release-build.sh --product writebackd        # pickup runs the release daemon
"$bin" pickup --requests "${BENCH_PICKUP_REQUESTS:-200}" --idle-seconds "${BENCH_IDLE_SECONDS:-60}"
