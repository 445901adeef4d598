#!/usr/bin/env bash
# Local PostgreSQL cluster for Rapport.
#
# usage: scripts/postgres.sh {start|stop|restart|status|url|psql [ARGS...]}
#
#   start    reuse $RAPPORT_DATABASE_URL if the caller set it and it answers;
#            otherwise make sure Debian's PostgreSQL is installed, create the
#            cluster on first run (superuser rapport/rapport) and start it on
#            127.0.0.1:$RAPPORT_PG_PORT.  Idempotent.
#   stop     fast-stop the cluster this script created from this checkout; an
#            external database (RAPPORT_DATABASE_URL) is never touched
#   restart  stop + start (data is kept)
#   status   print state; exit 0 if the database answers, 3 if not
#   url      print the admin URL
#   psql     run psql against $RAPPORT_DATABASE_URL
#
# Where things live
#   The cluster base dir is $RAPPORT_LOCAL/pg when the `postgres` OS user can
#   reach it, otherwise /var/tmp/rapport-pg-<hash of $RAPPORT_LOCAL> (e.g. a
#   clone under /root, which postgres cannot traverse).  The choice is recorded
#   in $RAPPORT_LOCAL/pg/location and kept from then on.
#     <base>/data            PGDATA (postgres:postgres, 0700)
#     <base>/sock            unix socket directory
#     $RAPPORT_LOCAL/log/postgres.log   server log (a symlink into <base> when
#                                       the base is under /var/tmp)
#   Run as root, the server runs as the `postgres` OS user (runuser).  Run as
#   any other user, it runs as that user and <base> is always $RAPPORT_LOCAL/pg.
set -euo pipefail

# shellcheck disable=SC2034  # read by lib/common.sh
RAPPORT_COMPONENT=postgres
# shellcheck source=lib/common.sh
. "$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

PG_PORT="$RAPPORT_PG_PORT"
PG_SUPERUSER=rapport
PG_PASSWORD=rapport
LOCAL_URL="postgresql://${PG_SUPERUSER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/postgres"
PG_STATE="$RAPPORT_LOCAL/pg"            # always in the tree: location file
PG_LOCATION_FILE="$PG_STATE/location"
PG_LOG_LINK="$RAPPORT_LOGDIR/postgres.log"
if [ "$(id -u)" -eq 0 ]; then AS_ROOT=1; else AS_ROOT=0; fi

mkdir -p "$PG_STATE"
# All paths are absolute; run from / so that tools started as the postgres
# user never sit in a directory they cannot read (e.g. a clone under /root).
cd /

# ---------------------------------------------------------------- helpers

# Newest installed server's bin dir (/usr/lib/postgresql/<ver>/bin), or empty.
find_pg_bin() {
    local d
    d="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' -printf '%h\n' 2>/dev/null \
        | sort -t/ -k5,5V | tail -n1)"
    printf '%s' "$d"
}

ensure_installed() {
    PG_BIN="$(find_pg_bin)"
    if [ -z "$PG_BIN" ]; then
        apt_install postgresql
        PG_BIN="$(find_pg_bin)"
        [ -n "$PG_BIN" ] || die "installed 'postgresql' but found no /usr/lib/postgresql/*/bin/initdb"
    fi
    PG_VERSION="$(basename "$(dirname "$PG_BIN")")"
}

