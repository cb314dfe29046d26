#!/usr/bin/env bash
# Runs the test binaries of a built tree once per ISA this CPU supports, with MOTE_FORCE_ISA set,
# so that every isa::Dynamic code path (layers, examples, allocation checks) runs on each ISA and
# not only the best one; then checks that forcing an ISA the CPU lacks, or a name that is no ISA,
# fails with mote's message. Run after tools/test.sh (which builds build/test).
#   tools/test_isa_matrix.sh [BUILD_DIR]     BUILD_DIR: default build/test
# Binaries: BUILD_DIR/tests/mote_tests (unit) and every other BUILD_DIR/tests/mote_* executable
# (standalone). Supported ISAs come from /proc/cpuinfo, with the rules of arch/cpu.hpp:
#   sse4: sse4_2 | avx2: avx2+fma | avx_vnni: avx2 + avx_vnni
#   avx512: avx2 + avx512f+avx512bw+avx512dq+avx512vl
#   avx512_vnni: avx512 + avx512_vnni | avx512_bf16: avx512_vnni + avx512_bf16
#   avx512_amx: avx512_bf16 + amx_tile + amx_int8 (mote also asks Linux for the tile state)
#   neon: asimd | neon_dotprod: asimd + asimddp
# For binaries of another architecture (tools/test_neon.sh):
#   MOTE_TEST_EMULATOR  command prefix the binaries run under (e.g. "qemu-aarch64 -L ... -cpu max")
#   MOTE_CPU_FLAGS      the CPU flags to assume instead of /proc/cpuinfo's (e.g. "asimd asimddp")
#   MOTE_MATRIX_NAME    the name in the output lines (default "isa matrix")
#   MOTE_MATRIX_SKIP_BEST=1  skip the best ISA the CPU supports, the one default dispatch picks,
#                       when CTest has just run the same binaries with it (.ci/run, test_neon.sh)
#   MOTE_MATRIX_JOBS    ISAs run at once (default nproc): each run is one single-threaded process
# Output: one line per ISA and per rejection check, then `<name>: N passed, M failed`; the exit
# status is non-zero when anything failed. Full logs: BUILD_DIR/isa-matrix/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_dir=${1:-build/test}
name=${MOTE_MATRIX_NAME:-isa matrix}
read -r -a emulator <<<"${MOTE_TEST_EMULATOR:-}"
log_dir="$build_dir/isa-matrix"

unit="$build_dir/tests/mote_tests"
if [ ! -x "$unit" ]; then
  echo "$name: $unit not found: build first (tools/test.sh)" >&2
  exit 1
fi
binaries=("$unit")
while IFS= read -r binary; do
  [ "$binary" = "$unit" ] || binaries+=("$binary")
done < <(find "$build_dir/tests" -maxdepth 1 -type f -name 'mote_*' -perm -u+x | LC_ALL=C sort)
rm -rf "$log_dir"
mkdir -p "$log_dir"

# ---- which ISAs this CPU supports --------------------------------------------------------------
if [ -n "${MOTE_CPU_FLAGS+set}" ]; then
  flags=" $MOTE_CPU_FLAGS "
else
  # x86: "flags : ...", AArch64: "Features : ..." (first processor only).
  flags=" $(grep -m1 -E '^(flags|Features)[[:space:]]*:' /proc/cpuinfo | cut -d: -f2-) "
fi
has() {
  local f
  for f in "$@"; do [[ "$flags" == *" $f "* ]] || return 1; done
}
all_isas=(scalar sse4 avx2 avx_vnni avx512 avx512_vnni avx512_bf16 avx512_amx neon neon_dotprod)
supported=(scalar)
has sse4_2 && supported+=(sse4)
if has avx2 fma; then
  supported+=(avx2)
  has avx_vnni && supported+=(avx_vnni)
  if has avx512f avx512bw avx512dq avx512vl; then
    supported+=(avx512)
    if has avx512_vnni; then
      supported+=(avx512_vnni)
      if has avx512_bf16; then
        supported+=(avx512_bf16)
        has amx_tile amx_int8 && supported+=(avx512_amx)
      fi
    fi
  fi
fi
if has asimd; then
  supported+=(neon)
  has asimddp && supported+=(neon_dotprod)
fi
unsupported=()
for isa in "${all_isas[@]}"; do
  [[ " ${supported[*]} " == *" $isa "* ]] || unsupported+=("$isa")
