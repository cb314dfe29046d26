// peak/...: this core's limits, the yardsticks of docs/benchmarks.md.
//   peak/f32-fma/avx2, peak/f32-fma/avx512  sustained f32 FMA throughput (GFLOPS counter), with
//                                           12 independent accumulators (more than latency x
//                                           ports on current x86 cores); registered only when
//                                           the CPU has the instructions.
//   peak/read/{L1,L2,L3,DRAM}                read bandwidth (bytes_per_second) summing a buffer of
//                                           16 KiB, 256 KiB, 8 MiB, 256 MiB.
//   peak/int8_madd/avx2_vpmaddwd             int8 multiply-add throughput (GOPS counter = 2 x
//                                           multiply-adds per second), 12 independent int32
//                                           accumulators, as mote's int8 kernels do it: int8
//                                           widened to int16, vpmaddwd (16 multiply-adds: 8 int32
//                                           sums of int16 pairs) + vpaddd into an accumulator.
//   peak/int8_madd/avx2_vpmaddubsw           for reference, the u8 x s8 idiom of other libraries:
//                                           vpmaddubsw (32 multiply-adds into saturating int16
//                                           pairs) + vpmaddwd by ones + vpaddd.
//   peak/int8_madd/avx512_vnni               vpdpbusd (64 u8 x s8 multiply-adds, accumulated in
//                                           int32, one instruction); only where the CPU has it.
//   peak/int8_madd/avx_vnni                  the VEX-encoded vpdpbusd on ymm (32 multiply-adds),
//                                           the AVX-VNNI kernels' instruction; only where the CPU
//                                           has it.

#include <benchmark/benchmark.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MOTE_BENCH_X86 1
#endif

#include "harness.hpp"
#include "mote/arch/cpu.hpp"

