#!/usr/bin/env bash
# postgres.sh — a throwaway PostgreSQL server for the tests, on loopback only.
#
#   postgres.sh start DIR [--watch-pid PID] [--durable]
#                                             initdb into DIR/data, start on a free 127.0.0.1 port
#                                             and a Unix socket in DIR/sock, print KEY=VALUE facts
#   postgres.sh stop DIR                      stop the server started in DIR (by its postmaster PID)
#   postgres.sh restart DIR                   stop it (fast shutdown: clients are cut off) and start
#                                             it again on the same port; prints the new PID=
#
# The server refuses to run as root, so as root DIR is given to the `postgres` user and every
# server command runs as that user; as anyone else it runs as the caller. Authentication is
# `trust` for the Unix socket and 127.0.0.1 only (a test database holds no secrets; nothing
# else can connect). The database is `writeback`, the role `writebackd`. fsync is off: it is
# thrown away; `--durable` keeps PostgreSQL's defaults (fsync, synchronous_commit,
# full_page_writes on), for a bench that compares commit latency with SQLite's fsynced commits.
# `--watch-pid PID`: a watchdog stops the server when process PID is gone.
set -euo pipefail
cmd=${1:?usage: postgres.sh start|stop DIR [--watch-pid PID]}
dir=${2:?usage: postgres.sh start|stop DIR [--watch-pid PID]}
shift 2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "postgres.sh: no PostgreSQL server (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop_server() {
    local d=$1 pid
    [ -f "$d/data/postmaster.pid" ] || return 0
    pid=$(head -1 "$d/data/postmaster.pid")
    [ -n "$pid" ] || return 0
    kill -INT "$pid" 2>/dev/null || true          # fast shutdown
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
}

# Stops only the postmaster of this DIR when process $1 is gone (a reused PID is left alone).
watchdog() {
    setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
        grep -qF "$3" "/proc/$2/cmdline" 2>/dev/null && kill -INT "$2"' \
        _ "$1" "$2" "$3/data" </dev/null >/dev/null 2>&1 &
}

server_options() {
    if [ -e "$2/durable" ]; then
        echo "-p $1 -k $2/sock -c listen_addresses=127.0.0.1"
    else
        echo "-p $1 -k $2/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
}

case "$cmd" in
stop) stop_server "$dir"; exit 0 ;;
restart)
    dir=$(cd "$dir" && pwd)
    port=$(cat "$dir/port")
    stop_server "$dir"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$(server_options "$port" "$dir")" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    pid=$(head -1 "$dir/data/postmaster.pid")
    [ -s "$dir/watch-pid" ] && watchdog "$(cat "$dir/watch-pid")" "$pid" "$dir"
    echo "PID=$pid"
    exit 0 ;;
start) ;;
*) echo "postgres.sh: unknown command $cmd" >&2; exit 2 ;;
esac
watch_pid=""
durable=""
while [ $# -gt 0 ]; do
    case "$1" in
    --watch-pid) watch_pid=$2; shift 2 ;;
    --durable) durable=1; shift ;;
    *) echo "postgres.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

mkdir -p "$dir/sock"
dir=$(cd "$dir" && pwd)
if [ -n "$durable" ]; then touch "$dir/durable"; else rm -f "$dir/durable"; fi
[ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
as_pg "$bin/initdb" -D "$dir/data" -U writebackd --auth=trust -E UTF8 --no-instructions >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
HBA
# A free loopback port, chosen only now (initdb takes seconds, and meanwhile any process may be
# given that port for a connection of its own); if it is taken before the server binds it, try
# another (a loaded full test run once lost a port this way).
for attempt in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "$port" >"$dir/port"
    rm -f "$dir/server.log"   # pg_ctl creates it again, as the server's user
    if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$(server_options "$port" "$dir")" start >/dev/null; then
        break
    fi
    if [ "$attempt" = 5 ] || ! grep -q "could not create any TCP/IP sockets" "$dir/server.log"; then
        cat "$dir/server.log" >&2; exit 1
    fi
    echo "postgres.sh: port $port was taken before the server bound it; trying another" >&2
done
as_pg "$bin/createdb" -h "$dir/sock" -p "$port" -U writebackd writeback
pid=$(head -1 "$dir/data/postmaster.pid")
if [ -n "$watch_pid" ]; then
    echo "$watch_pid" >"$dir/watch-pid"
    watchdog "$watch_pid" "$pid" "$dir"
fi
cat <<FACTS
PID=$pid
PORT=$port
SOCKET_DIR=$dir/sock
URL=postgres://writebackd@127.0.0.1:$port/writeback
SOCKET_URL=postgres://writebackd@/writeback?host=$dir/sock&port=$port
FACTS