done
echo "$name: binaries: ${binaries[*]#"$build_dir/tests/"}"
echo "$name: CPU supports: ${supported[*]}${emulator[0]:+ (run under ${emulator[*]})}"
forced=("${supported[@]}")
if [ "${MOTE_MATRIX_SKIP_BEST:-0}" = 1 ] && [ "${#supported[@]}" -gt 1 ]; then
  best=${supported[${#supported[@]} - 1]}
  unset 'forced[${#forced[@]}-1]'
  echo "$name: $best skipped: default dispatch picks it, and CTest ran every binary with it"
fi

passed=0
failed=0
failures=()

# "N test cases" from Catch's last lines: "All tests passed (A assertions in N test cases)" or
# "test cases: N | P passed | F failed".
case_count() {
  sed -n -e 's/^All tests passed (.* in \([0-9]*\) test cases\{0,1\})$/\1/p' \
         -e 's/^test cases: *\([0-9]*\) .*/\1/p' "$1" | tail -n1
}

# Names of the failed test cases in Catch's console output: the first line between the two
# dashed lines that open each report, for the reports that hold a "FAILED:" line (warnings and
# INFO reports have the same header and are skipped).
failed_cases() {
  awk '/^-+$/ && length($0) >= 70 { if (head) head = 0; else { head = 1; first = 1 }; next }
       head && first { first = 0; name = $0; next }
       /FAILED:$/ && name != "" { if (!seen[name]++) print name }' "$1" | paste -sd ';' - | sed 's/;/; /g'
}

# ---- each supported ISA: every binary passes -------------------------------------------------
# One background job per ISA, at most MOTE_MATRIX_JOBS at once (the tests are single-threaded, so
# two cores halve the wall time); each job writes what it prints to $log_dir/<isa>.out and its
# failures to $log_dir/<isa>.failures, and "ok" to $log_dir/<isa>.status where every binary
# passed; read back in order below.
run_isa() {  # run_isa <isa>
  local isa=$1 start=$SECONDS ok=1 details=() binary stem log status cases summary
  : >"$log_dir/$isa.failures"
  for binary in "${binaries[@]}"; do
    stem=$(basename "$binary")
    log="$log_dir/$isa.$stem.log"
    status=0
    (MOTE_FORCE_ISA=$isa "${emulator[@]}" "$binary"; exit $?) >"$log" 2>&1 || status=$?
    cases=$(case_count "$log")
    if [ "$status" -eq 0 ]; then
      details+=("$stem ${cases:-?} cases")
    else
      ok=0
      details+=("$stem FAILED (exit $status)")
      cases=$(failed_cases "$log")
      echo "MOTE_FORCE_ISA=$isa $stem${cases:+ (test cases: $cases)}" >>"$log_dir/$isa.failures"
      echo "---- $name: MOTE_FORCE_ISA=$isa ${emulator[*]:+${emulator[*]} }$binary (exit $status); output:"
      cat "$log"
      echo "---- end of output"
    fi
  done
  summary=$(IFS=,; echo "${details[*]}")
  if [ "$ok" -eq 1 ]; then
    printf '%s: %-12s ok      %s (%d s)\n' "$name" "$isa" "${summary//,/, }" $((SECONDS - start))
    echo ok >"$log_dir/$isa.status"
  else
    printf '%s: %-12s FAILED  %s (%d s)\n' "$name" "$isa" "${summary//,/, }" $((SECONDS - start))
  fi
}
jobs_max=${MOTE_MATRIX_JOBS:-$(nproc)}
for isa in "${forced[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  run_isa "$isa" >"$log_dir/$isa.out" 2>&1 &
done
wait
for isa in "${forced[@]}"; do
  cat "$log_dir/$isa.out"
  if [ "$(cat "$log_dir/$isa.status" 2>/dev/null)" != ok ]; then
    failed=$((failed + 1))
    mapfile -t isa_failures <"$log_dir/$isa.failures"
    [ "${#isa_failures[@]}" -gt 0 ] || isa_failures=("MOTE_FORCE_ISA=$isa: the run ended without a result")
    failures+=("${isa_failures[@]}")
  else
    passed=$((passed + 1))
  fi
done

# ---- forcing what cannot run: a non-zero exit and mote's message ---------------------------------
# selected_isa() aborts on its first use (the first test with an isa::Dynamic layer), so these
# runs end early.
reject() {  # reject <MOTE_FORCE_ISA value> <expected message>
  local value=$1 expected=$2 log="$log_dir/reject.$1.log" status=0
  # In a subshell that does not exec the binary: bash's "Aborted" notice goes to the log.
  (MOTE_FORCE_ISA=$value "${emulator[@]}" "$unit"; exit $?) >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ] && grep -qF -- "$expected" "$log"; then
    passed=$((passed + 1))
    printf '%s: reject %-12s ok      exit %d, "%s"\n' "$name" "$value" "$status" "$expected"
  else
    failed=$((failed + 1))
    failures+=("MOTE_FORCE_ISA=$value not rejected")
    printf '%s: reject %-12s FAILED  exit %d, expected a non-zero exit and "%s"; last lines:\n' \
      "$name" "$value" "$status" "$expected"
    tail -n 20 "$log"
  fi
}
for isa in "${unsupported[@]}"; do
  reject "$isa" "this CPU does not support $isa"
done
reject bogus "'bogus' is not an ISA name"

for failure in "${failures[@]}"; do
  echo "$name: failed: $failure"
done
echo "$name: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
