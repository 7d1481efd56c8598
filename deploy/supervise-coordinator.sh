#!/usr/bin/env bash
# Runs a coordinator command (deploy/trainer coordinator ...) and starts it again each time it
# exits with code 6: the coordinator's way of saying that its cluster node was downed under it
# (a long pause, a partition) and that it must be started again. The job it was running resumes
# from its last checkpoint, queued jobs keep their place, and the workers rejoin by themselves.
# Any other exit ends this script with the same code: a bad setting would fail again, and a
# kill -9 or a crash is left to deploy/start-cluster.sh --coordinator-only. SIGTERM and SIGINT
# are passed on to the coordinator (as SIGTERM), and this script exits once it has; if this
# script is killed outright, the coordinator sees it gone and stops as on SIGTERM.
# start-cluster.sh runs the coordinator under it; its pid file records this script's pid.
#
# Usage: deploy/supervise-coordinator.sh [--] COMMAND [ARGS...]; --help
# Environment: PARALLAX_COORDINATOR_RESTARTS (default 5), the most restarts within 10 minutes;
# past that it stops restarting and exits 6, so that a node downed over and over is noticed.
set -uo pipefail

NODE_LOST=6
WINDOW_SECONDS=600
max_restarts=${PARALLAX_COORDINATOR_RESTARTS:-5}
[[ "$max_restarts" =~ ^[0-9]+$ ]] || {
    echo "supervise-coordinator: PARALLAX_COORDINATOR_RESTARTS must be a whole number, got '$max_restarts'" >&2
    exit 2
}
usage() {
    cat <<EOF
Usage: deploy/supervise-coordinator.sh [--] COMMAND [ARGS...]

Runs COMMAND (a coordinator: deploy/trainer coordinator ...) and starts it again each time it
exits with code 6 (its cluster node was downed under it); any other exit ends this script with
the same code. SIGTERM and SIGINT are passed on to COMMAND. deploy/start-cluster.sh runs its
coordinator under this script.

  -h, --help   this help (a COMMAND that starts with '-' goes after --)

Environment: PARALLAX_COORDINATOR_RESTARTS (default 5), the most restarts within 10 minutes;
past that it stops restarting and exits 6.
EOF
}
# only the first word can be an option of this script: the rest is the command's
case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    --) shift ;;
    -*) echo "supervise-coordinator: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac
(( $# >= 1 )) || { echo "supervise-coordinator: no command given (try --help)" >&2; exit 2; }

say() { echo "supervise-coordinator: $(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }

child=""
stopping=0
stop_child() {
    stopping=1
    [[ -z "$child" ]] || kill -TERM "$child" 2>/dev/null || true
}
trap stop_child TERM INT

restarts=()  # SECONDS of each restart within the window
while :; do
    # the coordinator stops by itself if this script is killed (-9) and cannot stop it
    PARALLAX_SUPERVISOR_PID=$$ "$@" &
    child=$!
    # a trapped signal ends `wait` early (status > 128) while the coordinator is still stopping
    while :; do
        wait "$child"
        status=$?
        if (( status > 128 )) && kill -0 "$child" 2>/dev/null; then
            continue
        fi
        break
    done
    child=""
    if (( stopping )); then
        exit "$status"
    elif (( status != NODE_LOST )); then
        say "the coordinator exited $status; not starting it again (only exit 6 asks for that)"
        exit "$status"
    fi
    recent=()
    for t in "${restarts[@]}"; do
        (( SECONDS - t < WINDOW_SECONDS )) && recent+=("$t")
    done
    restarts=("${recent[@]}")
    if (( ${#restarts[@]} >= max_restarts )); then
        say "the coordinator exited 6 (its cluster node was lost) after ${#restarts[@]} restart(s) in the last" \
            "$((WINDOW_SECONDS / 60)) minutes; not starting it again (deploy/start-cluster.sh --coordinator-only does)"
        exit "$status"
    fi
    restarts+=("$SECONDS")
    say "the coordinator exited 6 (its cluster node was lost); starting it again (restart ${#restarts[@]})"
    sleep 2 &
    wait $! || true
    (( stopping )) && exit "$status"
done
