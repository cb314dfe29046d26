#!/usr/bin/env bash
# Fuzzes mote's file readers with libFuzzer (clang 14, AddressSanitizer + UBSan):
#   fuzz_onnx_model    ONNX models           (include/mote/io/onnx_model.hpp)
#   fuzz_tensor_proto  ONNX TensorProto .pb  (include/mote/io/onnx_tensor.hpp)
#   fuzz_npz           .npz, .npy, DEFLATE   (include/mote/io/npz.hpp and below)
# Each target starts from the committed corpus tests/data/fuzz/<target>/ (read only: new inputs go
# to a temporary directory) and runs for MOTE_FUZZ_SECONDS seconds (default 60). A crash, leak,
# hang (MOTE_FUZZ_TIMEOUT seconds on one input, default 10) or allocation above 2 GiB stops the
# target and leaves the input under build/fuzz/artifacts/<target>/; the script then exits 1.
# Add the input to tests/data/fuzz/<target>/ once fixed: the unit tests replay that directory.
#
#   tools/fuzz.sh                        all targets, 60 s each
#   MOTE_FUZZ_SECONDS=600 tools/fuzz.sh onnx_model
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=tools/ensure_packages.sh
source tools/ensure_packages.sh

# Debian 12: libclang-rt-14-dev holds libclang_rt.fuzzer-x86_64.a and the sanitizer runtimes.
ensure_packages clang-14 libclang-rt-14-dev
cxx=${MOTE_FUZZ_CXX:-clang++-14}
seconds=${MOTE_FUZZ_SECONDS:-60}
timeout=${MOTE_FUZZ_TIMEOUT:-10}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(onnx_model tensor_proto npz)

# Largest input per target: far above the seeds (< 10 KB), small enough for many executions.
max_len() {
  case $1 in
    onnx_model) echo 32768 ;;
    tensor_proto) echo 8192 ;;
    npz) echo 32768 ;;
    *) echo "fuzz.sh: unknown target '$1' (onnx_model, tensor_proto, npz)" >&2; exit 2 ;;
  esac
}

out=build/fuzz
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
for target in "${targets[@]}"; do
  limit=$(max_len "$target")
  binary=$out/fuzz_$target
  echo "fuzz.sh: building $binary"
  "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Iinclude "tests/fuzz/fuzz_$target.cpp" -o "$binary"

  artifacts=$out/artifacts/$target
  mkdir -p "$artifacts" "$work/$target"
  before=$(find "$artifacts" -type f | wc -l)
  log=$out/fuzz_$target.log
  start=$SECONDS
  status=0
  # The first directory receives the inputs libFuzzer finds; the committed corpus only seeds it.
  "$binary" "$work/$target" "tests/data/fuzz/$target" \
    -max_total_time="$seconds" -max_len="$limit" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -timeout="$timeout" -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 ||
    status=$?
  elapsed=$((SECONDS - start))
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  crashes=$(($(find "$artifacts" -type f | wc -l) - before))
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi  # died without an artifact
  echo "fuzz_$target: ${execs:-0} execs in $elapsed s, $crashes crashes" \
    "(corpus $(find "$work/$target" -type f | wc -l) new inputs; log $log)"
  if [ "$crashes" -ne 0 ]; then
    failed=$((failed + 1))
    grep -E 'ERROR: |SUMMARY: |fuzz_[a-z_]+: ' "$log" | head -n 5 >&2 || true
    find "$artifacts" -type f -newer "$binary" | sed 's/^/  reproducer: /' >&2
  else
    passed=$((passed + 1))
  fi
done
echo "fuzz.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
