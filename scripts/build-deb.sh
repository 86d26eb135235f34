#!/usr/bin/env bash
# scripts/build-deb.sh [--bin-dir DIR] [--out DIR] — builds writebackd_<version>_amd64.deb (what
# `make deb` runs). Layout (Debian 12):
#   /usr/bin/writebackd, writebackctl                 stripped; the Swift runtime linked in
#   /lib/systemd/system/writebackd.service            the unit (not enabled, not started)
#   /usr/lib/sysusers.d, /usr/lib/tmpfiles.d          the writebackd user, its directories
#   /usr/share/man/man8/*.8.gz                        man pages
#   /usr/share/doc/writebackd/examples/               the commented configuration and the two
#                                                     examples, Grafana dashboard, Prometheus rules
#   /usr/share/{bash-completion,zsh,fish}/…           writebackctl completions (argument-parser)
#   /etc/writebackd/writebackd.toml                   conffile
# Depends: is computed by dpkg-shlibdeps from the binaries' shared libraries (+ adduser for
# the maintainer scripts). Without --bin-dir the release build is used (scripts/release-build.sh,
# built when missing). A --bin-dir build must link the Swift runtime statically
# (--static-swift-stdlib): a package cannot depend on a toolchain.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN_DIR=""
OUT="$ROOT/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) BIN_DIR="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "usage: build-deb.sh [--bin-dir DIR] [--out DIR]" >&2; exit 2 ;;
  esac
done

