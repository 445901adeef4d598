#!/usr/bin/env bash
# Local single-node Kafka (KRaft, broker+controller in one JVM) for Rapport.
#
# usage: scripts/kafka.sh {fetch|start|stop|restart|status|wait|topics ARGS...|groups ARGS...}
#
#   fetch    download the broker jars pinned in deploy/kafka/pom.xml from Maven
#            Central into $RAPPORT_LOCAL/kafka/libs (skipped when present and the
#            pom is unchanged)
#   start    reuse $RAPPORT_KAFKA_BOOTSTRAP if the caller set it and it answers;
#            otherwise fetch, configure, format storage (first run only) and start
#            a broker on 127.0.0.1:$RAPPORT_KAFKA_PORT, then wait until it serves
#            metadata.  Idempotent: an already running broker is left alone.
#   stop     stop the broker this script started (pid file), TERM then KILL after 30 s.
#            Never touches an external broker or any other process: when start
#            reused an external broker there is no pid file, so stop does nothing.
#   restart  stop + start (data is kept)
#   status   print state; exit 0 if Kafka answers, 3 if not
#   wait     wait until $RAPPORT_KAFKA_BOOTSTRAP answers (RAPPORT_KAFKA_WAIT_TIMEOUT, 90 s)
#   topics   run Kafka's TopicCommand against $RAPPORT_KAFKA_BOOTSTRAP, e.g.
#            scripts/kafka.sh topics --list
#   groups   run Kafka's ConsumerGroupCommand, e.g. scripts/kafka.sh groups --list
#
# Environment: see scripts/env.sh (RAPPORT_LOCAL, RAPPORT_KAFKA_PORT,
# RAPPORT_KAFKA_CONTROLLER_PORT, RAPPORT_KAFKA_BOOTSTRAP), plus
# RAPPORT_KAFKA_JAVA_OPTS (extra JVM flags) and RAPPORT_KAFKA_WAIT_TIMEOUT.
#
# Files: $RAPPORT_LOCAL/kafka/{libs/,server.properties,cluster.id,data/,kafka.pid}
#        $RAPPORT_LOCAL/log/kafka.log  broker log (log4j2, INFO)
#        $RAPPORT_LOCAL/log/kafka.out  JVM stdout/stderr (crashes, early errors)
set -euo pipefail

# shellcheck disable=SC2034  # read by lib/common.sh
RAPPORT_COMPONENT=kafka
# shellcheck source=lib/common.sh
. "$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

KAFKA_HOME="$RAPPORT_LOCAL/kafka"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_DATA="$KAFKA_HOME/data"
KAFKA_PROPS="$KAFKA_HOME/server.properties"
KAFKA_PIDFILE="$KAFKA_HOME/kafka.pid"
KAFKA_CLUSTER_ID_FILE="$KAFKA_HOME/cluster.id"
KAFKA_POM="$RAPPORT_ROOT/deploy/kafka/pom.xml"
KAFKA_LOG4J="$RAPPORT_ROOT/deploy/kafka/log4j2.properties"
KAFKA_LOG="$RAPPORT_LOGDIR/kafka.log"
KAFKA_OUT="$RAPPORT_LOGDIR/kafka.out"
KAFKA_STAMP="$KAFKA_LIBS/.pom.sha256"
LOCAL_BOOTSTRAP="127.0.0.1:$RAPPORT_KAFKA_PORT"
WAIT_TIMEOUT="${RAPPORT_KAFKA_WAIT_TIMEOUT:-90}"

mkdir -p "$KAFKA_HOME"

# ---------------------------------------------------------------- helpers

require_java() {
    if ! command -v java >/dev/null 2>&1; then
        apt_install openjdk-17-jre-headless
    fi
    local major
    major="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
    [ "${major%%.*}" -ge 17 ] 2>/dev/null || die "Kafka 4.x needs Java 17+, found '${major:-unknown}' ($(command -v java))"
}

require_maven() {
    command -v mvn >/dev/null 2>&1 || apt_install maven
}

# probe BOOTSTRAP: a real Metadata round trip (scripts/lib/kafka_probe.py).
probe() {
    rapport_python "$RAPPORT_SCRIPTS/lib/kafka_probe.py" --quiet --timeout 3 "$1"
}

