#!/usr/bin/env bash
# The five Rapport services under honcho (the Procfile), for `make up` / `make down`.
#
# usage: scripts/services.sh {prepare|start|stop|status|wait}
#
#   prepare  provision the database, roles and topics, then run every service's migrations
#   start    start honcho in its own process group (pid in $RAPPORT_LOCAL/run/honcho.pid,
#            output in $RAPPORT_LOCAL/log/services.log and log/services/<process>.log),
#            then wait until every API's /readyz answers 200
#   stop     stop exactly honcho and the process groups of its children (SIGTERM, then
#            SIGKILL after RAPPORT_STOP_GRACE_S, default 60)
#   status   exit 0 if honcho runs and every API is ready
#   wait     wait for every API's /readyz (RAPPORT_READY_TIMEOUT_S, default 180)
#
# Infrastructure is not touched here; see scripts/infra.sh.
set -euo pipefail

# shellcheck disable=SC2034  # read by lib/common.sh
RAPPORT_COMPONENT=services
# shellcheck source=lib/common.sh
. "$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

RUN_DIR="$RAPPORT_LOCAL/run"
PID_FILE="$RUN_DIR/honcho.pid"
LOG_FILE="$RAPPORT_LOGDIR/services.log"
PROC_LOG_DIR="$RAPPORT_LOGDIR/services"
VENV_BIN="$RAPPORT_ROOT/.venv/bin"
PROCFILE="${RAPPORT_PROCFILE:-$RAPPORT_ROOT/Procfile}"
SERVICES=(ingest scheduler outreach scoring portal)
# name:port of every API: each service's settings default unless overridden the same way.
APIS=(
    "ingest:${RAPPORT_INGEST_HTTP_PORT:-8001}" "scheduler:${RAPPORT_SCHEDULER_HTTP_PORT:-8002}"
    "outreach:${RAPPORT_OUTREACH_HTTP_PORT:-8003}" "scoring:${RAPPORT_SCORING_HTTP_PORT:-8004}"
    "portal:${RAPPORT_PORTAL_HTTP_PORT:-8005}"
)
mkdir -p "$RUN_DIR" "$PROC_LOG_DIR"

honcho_pid() {
    local pid
    [ -s "$PID_FILE" ] || return 1
    pid="$(cat "$PID_FILE")"
    pid_alive "$pid" && pid_cmdline_has "$pid" honcho || return 1
    echo "$pid"
}

cmd_prepare() {
    log "provisioning database, roles and topics"
    "$VENV_BIN/rapport-infra" provision
    "$VENV_BIN/rapport-infra" topics
    for svc in "${SERVICES[@]}"; do
        "$VENV_BIN/rapport-$svc" migrate
    done
}

cmd_start() {
    local pid
    take_lock "$RUN_DIR/services.lock"
    if pid="$(honcho_pid)"; then
        log "services already running (honcho pid $pid)"
    else
        start_honcho
    fi
    exec 9>&-
    cmd_wait
}

start_honcho() {
    log "starting services (honcho, Procfile); output in $LOG_FILE"
    printf '\n===== make up %s =====\n' "$(date -u +%FT%TZ)" >>"$LOG_FILE"
    # setsid: honcho gets a process group of its own whose id is the pid written here
    # (honcho then gives each Procfile process its own group; see cmd_stop). The awk tees
    # each line into services.log and into the process' own log ("time name.N | text").
    cd "$RAPPORT_ROOT"
    setsid bash -c '
        echo $$ >"$1"
        exec "$2/honcho" start --no-colour -e /dev/null -f "$5" \
            > >(awk -v all="$3" -v dir="$4" "{ print >> all; fflush(all); split(\$2, p, \".\"); f = dir \"/\" p[1] \".log\"; print >> f; fflush(f) }") 2>&1
    ' _ "$PID_FILE" "$VENV_BIN" "$LOG_FILE" "$PROC_LOG_DIR" "$PROCFILE" </dev/null >/dev/null 2>&1 9>&- &
    disown
    for _ in $(seq 50); do
        [ -s "$PID_FILE" ] && break
        sleep 0.1
    done
    log "honcho pid $(cat "$PID_FILE")"
}

api_ready() {
    curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$1/readyz"
}

cmd_wait() {
    local timeout="${RAPPORT_READY_TIMEOUT_S:-180}" t0 waiting name port entry
    t0="$(date +%s)"
    while :; do
        waiting=()
        for entry in "${APIS[@]}"; do
            name="${entry%%:*}"; port="${entry##*:}"
            api_ready "$port" || waiting+=("$name:$port")
        done
        [ "${#waiting[@]}" -eq 0 ] && { log "all APIs ready: ${APIS[*]}"; return 0; }
        honcho_pid >/dev/null || { show_tail "$LOG_FILE" 60; die "honcho exited; see $LOG_FILE"; }
        if [ $(( $(date +%s) - t0 )) -ge "$timeout" ]; then
            for entry in "${waiting[@]}"; do
                warn "${entry%%:*} not ready: $(curl -sS --max-time 2 "http://127.0.0.1:${entry##*:}/readyz" 2>&1 || true)"
            done
            show_tail "$LOG_FILE" 60
            die "not ready after ${timeout}s: ${waiting[*]} (logs: $LOG_FILE, $PROC_LOG_DIR/)"
        fi
        sleep 1
    done
}

# Process groups to end: honcho's own (honcho + the log splitter) and one per child,
# since honcho starts every Procfile process in a session of its own.
service_groups() {
    # Every process group among honcho's descendants (honcho's own included).
    ps -eo pid=,ppid=,pgid= | awk -v root="$1" '
        { parent[$1] = $2; group[$1] = $3 }
        END {
            for (p in parent) {
                for (q = p; q != "" && q != 0 && q != 1; q = parent[q]) {
                    if (q == root) { seen[group[p]] = 1; break }
                }
            }
            for (g in seen) print g
        }'
}

groups_alive() {
    local g
    for g in "$@"; do
        pgrep -g "$g" >/dev/null 2>&1 && return 0
    done
    return 1
}

cmd_stop() {
    local pid groups g grace="${RAPPORT_STOP_GRACE_S:-60}"
    take_lock "$RUN_DIR/services.lock"
    if ! pid="$(honcho_pid)"; then
        log "services not running"
        rm -f "$PID_FILE"
        return 0
    fi
    mapfile -t groups < <(service_groups "$pid")
    log "stopping services (honcho pid $pid, ${#groups[@]} process groups)"
    # honcho forwards SIGTERM to every process and waits for them: graceful shutdown.
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $((grace * 5))); do
        groups_alive "${groups[@]}" || break
        sleep 0.2
    done
    if groups_alive "${groups[@]}"; then
        warn "services still running after ${grace}s; sending SIGKILL"
        for g in "${groups[@]}"; do
            kill -KILL -- "-$g" 2>/dev/null || true
        done
    fi
    rm -f "$PID_FILE"
    log "services stopped"
}

cmd_status() {
    local pid rc=0 entry
    if pid="$(honcho_pid)"; then log "honcho running (pid $pid)"; else log "honcho not running"; rc=3; fi
    for entry in "${APIS[@]}"; do
        if api_ready "${entry##*:}"; then log "${entry%%:*} ready on ${entry##*:}"; else log "${entry%%:*} not ready on ${entry##*:}"; rc=3; fi
    done
    return "$rc"
}

case "${1:-}" in
    prepare) cmd_prepare ;;
    start)   cmd_start ;;
    stop)    cmd_stop ;;
    status)  cmd_status ;;
    wait)    cmd_wait ;;
    *)       sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
