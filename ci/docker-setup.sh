#!/usr/bin/env bash
# Make sure a Docker engine answers (`docker info`) and that debootstrap is installed (when
# Docker Hub cannot be reached, `python ci/offline_base.py` makes the kit image's base with it).
# Idempotent: does nothing when both already hold. Installs docker.io and starts dockerd
# in the background (log: $DOCKERD_LOG) only when no engine answers. Needs root for that.
# Exit 0 when the engine answers, 1 otherwise.
#
#   DOCKERD_LOG    dockerd's log file (default /tmp/dockerd.log)
#   DOCKER_WAIT_S  how long to wait for the engine to answer (default 60)
#   DOCKERD_FLAGS  extra dockerd flags, split on spaces (default none)
set -euo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
DOCKER_WAIT_S=${DOCKER_WAIT_S:-60}
DOCKERD_FLAGS=${DOCKERD_FLAGS:-}

log() { echo "[docker-setup] $*" >&2; }
engine_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

packages=()
command -v debootstrap >/dev/null 2>&1 || packages+=(debootstrap)
if ! engine_answers && ! { command -v docker && command -v dockerd; } >/dev/null 2>&1; then
    packages+=(docker.io)
fi
if ((${#packages[@]})); then
    log "installing ${packages[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if engine_answers; then
    log "Docker engine answers"
    exit 0
fi

if pgrep -x dockerd >/dev/null 2>&1; then
    log "dockerd is already running: waiting for it to answer"
else
    log "starting dockerd (log: $DOCKERD_LOG)"
    # shellcheck disable=SC2086  # DOCKERD_FLAGS is a list of flags
    nohup dockerd $DOCKERD_FLAGS >>"$DOCKERD_LOG" 2>&1 &
fi

for ((waited = 0; waited < DOCKER_WAIT_S; waited++)); do
    if engine_answers; then
        log "Docker engine answers after ${waited} s"
        exit 0
    fi
    sleep 1
done
log "the Docker engine did not answer within ${DOCKER_WAIT_S} s; last lines of $DOCKERD_LOG:"
tail -n 20 "$DOCKERD_LOG" >&2 || true
exit 1
