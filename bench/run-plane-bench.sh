#!/usr/bin/env bash
# Tensor-plane benchmark: fetchState and pushGradient of the gRPC plane over 127.0.0.1, the
# coordinator's server in a second JVM. Prints a markdown table (see bench/README.md).
#
# Usage: bench/run-plane-bench.sh [PlaneBench options: --sizes 235146,10000000 --chunk-kib 256,1024
#                                  --reps 9 --rep-ms 300 --warmup-ms 1500 --same-jvm]
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
fi

java -cp "bench/target/classes:bench/target/lib/*" io.parallax.bench.plane.PlaneBench "$@"