namespace mote_bench {
namespace {

constexpr int fma_inner_iterations = 1024;
constexpr int fma_accumulators = 12;

#if MOTE_BENCH_X86
// acc = acc * a + b converges to b / (1 - a) = 1: no overflow, no denormals, and the compiler
// must do every FMA (no fast-math; the accumulators are observed after each timed iteration).
__attribute__((target("avx2,fma"))) void fma_avx2(benchmark::State& state) {
  __m256 acc[fma_accumulators];
  for (int k = 0; k < fma_accumulators; ++k) acc[k] = _mm256_set1_ps(static_cast<float>(k));
  const __m256 a = _mm256_set1_ps(0.5f);
  const __m256 b = _mm256_set1_ps(0.5f);
  for (auto _ : state) {
    for (int i = 0; i < fma_inner_iterations; ++i)
#pragma GCC unroll 12
      for (int k = 0; k < fma_accumulators; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
    for (int k = 0; k < fma_accumulators; ++k) benchmark::DoNotOptimize(acc[k]);
  }
  const double flops = 2.0 * 8 * fma_accumulators * fma_inner_iterations;
  state.counters["GFLOPS"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

__attribute__((target("avx512f"))) void fma_avx512(benchmark::State& state) {
  __m512 acc[fma_accumulators];
  for (int k = 0; k < fma_accumulators; ++k) acc[k] = _mm512_set1_ps(static_cast<float>(k));
  const __m512 a = _mm512_set1_ps(0.5f);
  const __m512 b = _mm512_set1_ps(0.5f);
  for (auto _ : state) {
    for (int i = 0; i < fma_inner_iterations; ++i)
#pragma GCC unroll 12
      for (int k = 0; k < fma_accumulators; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
    for (int k = 0; k < fma_accumulators; ++k) benchmark::DoNotOptimize(acc[k]);
  }
  const double flops = 2.0 * 16 * fma_accumulators * fma_inner_iterations;
  state.counters["GFLOPS"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// int8 multiply-add throughput. The AVX2 loops are asm, as intrinsics let GCC hoist the
// loop-invariant multiplies or, kept from that, leave the accumulators on the stack: 12
// accumulators, the two operands, the constant 1s and one temporary take the 16 ymm registers,
// and each iteration is exactly 12 x (the multiply instruction(s) + vpaddd), then dec/jnz.
// Integer arithmetic wraps, so the values do not matter.
constexpr int madd_accumulators = 12;  // the asm below names each one

void set_gops(benchmark::State& state, double multiply_adds_per_iteration) {
  state.counters["GOPS"] = benchmark::Counter(2.0 * multiply_adds_per_iteration * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

#define MOTE_BENCH_ACCUMULATORS(acc, constraint)                                 \
  [c0] constraint(acc[0]), [c1] constraint(acc[1]), [c2] constraint(acc[2]),     \
      [c3] constraint(acc[3]), [c4] constraint(acc[4]), [c5] constraint(acc[5]), \
      [c6] constraint(acc[6]), [c7] constraint(acc[7]), [c8] constraint(acc[8]), \
      [c9] constraint(acc[9]), [c10] constraint(acc[10]), [c11] constraint(acc[11])
#define MOTE_BENCH_REPEAT12(step)                                                           \
  step("0") step("1") step("2") step("3") step("4") step("5") step("6") step("7") step("8") \
      step("9") step("10") step("11")
#define MOTE_BENCH_VPMADDWD(k) "vpmaddwd %[b], %[a], %[t]\n\tvpaddd %[t], %[c" k "], %[c" k "]\n\t"
#define MOTE_BENCH_VPMADDUBSW(k)                                                                 \
  "vpmaddubsw %[b], %[a], %[t]\n\tvpmaddwd %[ones], %[t], %[t]\n\tvpaddd %[t], %[c" k "], %[c" k \
  "]\n\t"
#define MOTE_BENCH_VPDPBUSD(k) "vpdpbusd %[b], %[a], %[c" k "]\n\t"
#define MOTE_BENCH_VPDPBUSD_VEX(k) "%{vex%} vpdpbusd %[b], %[a], %[c" k "]\n\t"

__attribute__((target("avx2"))) void int8_madd_avx2_vpmaddwd(benchmark::State& state) {
  __m256i acc[madd_accumulators];
  for (int k = 0; k < madd_accumulators; ++k) acc[k] = _mm256_set1_epi32(k);
  const __m256i a = _mm256_set1_epi16(3);
  const __m256i b = _mm256_set1_epi16(-5);
  for (auto _ : state) {
    int n = fma_inner_iterations;
    __m256i t;
    asm volatile("1:\n\t" MOTE_BENCH_REPEAT12(MOTE_BENCH_VPMADDWD) "dec %[n]\n\tjnz 1b"
                 : MOTE_BENCH_ACCUMULATORS(acc, "+x"), [t] "=&x"(t), [n] "+r"(n)
                 : [a] "x"(a), [b] "x"(b)
                 : "cc");
  }
  set_gops(state, 16.0 * madd_accumulators * fma_inner_iterations);
}

__attribute__((target("avx2"))) void int8_madd_avx2_vpmaddubsw(benchmark::State& state) {
  __m256i acc[madd_accumulators];
  for (int k = 0; k < madd_accumulators; ++k) acc[k] = _mm256_set1_epi32(k);
  const __m256i a = _mm256_set1_epi8(3);   // u8
  const __m256i b = _mm256_set1_epi8(-5);  // s8
  const __m256i ones = _mm256_set1_epi16(1);
  for (auto _ : state) {
    int n = fma_inner_iterations;
    __m256i t;
    asm volatile("1:\n\t" MOTE_BENCH_REPEAT12(MOTE_BENCH_VPMADDUBSW) "dec %[n]\n\tjnz 1b"
                 : MOTE_BENCH_ACCUMULATORS(acc, "+x"), [t] "=&x"(t), [n] "+r"(n)
                 : [a] "x"(a), [b] "x"(b), [ones] "x"(ones)
                 : "cc");
  }
  set_gops(state, 32.0 * madd_accumulators * fma_inner_iterations);
}

// vpdpbusd accumulates into its destination: 12 accumulators chain it, in asm for the same
// reason as above (GCC copies each accumulator into another register every iteration).
__attribute__((target("avx512f,avx512vnni"))) void int8_madd_avx512_vnni(benchmark::State& state) {
  __m512i acc[madd_accumulators];
  for (int k = 0; k < madd_accumulators; ++k) acc[k] = _mm512_set1_epi32(k);
  const __m512i a = _mm512_set1_epi8(3);   // u8
  const __m512i b = _mm512_set1_epi8(-5);  // s8
  for (auto _ : state) {
    int n = fma_inner_iterations;
    asm volatile("1:\n\t" MOTE_BENCH_REPEAT12(MOTE_BENCH_VPDPBUSD) "dec %[n]\n\tjnz 1b"
                 : MOTE_BENCH_ACCUMULATORS(acc, "+v"), [n] "+r"(n)
                 : [a] "v"(a), [b] "v"(b)
                 : "cc");
  }
  set_gops(state, 64.0 * madd_accumulators * fma_inner_iterations);
}

// The {vex} prefix (escaped for GCC asm): without it the assembler may pick the EVEX form.
__attribute__((target("avx2,avxvnni"))) void int8_madd_avx_vnni(benchmark::State& state) {
  __m256i acc[madd_accumulators];
  for (int k = 0; k < madd_accumulators; ++k) acc[k] = _mm256_set1_epi32(k);
  const __m256i a = _mm256_set1_epi8(3);   // u8
  const __m256i b = _mm256_set1_epi8(-5);  // s8
  for (auto _ : state) {
    int n = fma_inner_iterations;
    asm volatile("1:\n\t" MOTE_BENCH_REPEAT12(MOTE_BENCH_VPDPBUSD_VEX) "dec %[n]\n\tjnz 1b"
                 : MOTE_BENCH_ACCUMULATORS(acc, "+x"), [n] "+r"(n)
                 : [a] "x"(a), [b] "x"(b)
                 : "cc");
  }
  set_gops(state, 32.0 * madd_accumulators * fma_inner_iterations);
}
#undef MOTE_BENCH_ACCUMULATORS
#undef MOTE_BENCH_REPEAT12
#undef MOTE_BENCH_VPMADDWD
#undef MOTE_BENCH_VPMADDUBSW
#undef MOTE_BENCH_VPDPBUSD
#undef MOTE_BENCH_VPDPBUSD_VEX
#endif

/// Sum of `count` floats (a multiple of 128) with 8 independent vector accumulators, using the
/// widest vectors the build enables (the bench is compiled with -march=native).
__attribute__((noinline)) float sum_floats(const float* data, std::size_t count) {
#if defined(__AVX512F__)
  __m512 acc[8];
  for (__m512& v : acc) v = _mm512_setzero_ps();
  for (std::size_t i = 0; i < count; i += 128)
    for (int k = 0; k < 8; ++k) acc[k] = _mm512_add_ps(acc[k], _mm512_load_ps(data + i + 16 * k));
  for (int k = 1; k < 8; ++k) acc[0] = _mm512_add_ps(acc[0], acc[k]);
  // Not _mm512_reduce_add_ps: GCC 12's header trips -Werror=uninitialized at -O3 (its
  // _mm512_extractf64x4_pd starts from an uninitialised __m256d).
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, acc[0]);
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  return sum;
#elif defined(__AVX__)
  __m256 acc[8];
  for (__m256& v : acc) v = _mm256_setzero_ps();
  for (std::size_t i = 0; i < count; i += 64)
    for (int k = 0; k < 8; ++k) acc[k] = _mm256_add_ps(acc[k], _mm256_load_ps(data + i + 8 * k));
  for (int k = 1; k < 8; ++k) acc[0] = _mm256_add_ps(acc[0], acc[k]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc[0]);
  float sum = 0;
  for (float v : lanes) sum += v;
  return sum;
#else
  float acc[8] = {};
  for (std::size_t i = 0; i < count; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += data[i + k];
  float sum = 0;
  for (float v : acc) sum += v;
  return sum;
#endif
}

/// A buffer of `bytes` on 2 MiB boundaries, backed by transparent huge pages where the kernel
/// offers them: with 4 KiB pages an 8 MiB buffer needs more TLB entries than Zen 3's L2 TLB holds
/// (2048), and the walk would be measured instead of the cache.
struct HugeBuffer {
  explicit HugeBuffer(std::size_t bytes) : bytes(bytes) {
    constexpr std::size_t huge_page = std::size_t{2} << 20;
    const std::size_t rounded = (bytes + huge_page - 1) / huge_page * huge_page;
    data = static_cast<float*>(std::aligned_alloc(huge_page, rounded));
    if (data == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(data, rounded, MADV_HUGEPAGE);  // advice only: failure just keeps 4 KiB pages
#endif
    const std::size_t count = bytes / sizeof(float);
    for (std::size_t i = 0; i < count; ++i) data[i] = static_cast<float>(i % 7);  // touch it all
  }
  ~HugeBuffer() { std::free(data); }
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
  float* data;
  std::size_t bytes;
};

void read_bandwidth(benchmark::State& state, std::size_t bytes) {
  const HugeBuffer buffer(bytes);
  for (auto _ : state) {
    float sum = sum_floats(buffer.data, bytes / sizeof(float));
    benchmark::DoNotOptimize(sum);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes));
}

}  // namespace

void register_peak_cases() {
#if MOTE_BENCH_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    benchmark::RegisterBenchmark("peak/f32-fma/avx2", fma_avx2);
  if (__builtin_cpu_supports("avx512f"))
    benchmark::RegisterBenchmark("peak/f32-fma/avx512", fma_avx512);
  if (__builtin_cpu_supports("avx2")) {
    benchmark::RegisterBenchmark("peak/int8_madd/avx2_vpmaddwd", int8_madd_avx2_vpmaddwd);
    benchmark::RegisterBenchmark("peak/int8_madd/avx2_vpmaddubsw", int8_madd_avx2_vpmaddubsw);
  }
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni"))
    benchmark::RegisterBenchmark("peak/int8_madd/avx512_vnni", int8_madd_avx512_vnni);
  // mote's CPUID test: __builtin_cpu_supports has no "avxvnni" in clang 14.
  if (mote::arch::detect_cpu().supports(mote::arch::IsaLevel::avx_vnni))
    benchmark::RegisterBenchmark("peak/int8_madd/avx_vnni", int8_madd_avx_vnni);
#endif
  const struct {
    const char* name;
    std::size_t bytes;
  } levels[] = {{"peak/read/L1", std::size_t{16} << 10},
                {"peak/read/L2", std::size_t{256} << 10},
                {"peak/read/L3", std::size_t{8} << 20},
                {"peak/read/DRAM", std::size_t{256} << 20}};
  for (const auto& level : levels)
    benchmark::RegisterBenchmark(level.name, [bytes = level.bytes](benchmark::State& state) {
      read_bandwidth(state, bytes);
    });
}

}  // namespace mote_bench
