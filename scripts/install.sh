#!/usr/bin/env bash
# scripts/install.sh DESTDIR PREFIX — lays out writebackd (what `make install` runs).
#
#   $PREFIX/bin/writebackd, writebackctl              release binaries
#   $PREFIX/lib/systemd/system/writebackd.service     unit (ExecStart points at $PREFIX/bin)
#   $PREFIX/lib/sysusers.d/writebackd.conf            the writebackd user and group
#   $PREFIX/lib/tmpfiles.d/writebackd.conf            /etc/writebackd/credentials, /var/lib/writebackd
#   $PREFIX/share/man/man8/writebackd.8, writebackctl.8
#   $PREFIX/share/doc/writebackd/examples/*.toml      the commented reference and the three examples
#   /etc/writebackd/writebackd.toml                   only if absent (never overwritten)
#
# With an empty DESTDIR, as root, it also creates the user (systemd-sysusers), the directories
# (systemd-tmpfiles) and reloads systemd when it runs. BIN_DIR=… installs binaries from another
# build directory (tests use the debug build); otherwise the release build is used (built if missing).
set -euo pipefail

DESTDIR="${1-}"
PREFIX="${2:-/usr/local}"
case "$PREFIX" in /*) ;; *) echo "install.sh: PREFIX must be absolute, got '$PREFIX'" >&2; exit 2 ;; esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

# Release binaries link the Swift runtime and Foundation statically (--static-swift-stdlib):
# a binary that still loads libswiftCore.so from the toolchain would not start on a server.
needs_swift_runtime() { ldd "$1" 2>/dev/null | grep -q 'libswiftCore\|libFoundation\.so'; }
if [ -z "${BIN_DIR-}" ]; then
  BIN_DIR="$(cd "$ROOT" && swift build -c release --show-bin-path)"
  if [ ! -x "$BIN_DIR/writebackd" ] || [ ! -x "$BIN_DIR/writebackctl" ] \
     || needs_swift_runtime "$BIN_DIR/writebackd" || needs_swift_runtime "$BIN_DIR/writebackctl"; then
    "$ROOT/scripts/release-build.sh" --product writebackd && "$ROOT/scripts/release-build.sh" --product writebackctl
  fi
fi
for b in writebackd writebackctl; do
  [ -x "$BIN_DIR/$b" ] || { echo "install.sh: $BIN_DIR/$b is missing (build first: make release)" >&2; exit 1; }
done

D="$DESTDIR$PREFIX"
install -d -m 0755 "$D/bin" "$D/lib/systemd/system" "$D/lib/sysusers.d" "$D/lib/tmpfiles.d" \
  "$D/share/man/man8" "$D/share/doc/writebackd/examples"
install -m 0755 "$BIN_DIR/writebackd" "$BIN_DIR/writebackctl" "$D/bin/"
# DWARF out (about 60 MB each), symbol names kept: backtraces still name the functions.
for f in "$D/bin/writebackd" "$D/bin/writebackctl"; do
  if command -v strip >/dev/null && [ "$(head -c 4 "$f" | tail -c 3)" = ELF ]; then strip --strip-debug "$f"; fi
done
sed "s#/usr/local/bin/writebackd#$PREFIX/bin/writebackd#g" "$ROOT/systemd/writebackd.service" > "$D/lib/systemd/system/writebackd.service"
chmod 0644 "$D/lib/systemd/system/writebackd.service"
install -m 0644 "$ROOT/systemd/writebackd.sysusers" "$D/lib/sysusers.d/writebackd.conf"
install -m 0644 "$ROOT/systemd/writebackd.tmpfiles" "$D/lib/tmpfiles.d/writebackd.conf"
install -m 0644 "$ROOT/man/writebackd.8" "$ROOT/man/writebackctl.8" "$D/share/man/man8/"
install -m 0644 "$ROOT/config/writebackd.toml" "$ROOT/config/active-directory.toml" "$ROOT/config/openldap.toml" "$ROOT/config/several-directories.toml" \
  "$D/share/doc/writebackd/examples/"

install -d -m 0755 "$DESTDIR/etc/writebackd"
install -d -m 0700 "$DESTDIR/etc/writebackd/credentials"
if [ ! -e "$DESTDIR/etc/writebackd/writebackd.toml" ]; then
  install -m 0644 "$ROOT/config/writebackd.toml" "$DESTDIR/etc/writebackd/writebackd.toml"
  echo "install.sh: wrote $DESTDIR/etc/writebackd/writebackd.toml (edit it)"
else
  echo "install.sh: kept existing $DESTDIR/etc/writebackd/writebackd.toml"
fi

if [ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ]; then
  command -v systemd-sysusers >/dev/null && systemd-sysusers "$D/lib/sysusers.d/writebackd.conf"
  command -v systemd-tmpfiles >/dev/null && systemd-tmpfiles --create "$D/lib/tmpfiles.d/writebackd.conf" || true
  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
fi

cat <<NEXT
install.sh: installed into ${DESTDIR:-/}${DESTDIR:+ }(prefix $PREFIX). Next:
  1. writebackctl keygen --out /etc/writebackd/keys; move daemon-sealing.key to
     /etc/writebackd/credentials/daemon-sealing.key (root, 0600); give producer-signing.key to the portal.
  2. Put the service account's password in /etc/writebackd/credentials/bind-password (root, 0600).
  3. Edit /etc/writebackd/writebackd.toml, then: writebackctl doctor --config /etc/writebackd/writebackd.toml
  4. systemctl enable --now writebackd
NEXT
