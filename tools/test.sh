#!/usr/bin/env bash
# THE test command: installs what mote needs (Debian 12, as root), configures, builds and runs every
# test (unit, standalone, compile-fail, single-header and packaging checks) with CTest.
# Idempotent: apt is skipped when every package is installed already, the build dir is reused.
#   tools/test.sh            build dir: build/test (override with MOTE_BUILD_DIR)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(cmake g++ make python3 catch2 libxsimd-dev libhwy-dev libbenchmark-dev pkg-config git
          ca-certificates python3-numpy dataset-fashion-mnist libonnx-testdata)

source tools/ensure_packages.sh
ensure_packages "${packages[@]}"

build_dir=${MOTE_BUILD_DIR:-build/test}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
  -DMOTE_BUILD_TESTS=ON -DMOTE_BUILD_EXAMPLES=ON
cmake --build "$build_dir" -j"$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure -j2
