#!/usr/bin/env bash
# THE benchmark command: installs what mote_bench needs (Debian 12, as root), builds it (Release,
# -O3 -march=native) in build/bench and runs it single-threaded, pinned to one core, with mote and
# every peer found (Eigen, XNNPACK, oneDNN) in the same run. Method and results:
# docs/benchmarks.md.
#   tools/bench.sh                                   every case, 5 repetitions, medians etc.
#   tools/bench.sh --benchmark_filter='^W1/'          extra arguments go to mote_bench
#   tools/bench.sh --benchmark_filter='/(mote|xnnpack)$'
# Environment: MOTE_BENCH_BUILD_DIR (default build/bench), MOTE_BENCH_CPU (default 1, the core
# to pin to), MOTE_BENCH_JOBS (default 2, build parallelism).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(cmake g++ make libbenchmark-dev libeigen3-dev libxnnpack-dev libpthreadpool-dev
          libdnnl-dev)

source tools/ensure_packages.sh
ensure_packages "${packages[@]}"

build_dir=${MOTE_BENCH_BUILD_DIR:-build/bench}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
  -DMOTE_BUILD_BENCH=ON -DMOTE_BUILD_TESTS=OFF -DMOTE_BUILD_EXAMPLES=OFF
cmake --build "$build_dir" --target mote_bench -j"${MOTE_BENCH_JOBS:-2}"

# bench/CMakeLists.txt builds the target in the bench/ subfolder of the build tree.
bench="$build_dir/bench/mote_bench"
[ -x "$bench" ] || { echo "tools/bench.sh: $bench was not built" >&2; exit 1; }

# One thread everywhere: oneDNN is built with OpenMP (mote_bench also sets it in code), XNNPACK
# runs without a thread pool, Eigen is built without OpenMP.
export OMP_NUM_THREADS=1
cpu=${MOTE_BENCH_CPU:-1}
taskset -c "$cpu" true 2>/dev/null || cpu=0  # a single-core machine has no CPU 1
exec taskset -c "$cpu" "$bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_min_time=0.2 "$@"
