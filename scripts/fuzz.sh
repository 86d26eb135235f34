#!/usr/bin/env bash
# `make fuzz`: libFuzzer (-sanitize=fuzzer,address) over the payload decoder, the sealed-field
# opener, the TOML configuration loader and the control socket's line decoder.
#
#   scripts/fuzz.sh [TARGET…]     TARGET: payload opener config control-line (default: all)
#   FUZZ_SECONDS=300              per target (CI: scripts/ci-checks/30-fuzz-short.sh, 60 s)
#   FUZZ_PARALLEL=1               targets fuzzed at the same time (CI: 2, one per core)
#   FUZZ_SEED=N                   libFuzzer's seed (CI: 1, so a run repeats the same mutations)
#   FUZZ_RUNS=N                   stop after N inputs per target (CI: a fixed count with seed 1,
#                                 so every CI run executes the same inputs; FUZZ_SECONDS then
#                                 only bounds a slow machine, which runs a prefix of them)
#
# The lean build: only the code under test is compiled with the sanitizers, as one module per
# harness (fuzz/FuzzCodecConfig.swift with the sources of WritebackCore, RequestCodec and
# WritebackConfig; fuzz/FuzzControlLine.swift with WritebackCore and ControlSocket). Their
# dependencies (swift-crypto, TOMLKit's C++ toml++, swift-nio) are linked from the debug build
# that `swift build` has already made, as they are: building them again with the sanitizers
# (a second full build of BoringSSL, toml++ and NIO) would not fit the CI budget.
# Corpora start from fuzz/corpus/<target> (fuzz/make-seeds.py) and grow in .build/fuzz/;
# a crash leaves its input in .build/fuzz/artifacts/ and fails the run: turn it into a unit test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(payload opener config control-line)
seconds=${FUZZ_SECONDS:-300}
parallel=${FUZZ_PARALLEL:-1}

t0=$(date +%s)
# The debug build the harnesses link against (CI has it already; FUZZ_SKIP_BUILD=1 skips the check).
[ "${FUZZ_SKIP_BUILD:-0}" = 1 ] || swift build --product writebackctl >/dev/null
debug=${FUZZ_DEBUG_DIR:-$(swift build --show-bin-path)}
out="$root/.build/fuzz"
mkdir -p "$out/artifacts" "$out/strip"

# The module map of every C target of the debug build (one per module name: the build's own
# generated map wins over a package's include/module.modulemap), so the dependency modules
# import as they do in the package build.
cflags=()
while IFS= read -r map; do cflags+=(-Xcc "-fmodule-map-file=$map"); done < <(python3 - "$debug" "$root/.build/checkouts" <<'PY'
import glob, os, re, sys
debug, checkouts = sys.argv[1], sys.argv[2]
maps = {}
def name(path):
    m = re.search(r"^\s*(?:framework\s+)?module\s+([A-Za-z0-9_]+)", open(path).read(), re.M)
    return m.group(1) if m else None
for p in sorted(glob.glob(os.path.join(debug, "*.build", "module.modulemap"))):
    if "-tool.build" in p: continue
    n = name(p)
    if n: maps.setdefault(n, p)
for p in sorted(glob.glob(os.path.join(checkouts, "**", "include", "**", "module.modulemap"), recursive=True)):
    n = name(p)
    if n and n not in maps: maps[n] = p
print("\n".join(maps.values()))
PY
)
while IFS= read -r inc; do cflags+=(-Xcc "-I$inc"); done < <(
  find "$root/.build/checkouts" -type d -name include -path '*/Sources/*' 2>/dev/null | sort -u)

# The dependencies' objects, as an archive: the linker takes only what the harness needs.
# Our own modules are left out: they are compiled again, instrumented, from source.
ours='WritebackCore|RequestCodec|WritebackConfig|ControlSocket|RequestQueue|PostgresQueue|WritebackPolicy|LDAPDirectory|Outbox|WritebackDaemon|writebackd|writebackctl|writeback_bench|writeback-bench|TestSupport|.*Tests'
deps="$out/libdeps.a"
rm -f "$deps"
{ find "$debug" -maxdepth 1 -name '*.build' -type d | grep -Ev "/($ours)\.build$" | while read -r d; do find "$d" -name '*.o'; done
  find "$debug/Modules" -maxdepth 1 -name '*.o' 2>/dev/null | grep -Ev "/($ours)\.o$" || true
} | sort -u > "$out/deps.list"
# q without s (GNU ar takes "qs" as "r", which replaces same-named members): two modules'
# SafeCompare.swift.o must both stay. The index comes after, from ranlib.
xargs -d '\n' ar qc "$deps" < "$out/deps.list"
ranlib "$deps"

