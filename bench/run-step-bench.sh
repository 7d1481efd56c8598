#!/usr/bin/env bash
# Training-step benchmark of issue 2: our step, the raw cblas_sgemm calls of that step, and
# PyTorch's step, all on 1 thread, in one run. Prints a markdown table (see bench/README.md).
#
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the measuring commands alone (this
# machine's environment forces AVX2 kernels with them; OpenBLAS picks its AVX-512 kernels
# without), for us and PyTorch alike, so both run on the same BLAS setting.
#
# Usage: bench/run-step-bench.sh [StepBench options, e.g. --phases --reps 15]
# Environment: BATCHES (default 32,128,512), REPS (11), WARMUP_MS (2000), REP_MS (200),
#              SKIP_BUILD=1 to reuse the last build, SKIP_TORCH=1 to leave PyTorch out.
set -euo pipefail
# --help: the comment above
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo pipefail/p' "$0" | sed -e '/^set -euo pipefail/d' -e 's/^# \{0,1\}//'
  exit 0
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

batches="${BATCHES:-32,128,512}"
reps="${REPS:-11}"
warmup="${WARMUP_MS:-2000}"
rep_ms="${REP_MS:-200}"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -B -q -pl bench -am package -DskipTests
fi

one_thread=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
            OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PARALLAX_BLAS_THREADS=1)

torch_args=()
if [[ "${SKIP_TORCH:-0}" != 1 ]]; then
  torch_json="$root/bench/target/torch-step.json"
  "${one_thread[@]}" /usr/bin/python3 bench/torch_step.py --batches "$batches" --reps "$reps" \
      --warmup-ms "$warmup" --rep-ms "$rep_ms" --out "$torch_json"
  torch_args=(--torch "$torch_json")
fi

"${one_thread[@]}" java -cp "bench/target/classes:bench/target/lib/*" io.parallax.bench.StepBench \
    --batches "$batches" --reps "$reps" --warmup-ms "$warmup" --rep-ms "$rep_ms" "${torch_args[@]}" "$@"
