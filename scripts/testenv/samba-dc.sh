#!/usr/bin/env bash
# samba-dc.sh — a throwaway Samba AD DC on loopback for the tests (needs real root).
#
#   samba-dc.sh start DIR   restore the provisioned snapshot into DIR (provisioning it once if
#                           the cache has none), give it a fresh test CA, start the DC, wait
#                           until ldaps://127.0.0.1:636 answers and print KEY=VALUE facts.
#   samba-dc.sh stop DIR    stop the DC started in DIR: kill its process group (by PGID), wait.
#   samba-dc.sh facts DIR   print the facts again (DIR/facts.env; DIR/facts.sh is the sourceable form).
#   samba-dc.sh snapshot    provision the cached snapshot now (if missing) and print its path.
#
# Ports 389/636 are fixed, so only one DC runs at a time: `start` takes an exclusive flock on
# $SAMBA_DC_LOCK and hands that lock to the DC's process group; another `start` waits (up to
# $SAMBA_DC_LOCK_WAIT seconds) until the first DC is gone. With SAMBA_DC_OWNER_PID set, a
# watchdog in the group stops the DC within a second of that process's death (a test runner
# that crashed or was killed can never leave a DC behind).
#
# The snapshot (/var/tmp/writebackd-samba-snapshot-<samba version>-<hash of this script>.tar)
# holds: realm EXAMPLE.TEST, OU=People with test users, OU=Groups, the service account
# svc-writeback with exactly the rights writeback needs delegated on OU=People (reset password,
# change password, write lockoutTime and pwdLastSet, read), the read-only svc-readonly, lockout
# after 3 bad passwords, minimum length 12 and complexity; a KDC on 127.0.0.1:88 and a keytab
# for svc-writeback (GSSAPI with SASL sealing on ldap://127.0.0.1, SPN ldap/127.0.0.1). Passwords are random; the three the
# tests need (Administrator, svc-writeback, svc-readonly) are in DIR/secrets/*.pw, mode 0600.
# No password is ever a command-line argument.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script="$here/$(basename "${BASH_SOURCE[0]}")"
PY=/usr/bin/python3                       # the one with Samba's bindings
LOCK=${SAMBA_DC_LOCK:-/var/tmp/writebackd-samba-dc.lock}
LOCK_WAIT=${SAMBA_DC_LOCK_WAIT:-900}
REALM=EXAMPLE.TEST
DOMAIN=EXAMPLE
BASE_DN="DC=example,DC=test"

die() { echo "samba-dc.sh: $*" >&2; exit 1; }
since() { awk -v now="$(date +%s.%N)" -v t0="$1" 'BEGIN { printf "%.2f", now - t0 }'; }

snapshot_path() {
    local version hash
    version=$(samba -V | awk '{print $2}')
    # Keyed by what shapes the provisioned data only: the provision function and the setup script.
    hash=$( { sed -n '/^provision() {/,/^}/p' "$script"; cat "$here/samba-dc-setup.py"; } | sha256sum | cut -c1-12)
    echo "/var/tmp/writebackd-samba-snapshot-${version}-${hash}.tar"
}