# The pid from our pid file, if that process is alive and is our broker.
our_pid() {
    local pid
    [ -f "$KAFKA_PIDFILE" ] || return 1
    pid="$(cat "$KAFKA_PIDFILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    pid_alive "$pid" || return 1
    pid_cmdline_has "$pid" "kafka.Kafka $KAFKA_PROPS" || return 1
    echo "$pid"
}

java_cp() { printf '%s' "$KAFKA_LIBS/*"; }

# Run one of Kafka's own tools (class name + args) with the fetched jars.
run_tool() {
    local cls="$1"; shift
    java -Xmx256m -cp "$(java_cp)" "$cls" "$@"
}

# ---------------------------------------------------------------- commands

cmd_fetch() {
    local want t0 tmp
    [ -f "$KAFKA_POM" ] || die "missing $KAFKA_POM"
    want="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
    if [ -f "$KAFKA_STAMP" ] && [ "$(cat "$KAFKA_STAMP")" = "$want" ] \
        && compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null; then
        log "jars up to date in $KAFKA_LIBS ($(basename "$(compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" | head -n1)"))"
        return 0
    fi
    require_maven
    require_java
    log "fetching Kafka jars from Maven Central (deploy/kafka/pom.xml) ..."
    t0="$(now_ms)"
    tmp="$KAFKA_HOME/libs.tmp.$$"
    rm -rf "$tmp"
    # Maven 3.8 prints stray ANSI resets even in batch mode; strip them.
    if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies -DoutputDirectory="$tmp" 2>&1 \
        | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d'; then
        rm -rf "$tmp"
        die "maven could not fetch the Kafka jars (see output above)"
    fi
    compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || { rm -rf "$tmp"; die "fetch produced no kafka_2.13 jar"; }
    printf '%s\n' "$want" >"$tmp/.pom.sha256"
    rm -rf "$KAFKA_LIBS"
    mv "$tmp" "$KAFKA_LIBS"
    log "fetched $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$KAFKA_LIBS" | cut -f1)) in $(elapsed "$t0")"
}

write_config() {
    cat >"$KAFKA_PROPS.tmp" <<EOF
# Generated by scripts/kafka.sh on every start -- edit the script, not this file.
# Single-node KRaft: this JVM is both the broker and the (only) controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${RAPPORT_KAFKA_CONTROLLER_PORT}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:${RAPPORT_KAFKA_PORT},CONTROLLER://127.0.0.1:${RAPPORT_KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${RAPPORT_KAFKA_PORT}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT

# Storage (kept across stop/start; removed only by 'make clean-local').
log.dirs=${KAFKA_DATA}

# Topics are created explicitly by the services/tests, never implicitly.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1

# Internal topics on a single node.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Consumer groups join without the 3 s initial rebalance delay.
group.initial.rebalance.delay.ms=0

# Sized for a 2-core dev box.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=2
log.retention.hours=168
log.segment.bytes=134217728
EOF
    mv "$KAFKA_PROPS.tmp" "$KAFKA_PROPS"
}

format_storage() {
    local cid
    if [ -f "$KAFKA_DATA/meta.properties" ]; then
        log "storage already formatted ($KAFKA_DATA, cluster $(sed -n 's/^cluster.id=//p' "$KAFKA_DATA/meta.properties"))"
        return 0
    fi
    if [ -s "$KAFKA_CLUSTER_ID_FILE" ]; then
        cid="$(cat "$KAFKA_CLUSTER_ID_FILE")"
    else
        # Same format as `kafka-storage random-uuid` (base64url of 16 random
        # bytes, never starting with '-'), without paying for another JVM start.
        cid="$(rapport_python -c 'import base64, uuid
while True:
    c = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not c.startswith("-"):
        print(c)
        break')"
        printf '%s\n' "$cid" >"$KAFKA_CLUSTER_ID_FILE"
    fi
    log "formatting KRaft storage in $KAFKA_DATA (cluster id $cid)"
    mkdir -p "$KAFKA_DATA"
    # Static quorum (controller.quorum.voters), so no --standalone: the voter set
    # lives in server.properties and the ports can change between runs.
    run_tool kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_PROPS" >>"$KAFKA_OUT" 2>&1 \
        || { show_tail "$KAFKA_OUT"; die "kafka storage format failed"; }
}

