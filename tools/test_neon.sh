#!/usr/bin/env bash
# mote's NEON kernels on an x86-64 machine: cross-compiles the unit and standalone tests for
# AArch64 (cmake/toolchain-aarch64.cmake, Debian's g++-aarch64-linux-gnu) and runs them under
# qemu-user. Installs what it needs (Debian 12, as root); idempotent, the build dir is reused.
#   tools/test_neon.sh       build dir: build/aarch64 (override with MOTE_NEON_BUILD_DIR)
# What runs (qemu-aarch64 -cpu max: NEON + dot product):
#   1. ctest -L 'unit|standalone' in the cross build: every test case, default dispatch
#      (neon_dotprod, which runs the NEON kernels: mote has no dot-product kernel of its own yet;
#      the kernel tests compare neon_dotprod and neon with the scalar reference);
#   2. tools/test_isa_matrix.sh on the cross build: each binary with MOTE_FORCE_ISA=scalar and
#      neon (neon_dotprod is step 1's default), and the rejection of ISAs this CPU lacks (the x86
#      ones);
#   3. on a CPU model without dot product (qemu -cpu cortex-a57): the [dispatch] test passes with
#      the default choice (neon) and MOTE_FORCE_ISA=neon_dotprod is refused.
# The file readers' unit tests (tests/unit/io) are not built here: they run no kernel (see
# tests/CMakeLists.txt). Compile-fail, single-header and packaging tests are not run here: they test the compiler and
# CMake, not the target, and run in the native build (tools/test.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(cmake make g++-aarch64-linux-gnu qemu-user catch2)

source tools/ensure_packages.sh
ensure_packages "${packages[@]}"

build_dir=${MOTE_NEON_BUILD_DIR:-build/aarch64}
sysroot=/usr/aarch64-linux-gnu
qemu=(qemu-aarch64 -L "$sysroot")

start=$SECONDS
cmake -S . -B "$build_dir" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-aarch64.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DMOTE_BUILD_TESTS=ON -DMOTE_BUILD_EXAMPLES=OFF \
  -DMOTE_BUILD_BENCH=OFF -DMOTE_INSTALL=OFF -DMOTE_USE_XSIMD=OFF -DMOTE_USE_HWY=OFF \
  -DCatch2_DIR=/usr/lib/cmake/Catch2 \
  -DMOTE_AARCH64_EMULATOR="$(command -v qemu-aarch64);-L;$sysroot;-cpu;max"
# Builds mote_tests and the standalone binaries (examples, benchmarks and packaging are off);
# catch_discover_tests lists each binary's test cases through qemu after linking it.
cmake --build "$build_dir" -j"$(nproc)"
echo "tools/test_neon.sh: configured and built in $((SECONDS - start)) s"

# Really an AArch64 binary? (file(1) may be missing on a fresh machine: read the ELF header's
# e_machine, 0xb7 = EM_AARCH64.)
machine=$(od -An -tx1 -j18 -N2 "$build_dir/tests/mote_tests" | tr -d ' \n')
if [ "$machine" != "b700" ]; then
  echo "tools/test_neon.sh: $build_dir/tests/mote_tests is not an AArch64 binary (e_machine $machine)" >&2
  exit 1
fi

status=0

echo "==== ctest under ${qemu[*]} -cpu max (default dispatch)"
start=$SECONDS
ctest_log="$build_dir/ctest.log"
ctest_status=0
ctest --test-dir "$build_dir" -L '^(unit|standalone)$' --output-on-failure -j"$(nproc)" 2>&1 |
  tee "$ctest_log" || ctest_status=$?
[ "$ctest_status" -eq 0 ] || status=1
echo "tools/test_neon.sh: ctest took $((SECONDS - start)) s"

echo "==== ISA matrix under ${qemu[*]} -cpu max"
matrix_log="$build_dir/matrix.log"
# neon_dotprod is what the ctest run above dispatched to: the matrix forces the other two.
MOTE_TEST_EMULATOR="${qemu[*]} -cpu max" MOTE_CPU_FLAGS="fp asimd asimddp" MOTE_MATRIX_SKIP_BEST=1 \
  MOTE_MATRIX_NAME="neon matrix (qemu -cpu max)" bash tools/test_isa_matrix.sh "$build_dir" 2>&1 |
  tee "$matrix_log" || status=1

echo "==== no dot product: ${qemu[*]} -cpu cortex-a57"
# Default dispatch must fall back to neon (the [dispatch] test checks that the selected ISA is
# supported by this CPU) and forcing neon_dotprod must be refused.
no_dp=("${qemu[@]}" -cpu cortex-a57)
no_dp_name="neon without dotprod (qemu -cpu cortex-a57)"
no_dp_passed=0
no_dp_failed=0
rc=0
out=$("${no_dp[@]}" "$build_dir/tests/mote_tests" '[dispatch]' 2>&1) || rc=$?
if [ "$rc" -eq 0 ]; then
  no_dp_passed=$((no_dp_passed + 1))
  echo "$no_dp_name: default dispatch ok"
else
  no_dp_failed=$((no_dp_failed + 1))
  echo "$out"
  echo "$no_dp_name: default dispatch FAILED (exit $rc)"
fi
rc=0
out=$( (MOTE_FORCE_ISA=neon_dotprod "${no_dp[@]}" "$build_dir/tests/mote_tests"; exit $?) 2>&1) || rc=$?
expected="this CPU does not support neon_dotprod"
if [ "$rc" -ne 0 ] && grep -qF "$expected" <<<"$out"; then
  no_dp_passed=$((no_dp_passed + 1))
  echo "$no_dp_name: reject neon_dotprod ok (exit $rc, \"$expected\")"
else
  no_dp_failed=$((no_dp_failed + 1))
  tail -n 20 <<<"$out"
  echo "$no_dp_name: reject neon_dotprod FAILED: exit $rc, expected non-zero and \"$expected\""
fi
[ "$no_dp_failed" -eq 0 ] || status=1

# The three results last, in the form CI summaries are read in.
echo "==== NEON summary (AArch64 under qemu-user)"
grep -E '^[0-9]+% tests passed' "$ctest_log" | tail -n1 || echo "ctest (qemu -cpu max): no summary (exit $ctest_status)"
grep -E '^neon matrix .*: [0-9]+ passed, [0-9]+ failed$' "$matrix_log" | tail -n1 ||
  echo "neon matrix (qemu -cpu max): no summary"
echo "$no_dp_name: $no_dp_passed passed, $no_dp_failed failed"
exit "$status"
