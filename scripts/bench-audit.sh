#!/usr/bin/env bash
# scripts/bench-audit.sh [CTL] — `writebackctl audit verify` on a 100,000-line trail (LINES=…),
# beside two baselines measured in the same run on the same file: `sha256sum` over the whole file
# (the floor: one hash pass, no parsing, no per-line work) and scripts/audit-trail.py verify (an
# independent Python verifier doing the same chain and signature checks). The trail is generated
# by scripts/audit-trail.py (signature every 100 lines), so it is also an interop check: a trail
# written by another implementation of the format verifies. Three runs each, the median printed,
# with the load average. Run by `make bench`; CTL defaults to the release writebackctl.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CTL="${1:-$(cd "$ROOT" && swift build -c release --show-bin-path)/writebackctl}"
LINES="${LINES:-100000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$ROOT/scripts/audit-trail.py" gen "$work/audit.jsonl" --lines "$LINES" --key-out "$work/keys"
size=$(stat -c %s "$work/audit.jsonl")
median() { sort -n | sed -n 2p; }
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ctl=(); sha=(); py=()
for _ in 1 2 3; do
  ctl+=("$(timed "$CTL" audit verify "$work/audit.jsonl" --key "$work/keys/audit-signing.pub" --strict)")
  sha+=("$(timed sha256sum "$work/audit.jsonl")")
  py+=("$(timed python3 "$ROOT/scripts/audit-trail.py" verify "$work/audit.jsonl" --key "$work/keys/audit-signing.pub")")
done
c=$(printf '%s\n' "${ctl[@]}" | median); s=$(printf '%s\n' "${sha[@]}" | median); p=$(printf '%s\n' "${py[@]}" | median)
echo "== audit verify =="
printf 'trail: %d lines, %.1f MB, a signature every 100 lines\n' "$LINES" "$(div "$size" 1000000)"
printf 'writebackctl audit verify --strict: %.2f s (median of 3)\n' "$c"
printf 'baseline sha256sum (one pass):      %.2f s  → verify is %sx\n' "$s" "$(div "$c" "$s")"
printf 'baseline Python reference verifier: %.2f s  → verify is %sx\n' "$p" "$(div "$c" "$p")"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
