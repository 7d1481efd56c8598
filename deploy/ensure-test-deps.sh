#!/usr/bin/env bash
# Installs what the test suite reads or runs besides Maven's own downloads, from Debian's
# packages, when it is missing: the Fashion-MNIST data set, PyTorch (reference checks and
# safetensors interop), gRPC for Python (a client that is not ours), protobuf for Python
# (reads our TensorBoard files back) and shellcheck (lints the deploy scripts). Run by `mvn verify` before the tests; safe to run by hand;
# does nothing when everything is there. Tests that need a missing Python package skip.
set -euo pipefail

missing=()
[[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]] || missing+=(dataset-fashion-mnist)
command -v shellcheck >/dev/null || missing+=(shellcheck)
py() { /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }
if [[ -x /usr/bin/python3 ]] || command -v apt-get >/dev/null; then
    py torch || missing+=(python3-torch)
    py grpc || missing+=(python3-grpcio)
    py grpc_tools.protoc || missing+=(python3-grpc-tools)
    py google.protobuf || missing+=(python3-protobuf)
fi
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

echo "ensure-test-deps: installing ${missing[*]}" >&2
if ! command -v apt-get >/dev/null; then
    echo "ensure-test-deps: no apt-get here; install ${missing[*]} (or their equivalents) by hand" >&2
    exit 1
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "ensure-test-deps: run as root (or with sudo): apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
test -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
echo "ensure-test-deps: installed ${missing[*]}" >&2
