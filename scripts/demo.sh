#!/usr/bin/env bash
# scripts/demo.sh [--active-directory] — what `make demo` / `make demo-ad` run.
#
# A non-interactive tour on this machine, on loopback only: builds writebackd (debug), starts a
# throwaway OpenLDAP with ppolicy (or, with --active-directory, a Samba AD DC), makes keys and a
# configuration in a temporary directory, checks them with `writebackctl doctor`, starts the
# daemon, locks a user with real failed binds, and sends three requests through the queue:
#   1. a self-service reset with unlock for the locked user   → succeeded
#   2. an unlock-only request for a second locked user          → succeeded
#   3. a reset to a banned password                              → rejected / password_policy banned
# then shows `writebackctl status` and `requests`, proves the new password with a real bind,
# prints the confirmation e-mail from the outbox, and stops everything it started (by PID).
# The new password is generated into a 0600 file and given to `enqueue --password-stdin`; it is
# never printed. Environment: DEMO_BIN_DIR=<dir with writebackd, writebackctl> skips the build;
# DEMO_KEEP=1 keeps the temporary directory.
set -euo pipefail
started=$(date +%s.%N)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
AD=0
[ "${1-}" = "--active-directory" ] && AD=1

say() { printf '\n== %s\n' "$*"; }
fail() { echo "demo: FAILED: $*" >&2; exit 1; }

# ---------------------------------------------------------------- build
if [ -n "${DEMO_BIN_DIR-}" ]; then
  BIN="$DEMO_BIN_DIR"
else
  say "Building (debug)"
  (cd "$ROOT" && swift build --product writebackd >/dev/null && swift build --product writebackctl >/dev/null)
  BIN="$(cd "$ROOT" && swift build --show-bin-path)"
fi
[ -x "$BIN/writebackd" ] && [ -x "$BIN/writebackctl" ] || fail "no binaries in $BIN"
ctl() { "$BIN/writebackctl" "$@"; }
build_done=$(date +%s.%N)

WORK=$(mktemp -d /tmp/writebackd-demo.XXXXXX)
chmod 700 "$WORK"
DAEMON_PID=""
DIR_KIND=""
cleanup() {
  local rc=$?
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -TERM "$DAEMON_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
  fi
  case "$DIR_KIND" in
    slapd) bash "$ROOT/scripts/testenv/slapd.sh" stop "$WORK/slapd" >/dev/null 2>&1 || true ;;
    samba) bash "$ROOT/scripts/testenv/samba-dc.sh" stop "$WORK/samba" >/dev/null 2>&1 || true ;;
  esac
  if [ "${DEMO_KEEP-0}" = 1 ]; then echo "demo: kept $WORK"; else rm -rf "$WORK"; fi
  local now; now=$(date +%s.%N)
  awk -v a="$started" -v b="$build_done" -v n="$now" -v rc="$rc" 'BEGIN {
    printf "\ndemo: wall time %.1f s (%.1f s after the build)%s\n", n - a, n - b, (rc == 0 ? "" : " — exit " rc) }' 
  [ $rc = 0 ] && echo "DEMO OK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

newpw() { # a random password that passes length, complexity and the banned list; into file $1
  ( umask 077; printf '%sAa7!' "$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | head -c 14)" > "$1" )
}

# ---------------------------------------------------------------- directory
if [ $AD = 0 ]; then
  say "Starting a throwaway OpenLDAP (slapd + ppolicy, StartTLS, loopback)"
  bash "$ROOT/scripts/testenv/slapd.sh" start "$WORK/slapd" --watch-pid $$ > "$WORK/facts.env"
  DIR_KIND=slapd
  # shellcheck disable=SC1091
  . "$WORK/facts.env"
  FLAVOR=openldap; START_TLS=true; DIR_URI=$URI; SEARCH_BASE=$BASE_DN
  RESET_USER=bob; UNLOCK_USER=carol; BANNED_USER=alice
  user_dn() { echo "uid=$1,$PEOPLE_DN"; }
  LDAPOPTS=(-x -ZZ -H "$URI")
  UNLOCK_USER_PW_FILE="$WORK/slapd/secrets/user-$UNLOCK_USER"
  locked_attr=pwdAccountLockedTime
