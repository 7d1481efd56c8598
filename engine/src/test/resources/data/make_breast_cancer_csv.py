#!/usr/bin/python3
"""Writes breast_cancer.csv, the small real dataset of the engine's end-to-end training test.

Source: scikit-learn's copy of the UCI Breast Cancer Wisconsin (Diagnostic) data, read with
sklearn.datasets.load_breast_cancer (Debian's python3-sklearn 1.2.1). The values are written
exactly as scikit-learn ships them; only two columns are added:

  target  0 = malignant, 1 = benign (scikit-learn's coding)
  split   "test" for every fifth sample (original row index % 5 == 0), else "train":
          a fixed split that needs no random generator, 455 train / 114 test rows

Run: /usr/bin/python3 make_breast_cancer_csv.py   (from this folder)
"""
import csv

from sklearn.datasets import load_breast_cancer

data = load_breast_cancer()
names = [n.replace(" ", "_") for n in data.feature_names]
with open("breast_cancer.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(names + ["target", "split"])
    for i, (x, y) in enumerate(zip(data.data, data.target)):
        w.writerow([repr(float(v)) for v in x] + [int(y), "test" if i % 5 == 0 else "train"])
