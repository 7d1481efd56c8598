#!/usr/bin/env bash
# Starts a Parallax cluster: a coordinator and its workers, on this machine or on the hosts
# listed in a file (over ssh). Waits until the coordinator is up and every worker has joined,
# then prints the coordinator's gRPC address. deploy/stop-cluster.sh stops exactly what this
# started. Usage: deploy/start-cluster.sh --help
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
# shellcheck source=deploy/cluster-lib.sh
source "$HERE/cluster-lib.sh"

usage() {
    cat <<EOF
Usage: deploy/start-cluster.sh [options]

Starts a coordinator and N workers, on this machine (default) or on the hosts of --hosts,
each under deploy/supervise-node.sh, which starts a node that crashes again.
Pid and log files go to the run folder (each node's last five earlier logs are kept as
NAME.log.1, the newest, to NAME.log.5); deploy/stop-cluster.sh stops them.

  -w, --workers N        workers to start (default 2); with --hosts: per worker host (default 1)
      --hosts FILE       one host per line (# comments); the first is the coordinator's, the
                         others run workers (list a host twice for two workers there)
      --coordinator HOST the coordinator's host; then every line of --hosts runs workers
      --remote-dir DIR   the repository on the remote hosts (default: $ROOT)
      --run-dir DIR      pid and log files (default: \$PARALLAX_RUN_DIR or runs/cluster,
                         relative to the repository; on remote hosts to --remote-dir)
      --config FILE      settings file for every node (see deploy/parallax.conf); on remote
                         hosts a relative path is taken from --remote-dir
      --host ADDR        address the nodes bind and advertise (this machine only; with --hosts
                         each node uses its host's line)
      --port P           the coordinator's Akka port      (default: from the settings, 2551)
      --grpc-port P      the coordinator's gRPC port      (default: from the settings, 50051)
      --data-root DIR    the folders every node may read job data from, in place of the defaults
                         (the repository and /usr/share/datasets; repeat it to name several, the
                         repository too if you want it); absolute: each node reads it on its own
                         host. The coordinator and the workers must agree, or a job the
                         coordinator takes fails on every worker
      --coordinator-arg A  one more argument for 'trainer coordinator' (repeatable)
      --worker-arg A     one more argument for 'trainer worker' (repeatable)
      --worker-port-base P  pins the workers' Akka ports: the first worker on each host gets P,
                         the second P+1, and so on (default: each takes a free port); refused
                         with --worker-arg --port, past 65535, or over the coordinator's ports
      --timeout S        seconds to wait for the coordinator and the workers (default 180)
      --coordinator-only start the coordinator alone again, after it stopped or crashed, into
                         the same run folder; the workers still running from it rejoin (waited
                         for), and stop-cluster.sh stops everything as before. It reuses the
                         options the run folder's last start recorded (its start-options file:
                         the coordinator's host, --remote-dir, --config, --host, --port,
                         --grpc-port, --coordinator-arg and the PARALLAX_* settings), so
                         --run-dir is enough. Given again, --config, --host, --port, --grpc-port
                         and --remote-dir must agree with them; --coordinator-arg replaces the
                         recorded ones, but must name the same --state-dir; a PARALLAX_*
                         setting given overrides the recorded one, except one that moves the
                         state directory or the ports. To change those: stop-cluster.sh, then
                         a full start
  -h, --help             this help

Environment: PARALLAX_* settings (deploy/parallax.conf) reach every node, over ssh too;
PARALLAX_TRAINER replaces the launcher (default deploy/trainer, relative to the repository;
it must exec the JVM, as deploy/trainer does, so that a stop reaches it);
PARALLAX_SSH replaces the ssh command (default "ssh -o BatchMode=yes").
EOF
}

workers=""
hosts_file=""
coordinator_host=""
remote_dir="$ROOT"
run_dir="${PARALLAX_RUN_DIR:-runs/cluster}"
config=""
bind_host=""
akka_port=""
grpc_port=""
timeout=180
coordinator_args=()
worker_args=()
coordinator_only=0
worker_port_base=""

need() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
    # --option=value, as trainer's own help writes options, is --option value
    if [[ "$1" == --*=* ]]; then set -- "${1%%=*}" "${1#*=}" "${@:2}"; fi
    case "$1" in
        -w|--workers) need "$@"; workers=$2; shift 2 ;;
        --hosts) need "$@"; hosts_file=$2; shift 2 ;;
        --coordinator) need "$@"; coordinator_host=$2; shift 2 ;;
        --remote-dir) need "$@"; remote_dir=$2; shift 2 ;;
        --run-dir) need "$@"; run_dir=$2; shift 2 ;;
        --config) need "$@"; config=$2; shift 2 ;;
        --host) need "$@"; bind_host=$2; shift 2 ;;
        --port) need "$@"; akka_port=$2; shift 2 ;;
        --grpc-port) need "$@"; grpc_port=$2; shift 2 ;;
        --data-root) need "$@"
            [[ "$2" == /* ]] || die "--data-root must be an absolute path (each node reads it on its own host), got '$2'"
            coordinator_args+=("--data-root=$2"); worker_args+=("--data-root=$2"); shift 2 ;;
        --coordinator-arg) need "$@"; coordinator_args+=("$2"); shift 2 ;;
        --worker-arg) need "$@"; worker_args+=("$2"); shift 2 ;;
        --worker-port-base) need "$@"; worker_port_base=$2; shift 2 ;;
        --timeout) need "$@"; timeout=$2; shift 2 ;;
        --coordinator-only) coordinator_only=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option '$1'" ;;
    esac
done
[[ -z "$workers" || "$workers" =~ ^[0-9]+$ ]] || die "--workers must be a number, got '$workers'"
[[ "$timeout" =~ ^[0-9]+$ ]] || die "--timeout must be whole seconds, got '$timeout'"

# ---- where each node runs: "-" is this machine ----
node_hosts=()   # node_hosts[0] is the coordinator's
if [[ -n "$hosts_file" ]]; then
    [[ -f "$hosts_file" ]] || die "no hosts file '$hosts_file'"
    [[ -z "$bind_host" ]] || die "--host is for this machine only; with --hosts each node uses its host's line"
    listed=()
    while read -r line; do
        line=${line%%#*}
        line=${line//[[:space:]]/}
        [[ -n "$line" ]] && listed+=("$line")
    done < "$hosts_file"
    if [[ -n "$coordinator_host" ]]; then
        worker_hosts=("${listed[@]}")
    else
        [[ ${#listed[@]} -ge 1 ]] || die "'$hosts_file' lists no host"
        coordinator_host=${listed[0]}
        worker_hosts=("${listed[@]:1}")
    fi
    node_hosts+=("$coordinator_host")
    for h in "${worker_hosts[@]}"; do
        for ((i = 0; i < ${workers:-1}; i++)); do node_hosts+=("$h"); done
    done
    node_dir=$remote_dir
else
    [[ -z "$coordinator_host" ]] || die "--coordinator needs --hosts"
    node_hosts+=(-)
    for ((i = 0; i < ${workers:-2}; i++)); do node_hosts+=(-); done
    node_dir=$ROOT
fi
worker_count=$((${#node_hosts[@]} - 1))
(( worker_count >= 1 || coordinator_only )) || die "no workers to start"

# a fixed worker port (--worker-arg --port=P) can serve one worker per host only
fixed_worker_port=""
for ((i = 0; i < ${#worker_args[@]}; i++)); do
    case "${worker_args[$i]}" in
        --port=*) fixed_worker_port=${worker_args[$i]#--port=} ;;
        --port) fixed_worker_port=${worker_args[$((i + 1))]:-} ;;
    esac
done
if [[ -n "$worker_port_base" ]]; then
    if [[ ! "$worker_port_base" =~ ^[0-9]{1,5}$ ]] || (( 10#$worker_port_base < 1 || 10#$worker_port_base > 65535 )); then
        die "--worker-port-base must be a port 1-65535, got '$worker_port_base'"
    fi
    worker_port_base=$((10#$worker_port_base))
    [[ -z "$fixed_worker_port" ]] || die "--worker-port-base and --worker-arg --port both set the workers' ports; give one"
    # the most workers on one host, and whether they share the coordinator's host
    most=$(printf '%s\n' "${node_hosts[@]:1}" | sort | uniq -c | sort -rn | awk 'NR == 1 {print $1}')
    last_port=$((worker_port_base + ${most:-1} - 1))
    (( last_port <= 65535 )) || die "--worker-port-base $worker_port_base with ${most} workers on one host needs" \
        "ports up to $last_port; ports end at 65535"
    with_coordinator=$(printf '%s\n' "${node_hosts[@]:1}" | grep -cxF -- "${node_hosts[0]}" || true)
    # the coordinator's ports as far as known here (a --config file may set them otherwise)
    c_akka=${akka_port:-${PARALLAX_COORDINATOR_PORT:-}}
    c_grpc=${grpc_port:-${PARALLAX_GRPC_PORT:-}}
    [[ -n "$config" ]] || c_akka=${c_akka:-2551} c_grpc=${c_grpc:-50051}
    for named in "Akka port (--port):$c_akka" "gRPC port (--grpc-port):$c_grpc"; do
        p=${named##*:}
        [[ "$p" =~ ^[0-9]+$ ]] || continue
        if (( with_coordinator > 0 && p >= worker_port_base && p < worker_port_base + with_coordinator )); then
            die "--worker-port-base $worker_port_base gives the workers on the coordinator's host ports" \
                "$worker_port_base-$((worker_port_base + with_coordinator - 1)), which hold its ${named%%:*} $p; choose another base"
        fi
    done
fi
if [[ -n "$fixed_worker_port" && "$fixed_worker_port" != 0 ]]; then
    shared=$(printf '%s\n' "${node_hosts[@]:1}" | sort | uniq -d | head -n 1)
    [[ -z "$shared" ]] || die "--worker-arg --port $fixed_worker_port gives every worker that port, and" \
        "$( [[ "$shared" == - ]] && echo "this machine" || echo "host $shared" ) runs more than one worker;" \
        "use --worker-port-base $fixed_worker_port instead (one port per worker from there), leave it out (each worker" \
        "then takes a free port) or run one worker per host"
fi

# the local run folder (pid files) and the nodes' one (logs), the same folder on this machine
run_dir_arg=$run_dir
[[ "$run_dir" == /* ]] || run_dir="$ROOT/$run_dir"
mkdir -p "$run_dir"
if [[ -n "$config" && -z "$hosts_file" ]]; then
    [[ -f "$config" ]] || die "no config file '$config'"
    config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
fi

# ---- the options a start records in the run folder, for --coordinator-only to reuse ----
# Restarting the coordinator with one option forgotten (its --state-dir above all) would start
# an empty coordinator that hands out job ids again, or one the workers cannot rejoin: so
# --coordinator-only takes them from here, and refuses any given again that would move the
# state directory, the ports or the address.
options_file="$run_dir/start-options"
recorded_env_names() { # the settings in the environment that a node sees
    compgen -e | grep -E '^(PARALLAX_|JAVA_OPTS$)' | grep -vxE 'PARALLAX_(SSH|TRAINER|RUN_DIR|SERVER)' || true
}
state_dir_in() { # COORDINATOR-ARGS... -> the last --state-dir among them, or nothing
    local a prev="" found=""
    for a in "$@"; do
        case "$a" in --state-dir=*) found=${a#--state-dir=} ;; esac
        [[ "$prev" != --state-dir ]] || found=$a
        prev=$a
    done
    printf '%s' "$found"
}
if (( coordinator_only )) && [[ ! -f "$options_file" ]]; then
    echo "start-cluster: $run_dir has no start-options (a start before 2026-11-23 wrote none); using the options" \
        "given here alone" >&2
elif (( coordinator_only )); then
    rec_host=- rec_remote_dir="" rec_config="" rec_bind="" rec_port="" rec_grpc=""
    rec_args=() rec_env=()
    while IFS= read -r line; do
        key=${line%% *}
        value=${line#"$key"}
        value=${value# }
        case "$key" in
            coordinator-host) rec_host=$value ;;
            remote-dir) rec_remote_dir=$value ;;
            config) rec_config=$value ;;
            host) rec_bind=$value ;;
            port) rec_port=$value ;;
            grpc-port) rec_grpc=$value ;;
            coordinator-arg) rec_args+=("$value") ;;
            env) rec_env+=("$value") ;;
        esac
    done < "$options_file"
    # OPTION GIVEN RECORDED -> refuses a GIVEN value (empty: not given) other than the RECORDED one
    agree() {
        [[ -z "$2" || "$2" == "$3" ]] || die "--coordinator-only: $1 $2 differs from ${3:-the default (not given)}," \
            "which the cluster of $run_dir was started with ($options_file); leave it out, or to change it" \
            "run deploy/stop-cluster.sh and start the cluster anew"
    }
    agree --config "$config" "$rec_config"
    agree --host "$bind_host" "$rec_bind"
    agree --port "$akka_port" "$rec_port"
    agree --grpc-port "$grpc_port" "$rec_grpc"
    config=$rec_config bind_host=$rec_bind akka_port=$rec_port grpc_port=$rec_grpc
    if [[ -n "$hosts_file" || -n "$coordinator_host" ]]; then
        agree "the coordinator's host (from --hosts/--coordinator)" "${node_hosts[0]/#-/this machine}" "${rec_host/#-/this machine}"
    fi
    node_hosts=("$rec_host")
    if [[ "$rec_host" != - ]]; then
        [[ "$remote_dir" == "$ROOT" ]] || agree --remote-dir "$remote_dir" "$rec_remote_dir"
        remote_dir=$rec_remote_dir node_dir=$rec_remote_dir
    fi
    # the settings of the first start that are not set now; a set one overrides its record
    # (checked below for those that move the state directory or the ports)
    declare -A rec_setting=()
    for e in "${rec_env[@]}"; do
        name=${e%%=*}
        rec_setting[$name]=${e#*=}
        [[ -v "$name" ]] || export "${e?}"
    done
    state_was=$(state_dir_in "${rec_args[@]}")
    state_was=${state_was:-${rec_setting[PARALLAX_STATE_DIR]:-}}
    replaced=0
    if (( ${#coordinator_args[@]} == 0 )); then
        coordinator_args=("${rec_args[@]}")
    elif [[ "${coordinator_args[*]}" != "${rec_args[*]}" ]]; then
        replaced=1
    fi
    state_now=$(state_dir_in "${coordinator_args[@]}")
    state_now=${state_now:-${PARALLAX_STATE_DIR:-}}
    [[ "$state_now" == "$state_was" ]] || die "--coordinator-only: the coordinator would keep its jobs in" \
        "${state_now:-the default state directory} instead of ${state_was:-the default state directory}, where the cluster of" \
        "$run_dir kept them ($options_file): leave out --coordinator-arg and PARALLAX_STATE_DIR, or give the same --state-dir"
    (( ! replaced )) || echo "start-cluster: the --coordinator-arg options given replace the recorded ones" \
        "(${rec_args[*]:-none})" >&2
    [[ -n "$akka_port" ]] || agree PARALLAX_COORDINATOR_PORT "${PARALLAX_COORDINATOR_PORT:-}" "${rec_setting[PARALLAX_COORDINATOR_PORT]:-}"
    [[ -n "$grpc_port" ]] || agree PARALLAX_GRPC_PORT "${PARALLAX_GRPC_PORT:-}" "${rec_setting[PARALLAX_GRPC_PORT]:-}"
    [[ -n "$bind_host" ]] || agree PARALLAX_HOST "${PARALLAX_HOST:-}" "${rec_setting[PARALLAX_HOST]:-}"
fi
[[ "$run_dir_arg" == /* ]] && node_run_dir=$run_dir_arg || node_run_dir="$node_dir/$run_dir_arg"
trainer="${PARALLAX_TRAINER:-deploy/trainer}"

# ---- refuse to start over a running cluster; forget the pid files of one that is gone ----
# (--coordinator-only: refuse over a running coordinator; keep the workers that still run)
shopt -s nullglob
rejoining=()
for pid_file in "$run_dir"/*.pid; do
    read -r host pid start < "$pid_file" || true
    name=$(basename "$pid_file" .pid)
    if [[ -n "${pid:-}" ]] && on_node "$host" node_is_ours "$pid" "${start:-}"; then
        if (( coordinator_only )) && [[ "$name" != coordinator ]]; then
            rejoining+=("$name")
            continue
        fi
        (( coordinator_only )) && die "the coordinator started from $run_dir is still running (pid $pid on ${host/#-/this machine}: its supervisor, which starts it again after a crash; a kill of that pid stops the coordinator alone)"
        die "a cluster started from $run_dir is still running (pid $pid on ${host/#-/this machine}); run deploy/stop-cluster.sh --run-dir ${run_dir@Q} first"
    fi
    if (( coordinator_only )) && [[ "$name" != coordinator ]]; then
        echo "start-cluster: $name (pid ${pid:-?}) is no longer running, and --coordinator-only does not start" \
            "workers (docs/DEPLOY.md, 'A worker that stays down')" >&2
    fi
    rm -f "$pid_file"
done
if (( coordinator_only )); then
    node_hosts=("${node_hosts[0]}")
    worker_count=${#rejoining[@]}
    (( worker_count > 0 )) || echo "start-cluster: no worker from $run_dir is running; the coordinator starts alone" \
        "(add workers with: deploy/trainer worker --join HOST:PORT)" >&2
fi
rm -f "$run_dir/grpc-address" "$run_dir/cluster-address"

# KEY VALUE -> one line of the start-options file
record() {
    [[ "$2" != *$'\n'* ]] || die "cannot record $1 '$2' in $options_file: it holds a line break"
    printf '%s %s\n' "$1" "$2"
}
{
    echo "# the options of start-cluster.sh's last start from this folder; --coordinator-only reuses them"
    record coordinator-host "${node_hosts[0]}"
    record remote-dir "$node_dir"
    record config "$config"
    record host "$bind_host"
    record port "$akka_port"
    record grpc-port "$grpc_port"
    for a in "${coordinator_args[@]}"; do record coordinator-arg "$a"; done
    while read -r name; do record env "$name=${!name}"; done < <(recorded_env_names)
} > "$options_file.new"
mv -f "$options_file.new" "$options_file"

# the settings that travel with a command started over ssh (a local one inherits them)
forward_env=()
if [[ -n "$hosts_file" || "${node_hosts[0]}" != - ]]; then
    while read -r name; do
        case "$name" in PARALLAX_SSH|PARALLAX_TRAINER) ;; *) forward_env+=("$name=${!name}") ;; esac
    done < <(compgen -e | grep -E '^(PARALLAX_|JAVA_OPTS$)' || true)
    (( ${#forward_env[@]} )) && forward_env=(env "${forward_env[@]}")
fi

# ---- on failure, stop whatever was started ----
started_ok=0
cleanup() {
    if (( ! started_ok )) && (( coordinator_only )) && [[ -f "$run_dir/coordinator.pid" ]]; then
        # only the coordinator was started: the workers that were waiting for it stay
        echo "start-cluster: failed; stopping the coordinator" >&2
        local alone
        alone=$(mktemp -d)
        mv "$run_dir/coordinator.pid" "$alone/"
        "$HERE/stop-cluster.sh" --run-dir "$alone" >&2 || true
        rm -rf "$alone"
    elif (( ! started_ok )) && (( ! coordinator_only )) && compgen -G "$run_dir/*.pid" > /dev/null; then
        echo "start-cluster: failed; stopping what was started" >&2
        "$HERE/stop-cluster.sh" --run-dir "$run_dir" >&2 || true
    fi
}
trap cleanup EXIT

# NAME HOST ARGS... -> starts 'trainer ARGS' as node NAME on HOST and records its pid file
start_node() {
    local name=$1 host=$2 out pid start
    shift 2
    # a node that crashes, or a coordinator whose cluster node was downed (exit 6), is started again
    out=$(on_node "$host" node_launch "$node_dir" "$node_run_dir/$name.log" "${forward_env[@]}" \
        deploy/supervise-node.sh --name "$name" -- "$trainer" "$@") \
        || die "could not start $name on ${host/#-/this machine}"
    read -r pid start <<< "$out"
    printf '%s %s %s\n' "$host" "$pid" "$start" > "$run_dir/$name.pid"
    [[ "$start" != - ]] || fail "$name" "$host" "exited at once"
}

# NAME HOST WHY -> prints the end of NAME's log and exits
fail() {
    echo "start-cluster: $1 on ${2/#-/this machine} $3; the end of its log ($node_run_dir/$1.log):" >&2
    on_node "$2" node_log_tail "$node_run_dir/$1.log" 30 >&2 || true
    exit 1
}

# NAME HOST ERE WHAT ACCEPT [OTHER...] -> waits until the last part of NAME's log that matches
# ERE is one that the function ACCEPT (none: any) accepts, and prints it; fails if NAME or one
# of the OTHER nodes (say, the workers it waits for) exits, or the time runs out (then ACCEPT's
# output for the last match, if any, ends the message)
await_log() {
    local name=$1 host=$2 ere=$3 what=$4 accept=$5 pid start match="" other ohost opid ostart
    shift 5
    read -r _ pid start < "$run_dir/$name.pid"
    while :; do
        if match=$(on_node "$host" node_log_match "$node_run_dir/$name.log" "$ere") \
            && { [[ -z "$accept" ]] || "$accept" "$match" > /dev/null; }; then
            printf '%s\n' "$match"
            return 0
        fi
        on_node "$host" node_is_ours "$pid" "$start" || fail "$name" "$host" "exited before $what"
        for other in "$@"; do
            read -r ohost opid ostart < "$run_dir/$other.pid"
            on_node "$ohost" node_is_ours "$opid" "$ostart" || fail "$other" "$ohost" "exited before joining"
        done
        if (( SECONDS >= deadline )); then
            local so_far=""
            [[ -z "$accept" ]] || so_far=$("$accept" "$match" || true)
            fail "$name" "$host" "timed out after ${timeout}s waiting for $what$so_far"
        fi
        sleep 1
    done
}

# MATCH -> accepts "N worker(s) live" when N >= worker_count: workers added by hand (or ones
# that outlived an earlier cluster) may join as well and lift the count past it, so that the
# coordinator never logs exactly worker_count; prints how many are live either way
enough_workers() {
    local live=0
    [[ "$1" =~ ([0-9]+)\ worker ]] && live=${BASH_REMATCH[1]}
    echo "; $live live"
    (( live >= worker_count ))
}

host_arg() { # HOST -> the --host argument a node on HOST gets
    if [[ "$1" != - ]]; then printf '%s\n' --host "$1"; elif [[ -n "$bind_host" ]]; then printf '%s\n' --host "$bind_host"; fi
}

# build the distribution once per host before starting nodes, so that they do not all wait on
# the launcher's build lock, and a build failure is reported here
if [[ -z "${PARALLAX_TRAINER:-}" ]]; then
    for h in $(printf '%s\n' "${node_hosts[@]}" | sort -u); do
        if [[ "$h" == - ]]; then
            (cd "$ROOT" && "$trainer" --version > /dev/null) || die "the launcher failed to build or start"
        else
            "${SSH_COMMAND[@]}" "$h" "cd $(printf '%q' "$remote_dir") && $trainer --version > /dev/null" \
                || die "the launcher failed on $h"
        fi
    done
fi

deadline=$((SECONDS + timeout))
args=(coordinator)
[[ -n "$config" ]] && args+=(--config "$config")
mapfile -t hargs < <(host_arg "${node_hosts[0]}")
args+=("${hargs[@]}")
[[ -n "$akka_port" ]] && args+=(--port "$akka_port")
[[ -n "$grpc_port" ]] && args+=(--grpc-port "$grpc_port")
args+=("${coordinator_args[@]}")
start_node coordinator "${node_hosts[0]}" "${args[@]}"

# "coordinator up: cluster akka://parallax@HOST:PORT, tensor plane HOST:PORT" (or "gRPC HOST:PORT")
up=$(await_log coordinator "${node_hosts[0]}" 'coordinator up: .*' "'coordinator up'" "")
cluster_address=$(grep -Eo 'akka://[^@ ,]+@[^ ,]+' <<< "$up" | head -n 1) \
    || fail coordinator "${node_hosts[0]}" "printed no cluster address"
grpc_address=$(grep -Eio '(grpc|tensor plane) [^ ,]+:[0-9]+' <<< "$up" | tail -n 1 | awk '{print $NF}') \
    || fail coordinator "${node_hosts[0]}" "printed no gRPC address"
# "…, state DIR, data roots […]": where job records, models and checkpoints go (not the run folder)
state_dir=$(sed -nE 's/.*, state (.*), data roots .*/\1/p' <<< "$up")
join=${cluster_address#*@}
printf '%s\n' "$cluster_address" > "$run_dir/cluster-address"
printf '%s\n' "$grpc_address" > "$run_dir/grpc-address"

declare -A on_host=()   # workers started so far per host, for --worker-port-base
for ((i = 1; i <= worker_count && ! coordinator_only; i++)); do
    args=(worker --join "$join")
    [[ -n "$config" ]] && args+=(--config "$config")
    mapfile -t hargs < <(host_arg "${node_hosts[$i]}")
    args+=("${hargs[@]}" "${worker_args[@]}")
    if [[ -n "$worker_port_base" ]]; then
        args+=(--port "$((worker_port_base + ${on_host[${node_hosts[$i]}]:-0}))")
        on_host[${node_hosts[$i]}]=$((${on_host[${node_hosts[$i]}]:-0} + 1))
    fi
    start_node "worker-$i" "${node_hosts[$i]}" "${args[@]}"
done

# the coordinator logs "N worker(s) live" as the count changes; a worker that dies meanwhile
# (a bad option, a port taken) fails the start at once, with its own log
workers=()
if (( coordinator_only )); then
    workers=("${rejoining[@]}")
else
    for ((i = 1; i <= worker_count; i++)); do workers+=("worker-$i"); done
fi
if (( worker_count > 0 )); then
    live=$(await_log coordinator "${node_hosts[0]}" "(^|[^0-9])[0-9]+ worker\\(s\\) live" \
        "$worker_count worker(s) to join" enough_workers "${workers[@]}")
    [[ "$live" =~ ([0-9]+)\ worker ]] && live=${BASH_REMATCH[1]}
fi
started_ok=1
more=""
(( ${live:-0} <= worker_count )) || more=" (and $((live - worker_count)) more live: workers started by hand)"
echo "cluster up: coordinator $cluster_address, $worker_count worker(s)$more; run folder $run_dir"
echo "coordinator gRPC address: $grpc_address"
if [[ -n "$state_dir" ]]; then
    state_host=""
    [[ "${node_hosts[0]}" == - ]] || state_host=" on ${node_hosts[0]}"
    echo "job records, models and checkpoints: $state_dir$state_host (the coordinator's --state-dir)"
fi
# the client commands default to 127.0.0.1:50051: say how to reach any other address
if [[ "$grpc_address" != "127.0.0.1:50051" ]]; then
    echo "for trainer submit/status/watch/cancel/resume/model/delete: export PARALLAX_SERVER=$grpc_address (or --server $grpc_address)"
fi