# Provisions into a scratch directory and tars it (paths inside are rewritten on restore).
provision() {
    local snap=$1 prov started
    started=$(date +%s.%N)
    prov=$(mktemp -d /var/tmp/writebackd-samba-prov.XXXXXX)
    mkdir -p "$prov/log" "$prov/run" "$prov/secrets"
    chmod 0700 "$prov/secrets"
    # Provision picks a random Administrator password (and logs it): the log is discarded, and
    # the setup script replaces it with one of its own, read from no command line.
    samba-tool domain provision --realm=$REALM --domain=$DOMAIN --server-role=dc \
        --dns-backend=NONE --host-name=dc1 --use-rfc2307 --targetdir="$prov" \
        --option="interfaces=127.0.0.1" --option="bind interfaces only=yes" \
        --option="server services = ldap kdc" --option="disable netbios = yes" \
        --option="prefork children = 1" --option="ldb:nosync = true" \
        --option="log file = $prov/log/samba.log" --option="pid directory = $prov/run" \
        --option="ncalrpc dir = $prov/run/ncalrpc" \
        --option="tls enabled = yes" --option="tls keyfile = $prov/tls/server.key" \
        --option="tls certfile = $prov/tls/server.pem" --option="tls cafile = $prov/tls/ca.pem" \
        >/dev/null 2>&1 || die "provision failed (rerun samba-tool by hand to see why)"
    # Not kept by provision's --option: without it the old password binds for 60 more minutes.
    sed -i 's/^\[global\]$/[global]\n\told password allowed period = 0/' "$prov/etc/smb.conf"
    grep -q "old password allowed period = 0" "$prov/etc/smb.conf" || die "smb.conf edit failed"
    "$PY" "$here/samba-dc-setup.py" "$prov" >"$prov/setup.out" \
        || { cat "$prov/setup.out" >&2; die "setup failed"; }
    rm -f "$prov/setup.out"
    # GSSAPI: the DC's ldap/ SPNs (plus ldap/127.0.0.1, so clients can use the loopback address
    # without a hosts entry), a keytab for svc-writeback, and a private krb5.conf.
    samba_spnupdate -s "$prov/etc/smb.conf" >/dev/null 2>&1 || die "samba_spnupdate failed"
    samba-tool spn add ldap/127.0.0.1 'DC1$' -H "$prov/private/sam.ldb" -s "$prov/etc/smb.conf" >/dev/null 2>&1 \
        || die "spn add failed"
    (umask 077; samba-tool domain exportkeytab "$prov/secrets/svc-writeback.keytab" \
        --principal=svc-writeback@$REALM -s "$prov/etc/smb.conf" >/dev/null 2>&1) || die "exportkeytab failed"
    cat >"$prov/etc/krb5.conf" <<'KRB5'
[libdefaults]
	default_realm = EXAMPLE.TEST
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	ticket_lifetime = 1h
[realms]
	EXAMPLE.TEST = {
		kdc = 127.0.0.1
	}
KRB5
    echo "$prov" >"$prov/.provisioned-at"
    tar -C "$prov" -cf "$snap.tmp.$$" . && mv "$snap.tmp.$$" "$snap"
    rm -rf "$prov"
    echo "PROVISION_SECONDS=$(since "$started")" >&2
}

