#!/usr/bin/env bash
# Stops the cluster deploy/start-cluster.sh started: exactly the processes recorded in the run
# folder's pid files, and only while each is still the process that was started (same start
# time, a trainer command line). TERM, up to --grace seconds to exit, then KILL; the pid files
# are removed. Running it again, or with nothing running, is harmless.
# Usage: deploy/stop-cluster.sh [--run-dir DIR] [--grace S]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
# shellcheck source=deploy/cluster-lib.sh
source "$HERE/cluster-lib.sh"

run_dir="${PARALLAX_RUN_DIR:-runs/cluster}"
grace=30
while [[ $# -gt 0 ]]; do
    # --option=value, as trainer's own help writes options, is --option value
    if [[ "$1" == --*=* ]]; then set -- "${1%%=*}" "${1#*=}" "${@:2}"; fi
    case "$1" in
        --run-dir) [[ $# -ge 2 ]] || die "--run-dir needs a value"; run_dir=$2; shift 2 ;;
        --grace) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || die "--grace needs whole seconds"; grace=$2; shift 2 ;;
        -h|--help)
            echo "Usage: deploy/stop-cluster.sh [--run-dir DIR (default: \$PARALLAX_RUN_DIR or runs/cluster)] [--grace S (default 30)]"
            exit 0 ;;
        *) die "unknown option '$1' (try --help)" ;;
    esac
done
[[ "$run_dir" == /* ]] || run_dir="$ROOT/$run_dir"

shopt -s nullglob
pid_files=("$run_dir"/*.pid)
if (( ${#pid_files[@]} == 0 )); then
    echo "stop-cluster: nothing to stop in $run_dir"
    exit 0
fi

# group the nodes by host: one call per host stops all of its nodes at once
declare -A targets=() names=()
for pid_file in "${pid_files[@]}"; do
    name=$(basename "$pid_file" .pid)
    host="" pid="" start=""
    read -r host pid start < "$pid_file" || true
    if [[ ! "$pid" =~ ^[0-9]+$ || ! "$start" =~ ^[0-9]+$ ]]; then
        echo "stop-cluster: $name: unreadable or incomplete pid file, removed"
        rm -f "$pid_file"
        continue
    fi
    targets[$host]+="$pid $start "
    names[$host:$pid:$start]=$name
done

status=0
results=$(mktemp)
trap 'rm -f "$results"' EXIT
jobs=()
for host in "${!targets[@]}"; do
    read -r -a pairs <<< "${targets[$host]}"
    # hosts in parallel: each may wait up to the grace period
    on_node "$host" node_stop "$grace" "${pairs[@]}" | sed "s/^/$host /" >> "$results" &
    jobs+=($!)
done
for job in "${jobs[@]}"; do wait "$job" || status=1; done

while read -r host what pid start; do
    name=${names[$host:$pid:$start]:-pid $pid}
    where=""
    [[ "$host" == - ]] || where=" on $host"
    case "$what" in
        stopped) echo "stop-cluster: $name (pid $pid$where) stopped" ;;
        killed) echo "stop-cluster: $name (pid $pid$where) did not stop in ${grace}s: killed" ;;
        gone) echo "stop-cluster: $name (pid $pid$where) was no longer running" ;;
    esac
    rm -f "$run_dir/$name.pid"
    unset "names[$host:$pid:$start]"
done < "$results"

# a host that could not be reached keeps its pid files, so that a later run can try again
for key in "${!names[@]}"; do
    echo "stop-cluster: ${names[$key]} on ${key%%:*}: no answer from the host; pid file kept" >&2
    status=1
done
rm -f "$run_dir/grpc-address" "$run_dir/cluster-address"
exit "$status"
