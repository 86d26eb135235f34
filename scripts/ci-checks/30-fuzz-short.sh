#!/usr/bin/env bash
# The short form of `make fuzz` (issue 13): the four libFuzzer targets (payload decoder, sealed-
# field opener, TOML loader, control-line decoder), 60 s each, two at a time on 2 cores, against
# the debug build run-tests.sh has just made. About 3 minutes: the harnesses build in about a
# minute (only the code under test is instrumented), then two rounds of 60 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${CI_FUZZ_SECONDS:-60} FUZZ_PARALLEL=2 FUZZ_SEED=${CI_FUZZ_SEED:-1} exec scripts/fuzz.sh