launch() {
    local t0
    rm -f "$KAFKA_PIDFILE"
    printf '\n===== %s starting kafka.Kafka %s =====\n' "$(date -Is)" "$KAFKA_PROPS" >>"$KAFKA_OUT"
    # setsid: own session, so Ctrl-C/hangup of the caller's terminal does not reach
    # the broker.  The inner bash writes its own pid and then execs java, so the
    # pid file holds exactly the JVM's pid.
    # shellcheck disable=SC2086  # RAPPORT_KAFKA_JAVA_OPTS is a flag list
    (cd "$KAFKA_HOME" && exec setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$KAFKA_PIDFILE" \
        java -Xms256m -Xmx512m \
        -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true \
        -Dkafka.logs.dir="$RAPPORT_LOGDIR" \
        -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
        ${RAPPORT_KAFKA_JAVA_OPTS:-} \
        -cp "$(java_cp)" kafka.Kafka "$KAFKA_PROPS" \
        </dev/null >>"$KAFKA_OUT" 2>&1 9>&- &)
    for _ in $(seq 1 50); do
        [ -s "$KAFKA_PIDFILE" ] && break
        sleep 0.1
    done
    [ -s "$KAFKA_PIDFILE" ] || die "broker process did not record its pid in $KAFKA_PIDFILE"
    log "started kafka.Kafka (pid $(cat "$KAFKA_PIDFILE")), log: $KAFKA_LOG"
}

# wait_ready BOOTSTRAP TIMEOUT [local]: poll the port, then a metadata request.
wait_ready() {
    local bootstrap="$1" timeout="$2" is_local="${3:-}" t0 host port
    t0="$(now_ms)"
    host="${bootstrap%%,*}"; port="${host##*:}"; host="${host%:*}"
    while :; do
        if [ -n "$is_local" ] && ! our_pid >/dev/null; then
            show_tail "$KAFKA_OUT" 20
            show_tail "$KAFKA_LOG" 60
            die "the broker process exited during startup (logs above: $KAFKA_LOG, $KAFKA_OUT)"
        fi
        if port_open "$host" "$port" && probe "$bootstrap"; then
            log "ready at $bootstrap after $(elapsed "$t0") ($(rapport_python "$RAPPORT_SCRIPTS/lib/kafka_probe.py" --timeout 3 "$bootstrap" 2>&1 | sed 's/^[^ ]* //'))"
            return 0
        fi
        if [ $(( $(now_ms) - t0 )) -ge $(( timeout * 1000 )) ]; then
            if [ -n "$is_local" ]; then
                show_tail "$KAFKA_OUT" 20
                show_tail "$KAFKA_LOG" 60
            fi
            die "Kafka at $bootstrap not ready after ${timeout}s"
        fi
        sleep 0.5
    done
}

cmd_start() {
    local pid t0
    t0="$(now_ms)"
    if pid="$(our_pid)"; then
        if grep -qxF "listeners=PLAINTEXT://127.0.0.1:${RAPPORT_KAFKA_PORT},CONTROLLER://127.0.0.1:${RAPPORT_KAFKA_CONTROLLER_PORT}" "$KAFKA_PROPS"; then
            log "already running (pid $pid)"
            wait_ready "$LOCAL_BOOTSTRAP" "$WAIT_TIMEOUT" local
            return 0
        fi
        log "running (pid $pid) with other ports than $RAPPORT_KAFKA_PORT/$RAPPORT_KAFKA_CONTROLLER_PORT; restarting to apply them"
        cmd_stop
    fi
    if [ "$RAPPORT_KAFKA_EXTERNAL" = 1 ]; then
        if probe "$RAPPORT_KAFKA_BOOTSTRAP"; then
            log "reusing external Kafka at RAPPORT_KAFKA_BOOTSTRAP=$RAPPORT_KAFKA_BOOTSTRAP (not starting one)"
            return 0
        fi
        warn "RAPPORT_KAFKA_BOOTSTRAP=$RAPPORT_KAFKA_BOOTSTRAP is set but does not answer; starting a local broker at $LOCAL_BOOTSTRAP instead"
        [ "$RAPPORT_KAFKA_BOOTSTRAP" = "$LOCAL_BOOTSTRAP" ] \
            || warn "clients using RAPPORT_KAFKA_BOOTSTRAP will NOT reach it; unset the variable or point it at $LOCAL_BOOTSTRAP"
    fi
    if [ -f "$KAFKA_PIDFILE" ]; then
        log "removing stale pid file (pid $(cat "$KAFKA_PIDFILE" 2>/dev/null || echo ?) is not a running broker of ours)"
        rm -f "$KAFKA_PIDFILE"
    fi
    for port in "$RAPPORT_KAFKA_PORT" "$RAPPORT_KAFKA_CONTROLLER_PORT"; do
        if port_open 127.0.0.1 "$port"; then
            die "port $port is already in use by a process this script did not start; stop it or pick other ports (RAPPORT_KAFKA_PORT / RAPPORT_KAFKA_CONTROLLER_PORT)"
        fi
    done
    cmd_fetch
    require_java
    write_config
    format_storage
    launch
    wait_ready "$LOCAL_BOOTSTRAP" "$WAIT_TIMEOUT" local
    log "start took $(elapsed "$t0") total; bootstrap servers: $LOCAL_BOOTSTRAP"
}