else
  say "Starting a throwaway Samba AD DC (ldaps, loopback)"
  SAMBA_DC_OWNER_PID=$$ bash "$ROOT/scripts/testenv/samba-dc.sh" start "$WORK/samba" > "$WORK/facts.env"
  DIR_KIND=samba
  . "$WORK/samba/facts.sh"
  FLAVOR=active-directory; START_TLS=false; DIR_URI=$URI; SEARCH_BASE=$USERS_DN
  RESET_USER=demo.reset; UNLOCK_USER=demo.unlock; BANNED_USER=paul.plain
  user_dn() { echo "CN=$1,$USERS_DN"; }
  LDAPOPTS=(-x -H "$URI")
  export LDAPTLS_CACERT=$CA_FILE
  for u in $RESET_USER $UNLOCK_USER; do   # two users with passwords we know
    newpw "$WORK/pw-$u"
    pwb64=$(printf '"%s"' "$(cat "$WORK/pw-$u")" | iconv -t UTF-16LE | base64 -w0)
    ldapadd "${LDAPOPTS[@]}" -D "$ADMIN_DN" -y "$ADMIN_PASSWORD_FILE" >/dev/null <<LDIF
dn: $(user_dn $u)
objectClass: user
sAMAccountName: $u
userPrincipalName: $u@example.test
displayName: Demo $u
mail: $u@example.test
unicodePwd:: $pwb64
userAccountControl: 512
LDIF
  done
  UNLOCK_USER_PW_FILE="$WORK/pw-$UNLOCK_USER"
  locked_attr=lockoutTime
fi
export LDAPTLS_CACERT=$CA_FILE
echo "directory: $FLAVOR at $DIR_URI (base $SEARCH_BASE), PID $PID"
echo "work directory: $WORK"

# ---------------------------------------------------------------- keys and configuration
say "Generating keys (writebackctl keygen) and a configuration"
ctl keygen --out "$WORK/keys"
printf 'contoso\nwinter\n' > "$WORK/banned.txt"
cat > "$WORK/writebackd.toml" <<TOML
[directory]
flavor = "$FLAVOR"
uri = ["$DIR_URI"]
start_tls = $START_TLS
ca_file = "$CA_FILE"
base_dn = "$SEARCH_BASE"
bind_dn = "$BIND_DN"
bind_password_file = "$BIND_PASSWORD_FILE"
timeout_seconds = 5

[queue]
path = "$WORK/queue.sqlite"
poll_interval_ms = 100

[keys]
producer_public_keys = ["$WORK/keys/producer-signing.pub"]
sealing_private_key = "$WORK/keys/daemon-sealing.key"
sealing_public_key = "$WORK/keys/daemon-sealing.pub"

[policy]
banned_passwords_file = "$WORK/banned.txt"
min_length = 12

[outbox]
dir = "$WORK/outbox"
organization = "Demo Org"

[control]
socket = "$WORK/control.sock"
group = ""

[state]
path = "$WORK/state.sqlite"
TOML
sed -n '1,12p' "$WORK/writebackd.toml"; echo "…"

say "writebackctl doctor"
ctl doctor --config "$WORK/writebackd.toml" || fail "doctor found a problem"

# ---------------------------------------------------------------- daemon
say "Starting writebackd"
"$BIN/writebackd" --config "$WORK/writebackd.toml" --log-format text 2> "$WORK/writebackd.log" &
DAEMON_PID=$!
for _ in $(seq 200); do
  ctl status --socket "$WORK/control.sock" >/dev/null 2>&1 && break
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/writebackd.log" >&2; fail "writebackd exited"; }
  sleep 0.1
done
ctl status --socket "$WORK/control.sock" >/dev/null || fail "writebackd did not become ready"
echo "writebackd running, PID $DAEMON_PID"

# ---------------------------------------------------------------- lock two users for real
say "Locking $RESET_USER and $UNLOCK_USER with real failed binds"
( umask 077; printf 'not-the-password-%s' "$RANDOM$RANDOM" > "$WORK/wrong" )
for u in $RESET_USER $UNLOCK_USER; do
  for _ in 1 2 3 4; do ldapwhoami "${LDAPOPTS[@]}" -D "$(user_dn $u)" -y "$WORK/wrong" >/dev/null 2>&1 || true; done
  v=$(ldapsearch "${LDAPOPTS[@]}" -D "$ADMIN_DN" -y "$ADMIN_PASSWORD_FILE" -LLL -b "$(user_dn $u)" -s base "($locked_attr=*)" $locked_attr | grep -i "^$locked_attr:" || true)
  [ -n "$v" ] || fail "$u did not get locked"
  echo "$u: $v"
done

