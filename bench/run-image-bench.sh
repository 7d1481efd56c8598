#!/usr/bin/env bash
# Reading an image folder, as every node does when a job on one starts: Parallax's
# ImageFolderReader next to Pillow doing the same per file (open, convert('RGB'), resize BILINEAR),
# in the same run. Makes the folder (1,000 JPEGs of 320×240 in two classes) when it is empty.
#
# Usage: bench/run-image-bench.sh [DIR]   (default: bench/target/images)
# Environment: IMAGES (1000), SIZE (8: the job's width and height), REPS (3), SKIP_BUILD=1 to reuse
#              the last build; Pillow runs under /usr/bin/python3 when it has PIL.
set -euo pipefail
# --help: the comment above
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo pipefail/p' "$0" | sed -e '/^set -euo pipefail/d' -e 's/^# \{0,1\}//'
  exit 0
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dir="${1:-bench/target/images}"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -B -q -pl bench -am package -DskipTests
fi
java -cp "bench/target/classes:bench/target/lib/*" io.parallax.bench.ImageFolderBench --dir "$dir" \
    --images "${IMAGES:-1000}" --size "${SIZE:-8}" --reps "${REPS:-3}"
if /usr/bin/python3 -c 'import PIL' 2>/dev/null; then
  /usr/bin/python3 - "$dir" "${SIZE:-8}" "${REPS:-3}" <<'PY'
import os, sys, time
from PIL import Image
root, size, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
files = [os.path.join(d, f) for d, _, names in sorted(os.walk(root)) for f in sorted(names)]
for _ in range(reps):
    t = time.time()
    for f in files:
        Image.open(f).convert('RGB').resize((size, size), Image.BILINEAR)
    print(f"pillow: {len(files)} images in {time.time() - t:.2f} s")
PY
else
  echo "pillow: not installed for /usr/bin/python3 (apt-get install python3-pil)"
fi
