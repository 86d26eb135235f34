#!/usr/bin/env bash
# scripts/test-deb-install.sh DEB — the package test: in a clean Debian 12 root (debootstrap
# minbase, kept pristine in a cache and copied fresh for each run) it installs DEB with
# `apt-get install ./…deb` (dependencies from Debian's archive), checks what the maintainer
# scripts did (user, directories, conffile, nothing started), runs `writebackctl doctor` there
# against a throwaway slapd on loopback (scripts/testenv/slapd.sh; the chroot shares the
# network), starts the packaged daemon as the writebackd user for a moment, then
# `apt-get purge --autoremove` and checks that the root is file for file what it was.
#
# WRITEBACKD_DEB_TEST_CACHE (default /var/cache/writebackd-test) holds the pristine root; the
# first run makes it (debootstrap: a few minutes), later runs copy it (seconds).
set -euo pipefail
ROOT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
DEB="$(readlink -f "${1:?usage: test-deb-install.sh DEB}")"
CACHE="${WRITEBACKD_DEB_TEST_CACHE:-/var/cache/writebackd-test}"
PRISTINE="$CACHE/bookworm-minbase"
[ "$(id -u)" = 0 ] || { echo "test-deb-install: needs root (chroot, debootstrap)" >&2; exit 1; }

say() { printf '\n== %s\n' "$*"; }
t0=$(date +%s)

# The host's Debian mirror (its apt sources), so the test reaches the archive the way the host does.
mirror="$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n1 || true)"
[ -n "$mirror" ] || mirror="$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"

if [ ! -x "$PRISTINE/usr/bin/apt-get" ]; then
  say "making the pristine Debian 12 root (debootstrap --variant=minbase, once)"
  mkdir -p "$CACHE"
  rm -rf "$PRISTINE.tmp"
  debootstrap --variant=minbase bookworm "$PRISTINE.tmp" ${mirror:+"$mirror"} > "$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
  rm -rf "$PRISTINE.tmp/var/cache/apt/archives/"*.deb
  mv "$PRISTINE.tmp" "$PRISTINE"
fi
echo "pristine root ready after $(( $(date +%s) - t0 )) s"

