#!/usr/bin/env bash
# Training-loop benchmark: our Trainer (Adam lr 1e-3, 784-256-128-10, Fashion-MNIST, 1 BLAS
# thread) next to ../shared/baselines/torch_fmnist.py at the same batch sizes, in one run. Prints
# a markdown table of training-loop samples/s (no data loading, no evaluation); see
# bench/README.md.
#
# PyTorch runs in the two settings ../shared/BASELINE.md reports as its best: 1 thread, and 2
# threads with OMP_WAIT_POLICY=passive. Every measuring command runs with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset (OpenBLAS then picks its AVX-512 kernels): PyTorch's through env -u and
# --openblas-coretype auto, ours through env -u.
#
# The machine is shared, so the runs go in ROUNDS: each round runs every setting once (one
# process each, ours first), so bursts of load from other processes hit all settings alike.
#
# Usage: bench/run-train-bench.sh [--phases STEPS]   (--phases: only the per-phase split of our loop)
# Environment: BATCHES (default 128,512), EPOCHS (3; epoch 1 is what --epochs 1 measures),
#              ROUNDS (3), DATA (/usr/share/datasets/fashion-mnist), SKIP_BUILD=1, SKIP_TORCH=1,
#              TORCH_2T=0 to leave out the 2-thread PyTorch runs,
#              COMPARE_CP=CLASSPATH (and COMPARE_LABEL) to add our loop from another build as one
#              more setting in every round (before/after comparisons of engine changes).
set -euo pipefail
# --help: the comment above
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo pipefail/p' "$0" | sed -e '/^set -euo pipefail/d' -e 's/^# \{0,1\}//'
  exit 0
fi
if [[ $# -gt 0 && "$1" != --phases ]]; then
  echo "run-train-bench.sh: unknown argument '$1' (only --phases STEPS; the rest is set by environment variables: see --help)" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

batches="${BATCHES:-128,512}"
epochs="${EPOCHS:-3}"
rounds="${ROUNDS:-3}"
data="${DATA:-/usr/share/datasets/fashion-mnist}"
torch_script=/work/shared/baselines/torch_fmnist.py
[[ -f "$torch_script" ]] || torch_script="$root/../shared/baselines/torch_fmnist.py"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -B -q -pl bench -am package -DskipTests
fi

blas_auto=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
ours=("${blas_auto[@]}" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PARALLAX_BLAS_THREADS=1
      java -cp "bench/target/classes:bench/target/lib/*" io.parallax.bench.TrainBench --data "$data")

if [[ "${1:-}" == --phases ]]; then
  "${ours[@]}" --batches "$batches" "$@"
  exit
fi

out="$root/bench/target/train-bench"
rm -rf "$out"
mkdir -p "$out/ours" "$out/torch-1t" "$out/torch-2t"
if [[ -n "${COMPARE_CP:-}" ]]; then
  mkdir -p "$out/compare"
  echo "${COMPARE_LABEL:-ours, other build}" > "$out/compare/label"
fi
echo "ours (Trainer, 1 BLAS thread)" > "$out/ours/label"
echo "PyTorch, 1 thread" > "$out/torch-1t/label"
echo "PyTorch, 2 threads, OMP_WAIT_POLICY=passive" > "$out/torch-2t/label"
for r in $(seq 1 "$rounds"); do
  for b in ${batches//,/ }; do
    echo "round $r, batch $b: ours ..." >&2
    "${ours[@]}" --batch "$b" --epochs "$epochs" > "$out/ours/r$r-b$b.log"
    if [[ -n "${COMPARE_CP:-}" ]]; then
      echo "round $r, batch $b: $(cat "$out/compare/label") ..." >&2
      "${blas_auto[@]}" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PARALLAX_BLAS_THREADS=1 \
          java -cp "$COMPARE_CP" io.parallax.bench.TrainBench --data "$data" --batch "$b" --epochs "$epochs" \
          > "$out/compare/r$r-b$b.log"
    fi
    [[ "${SKIP_TORCH:-0}" == 1 ]] && continue
    echo "round $r, batch $b: PyTorch 1 thread ..." >&2
    "${blas_auto[@]}" /usr/bin/python3 "$torch_script" --opt adam --batch "$b" --epochs "$epochs" \
        --threads 1 --openblas-coretype auto --data "$data" > "$out/torch-1t/r$r-b$b.log"
    [[ "${TORCH_2T:-1}" == 0 ]] && continue
    echo "round $r, batch $b: PyTorch 2 threads, passive wait ..." >&2
    "${blas_auto[@]}" /usr/bin/python3 "$torch_script" --opt adam --batch "$b" --epochs "$epochs" \
        --threads 2 --omp-wait passive --openblas-coretype auto --data "$data" > "$out/torch-2t/r$r-b$b.log"
  done
done

echo "# training loop, Fashion-MNIST, MLP 784-256-128-10, Adam(lr=1e-3), $epochs epochs x $rounds rounds, $(date -u '+%Y-%m-%d %H:%M UTC')"
for s in ours compare torch-1t torch-2t; do
  [[ -d "$out/$s" ]] || continue
  f=$(ls "$out/$s"/*.log 2>/dev/null | head -1) || true
  [[ -n "$f" ]] && echo "# $(cat "$out/$s/label"): $(head -1 "$f")"
done
echo
java -cp "bench/target/classes:bench/target/lib/*" io.parallax.bench.TrainBench --summarize "$out"
