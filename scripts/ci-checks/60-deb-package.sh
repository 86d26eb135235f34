#!/usr/bin/env bash
# CI form of the package test (the full one by hand: `make deb` then scripts/test-deb-install.sh
# dist/writebackd_*.deb). What differs from `make deb`, and why: the binaries are the debug
# build CI has just compiled, relinked with the Swift runtime static (--static-swift-stdlib
# changes only the link step: two links, not a second compile of everything; the release build
# takes far longer than CI's budget on 2 cores). Everything else is the real packaging path:
# scripts/build-deb.sh (layout, dpkg-shlibdeps Depends, maintainer scripts, conffile,
# completions), lintian (no errors allowed), and scripts/test-deb-install.sh (apt-get install in
# a clean Debian 12 root, doctor against a real slapd, the daemon runs, purge leaves nothing).
set -euo pipefail
cd "$(dirname "$0")/../.."
t0=$(date +%s)
# The objects were compiled for a dynamic runtime, so their autolink entries do not name the
# static Foundation's helper libraries: name them, and link with lld (order-independent).
static=(--static-swift-stdlib -Xswiftc -use-ld=lld -Xlinker -l_FoundationICU -Xlinker -lCoreFoundation
        -Xlinker -l_FoundationCShims -Xlinker -l_FoundationCollections)
swift build --product writebackd "${static[@]}" >/dev/null
swift build --product writebackctl "${static[@]}" >/dev/null
bin="$(swift build --show-bin-path)"
t1=$(date +%s)
echo "deb: static relink of the debug binaries: $((t1 - t0)) s"
out="$(mktemp -d)"
# Outside CI, link the debug binaries back the ordinary way for the developer's next test run.
trap 'rm -rf "$out"; [ -n "${CI-}" ] || { swift build --product writebackd >/dev/null 2>&1; swift build --product writebackctl >/dev/null 2>&1; } || true' EXIT
deb="$(DEB_COMPRESSION=gzip scripts/build-deb.sh --bin-dir "$bin" --out "$out")"
echo "deb: built $(basename "$deb") ($(du -h "$deb" | cut -f1)) in $(( $(date +%s) - t1 )) s"
t2=$(date +%s)
# Debug binaries are large and carry no hardening flags Debian's toolchain would add; lintian's
# errors are what must be 0 (its warnings are printed).
lintian --fail-on error --tag-display-limit 0 "$deb" | tee "$out/lintian.txt" || { echo "deb: lintian reports errors" >&2; exit 1; }
echo "deb: lintian: $(grep -c '^E:' "$out/lintian.txt" || true) errors, $(grep -c '^W:' "$out/lintian.txt" || true) warnings in $(( $(date +%s) - t2 )) s"
scripts/test-deb-install.sh "$deb"
