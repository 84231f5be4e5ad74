#!/usr/bin/env bash
# Start or stop what the platform tests talk to: a Docker registry on 127.0.0.1 (Debian's
# docker-registry, the Distribution server; the Docker engine accepts a loopback registry
# without TLS) and a local Codabench deployment, when its scripts are given.
#
#   ci/platform-services.sh start    # registry, then the platform; prints what runs
#   ci/platform-services.sh stop     # stops both (only what this script started)
#
#   KIT_REGISTRY        host:port of the registry (default 127.0.0.1:5000)
#   KIT_REGISTRY_HOME   its config, storage and log (default /tmp/kit-registry)
#   KIT_PLATFORM_DIR    folder of the platform's start.sh and stop.sh (none: no platform)
#   CBS_HOME            the platform's work folder (default /tmp/cbsite)
# Exit 1 when something asked for could not be started (the tests then skip).
set -euo pipefail

KIT_REGISTRY=${KIT_REGISTRY:-127.0.0.1:5000}
KIT_REGISTRY_HOME=${KIT_REGISTRY_HOME:-/tmp/kit-registry}
export CBS_HOME=${CBS_HOME:-/tmp/cbsite}
PID_FILE=$KIT_REGISTRY_HOME/registry.pid

log() { echo "[platform-services] $*" >&2; }
registry_answers() { curl -fsS -o /dev/null --max-time 2 "http://$KIT_REGISTRY/v2/"; }

start_registry() {
    if registry_answers; then
        log "registry answers on $KIT_REGISTRY"
        return 0
    fi
    if ! command -v docker-registry >/dev/null 2>&1; then
        log "installing docker-registry"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
    fi
    mkdir -p "$KIT_REGISTRY_HOME/data"
    cat >"$KIT_REGISTRY_HOME/config.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $KIT_REGISTRY_HOME/data
  delete:
    enabled: true
http:
  addr: $KIT_REGISTRY
EOF
    log "starting docker-registry on $KIT_REGISTRY (log: $KIT_REGISTRY_HOME/registry.log)"
    nohup docker-registry serve "$KIT_REGISTRY_HOME/config.yml" >>"$KIT_REGISTRY_HOME/registry.log" 2>&1 &
    echo $! >"$PID_FILE"
    for _ in $(seq 30); do
        registry_answers && return 0
        sleep 1
    done
    log "the registry did not answer; last lines of its log:"
    tail -n 5 "$KIT_REGISTRY_HOME/registry.log" >&2 || true
    return 1
}

stop_registry() {
    if [[ -f $PID_FILE ]]; then
        kill "$(cat "$PID_FILE")" 2>/dev/null || true
        rm -f "$PID_FILE"
        log "registry stopped"
    fi
}

case "${1:-}" in
start)
    status=0
    mkdir -p "$KIT_REGISTRY_HOME"
    start_registry || status=1
    if [[ -n ${KIT_PLATFORM_DIR:-} && -f $KIT_PLATFORM_DIR/start.sh ]]; then
        log "starting the platform (CBS_HOME=$CBS_HOME; first setup takes a few minutes)"
        bash "$KIT_PLATFORM_DIR/start.sh" >"$KIT_REGISTRY_HOME/platform-start.log" 2>&1 || {
            log "the platform did not start; last lines:"
            tail -n 10 "$KIT_REGISTRY_HOME/platform-start.log" >&2
            status=1
        }
        [[ $status == 0 ]] && grep -E '^(BASE_URL)=' "$CBS_HOME/cbsite.env" >&2
    fi
    exit $status
    ;;
stop)
    if [[ -n ${KIT_PLATFORM_DIR:-} && -f $KIT_PLATFORM_DIR/stop.sh ]]; then
        bash "$KIT_PLATFORM_DIR/stop.sh" >/dev/null 2>&1 || log "the platform's stop.sh failed"
    fi
    stop_registry
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