WORK="$(mktemp -d /var/tmp/writebackd-deb.XXXXXX)"
R="$WORK/root"
cleanup() {
  [ -f "$WORK/slapd/slapd.pid" ] && bash "$ROOT_DIR/scripts/testenv/slapd.sh" stop "$WORK/slapd" >/dev/null 2>&1 || true
  [ -n "${daemon_pid-}" ] && kill "$daemon_pid" 2>/dev/null || true
  mountpoint -q "$R/proc" 2>/dev/null && umount "$R/proc" || true
  if [ -n "${KEEP_DEB_TEST-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
cp -a "$PRISTINE" "$R"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  rm -f "$R/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/debian.sources "$R/etc/apt/sources.list.d/"
fi
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$R/proc" 2>/dev/null || echo "note: /proc not mounted in the root (not permitted here)"
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
snapshot() {  # every path and its type, mode and owner, outside the package manager's own records
  # (and the shadow tools' backups /etc/passwd- … that adduser/deluser leave, which are not ours)
  in_root find / -xdev \( -path /proc -o -path /tmp -o -path /var/tmp -o -path /var/log -o -path /var/cache \
    -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /run \) -prune -o -printf '%p %y %m %u %g\n' \
    | grep -Ev '^/etc/(passwd|group|shadow|gshadow|subuid|subgid)- ' | sort
}
snapshot > "$WORK/before"

say "apt-get install ./$(basename "$DEB")"
cp "$DEB" "$R/tmp/"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$DEB")" > "$WORK/install.log" 2>&1 \
  || { cat "$WORK/install.log" >&2; exit 1; }
grep -E "writebackd: installed" "$WORK/install.log"
in_root dpkg-query -W -f='${Package} ${Version} ${Status}\n' writebackd
in_root dpkg-query -W -f='Depends: ${Depends}\n' writebackd
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
# Processes whose root directory is this root (other engineers' daemons on the host are not ours).
running_in_root() { local d; for d in /proc/[0-9]*; do [ "$(readlink "$d/root" 2>/dev/null)" = "$R" ] && return 0; done; return 1; }
check "user and group writebackd" "in_root getent passwd writebackd >/dev/null && in_root getent group writebackd >/dev/null"
check "/var/lib/writebackd 0700 writebackd" "[ \"\$(in_root stat -c '%a %U' /var/lib/writebackd)\" = '700 writebackd' ]"
check "/etc/writebackd/credentials 0700 root" "[ \"\$(in_root stat -c '%a %U' /etc/writebackd/credentials)\" = '700 root' ]"
check "conffile /etc/writebackd/writebackd.toml" "in_root dpkg-query --showformat='\${Conffiles}' --show writebackd | grep -q /etc/writebackd/writebackd.toml"
check "unit installed, not enabled" "[ -f $R/lib/systemd/system/writebackd.service ] && [ ! -e $R/etc/systemd/system/multi-user.target.wants/writebackd.service ]"
check "no daemon started" "! running_in_root"
check "bash completion" "grep -q _writebackctl $R/usr/share/bash-completion/completions/writebackctl"
check "zsh, fish completions" "[ -s $R/usr/share/zsh/vendor-completions/_writebackctl ] && [ -s $R/usr/share/fish/vendor_completions.d/writebackctl.fish ]"
check "examples, dashboard, rules" "[ -f $R/usr/share/doc/writebackd/examples/writebackd.toml ] && [ -f $R/usr/share/doc/writebackd/examples/grafana/writebackd.json ] && [ -f $R/usr/share/doc/writebackd/examples/prometheus/writebackd-rules.yml ]"
check "binaries need only Debian's libraries" "in_root ldd /usr/bin/writebackd > $WORK/ldd.txt && in_root ldd /usr/bin/writebackctl >> $WORK/ldd.txt && ! grep -q 'not found' $WORK/ldd.txt"
check "writebackctl --help runs" "in_root writebackctl --help >/dev/null"

say "writebackctl doctor against a throwaway slapd"
bash "$ROOT_DIR/scripts/testenv/slapd.sh" start "$WORK/slapd" --watch-pid $$ > "$WORK/facts.env"
# shellcheck disable=SC1091
. "$WORK/facts.env"
install -m 0644 "$CA_FILE" "$R/etc/writebackd/directory-ca.pem"
# The daemon runs here as writebackd without systemd's LoadCredential=, so its secrets sit in a
# directory of its own rather than root's credentials/.
install -d -m 0700 "$R/etc/writebackd/secrets"
install -m 0600 "$BIND_PASSWORD_FILE" "$R/etc/writebackd/secrets/bind-password"
in_root writebackctl keygen --out /etc/writebackd/keys >/dev/null
in_root writebackctl keygen --audit --out /etc/writebackd/audit-keys >/dev/null
in_root chown -R writebackd:writebackd /etc/writebackd/keys /etc/writebackd/audit-keys
cat > "$R/etc/writebackd/writebackd.toml" <<TOML
[directory]
flavor = "openldap"
uri = ["$URI"]
start_tls = true
ca_file = "/etc/writebackd/directory-ca.pem"
base_dn = "$BASE_DN"
bind_dn = "$BIND_DN"
bind_password_file = "/etc/writebackd/secrets/bind-password"

[queue]
path = "/var/lib/writebackd/queue.sqlite"

[keys]
producer_public_keys = ["/etc/writebackd/keys/producer-signing.pub"]
sealing_private_key = "/etc/writebackd/keys/daemon-sealing.key"
sealing_public_key = "/etc/writebackd/keys/daemon-sealing.pub"

[outbox]
dir = "/var/lib/writebackd/outbox"

[control]
socket = "/var/lib/writebackd/control.sock"

[audit]
signing_key = "/etc/writebackd/audit-keys/audit-signing.key"
TOML
in_root chown -R writebackd:writebackd /etc/writebackd/secrets
set +e
in_root writebackctl doctor --config /etc/writebackd/writebackd.toml > "$WORK/doctor.txt" 2>&1
doctor_rc=$?
set -e
cat "$WORK/doctor.txt"
check "doctor passes (exit 0)" "[ $doctor_rc = 0 ]"

say "the packaged daemon starts as writebackd and answers status"
# chroot, env and setpriv exec one another: $! is the daemon itself.
chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  setpriv --reuid=writebackd --regid=writebackd --init-groups writebackd --config /etc/writebackd/writebackd.toml \
  > "$WORK/daemon.log" 2>&1 &
daemon_pid=$!
ready=0
for _ in $(seq 1 100); do
  if in_root writebackctl status --socket /var/lib/writebackd/control.sock >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.2
done
check "daemon ready, status answers" "[ $ready = 1 ]"
kill -TERM "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" || true; daemon_pid=""
check "daemon stopped on SIGTERM, nothing left running in the root" "! running_in_root"
check "audit trail written and signed" "in_root writebackctl audit verify /var/lib/writebackd/audit.jsonl --key /etc/writebackd/audit-keys/audit-signing.pub --strict"
[ "$fail" = 0 ] || { echo "daemon log:"; tail -30 "$WORK/daemon.log"; }

say "apt-get purge --autoremove writebackd"
in_root apt-get purge -y -qq --autoremove writebackd > "$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log" >&2; exit 1; }
check "package gone" "! in_root dpkg-query -W writebackd >/dev/null 2>&1 || in_root dpkg-query -W -f='\${Status}' writebackd | grep -q not-installed"
check "user and group gone" "! in_root getent passwd writebackd >/dev/null && ! in_root getent group writebackd >/dev/null"
snapshot > "$WORK/after"
if diff "$WORK/before" "$WORK/after" > "$WORK/left"; then
  echo "ok   nothing left behind (every path outside apt/dpkg's records as before the install)"
else
  echo "FAIL left behind or changed:"; head -40 "$WORK/left"; fail=1
fi
echo "test-deb-install: $([ $fail = 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - t0 )) s"
exit $fail
