#!/usr/bin/env bash
# The short form of `make faults` (issue 13): 600-request drain with 3 SIGKILLs, slapd
# SIGSTOPped 5 s, slapd restarted, queue filesystem full 3 s, 120 hostile rows among 100 good
# ones; against the debug build run-tests.sh has just made. About 1-2 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(swift build --show-bin-path)
exec "$bin/writeback-bench" faults --short --bin-dir "$bin"