VERSION="$(sed -n 's/.*static let version = "\([^"]*\)".*/\1/p' "$ROOT/Sources/WritebackDaemon/DaemonControlHandler.swift")"
[ -n "$VERSION" ] || { echo "build-deb: cannot read the version" >&2; exit 1; }

needs_swift_runtime() { ldd "$1" 2>/dev/null | grep -q 'libswiftCore\|libFoundation\.so\|libdispatch\.so'; }
if [ -z "$BIN_DIR" ]; then
  BIN_DIR="$(cd "$ROOT" && swift build -c release --show-bin-path)"
  for b in writebackd writebackctl; do
    if [ ! -x "$BIN_DIR/$b" ] || needs_swift_runtime "$BIN_DIR/$b"; then "$ROOT/scripts/release-build.sh" --product "$b"; fi
  done
fi
for b in writebackd writebackctl; do
  [ -x "$BIN_DIR/$b" ] || { echo "build-deb: $BIN_DIR/$b is missing" >&2; exit 1; }
  if needs_swift_runtime "$BIN_DIR/$b"; then
    echo "build-deb: $BIN_DIR/$b loads the Swift runtime from the toolchain; build with --static-swift-stdlib" >&2; exit 1
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
S="$work/writebackd_${VERSION}_amd64"
install -d -m 0755 "$S/DEBIAN" "$S/usr/bin" "$S/lib/systemd/system" "$S/usr/lib/sysusers.d" "$S/usr/lib/tmpfiles.d" \
  "$S/usr/share/man/man8" "$S/usr/share/doc/writebackd/examples/grafana" "$S/usr/share/doc/writebackd/examples/prometheus" \
  "$S/usr/share/bash-completion/completions" "$S/usr/share/zsh/vendor-completions" "$S/usr/share/fish/vendor_completions.d" \
  "$S/etc/writebackd"

for b in writebackd writebackctl; do
  install -m 0755 "$BIN_DIR/$b" "$S/usr/bin/$b"
  # Debian policy: stripped (lintian unstripped-binary-or-object); backtraces lose symbol names.
  strip --remove-section=.comment --remove-section=.note --strip-unneeded "$S/usr/bin/$b"
done
sed 's#/usr/local/bin/writebackd#/usr/bin/writebackd#g; s#^\# Installed by `make install`.*#\# Installed by the writebackd Debian package; not enabled until you configure it.#' \
  "$ROOT/systemd/writebackd.service" > "$S/lib/systemd/system/writebackd.service"
install -m 0644 "$ROOT/systemd/writebackd.sysusers" "$S/usr/lib/sysusers.d/writebackd.conf"
install -m 0644 "$ROOT/systemd/writebackd.tmpfiles" "$S/usr/lib/tmpfiles.d/writebackd.conf"
chmod 0644 "$S/lib/systemd/system/writebackd.service"
for m in writebackd.8 writebackctl.8; do gzip -9n < "$ROOT/man/$m" > "$S/usr/share/man/man8/$m.gz"; done
chmod 0644 "$S"/usr/share/man/man8/*.gz

D="$S/usr/share/doc/writebackd"
install -m 0644 "$ROOT/packaging/debian/copyright" "$D/copyright"
gzip -9n < "$ROOT/README.md" > "$D/README.md.gz"
for f in writebackd.toml active-directory.toml openldap.toml; do install -m 0644 "$ROOT/config/$f" "$D/examples/$f"; done
install -m 0644 "$ROOT/contrib/grafana/writebackd.json" "$D/examples/grafana/writebackd.json"
install -m 0644 "$ROOT/contrib/prometheus/writebackd-rules.yml" "$D/examples/prometheus/writebackd-rules.yml"
stamp="$(git -C "$ROOT" log -1 --format=%cD 2>/dev/null || date -R)"
{
  echo "writebackd ($VERSION) unstable; urgency=medium"
  echo
  echo "  * Build of $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'an unversioned tree'); see the project's history for changes."
  echo
  echo " -- writebackd maintainers <writebackd@example.org>  $stamp"
} | gzip -9n > "$D/changelog.gz"
chmod 0644 "$D"/*.gz

# bash-completion sources the file: no #! line (lintian bash-completion-with-hashbang).
"$BIN_DIR/writebackctl" --generate-completion-script bash | sed '1{/^#!/d}' > "$S/usr/share/bash-completion/completions/writebackctl"
"$BIN_DIR/writebackctl" --generate-completion-script zsh > "$S/usr/share/zsh/vendor-completions/_writebackctl"
"$BIN_DIR/writebackctl" --generate-completion-script fish > "$S/usr/share/fish/vendor_completions.d/writebackctl.fish"
chmod 0644 "$S/usr/share/bash-completion/completions/writebackctl" "$S/usr/share/zsh/vendor-completions/_writebackctl" \
  "$S/usr/share/fish/vendor_completions.d/writebackctl.fish"

install -m 0644 "$ROOT/config/writebackd.toml" "$S/etc/writebackd/writebackd.toml"
echo "/etc/writebackd/writebackd.toml" > "$S/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "$ROOT/packaging/debian/$script" "$S/DEBIAN/$script"; done

# Depends from the binaries' NEEDED libraries and the symbols they use.
mkdir -p "$work/src/debian"
printf 'Source: writebackd\n\nPackage: writebackd\nArchitecture: any\n' > "$work/src/debian/control"
shlibs="$(cd "$work/src" && dpkg-shlibdeps -O -e"$S/usr/bin/writebackd" -e"$S/usr/bin/writebackctl" 2>"$work/shlibdeps.err")" \
  || { cat "$work/shlibdeps.err" >&2; exit 1; }
shlibs="${shlibs#shlibs:Depends=}"
size="$(du -sk --exclude=DEBIAN "$S" | cut -f1)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@SHLIBS_DEPENDS@/$shlibs/" -e "s/@INSTALLED_SIZE@/$size/" \
  "$ROOT/packaging/debian/control.in" > "$S/DEBIAN/control"
(cd "$S" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$S/DEBIAN/md5sums"
chmod 0644 "$S/DEBIAN/control" "$S/DEBIAN/conffiles" "$S/DEBIAN/md5sums"

mkdir -p "$OUT"
deb="$OUT/writebackd_${VERSION}_amd64.deb"
# DEB_COMPRESSION=gzip: the CI form's large debug binaries, where xz would take minutes.
case "${DEB_COMPRESSION:-xz}" in
  gzip) compress=(-Zgzip -z1) ;;
  *) compress=(-Zxz) ;;
esac
dpkg-deb --root-owner-group "${compress[@]}" --build "$S" "$deb" >/dev/null
echo "$deb"
echo "build-deb: Depends: $shlibs, adduser" >&2