# One module from several targets' sources: their `import <our module>` lines go (the code is
# in this module now), everything else stays as written.
strip_imports() { # dest sources…
  local dest=$1; shift
  rm -rf "$dest"; mkdir -p "$dest"
  for f in "$@"; do
    sed -E '/^(@testable )?import (WritebackCore|RequestCodec|WritebackConfig|ControlSocket)$/d' "$f" > "$dest/$(basename "$(dirname "$f")")-$(basename "$f")"
  done
}
build() { # name harness modules…
  local name=$1 harness=$2; shift 2
  local sources=()
  for m in "$@"; do sources+=("$root"/Sources/"$m"/*.swift); done
  strip_imports "$out/strip/$name" "${sources[@]}"
  swiftc -sanitize=fuzzer,address -parse-as-library -swift-version 6 -Onone -g -module-name "Fuzz_${name//-/_}" \
    -I "$debug/Modules" -I "$debug" "${cflags[@]}" \
    "$out/strip/$name"/*.swift "$root/fuzz/$harness" \
    -use-ld=lld "$deps" -lstdc++ -lm -o "$out/fuzz-$name"
}
build codec FuzzCodecConfig.swift WritebackCore RequestCodec WritebackConfig
build control FuzzControlLine.swift WritebackCore ControlSocket
t1=$(date +%s)
echo "fuzz: harnesses built in $((t1 - t0)) s"

# run_target TARGET: one libFuzzer run; prints one line; exit 1 on a crash.
run_target() {
  local target=$1 exe max_len corpus log s stats leaks=1
  case "$target" in
    # TOMLKit 0.6.0 never frees a parsed table (TOMLTable has no deinit; its error buffer is
    # never deallocated): LeakSanitizer reports that on the first input, so leaks are not
    # checked for the loader. The daemon parses at start and at each SIGHUP: a few KB a reload.
    config) exe="$out/fuzz-codec"; max_len=70000; leaks=0 ;;
    payload|opener) exe="$out/fuzz-codec"; max_len=70000 ;;
    control-line) exe="$out/fuzz-control"; max_len=2048 ;;
    *) echo "fuzz: unknown target $target" >&2; return 64 ;;
  esac
  corpus="$out/corpus-$target"
  mkdir -p "$corpus"
  cp -n "$root/fuzz/corpus/$target"/* "$corpus/" 2>/dev/null || true
  log="$out/$target.log"
  s=$(date +%s)
  # detect_leaks twice: libFuzzer's per-input check, and LeakSanitizer's own at exit.
  if ASAN_OPTIONS="detect_leaks=$leaks${ASAN_OPTIONS:+:$ASAN_OPTIONS}" WRITEBACKD_FUZZ_TARGET=$target "$exe" "$corpus" -max_total_time="$seconds" -max_len="$max_len" -detect_leaks="$leaks" ${FUZZ_SEED:+-seed=$FUZZ_SEED} ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} \
       -artifact_prefix="$out/artifacts/$target-" -print_final_stats=1 >"$log" 2>&1; then
    stats=$(grep -E '^stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')
    echo "fuzz $target: ok, ${stats:-?} inputs in $(( $(date +%s) - s )) s; corpus $(ls "$corpus" | wc -l) files"
  else
    echo "fuzz $target: FAILED (see $log); crash inputs:" >&2
    ls "$out/artifacts/$target-"* >&2 2>/dev/null || true
    grep -E 'ERROR|Fatal|panic|precondition' "$log" | head -5 >&2 || true
    return 1
  fi
}

# FUZZ_PARALLEL targets at a time (CI: 2, one per core).
failed=0
pids=()
for target in "${targets[@]}"; do
  run_target "$target" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$parallel" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
echo "fuzz: $(( $(date +%s) - t0 )) s in all"
exit $failed
