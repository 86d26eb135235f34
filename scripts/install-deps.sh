#!/usr/bin/env bash
# Installs the Debian packages writebackd's build, tests and demo need, when any is missing.
# Safe to run again: it does nothing when everything is there. Needs root for apt-get.
set -euo pipefail

PACKAGES=(
  # build: libldap/liblber/libsasl for CLDAP, SQLite for GRDB
  libldap2-dev libsasl2-dev libsqlite3-dev pkg-config
  # test directories: OpenLDAP with ppolicy, a Samba AD DC, Kerberos for GSSAPI
  slapd ldap-utils samba-ad-dc samba-ad-provision krb5-user libsasl2-modules-gssapi-mit
  # test tools: CA and certificates, the sqlite3 CLI, an independent Python producer, a real MTA path
  openssl sqlite3 python3 python3-cryptography python3-aiosmtpd msmtp iproute2 util-linux procps
  # the PostgreSQL backend's tests: a throwaway server (initdb, pg_ctl) and psql
  postgresql postgresql-client
  # the systemd unit's checks (systemd-analyze)
  systemd
  # the Debian package (make deb, its test): dpkg-shlibdeps, strip, lintian, a clean root to
  # install into; promtool (Debian's prometheus package) for contrib/prometheus's rules
  dpkg-dev binutils lintian debootstrap prometheus
  # make bench / make faults: the C baselines are compiled at run time; perf for profiles
  gcc libc6-dev linux-perf
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi

# Daemon packages (slapd, samba) must not start their services on every interface while they
# install: policy-rc.d answering 101 forbids it. Only remove it if we put it there.
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
trap '[ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages' own services stay stopped: tests start their own servers on loopback.
for svc in slapd samba-ad-dc smbd nmbd winbind postgresql prometheus prometheus-node-exporter; do
  systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
