# shellcheck shell=bash
# Rapport local environment defaults.
#
# Source it (bash) from scripts, the Makefile or your shell:
#     . scripts/env.sh
# It only sets and exports variables; it does not change shell options and
# starts nothing.
#
# Exported variables
#   RAPPORT_ROOT                   repo root (always derived from this file's location)
#   RAPPORT_LOCAL                  local state dir: fetched jars, data, logs, pid files
#                                  (default: $RAPPORT_ROOT/.local, git-ignored)
#   RAPPORT_KAFKA_PORT             broker listener port          (default 19092)
#   RAPPORT_KAFKA_CONTROLLER_PORT  KRaft controller listener port (default 19093)
#   RAPPORT_PG_PORT                Postgres port                  (default 15432)
#   RAPPORT_KAFKA_BOOTSTRAP        default 127.0.0.1:$RAPPORT_KAFKA_PORT
#   RAPPORT_DATABASE_URL           default postgresql://rapport:rapport@127.0.0.1:$RAPPORT_PG_PORT/postgres
#   RAPPORT_KAFKA_EXTERNAL         1 = RAPPORT_KAFKA_BOOTSTRAP was given by the caller
#                                  (scripts/kafka.sh reuses it when reachable and never
#                                  stops it); 0 = defaulted here, i.e. the broker that
#                                  scripts/kafka.sh starts itself.
#   RAPPORT_DATABASE_EXTERNAL      the same for RAPPORT_DATABASE_URL / scripts/postgres.sh.
#
# With an external value, `start` first checks that it answers: if so it is
# reused and nothing is started; if not, a warning is printed and the local
# service is started as usual.  `stop` only ever stops what the scripts started
# themselves (Kafka: the pid in $RAPPORT_LOCAL/kafka/kafka.pid; Postgres: the
# cluster created from this checkout), so after a reuse it does nothing.
#
# How "given by the caller" is told apart from "defaulted here": whenever this
# file fills in a default it also exports _RAPPORT_DEFAULTED_<NAME> holding the
# value it chose.  A later `source` (e.g. Makefile -> infra.sh -> kafka.sh) sees
# the variable equal to that marker and knows the value is still its own
# default, so defaults do not turn into "external" values just because they
# were exported by a parent process.  Any other non-empty value counts as the
# caller's.  An empty value counts as unset.  RAPPORT_*_EXTERNAL are always
# recomputed; setting them yourself has no effect.

# Repo root from this file's own location (works when sourced from anywhere).
RAPPORT_ROOT="$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
export RAPPORT_ROOT

# _rapport_default NAME VALUE
#   Sets and exports NAME=VALUE unless the caller set NAME to something other
#   than a default previously chosen by this file.  Sets _rapport_from_caller
#   to 1 when the caller's value was kept, 0 when the default was applied.
_rapport_default() {
    local name="$1" value="$2" marker="_RAPPORT_DEFAULTED_$1"
    local current="${!name-}" previous="${!marker-}"
    if [ -n "$current" ] && [ "$current" != "$previous" ]; then
        export "${name?}"
        unset "$marker"
        _rapport_from_caller=1
    else
        printf -v "$name" '%s' "$value"
        printf -v "$marker" '%s' "$value"
        export "${name?}" "${marker?}"
        _rapport_from_caller=0
    fi
}

_rapport_default RAPPORT_LOCAL "$RAPPORT_ROOT/.local"

export RAPPORT_KAFKA_PORT="${RAPPORT_KAFKA_PORT:-19092}"
export RAPPORT_KAFKA_CONTROLLER_PORT="${RAPPORT_KAFKA_CONTROLLER_PORT:-19093}"
export RAPPORT_PG_PORT="${RAPPORT_PG_PORT:-15432}"

_rapport_default RAPPORT_KAFKA_BOOTSTRAP "127.0.0.1:${RAPPORT_KAFKA_PORT}"
export RAPPORT_KAFKA_EXTERNAL="$_rapport_from_caller"

_rapport_default RAPPORT_DATABASE_URL "postgresql://rapport:rapport@127.0.0.1:${RAPPORT_PG_PORT}/postgres"
export RAPPORT_DATABASE_EXTERNAL="$_rapport_from_caller"

unset _rapport_from_caller
unset -f _rapport_default
