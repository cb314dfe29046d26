// peak/...: this core's limits, the yardsticks of docs/benchmarks.md.
//   peak/f32-fma/avx2, peak/f32-fma/avx512  sustained f32 FMA throughput (GFLOPS counter), with
//                                           12 independent accumulators (more than latency x
//                                           ports on current x86 cores); registered only when
//                                           the CPU has the instructions.
//   peak/read/{L1,L2,L3,DRAM}                read bandwidth (bytes_per_second) summing a buffer of
//                                           16 KiB, 256 KiB, 8 MiB, 256 MiB.

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
  return _mm512_reduce_add_ps(acc[0]);
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
