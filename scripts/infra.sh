#!/usr/bin/env bash
# Local infrastructure for Rapport: Kafka + PostgreSQL.
#
# usage: scripts/infra.sh {up|down|status|clean}
#
#   up      start (or reuse) Postgres and Kafka and wait until both answer;
#           prints the connection settings to use
#   down    stop what these scripts started (external services are left alone)
#   status  state of both; exit 0 only if both answer
#   clean   down, then delete $RAPPORT_LOCAL (jars, data, logs) and a Postgres
#           base dir that was placed under /var/tmp for this checkout
#
# See scripts/env.sh for the variables (ports, RAPPORT_LOCAL, external
# RAPPORT_KAFKA_BOOTSTRAP / RAPPORT_DATABASE_URL).
set -euo pipefail

# shellcheck disable=SC2034  # read by lib/common.sh
RAPPORT_COMPONENT=infra
# shellcheck source=lib/common.sh
. "$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

cmd_up() {
    local t0
    t0="$(now_ms)"
    log "bringing up local infrastructure (state in $RAPPORT_LOCAL)"
    # Postgres first: it is quick, and it may need apt-get on a new machine.
    "$RAPPORT_SCRIPTS/postgres.sh" start
    "$RAPPORT_SCRIPTS/kafka.sh" start
    log "infrastructure up in $(elapsed "$t0")"
    log "  RAPPORT_DATABASE_URL=$( [ "$RAPPORT_DATABASE_EXTERNAL" = 1 ] && echo '(external, as given)' || echo "$RAPPORT_DATABASE_URL")"
    log "  RAPPORT_KAFKA_BOOTSTRAP=$RAPPORT_KAFKA_BOOTSTRAP"
    log "  logs: $RAPPORT_LOGDIR"
}

cmd_down() {
    local rc=0
    "$RAPPORT_SCRIPTS/kafka.sh" stop || rc=1
    "$RAPPORT_SCRIPTS/postgres.sh" stop || rc=1
    return "$rc"
}

cmd_status() {
    local rc=0
    "$RAPPORT_SCRIPTS/postgres.sh" status || rc=3
    "$RAPPORT_SCRIPTS/kafka.sh" status || rc=3
    return "$rc"
}

cmd_clean() {
    local pg_base=""
    cmd_down
    # Refuse anything that does not look like a Rapport state dir.
    case "$RAPPORT_LOCAL" in
        / | "$HOME" | "$RAPPORT_ROOT" | /tmp | /var/tmp) die "refusing to delete RAPPORT_LOCAL=$RAPPORT_LOCAL" ;;
    esac
    if [ -s "$RAPPORT_LOCAL/pg/location" ]; then
        pg_base="$(cat "$RAPPORT_LOCAL/pg/location")"
    fi
    case "$pg_base" in
        /var/tmp/rapport-pg-*)
            log "removing $pg_base"
            rm -rf -- "$pg_base" ;;
    esac
    log "removing $RAPPORT_LOCAL"
    rm -rf -- "$RAPPORT_LOCAL"
}

case "${1:-}" in
    up)     cmd_up ;;
    down)   cmd_down ;;
    status) cmd_status ;;
    clean)  cmd_clean ;;
    *)      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