cmd_stop() {
    local pid t0
    if ! pid="$(our_pid)"; then
        if [ -f "$KAFKA_PIDFILE" ]; then
            log "pid file is stale (process gone or not our broker); removing it"
            rm -f "$KAFKA_PIDFILE"
        elif [ "$RAPPORT_KAFKA_EXTERNAL" = 1 ]; then
            log "RAPPORT_KAFKA_BOOTSTRAP=$RAPPORT_KAFKA_BOOTSTRAP is external; nothing of ours to stop"
        else
            log "not running"
        fi
        return 0
    fi
    t0="$(now_ms)"
    log "stopping broker (pid $pid, SIGTERM, controlled shutdown)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
        pid_alive "$pid" || break
        sleep 0.1
    done
    if pid_alive "$pid"; then
        warn "broker still running after 30s; sending SIGKILL to pid $pid"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            pid_alive "$pid" || break
            sleep 0.1
        done
    fi
    pid_alive "$pid" && die "could not stop pid $pid"
    rm -f "$KAFKA_PIDFILE"
    log "stopped in $(elapsed "$t0") (data kept in $KAFKA_DATA)"
}

cmd_status() {
    local pid
    if pid="$(our_pid)"; then
        if probe "$LOCAL_BOOTSTRAP"; then
            log "running (pid $pid) and ready at $LOCAL_BOOTSTRAP; data $KAFKA_DATA; log $KAFKA_LOG"
            if [ "$RAPPORT_KAFKA_EXTERNAL" = 1 ] && ! probe "$RAPPORT_KAFKA_BOOTSTRAP"; then
                warn "but RAPPORT_KAFKA_BOOTSTRAP=$RAPPORT_KAFKA_BOOTSTRAP (set by you) does not answer"
            fi
            return 0
        fi
        log "running (pid $pid) but not answering at $LOCAL_BOOTSTRAP yet; log $KAFKA_LOG"
        return 3
    fi
    if [ "$RAPPORT_KAFKA_EXTERNAL" = 1 ]; then
        if probe "$RAPPORT_KAFKA_BOOTSTRAP"; then
            log "external Kafka at $RAPPORT_KAFKA_BOOTSTRAP answers (not managed here)"
            return 0
        fi
        log "external RAPPORT_KAFKA_BOOTSTRAP=$RAPPORT_KAFKA_BOOTSTRAP does not answer"
    fi
    log "not running (no live broker from $KAFKA_PIDFILE)"
    return 3
}

cmd_wait() {
    if [ "$RAPPORT_KAFKA_EXTERNAL" = 1 ]; then
        wait_ready "$RAPPORT_KAFKA_BOOTSTRAP" "$WAIT_TIMEOUT"
    elif our_pid >/dev/null; then
        wait_ready "$LOCAL_BOOTSTRAP" "$WAIT_TIMEOUT" local
    else
        wait_ready "$LOCAL_BOOTSTRAP" "$WAIT_TIMEOUT"
    fi
}

cmd_tool() {
    local cls="$1"; shift
    compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null || cmd_fetch >&2
    run_tool "$cls" --bootstrap-server "$RAPPORT_KAFKA_BOOTSTRAP" "$@"
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

case "${1:-}" in
    fetch | start | stop | restart) take_lock "$KAFKA_HOME/.lock" ;;
esac

case "${1:-}" in
    fetch)   cmd_fetch ;;
    start)   cmd_start ;;
    stop)    cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status)  cmd_status ;;
    wait)    cmd_wait ;;
    topics)  shift; cmd_tool org.apache.kafka.tools.TopicCommand "$@" ;;
    groups)  shift; cmd_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@" ;;
    *)       usage ;;
esac