# ---------------------------------------------------------------- three requests
say "Enqueueing: reset+unlock for $RESET_USER, unlock-only for $UNLOCK_USER, a banned password for $BANNED_USER"
newpw "$WORK/new-password"
common=(--config "$WORK/writebackd.toml" --signing-key "$WORK/keys/producer-signing.key"
        --licenses AAD_PREMIUM --methods email --registered email,mobile_phone)
id_reset=$(ctl enqueue "${common[@]}" --user $RESET_USER --kind reset --password-stdin < "$WORK/new-password")
id_unlock=$(ctl enqueue "${common[@]}" --user $UNLOCK_USER --kind unlock)
( umask 077; printf 'C0ntos0Winter1' > "$WORK/banned-password" )
id_banned=$(ctl enqueue "${common[@]}" --user $BANNED_USER --kind reset --password-stdin < "$WORK/banned-password")
echo "reset   $id_reset"
echo "unlock  $id_unlock"
echo "banned  $id_banned"

say "Waiting for the results (writebackctl result --wait)"
for id in "$id_reset" "$id_unlock" "$id_banned"; do ctl result "$id" --wait 60 --config "$WORK/writebackd.toml" || true; done
r_reset=$(ctl result "$id_reset" --json --config "$WORK/writebackd.toml")
r_unlock=$(ctl result "$id_unlock" --json --config "$WORK/writebackd.toml")
r_banned=$(ctl result "$id_banned" --json --config "$WORK/writebackd.toml")
echo "$r_reset" | grep -q '"outcome":"succeeded"' || fail "reset: $r_reset"
echo "$r_unlock" | grep -q '"outcome":"succeeded"' || fail "unlock: $r_unlock"
echo "$r_banned" | grep -q '"outcome":"password_policy"' && echo "$r_banned" | grep -q '"detail":"banned"' || fail "banned: $r_banned"

say "writebackctl status"
ctl status --socket "$WORK/control.sock"
say "writebackctl requests"
ctl requests --socket "$WORK/control.sock"

# ---------------------------------------------------------------- proof
say "Proof: $RESET_USER binds with the new password, $UNLOCK_USER is unlocked"
if [ $AD = 0 ]; then
  ldapwhoami "${LDAPOPTS[@]}" -D "$(user_dn $RESET_USER)" -y "$WORK/new-password" || fail "new password does not bind"
else
  # Samba has no WhoAmI: a bound base search proves the bind.
  ldapsearch "${LDAPOPTS[@]}" -D "$(user_dn $RESET_USER)" -y "$WORK/new-password" -LLL -s base -b "$(user_dn $RESET_USER)" dn \
    || fail "new password does not bind"
fi
echo "bind as $RESET_USER with the new password: OK"
if [ $AD = 0 ]; then
  left=$(ldapsearch "${LDAPOPTS[@]}" -D "$ADMIN_DN" -y "$ADMIN_PASSWORD_FILE" -LLL -b "$(user_dn $UNLOCK_USER)" -s base "(pwdAccountLockedTime=*)" dn || true)
  [ -z "$left" ] || fail "$UNLOCK_USER is still locked"
else
  lt=$(ldapsearch "${LDAPOPTS[@]}" -D "$ADMIN_DN" -y "$ADMIN_PASSWORD_FILE" -LLL -b "$(user_dn $UNLOCK_USER)" -s base lockoutTime | awk '/^lockoutTime:/ {print $2}')
  [ "${lt:-0}" = 0 ] || fail "$UNLOCK_USER is still locked (lockoutTime $lt)"
fi
ldapsearch "${LDAPOPTS[@]}" -D "$(user_dn $UNLOCK_USER)" -y "$UNLOCK_USER_PW_FILE" -LLL -s base -b "$(user_dn $UNLOCK_USER)" dn >/dev/null \
  || fail "$UNLOCK_USER cannot bind with the old password after the unlock"
echo "$UNLOCK_USER: unlocked, binds with the unchanged password: OK"

say "The confirmation e-mail for $RESET_USER (outbox)"
eml=$(ls "$WORK/outbox/new/$id_reset"-*.eml 2>/dev/null | head -1)
[ -n "$eml" ] || fail "no confirmation in $WORK/outbox/new"
cat "$eml"
if grep -qF -f "$WORK/new-password" "$eml" "$WORK/writebackd.log" "$WORK/outbox/outbox.jsonl"; then fail "the password leaked"; fi
echo; echo "(the new password appears in no message, log or outbox line: checked)"

say "Stopping writebackd (SIGTERM)"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" && echo "writebackd exited 0" || fail "writebackd exit status $?"
DAEMON_PID=""
