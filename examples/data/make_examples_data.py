#!/usr/bin/python3
"""Converts scikit-learn's bundled copy of the UCI handwritten-digits data into the CSV layout
our reader expects (a header row, numeric features, a label column).

Run from this folder with Debian's python3-sklearn installed:
  /usr/bin/python3 make_examples_data.py
"""
import csv
import gzip
import os

SRC = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

with gzip.open(SRC, "rt") as f:
    rows = [line.strip().split(",") for line in f if line.strip()]
assert len(rows) == 1797 and all(len(r) == 65 for r in rows)
with gzip.open("digits.csv.gz", "wt", newline="") as out:
    w = csv.writer(out, lineterminator="\n")
    w.writerow([f"pixel{i}" for i in range(64)] + ["digit"])
    for r in rows:
        w.writerow([int(float(v)) for v in r])
print("wrote", os.path.abspath("digits.csv.gz"), len(rows), "rows")
