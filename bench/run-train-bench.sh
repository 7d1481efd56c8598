#!/usr/bin/env bash
# Training-loop benchmark: our Trainer (Adam lr 1e-3, 784-256-128-10, Fashion-MNIST) next to
# ../shared/baselines/torch_fmnist.py at the same batch sizes, in one run. Prints a markdown
# table of training-loop samples/s (no data loading, no evaluation), see bench/README.md.
#
# PyTorch runs in the two settings ../shared/BASELINE.md reports as its best: 1 thread, and 2
# threads with OMP_WAIT_POLICY=passive. Every measuring command runs with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset (OpenBLAS then picks its AVX-512 kernels), PyTorch's through
# --openblas-coretype auto and env -u, ours through env -u.
#
# Usage: bench/run-train-bench.sh [TrainBench options, e.g. --phases 400]
# Environment: BATCHES (default 128,512), EPOCHS (3; epoch 1 alone is what --epochs 1 gives),
#              DATA (/usr/share/datasets/fashion-mnist), SKIP_BUILD=1, SKIP_TORCH=1,
#              TORCH_2T=0 to leave out the 2-thread PyTorch runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

batches="${BATCHES:-128,512}"
epochs="${EPOCHS:-3}"
data="${DATA:-/usr/share/datasets/fashion-mnist}"
torch_script=/work/shared/baselines/torch_fmnist.py
[[ -f "$torch_script" ]] || torch_script="$root/../shared/baselines/torch_fmnist.py"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -B -q -pl bench -am package -DskipTests
fi

blas_auto=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
out="$root/bench/target/torch-train"
torch_args=()
if [[ "${SKIP_TORCH:-0}" != 1 ]]; then
  rm -rf "$out"
  mkdir -p "$out/1t" "$out/2t"
  for b in ${batches//,/ }; do
    echo "PyTorch, batch $b, 1 thread ..." >&2
    "${blas_auto[@]}" /usr/bin/python3 "$torch_script" --opt adam --batch "$b" --epochs "$epochs" \
        --threads 1 --openblas-coretype auto --data "$data" > "$out/1t/b$b.log"
    if [[ "${TORCH_2T:-1}" != 0 ]]; then
      echo "PyTorch, batch $b, 2 threads, passive wait ..." >&2
      "${blas_auto[@]}" /usr/bin/python3 "$torch_script" --opt adam --batch "$b" --epochs "$epochs" \
          --threads 2 --omp-wait passive --openblas-coretype auto --data "$data" > "$out/2t/b$b.log"
    fi
  done
  torch_args=(--torch "1 thread=$out/1t")
  [[ "${TORCH_2T:-1}" != 0 ]] && torch_args+=(--torch "2 threads, OMP_WAIT_POLICY=passive=$out/2t")
fi

"${blas_auto[@]}" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PARALLAX_BLAS_THREADS=1 \
    java -cp "bench/target/classes:bench/target/lib/*" io.parallax.bench.TrainBench \
    --data "$data" --batches "$batches" --epochs "$epochs" "${torch_args[@]}" "$@"
