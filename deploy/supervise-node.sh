#!/usr/bin/env bash
# Runs a node's command (deploy/trainer coordinator ... or deploy/trainer worker ...) and starts
# it again when it crashes or asks to be, as systemd's Restart=on-failure would:
# - exit 6: a coordinator whose cluster node was downed under it (a long pause, a partition)
#   asks to be started again; the job it was running resumes from its last checkpoint, queued
#   jobs keep their place, and the workers rejoin by themselves;
# - killed by a signal other than a stop (SIGKILL, the kernel's out-of-memory killer, a JVM abort
#   or segfault), or exit 255 (Akka's exit on a fatal error such as OutOfMemoryError): a crash;
#   a restarted worker rejoins and the running job takes it on again.
# Any other exit ends this script with the same code: 0 a clean stop, 1 or 2 an error (a bad
# setting, a port in use) that a restart would repeat, 129/130/141/143 a stop asked by SIGHUP,
# SIGINT, SIGPIPE or SIGTERM. SIGTERM and SIGINT sent to this script are passed on to the node
# (as SIGTERM), and it exits once the node has; SIGINT only where it was not ignored when this
# script started (start-cluster.sh starts it in the background, where it is: use SIGTERM). If
# this script is killed outright, the node sees it gone and stops as on SIGTERM, also when that
# happens before the node is up. start-cluster.sh runs every node under it; a node's pid file
# records this script's pid. COMMAND must exec the JVM (deploy/trainer does) or pass the signal
# on: a wrapper that runs java as its child would be stopped without it.
#
# Usage: deploy/supervise-node.sh [--name NAME] [--] COMMAND [ARGS...]; --help
# Environment: PARALLAX_NODE_RESTARTS (default 5), the most restarts within 10 minutes; past
# that it stops restarting and exits with the node's code, so that a node that keeps failing
# is noticed.
set -uo pipefail

NODE_LOST=6
FATAL_ERROR=255
WINDOW_SECONDS=600
max_restarts=${PARALLAX_NODE_RESTARTS:-5}
[[ "$max_restarts" =~ ^[0-9]+$ ]] || {
    echo "supervise-node: PARALLAX_NODE_RESTARTS must be a whole number, got '$max_restarts'" >&2
    exit 2
}
usage() {
    cat <<EOF2
Usage: deploy/supervise-node.sh [--name NAME] [--] COMMAND [ARGS...]

Runs COMMAND (a node: deploy/trainer coordinator ... or deploy/trainer worker ...) and starts it
again when it exits 6 (a coordinator whose cluster node was downed), 255 (a fatal error) or is
killed by a signal other than SIGHUP, SIGINT, SIGPIPE or SIGTERM (a crash); any other exit ends
this script with the same code. SIGTERM (and SIGINT, unless ignored when this script started, as
in a background job) is passed on to COMMAND, which must exec the JVM or pass it on itself.
deploy/start-cluster.sh runs every node under this script.

  --name NAME  the node's name in this script's lines (default: node)
  -h, --help   this help (a COMMAND that starts with '-' goes after --)

Environment: PARALLAX_NODE_RESTARTS (default 5), the most restarts within 10 minutes; past
that it stops restarting and exits with the node's code.
EOF2
}
name=node
# only the first words can be options of this script: the rest is the command's
while (( $# )); do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --name)
            [[ -n "${2:-}" ]] || { echo "supervise-node: --name needs a value (try --help)" >&2; exit 2; }
            name=$2
            shift 2 ;;
        --name=*) name=${1#--name=}; shift ;;
        --) shift; break ;;
        -*) echo "supervise-node: unknown option '$1' (try --help)" >&2; exit 2 ;;
        *) break ;;
    esac
done
(( $# >= 1 )) || { echo "supervise-node: no command given (try --help)" >&2; exit 2; }

say() { echo "supervise-node: $(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }

# STATUS -> why the node ended, in words, for this script's lines
ending() {
    local status=$1 signal
    if (( status == NODE_LOST )); then
        echo "exited 6 (its cluster node was lost)"
    elif (( status == FATAL_ERROR )); then
        echo "exited 255 (a fatal error: see the lines above)"
    elif (( status > 128 )) && signal=$(kill -l "$((status - 128))" 2>/dev/null); then
        echo "was killed by SIG$signal (exit $status)"
    else
        echo "exited $status"
    fi
}

# STATUS -> succeeds when a node that ended so is to be started again
restarts_after() {
    local status=$1
    case "$status" in
        "$NODE_LOST"|"$FATAL_ERROR") return 0 ;;
        129|130|141|143) return 1 ;;  # SIGHUP, SIGINT, SIGPIPE, SIGTERM: a stop someone asked for
    esac
    (( status > 128 ))
}

child=""
stopping=0
stop_child() {
    stopping=1
    [[ -z "$child" ]] || kill -TERM "$child" 2>/dev/null || true
}
trap stop_child TERM INT

restarts=()  # SECONDS of each restart within the window
while :; do
    # the node stops by itself if this script is killed (-9) and cannot stop it
    PARALLAX_SUPERVISOR_PID=$$ "$@" &
    child=$!
    # a trapped signal ends `wait` early (status > 128) while the node is still stopping
    while :; do
        wait "$child" 2>/dev/null  # the line below says how it ended, rather than bash's "Killed"
        status=$?
        if (( status > 128 )) && kill -0 "$child" 2>/dev/null; then
            continue
        fi
        break
    done
    child=""
    if (( stopping )); then
        exit "$status"
    elif ! restarts_after "$status"; then
        (( status == 0 )) || say "$name $(ending "$status"); not starting it again (a crash, exit 6 or 255 would be)"
        exit "$status"
    fi
    recent=()
    for t in "${restarts[@]}"; do
        (( SECONDS - t < WINDOW_SECONDS )) && recent+=("$t")
    done
    restarts=("${recent[@]}")
    if (( ${#restarts[@]} >= max_restarts )); then
        say "$name $(ending "$status") after ${#restarts[@]} restart(s) in the last $((WINDOW_SECONDS / 60))" \
            "minutes; not starting it again (PARALLAX_NODE_RESTARTS=$max_restarts)"
        exit "$status"
    fi
    restarts+=("$SECONDS")
    say "$name $(ending "$status"); starting it again (restart ${#restarts[@]})"
    sleep 2 &
    pause=$!
    wait "$pause" || true
    if (( stopping )); then
        kill "$pause" 2>/dev/null || true
        say "$name: stopped before it was started again"
        exit "$status"
    fi
done
