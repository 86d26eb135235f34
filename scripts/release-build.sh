#!/usr/bin/env bash
# scripts/release-build.sh [swift build options…] — the one release build that `make release`,
# `make install` and `make bench` share (one set of flags, so none of them rebuilds the others'):
#   --static-swift-stdlib   the Swift runtime and Foundation linked in: a server needs only
#                           Debian's libraries, not a toolchain.
#   lld, -z pack-relative-relocs   relative relocations packed (RELR; glibc ≥ 2.36): 2.9 MB of
#                           .rela.dyn that the loader read at every start become 45 KB.
#   --no-export-dynamic     the static runtime's link arguments export every Swift symbol of the
#                           program (41,600, 3.4 MB of .dynsym/.dynstr); nothing loads symbols
#                           from the executable, so only the 663 the C libraries need stay.
# Together they take the running daemon's resident memory from 45.0 to 38.1 MiB (README,
# "Resource use"). Without the toolchain's ld.lld the build falls back to the default linker.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release --static-swift-stdlib)
if [ -x "$(dirname "$(readlink -f "$(command -v swift)")")/ld.lld" ]; then
  flags+=(-Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic)
else
  echo "release-build: no ld.lld beside swift; linking with the default linker (larger start-up footprint)" >&2
fi
exec swift build "${flags[@]}" "$@"
