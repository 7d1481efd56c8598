"""Writes pil_resize.json: Pillow's Image.resize(size, BILINEAR) on random 8-bit images, the
reference PilBilinearTest checks the Java resampler against bit for bit.

Run with Debian's python3 (Pillow 9.4): /usr/bin/python3 make_pil_resize.py
"""
import json
import os

import numpy as np
import PIL
from PIL import Image

rng = np.random.default_rng(20261122)
# (mode, in width, in height, out width, out height): shrink, enlarge, mixed, one side the same,
# large factors, and sizes an ImageFolder job meets
CASES = [
    ("L", 7, 5, 3, 4), ("L", 4, 4, 9, 6), ("L", 33, 17, 8, 8), ("L", 6, 6, 4, 3), ("L", 5, 9, 5, 4),
    ("L", 9, 5, 4, 5), ("L", 64, 48, 28, 28), ("L", 3, 2, 32, 32), ("RGB", 16, 16, 8, 8),
    ("RGB", 12, 10, 8, 8), ("RGB", 4, 4, 8, 8), ("RGB", 2, 2, 4, 3), ("RGB", 100, 75, 32, 32),
]
out = {"pillow": PIL.__version__, "cases": []}
for mode, w, h, ow, oh in CASES:
    channels = 1 if mode == "L" else 3
    pixels = rng.integers(0, 256, size=(h, w, channels), dtype=np.uint8)
    img = Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels, mode)
    resized = np.asarray(img.resize((ow, oh), Image.BILINEAR)).reshape(oh, ow, channels)
    out["cases"].append({
        "channels": channels, "width": w, "height": h, "out_width": ow, "out_height": oh,
        # channels first, as the reader's planes
        "input": pixels.transpose(2, 0, 1).reshape(-1).tolist(),
        "output": resized.transpose(2, 0, 1).reshape(-1).tolist(),
    })
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pil_resize.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))
