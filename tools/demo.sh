#!/usr/bin/env bash
# THE demo command: installs what is needed (Debian 12, as root), builds the Fashion-MNIST example
# in Release and classifies the Fashion-MNIST test set with the shipped weights.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(cmake g++ make libxsimd-dev libhwy-dev dataset-fashion-mnist)

source tools/ensure_packages.sh
ensure_packages "${packages[@]}"

if [ ! -f examples/fashion_mnist/CMakeLists.txt ]; then
  echo "tools/demo.sh: examples/fashion_mnist/CMakeLists.txt does not exist yet" >&2
  exit 1
fi

build_dir=build/demo
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
  -DMOTE_BUILD_TESTS=OFF -DMOTE_BUILD_BENCH=OFF -DMOTE_BUILD_EXAMPLES=ON
cmake --build "$build_dir" -j"$(nproc)" --target fashion_mnist
"$build_dir/examples/fashion_mnist/fashion_mnist" examples/fashion_mnist/weights \
  /usr/share/datasets/fashion-mnist