# Run a command as the cluster's OS owner.
as_pg() {
    if [ "$AS_ROOT" = 1 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# client_bin NAME: path of a client program (server bin dir first, then PATH).
client_bin() {
    local b
    b="$(find_pg_bin)"
    if [ -n "$b" ] && [ -x "$b/$1" ]; then
        printf '%s' "$b/$1"
    elif command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
    fi
}

# db_answers URL: true if a real query succeeds (credentials included).
db_answers() {
    local url="$1" psql pg_isready
    psql="$(client_bin psql)"
    if [ -n "$psql" ]; then
        PGCONNECT_TIMEOUT=3 "$psql" -X -q -t -A -d "$url" -c 'select 1' >/dev/null 2>&1
        return
    fi
    pg_isready="$(client_bin pg_isready)"
    if [ -n "$pg_isready" ]; then
        "$pg_isready" -q -t 3 -d "$url"
        return
    fi
    # No client tools at all: settle for a TCP connect.
    rapport_python - "$url" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=3).close()
PY
}

# The `postgres` user can reach DIR (every ancestor searchable).
pg_user_can_reach() {
    runuser -u postgres -- test -x "$1" 2>/dev/null
}

# Where the cluster lives; sets PG_BASE, PG_DATA, PG_SOCK, PG_LOG.  The first
# start decides and records it in $PG_LOCATION_FILE; later calls read it back.
# Returns 1 (without deciding) if nothing was recorded and $1 is not "decide".
choose_location() {
    local hash
    if [ -s "$PG_LOCATION_FILE" ]; then
        PG_BASE="$(cat "$PG_LOCATION_FILE")"
    elif [ "${1:-}" != decide ]; then
        return 1
    else
        PG_BASE="$PG_STATE"
        if [ "$AS_ROOT" = 1 ]; then
            id postgres >/dev/null 2>&1 || die "no 'postgres' OS user (is the postgresql package installed?)"
            # The postgres user must traverse to $RAPPORT_LOCAL/{pg,log}, and a
            # unix socket path is limited to 107 bytes.
            if ! pg_user_can_reach "$PG_STATE" || ! pg_user_can_reach "$RAPPORT_LOGDIR" \
                || [ "${#PG_STATE}" -gt 80 ]; then
                hash="$(printf '%s' "$RAPPORT_LOCAL" | sha256sum | cut -c1-10)"
                PG_BASE="/var/tmp/rapport-pg-$hash"
                log "the postgres OS user cannot use $PG_STATE (not traversable, or path too long for a socket); cluster goes to $PG_BASE"
            fi
        fi
        printf '%s\n' "$PG_BASE" >"$PG_LOCATION_FILE"
    fi
    PG_DATA="$PG_BASE/data"
    PG_SOCK="$PG_BASE/sock"
    # An existing cluster is driven by the server version that created it.
    if [ -f "$PG_DATA/PG_VERSION" ] && [ -x "/usr/lib/postgresql/$(cat "$PG_DATA/PG_VERSION")/bin/pg_ctl" ]; then
        PG_VERSION="$(cat "$PG_DATA/PG_VERSION")"
        PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
    fi
    if [ "$PG_BASE" = "$PG_STATE" ]; then
        PG_LOG="$PG_LOG_LINK"
    else
        PG_LOG="$PG_BASE/postgres.log"
    fi
}

# Create the base dir, socket dir and log file with the right owner.
prepare_dirs() {
    mkdir -p "$PG_BASE" "$PG_SOCK" "$RAPPORT_LOGDIR"
    if [ "$PG_LOG" != "$PG_LOG_LINK" ]; then
        ln -sfn "$PG_LOG" "$PG_LOG_LINK"
    elif [ -L "$PG_LOG_LINK" ]; then
        rm -f "$PG_LOG_LINK"
    fi
    touch "$PG_LOG"
    if [ "$AS_ROOT" = 1 ]; then
        if [ "$PG_BASE" != "$PG_STATE" ]; then
            chown postgres:postgres "$PG_BASE"
        fi
        chown postgres:postgres "$PG_SOCK" "$PG_LOG"
        [ -d "$PG_DATA" ] && chown -R postgres:postgres "$PG_DATA"
    fi
    chmod 755 "$PG_BASE"
    chmod 755 "$PG_SOCK"   # clients of any OS user may use the socket
    chmod 644 "$PG_LOG"
}

init_cluster() {
    local pwfile locale=C
    if [ -f "$PG_DATA/PG_VERSION" ]; then
        local have
        have="$(cat "$PG_DATA/PG_VERSION")"
        [ "$have" = "$PG_VERSION" ] \
            || die "cluster in $PG_DATA is PostgreSQL $have but the newest installed server is $PG_VERSION; remove it (make clean-local) or install postgresql-$have"
        return 0
    fi
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi
    log "initdb: PostgreSQL $PG_VERSION cluster in $PG_DATA (superuser $PG_SUPERUSER, UTF8, locale $locale)"
    mkdir -p "$PG_DATA"
    pwfile="$PG_BASE/.pwfile.$$"
    printf '%s\n' "$PG_PASSWORD" >"$pwfile"
    if [ "$AS_ROOT" = 1 ]; then chown postgres:postgres "$PG_DATA" "$pwfile"; fi
    chmod 700 "$PG_DATA"
    chmod 600 "$pwfile"
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" --pwfile="$pwfile" \
        --auth-host=scram-sha-256 --auth-local=scram-sha-256 \
        -E UTF8 --locale="$locale" >>"$PG_LOG" 2>&1; then
        rm -f "$pwfile"
        show_tail "$PG_LOG"
        rm -rf "$PG_DATA"
        die "initdb failed (log: $PG_LOG)"
    fi
    rm -f "$pwfile"
    # Pull in our settings file; it is rewritten on every start.
    printf "\n# Rapport: settings managed by scripts/postgres.sh\ninclude_if_exists = 'rapport.conf'\n" \
        | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

write_config() {
    as_pg tee "$PG_DATA/rapport.conf" >/dev/null <<EOF
# Generated by scripts/postgres.sh on every start -- edit the script, not this file.
listen_addresses = '127.0.0.1'
port = ${PG_PORT}
unix_socket_directories = '${PG_SOCK}'
max_connections = 300
shared_buffers = 256MB

# Durability stays on: tests kill services mid-flow and expect committed data.
fsync = on
synchronous_commit = on
full_page_writes = on
wal_level = replica
# Crash recovery (e.g. after kill -9) syncs the data dir with one syncfs()
# instead of an fsync per file: ~1 s instead of ~4 s here.
recovery_init_sync_method = syncfs
max_wal_size = 1GB
min_wal_size = 80MB

# Dev-box sizing (2 cores).
work_mem = 8MB
maintenance_work_mem = 128MB
effective_cache_size = 2GB
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 1

timezone = 'UTC'
log_timezone = 'UTC'
datestyle = 'iso, ymd'

# Logging: to the pg_ctl log file (no collector).
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
log_lock_waits = on
log_checkpoints = on
log_connections = off
log_disconnections = off
EOF
}

# True if the postmaster of our data dir is running (a killed postmaster that
# is still an unreaped zombie counts as gone).
cluster_running() {
    [ -f "$PG_DATA/postmaster.pid" ] || return 1
    pid_alive "$(head -n1 "$PG_DATA/postmaster.pid")" || return 1
    as_pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

# Live processes whose working directory is our data dir (the postmaster and
# its backends chdir there), e.g. backends left over after a kill -9.
data_dir_procs() {
    local real d
    real="$(cd -P -- "$PG_DATA" && pwd)"
    for d in /proc/[0-9]*; do
        [ "$(readlink "$d/cwd" 2>/dev/null)" = "$real" ] || continue
        pid_alive "${d#/proc/}" && printf '%s ' "${d#/proc/}"
    done
    return 0
}

# After a crash/kill -9 the lock files (postmaster.pid and the socket's .lock)
# can name a dead postmaster that is still an unreaped zombie, and the next
# postmaster then refuses to start.  Remove them once no live process uses the
# data dir any more.
clear_stale_lock() {
    local left=""
    [ -f "$PG_DATA/postmaster.pid" ] || return 0
    for _ in $(seq 1 50); do
        left="$(data_dir_procs)"
        [ -z "$left" ] && break
        sleep 0.2
    done
    [ -z "$left" ] || die "processes still use $PG_DATA although its postmaster is gone (pids: $left); stop them first"
    log "removing stale postmaster.pid (server pid $(head -n1 "$PG_DATA/postmaster.pid") is gone)"
    rm -f "$PG_DATA/postmaster.pid" "$PG_SOCK/.s.PGSQL.$PG_PORT.lock"
}

# True if a cluster was set up from this checkout and is running (needs PG_BIN).
our_cluster_running() {
    choose_location && [ -f "$PG_DATA/PG_VERSION" ] && cluster_running
}

# ---------------------------------------------------------------- commands

cmd_start() {
    local t0
    t0="$(now_ms)"
    PG_BIN="$(find_pg_bin)"
    if [ "$RAPPORT_DATABASE_EXTERNAL" = 1 ] && ! { [ -n "$PG_BIN" ] && our_cluster_running; }; then
        if db_answers "$RAPPORT_DATABASE_URL"; then
            log "reusing external database at RAPPORT_DATABASE_URL (not starting one)"
            return 0
        fi
        warn "RAPPORT_DATABASE_URL is set but does not answer; starting a local cluster at $LOCAL_URL instead"
        [ "$RAPPORT_DATABASE_URL" = "$LOCAL_URL" ] \
            || warn "clients using RAPPORT_DATABASE_URL will NOT reach it; unset the variable or point it at $LOCAL_URL"
    fi
    ensure_installed
    choose_location decide
    if [ -f "$PG_DATA/PG_VERSION" ] && cluster_running; then
        write_config
        if [ "$(sed -n 4p "$PG_DATA/postmaster.pid")" = "$PG_PORT" ]; then
            as_pg "$PG_BIN/pg_ctl" reload -D "$PG_DATA" -s >/dev/null
            wait_ready 30
            log "already running ($PG_DATA); settings reloaded; admin URL: $LOCAL_URL"
            return 0
        fi
        log "running on another port than $PG_PORT; restarting to apply it"
        as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 -s
    fi
    if port_open 127.0.0.1 "$PG_PORT"; then
        die "port $PG_PORT is already in use by a server this script did not start; stop it or set RAPPORT_PG_PORT"
    fi
    prepare_dirs
    init_cluster
    write_config
    clear_stale_lock
    log "starting PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT (data $PG_DATA, log $PG_LOG_LINK)"
    printf '\n===== %s pg_ctl start =====\n' "$(date -Is)" >>"$PG_LOG"
    # setsid: the postmaster gets its own session, out of reach of the caller's Ctrl-C.
    if ! as_pg setsid "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -s </dev/null 9>&-; then
        show_tail "$PG_LOG"
        die "pg_ctl start failed (log: $PG_LOG_LINK)"
    fi
    wait_ready 30
    printf '%s\n' "$LOCAL_URL" >"$PG_STATE/url"
    log "ready in $(elapsed "$t0"); admin URL: $LOCAL_URL"
}

wait_ready() {
    local timeout="$1" t0
    t0="$(now_ms)"
    until db_answers "$LOCAL_URL"; do
        if [ $(( $(now_ms) - t0 )) -ge $(( timeout * 1000 )) ]; then
            show_tail "$PG_LOG"
            die "PostgreSQL does not answer at $LOCAL_URL after ${timeout}s"
        fi
        sleep 0.3
    done
}

cmd_stop() {
    local t0
    PG_BIN="$(find_pg_bin)"
    if [ -z "$PG_BIN" ] || ! choose_location; then
        log "no cluster was ever started from $RAPPORT_LOCAL; nothing to stop"
        return 0
    fi
    if [ ! -f "$PG_DATA/PG_VERSION" ] || ! cluster_running; then
        if [ "$RAPPORT_DATABASE_EXTERNAL" = 1 ]; then
            log "RAPPORT_DATABASE_URL is external; nothing of ours to stop"
        else
            log "not running"
        fi
        return 0
    fi
    t0="$(now_ms)"
    log "stopping PostgreSQL ($PG_DATA, fast mode)"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 -s
    log "stopped in $(elapsed "$t0") (data kept in $PG_DATA)"
}

cmd_status() {
    PG_BIN="$(find_pg_bin)"
    if [ -n "$PG_BIN" ] && our_cluster_running; then
        if db_answers "$LOCAL_URL"; then
            log "running and ready: $LOCAL_URL (data $PG_DATA, log $PG_LOG_LINK)"
            if [ "$RAPPORT_DATABASE_EXTERNAL" = 1 ] && ! db_answers "$RAPPORT_DATABASE_URL"; then
                warn "but RAPPORT_DATABASE_URL (set by you) does not answer"
            fi
            return 0
        fi
        log "running but not answering at $LOCAL_URL (log $PG_LOG_LINK)"
        return 3
    fi
    if [ "$RAPPORT_DATABASE_EXTERNAL" = 1 ]; then
        if db_answers "$RAPPORT_DATABASE_URL"; then
            log "external database at RAPPORT_DATABASE_URL answers (not managed here)"
            return 0
        fi
        log "external RAPPORT_DATABASE_URL does not answer"
    fi
    if [ -z "$PG_BIN" ]; then
        log "PostgreSQL is not installed"
    elif [ -n "${PG_DATA:-}" ]; then
        log "not running (data $PG_DATA)"
    else
        log "not running (no cluster created yet from $RAPPORT_LOCAL)"
    fi
    return 3
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

case "${1:-}" in
    start | stop | restart) take_lock "$PG_STATE/.lock" ;;
esac

case "${1:-}" in
    start)   cmd_start ;;
    stop)    cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status)  cmd_status ;;
    url)     echo "$RAPPORT_DATABASE_URL" ;;
    psql)    shift; exec "$(client_bin psql)" -X -d "$RAPPORT_DATABASE_URL" "$@" ;;
    *)       usage ;;
esac
