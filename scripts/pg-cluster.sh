#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: `start DIR` prints a database URL on stdout,
# `stop DIR` stops it and deletes DIR, `kill DIR`/`restart DIR`
# stop and start it in place. Installs Debian's postgresql package when missing.
# The cluster listens on 127.0.0.1 only, on a free port, with durability settings off
# (it is deleted after the run); PG_DURABLE=1 keeps PostgreSQL's durable defaults (benchmarks).
set -euo pipefail

find_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
    done
    return 1
}

ensure_installed() {
    if find_bin >/dev/null; then return 0; fi
    echo "PostgreSQL server not found; installing Debian's postgresql package" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: PostgreSQL is not installed and this script is not root; run: apt-get install postgresql" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    apt-get install -y -qq postgresql >&2
    find_bin >/dev/null || { echo "error: postgresql installed but initdb not found" >&2; exit 1; }
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Run a command as the cluster owner (initdb and postgres refuse to run as root).
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local dir=$1
    ensure_installed
    local bin; bin=$(find_bin)
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; chmod 700 "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U lianxin --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    local port; port=$(free_port)
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 128MB
CONF
    if [ "${PG_DURABLE:-0}" != 1 ]; then
        # Tests only: the cluster is deleted after the run.
        printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >>"$dir/data/postgresql.conf"
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >&2 \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "postgres://lianxin@127.0.0.1:$port/postgres"
}

stop() {
    local dir=$1
    local bin; bin=$(find_bin) || true
    if [ -n "${bin:-}" ] && [ -d "$dir/data" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    fi
    rm -rf "$dir"
}

# Stops the server abruptly but keeps the cluster (failure tests).
kill_server() {
    local dir=$1
    local bin; bin=$(find_bin)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2
}

# Starts a killed cluster again on its port.
restart() {
    local dir=$1
    local bin; bin=$(find_bin)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >&2
}

case "${1:-}" in
    start) start "$2" ;;
    stop) stop "$2" ;;
    kill) kill_server "$2" ;;
    restart) restart "$2" ;;
    *) echo "usage: $0 start|stop|kill|restart DIR" >&2; exit 2 ;;
esac