ensure_snapshot() {
    local snap
    snap=$(snapshot_path)
    [ -s "$snap" ] && { echo "$snap"; return; }
    exec 8>/var/tmp/writebackd-samba-provision.lock
    flock -w 300 8 || die "timed out waiting for another provisioning"
    if [ ! -s "$snap" ]; then
        provision "$snap"
        # Snapshots of older versions of the provisioning are never used again.
        find /var/tmp -maxdepth 1 -name 'writebackd-samba-snapshot-*.tar' ! -path "$snap" -delete
    fi
    exec 8>&-
    echo "$snap"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The process group: this watchdog (its leader) and samba. Ends when samba ends or the owner dies.
run_group() {
    local dir=$1 owner=$2 spid
    echo "$$" >"$dir/run/dc.pgid.tmp" && mv "$dir/run/dc.pgid.tmp" "$dir/run/dc.pgid"
    samba -s "$dir/etc/smb.conf" -F --no-process-group >"$dir/log/samba.stdout" 2>&1 &
    spid=$!
    echo "$spid" >"$dir/run/samba.main.pid"
    while kill -0 "$spid" 2>/dev/null; do
        if [ "$owner" != 0 ] && ! kill -0 "$owner" 2>/dev/null; then break; fi
        sleep 0.5
    done
    kill -TERM -- "-$$" 2>/dev/null || true
}

start() {
    local dir=$1 snap t0 old pgid
    [ "$(id -u)" = 0 ] || die "the Samba AD DC needs real root"
    t0=$(date +%s.%N)
    snap=$(ensure_snapshot)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ -e "$dir/run/dc.pgid" ] && die "a DC was already started in $dir (stop it first)"

    exec 9>"$LOCK"
    flock -w "$LOCK_WAIT" 9 || die "another Samba DC holds $LOCK for more than ${LOCK_WAIT}s"
    port_open 636 && die "something else listens on 127.0.0.1:636"
    port_open 389 && die "something else listens on 127.0.0.1:389"
    port_open 88 && die "something else listens on 127.0.0.1:88 (kerberos)"

    tar -C "$dir" -xf "$snap"
    old=$(cat "$dir/.provisioned-at")
    sed -i "s#$old#$dir#g" "$dir/etc/smb.conf"
    rm -rf "$dir/tls"
    "$here/make-ca.sh" "$dir/tls" >/dev/null

    # The group leader is a watchdog; the flock (fd 9) goes with it, so the lock is released
    # exactly when the last process of the DC's group is gone.
    setsid bash "$script" _run "$dir" "${SAMBA_DC_OWNER_PID:-0}" </dev/null >/dev/null 2>&1 &
    exec 9>&-
    local i
    for i in $(seq 1 50); do [ -s "$dir/run/dc.pgid" ] && break; sleep 0.05; done
    pgid=$(cat "$dir/run/dc.pgid")
    [ "$(ps -o pgid= -p "$pgid" | tr -d ' ')" = "$pgid" ] || die "the DC's process group did not start"

    local deadline=$(( $(date +%s) + 60 ))
    until LDAPTLS_CACERT="$dir/tls/ca.pem" ldapsearch -x -H ldaps://127.0.0.1:636 -b "" -s base \
            -o nettimeout=2 defaultNamingContext >/dev/null 2>&1; do
        if ! kill -0 "$pgid" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
            stop "$dir" >/dev/null 2>&1 || true
            tail -20 "$dir/log/samba.stdout" >&2 || true
            die "the DC did not answer on ldaps://127.0.0.1:636"
        fi
        sleep 0.1
    done

    cat >"$dir/facts.env" <<EOF
URI=ldaps://127.0.0.1:636
PLAIN_URI=ldap://127.0.0.1:389
CA_FILE=$dir/tls/ca.pem
WRONG_CA_FILE=$dir/tls/wrong-ca.pem
REALM=$REALM
BASE_DN=$BASE_DN
USERS_DN=OU=People,$BASE_DN
GROUPS_DN=OU=Groups,$BASE_DN
BIND_DN=CN=svc-writeback,OU=Service Accounts,$BASE_DN
BIND_PASSWORD_FILE=$dir/secrets/svc-writeback.pw
READONLY_DN=CN=svc-readonly,OU=Service Accounts,$BASE_DN
READONLY_PASSWORD_FILE=$dir/secrets/svc-readonly.pw
GSSAPI_URI=ldap://127.0.0.1:389
KRB5_CONFIG=$dir/etc/krb5.conf
KEYTAB=$dir/secrets/svc-writeback.keytab
PRINCIPAL=svc-writeback@$REALM
ADMIN_DN=CN=Administrator,CN=Users,$BASE_DN
ADMIN_PASSWORD_FILE=$dir/secrets/administrator.pw
PROTECTED_GROUP_DN=CN=Tier0 Admins,OU=Groups,$BASE_DN
NESTED_GROUP_DN=CN=Helpdesk Leads,OU=Groups,$BASE_DN
SSPR_GROUP_DN=CN=SSPR Pilot,OU=Groups,$BASE_DN
LOCKOUT_THRESHOLD=3
MIN_PASSWORD_LENGTH=12
SMB_CONF=$dir/etc/smb.conf
SNAPSHOT=$snap
PID=$(cat "$dir/run/samba.main.pid")
PGID=$pgid
DIR=$dir
EOF
    # The same, shell-quoted: `source DIR/facts.sh` (DNs contain spaces).
    local key value
    while IFS='=' read -r key value; do printf '%s=%q\n' "$key" "$value"; done <"$dir/facts.env" >"$dir/facts.sh"
    cat "$dir/facts.env"
    echo "START_SECONDS=$(since "$t0")"
}

stop() {
    local dir=$1 pgid i
    [ -f "$dir/run/dc.pgid" ] || { echo "samba-dc.sh: no DC in $dir" >&2; return 0; }
    pgid=$(cat "$dir/run/dc.pgid")
    kill -TERM -- "-$pgid" 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 -- "-$pgid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pgid" 2>/dev/null || true
    for i in $(seq 1 50); do
        kill -0 -- "-$pgid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$dir/run/dc.pgid"
}

case "${1:-}" in
    start) start "${2:?usage: samba-dc.sh start DIR}" ;;
    stop) stop "${2:?usage: samba-dc.sh stop DIR}" ;;
    facts) cat "${2:?usage: samba-dc.sh facts DIR}/facts.env" ;;
    snapshot) ensure_snapshot ;;
    _run) run_group "$2" "$3" ;;
    *) die "usage: samba-dc.sh start|stop DIR | snapshot" ;;
esac
