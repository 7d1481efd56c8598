#!/usr/bin/env bash
# Issue 4's benchmark: Fashion-MNIST (784-256-128-10, Adam) training-loop samples/s for
# `trainer local` with 1 and 2 workers, a coordinator + 2 worker processes on 127.0.0.1, and
# PyTorch (1 thread; 2 threads with OMP_WAIT_POLICY=passive), at global batch 128 and 512, with
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for every command. Prints a markdown table
# (see bench/README.md). Takes several minutes per repetition.
#
# Usage: bench/run-cluster-bench.sh [--batches 128,512] [--reps 3] [--epochs 3] [--port 26551]
#                                   [--only local1,local2,cluster,torch1,torch2]
# Environment: SKIP_BUILD=1 to reuse the last build.
set -euo pipefail
# --help: the comment above
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo pipefail/p' "$0" | sed -e '/^set -euo pipefail/d' -e 's/^# \{0,1\}//'
  exit 0
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -B -q -pl bench -am package -DskipTests
  deploy/trainer --help > /dev/null   # builds the distribution the runs start from, if stale
fi

java -cp "bench/target/classes:bench/target/lib/*" io.parallax.bench.cluster.ClusterBench --root "$root" "$@"
