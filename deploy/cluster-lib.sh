# shellcheck shell=bash
# Shared by start-cluster.sh and stop-cluster.sh (sourced, not run).
#
# Every action on a node's host goes through on_node, which runs one of the node_* functions
# below on that host: with bash on this machine (host "-"), or over ssh (the functions travel
# as text with `declare -f`), so a local cluster and one on several hosts take the same path.
#
# The run folder holds one NAME.pid per node: "HOST PID START", START being the process's start
# time (field 22 of /proc/PID/stat). stop-cluster.sh signals a PID only while its start time and
# command line still match, so a pid the kernel has since given to another process is left alone.

# ssh command (words); PARALLAX_SSH replaces it, e.g. "ssh -i key -o BatchMode=yes"
read -r -a SSH_COMMAND <<< "${PARALLAX_SSH:-ssh -o BatchMode=yes}"

# ---- functions that run on a node's host ----------------------------------------------------

# PID -> the process's start time in clock ticks after boot; fails if there is no such process
node_start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    # the command name (field 2) may hold spaces and parentheses: cut after the last ')'
    stat=${stat##*) }
    # shellcheck disable=SC2086  # split the fields on purpose
    set -- $stat
    [[ -n "${20:-}" ]] || return 1
    printf '%s\n' "${20}"
}

# PID START -> true while PID is still the trainer process started at START
node_is_ours() {
    local now cmdline
    now=$(node_start_time "$1") || return 1
    [[ "$now" == "$2" ]] || return 1
    # 2> first: redirections apply left to right, and a pid gone meanwhile fails the < itself
    cmdline=$(tr '\0' ' ' 2>/dev/null < "/proc/$1/cmdline") || return 1
    # a node's supervisor (what start-cluster.sh records, whatever PARALLAX_TRAINER is called);
    # java ... io.parallax.deploy.TrainerCli once running; the launcher while it still builds
    [[ "$cmdline" == *supervise-node.sh* || "$cmdline" == *io.parallax.deploy.TrainerCli* || "$cmdline" == *trainer* ]]
}

# DIR LOG COMMAND... -> starts COMMAND in DIR in the background, output to LOG (relative to
# DIR); the logs of the five runs before are kept as LOG.1 (the newest) to LOG.5; prints
# "PID START"
node_launch() {
    local dir=$1 log=$2 pid start i
    shift 2
    cd "$dir" || return 1
    mkdir -p "$(dirname "$log")"
    # a node's earlier log says why it stopped (a crash, a restart loop): the next start must
    # not overwrite it, whether a full start or --coordinator-only, on any host
    if [[ -f "$log" ]]; then
        for i in 4 3 2 1; do
            [[ ! -f "$log.$i" ]] || mv -f "$log.$i" "$log.$((i + 1))"
        done
        mv -f "$log" "$log.1"
    fi
    nohup "$@" > "$log" 2>&1 < /dev/null &
    pid=$!
    start=$(node_start_time "$pid") || start=-
    printf '%s %s\n' "$pid" "$start"
}

# LOG ERE -> prints the last part of LOG that matches ERE; fails if none does
node_log_match() {
    [[ -f "$1" ]] || return 1
    grep -Eo -- "$2" "$1" | tail -n 1 | grep .
}

# LOG LINES -> the last LINES lines of LOG
node_log_tail() {
    tail -n "$2" "$1" 2>/dev/null || true
}

# PID -> the pids of PID's child processes, one per line (a node under supervise-node.sh is
# one)
node_children() {
    local parent=$1 stat fields
    for stat in /proc/[0-9]*/stat; do
        fields=$(cat "$stat" 2>/dev/null) || continue
        fields=${fields##*) }
        # shellcheck disable=SC2086  # split the fields on purpose: state, ppid, ...
        set -- $fields
        if [[ "${2:-}" == "$parent" ]]; then
            stat=${stat#/proc/}
            printf '%s\n' "${stat%/stat}"
        fi
    done
}

# GRACE PID START [PID START ...] -> TERM each process that is still ours, waits up to GRACE
# seconds for all to exit, KILLs the rest; prints "stopped|killed|gone PID START" for each
node_stop() {
    local grace=$1 i alive child
    shift
    local -a pids=() starts=()
    while (( $# >= 2 )); do
        if node_is_ours "$1" "$2" && kill -TERM "$1" 2>/dev/null; then
            pids+=("$1")
            starts+=("$2")
        else
            echo "gone $1 $2"
        fi
        shift 2
    done
    local deadline=$((SECONDS + grace))
    while :; do
        alive=0
        for i in "${!pids[@]}"; do
            if node_is_ours "${pids[$i]}" "${starts[$i]}"; then alive=1; fi
        done
        (( alive && SECONDS < deadline )) || break
        sleep 0.2
    done
    for i in "${!pids[@]}"; do
        if node_is_ours "${pids[$i]}" "${starts[$i]}"; then
            # a supervisor's child first, or it would outlive the supervisor
            for child in $(node_children "${pids[$i]}"); do kill -KILL "$child" 2>/dev/null || true; done
            kill -KILL "${pids[$i]}" 2>/dev/null || true
            echo "killed ${pids[$i]} ${starts[$i]}"
        else
            echo "stopped ${pids[$i]} ${starts[$i]}"
        fi
    done
}

# ---- run here ------------------------------------------------------------------------------

# HOST FUNCTION ARGS... -> runs node_FUNCTION ARGS on HOST ("-" = this machine)
on_node() {
    local host=$1 lib call
    shift
    lib=$(declare -f node_start_time node_is_ours node_launch node_log_match node_log_tail node_children node_stop)
    call=$(printf '%q ' "$@")
    if [[ "$host" == - ]]; then
        bash -c "$lib"$'\n'"$call"
    else
        "${SSH_COMMAND[@]}" "$host" bash -s <<< "$lib"$'\n'"$call"
    fi
}

die() {
    echo "$(basename "$0"): $*" >&2
    exit 2
}
