#!/usr/bin/env bash
# Optimizer-step benchmark of issue 3: one step over 10 M parameters for every optimizer, on the
# float[] path and the Tensor path, next to STREAM-like plain Java loops over arrays of the same
# length, all on 1 thread, in one run. Prints markdown tables (see bench/README.md). Takes about
# 2 minutes with the defaults.
#
# Usage: bench/run-optim-bench.sh [OptimStepBench options, e.g. --only adam --reps 11 --ftrl-pow]
# Environment: PARAMS (default 10000000), REPS (7), WARMUP_MS (1000), REP_MS (250),
#              SKIP_BUILD=1 to reuse the last build, JAVA_OPTS (default -Xms3g -Xmx3g).
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
fi

# a fixed heap, so the run does not pause to grow it; 3 GiB holds the STREAM arrays, the
# parameters and two optimizers' state (at most 3 buffers each) with room to spare
# shellcheck disable=SC2086
java ${JAVA_OPTS:--Xms3g -Xmx3g} -cp "bench/target/classes:bench/target/lib/*" io.parallax.bench.OptimStepBench \
    --params "${PARAMS:-10000000}" --reps "${REPS:-7}" --warmup-ms "${WARMUP_MS:-1000}" \
    --rep-ms "${REP_MS:-250}" "$@"
