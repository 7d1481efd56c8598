#!/usr/bin/env bash
# Installs the public datasets the integration tests and examples read, from Debian's packages,
# when they are missing. Run by `mvn verify` (engine module, pre-integration-test) and safe to
# run by hand; it does nothing when everything is there.
set -euo pipefail

FASHION=/usr/share/datasets/fashion-mnist
if [[ -f "$FASHION/train-images-idx3-ubyte.gz" && -f "$FASHION/t10k-labels-idx1-ubyte.gz" ]]; then
    exit 0
fi

echo "ensure-datasets: Fashion-MNIST is missing; installing Debian's dataset-fashion-mnist" >&2
if ! command -v apt-get >/dev/null; then
    echo "ensure-datasets: no apt-get here. Put the four Fashion-MNIST IDX files (gzipped) in $FASHION" >&2
    exit 1
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then
        SUDO="sudo -n"
    else
        echo "ensure-datasets: run as root (or with sudo): apt-get install dataset-fashion-mnist" >&2
        exit 1
    fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
test -f "$FASHION/train-images-idx3-ubyte.gz"
echo "ensure-datasets: installed $FASHION" >&2
