# shellcheck shell=bash
# Helpers shared by scripts/kafka.sh, scripts/postgres.sh and scripts/infra.sh.
# Sourced after `set -euo pipefail`; expects RAPPORT_COMPONENT to be set.

# shellcheck source=../env.sh
. "$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)/env.sh"

# Everything below works with absolute paths.
case "$RAPPORT_LOCAL" in
    /*) ;;
    *) RAPPORT_LOCAL="$PWD/$RAPPORT_LOCAL"; export RAPPORT_LOCAL ;;
esac

# shellcheck disable=SC2034  # used by the scripts that source this file
RAPPORT_SCRIPTS="$RAPPORT_ROOT/scripts"
RAPPORT_LOGDIR="$RAPPORT_LOCAL/log"

log()  { printf '[%s %s] %s\n' "${RAPPORT_COMPONENT:-rapport}" "$(date +%H:%M:%S)" "$*"; }
warn() { printf '[%s %s] WARNING: %s\n' "${RAPPORT_COMPONENT:-rapport}" "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf '[%s %s] ERROR: %s\n' "${RAPPORT_COMPONENT:-rapport}" "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# Milliseconds since the epoch (for timing log lines).
now_ms() { date +%s%3N; }
# elapsed START_MS -> "12.3s"
elapsed() { local d=$(( $(now_ms) - $1 )); printf '%d.%ds' $((d / 1000)) $(((d % 1000) / 100)); }

# port_open HOST PORT: true if something accepts TCP connections there.
port_open() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# pid_alive PID: true if the process exists (and is not a zombie).
pid_alive() {
    local pid="$1" state
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
    [ "$state" != "Z" ]
}

# pid_cmdline_has PID STRING: true if the process' argv contains STRING.
pid_cmdline_has() {
    [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# A python3 for small stdlib-only helpers (the project venv works too).
rapport_python() {
    if command -v python3 >/dev/null 2>&1; then
        python3 "$@"
    elif [ -x "$RAPPORT_ROOT/.venv/bin/python" ]; then
        "$RAPPORT_ROOT/.venv/bin/python" "$@"
    else
        die "python3 not found (needed for readiness probes)"
    fi
}

# show_tail FILE [LINES]: print the end of a log file to stderr.
show_tail() {
    local f="$1" n="${2:-40}"
    if [ -s "$f" ]; then
        printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
        tail -n "$n" "$f" >&2
        printf -- '----- end of %s -----\n' "$f" >&2
    fi
}

# take_lock FILE: serialize start/stop between concurrent callers (fd 9).
# Long-lived children must be started with `9>&-` so they do not inherit it.
take_lock() {
    exec 9>"$1"
    if ! flock -w 180 9; then
        die "another start/stop still holds $1 after 180s"
    fi
}

# apt_install PKG...: install Debian packages (root only), once per call.
apt_install() {
    [ "$(id -u)" -eq 0 ] || die "need root to apt-get install $* (install it yourself, or run as root)"
    log "installing Debian packages: $* (apt-get update first)"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

mkdir -p "$RAPPORT_LOCAL" "$RAPPORT_LOGDIR"
