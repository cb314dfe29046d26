#!/usr/bin/env bash
# THE test command: installs what mote needs (Debian 12, as root), configures, builds and runs every
# test (unit, standalone, compile-fail, single-header and packaging checks) with CTest.
# Idempotent: apt is skipped when every package is installed already, the build dir is reused.
#   tools/test.sh            build dir: build/test (override with MOTE_BUILD_DIR)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(cmake g++ make python3 catch2 libxsimd-dev libhwy-dev libbenchmark-dev pkg-config git
          ca-certificates python3-numpy dataset-fashion-mnist)

ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "tools/test.sh: installing ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "tools/test.sh: run as root to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}
ensure_packages "${packages[@]}"

build_dir=${MOTE_BUILD_DIR:-build/test}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
  -DMOTE_BUILD_TESTS=ON -DMOTE_BUILD_EXAMPLES=ON
cmake --build "$build_dir" -j"$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure -j2
