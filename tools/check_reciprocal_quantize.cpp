// Exhaustive check of AVX-512's quantisation without division (arch/x86/avx512_int8.hpp,
// QuantizeCodes16): for each scale, every one of the 2^32 float inputs, the sequence the vectors
// run (clamp to +-2^22 scale, q = x r, two FMA corrections, ties to even, zero point, clamp) in
// scalar IEEE arithmetic against mote::quantize (the division). Not part of the build or of CI:
// about 14 s per scale on 16 cores. Run on the device machine (Sapphire Rapids) in session 13:
// the 15 fixed scales below (`./check 0`), 0 mismatches; an earlier version, against a plain
// division and with 5 random scales more, 0 mismatches in 20 scales.
//   g++ -std=c++20 -O3 -march=x86-64-v3 -ffp-contract=off -fopenmp -Iinclude
//       tools/check_reciprocal_quantize.cpp -o check && ./check 5
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mote/numeric/quantization.hpp>
#include <random>
#include <vector>

namespace {

// The vector sequence, one lane. fmin/fmax stand for vminps/vmaxps, which they equal on
// non-NaN operands; a NaN input is the zero point clamped, as in the vector code (which maps NaN
// to +0 first, with vfixupimmps).
std::int32_t quantize_by_reciprocal(float x, float scale, std::int32_t zero_point, std::int32_t low,
                                    std::int32_t high) {
  if (std::isnan(x)) return std::clamp(zero_point, low, high);
  const float r = 1.0f / scale, bound = std::ldexp(scale, 22);
  const float c = std::fmin(std::fmax(x, -bound), bound);
  float q = c * r;
  q = std::fma(std::fma(-q, scale, c), r, q);
  q = std::fma(std::fma(-q, scale, c), r, q);
  const float code = std::fmin(std::fmax(std::nearbyint(q) + static_cast<float>(zero_point), static_cast<float>(low)),
                               static_cast<float>(high));
  return static_cast<std::int32_t>(code);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<float> scales = {1.0f,        0.0123f,     1.0f / 255.0f, 0x1.fffffep+0f, 0x1.000002p+0f,
                               0x1.fffffep-8f, 0x1.000002p-7f, 3.0f / 255.0f, 6.0f / 255.0f, 0.1f,
                               1e-4f,       0x1p-100f,   0x1.fffffep99f, 7.0f,          0.7071f};
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> exponent(-12.0f, 2.0f);
  for (int i = 0; i < (argc > 1 ? std::atoi(argv[1]) : 5); ++i) scales.push_back(std::exp2(exponent(rng)));
  long total = 0;
  for (float scale : scales) {
    const mote::QuantParams params{scale, 3};
    long mismatches = 0;
#pragma omp parallel for reduction(+ : mismatches) schedule(static, 1 << 20)
    for (std::int64_t bits = 0; bits < (std::int64_t{1} << 32); ++bits) {
      const auto word = static_cast<std::uint32_t>(bits);
      float x;
      std::memcpy(&x, &word, sizeof(x));
      if (quantize_by_reciprocal(x, scale, 3, 0, 255) != mote::quantize(x, params, 0, 255)) ++mismatches;
    }
    std::printf("scale %a: %ld mismatches\n", static_cast<double>(scale), mismatches);
    std::fflush(stdout);
    total += mismatches;
  }
  std::printf("total %ld\n", total);
  return total == 0 ? 0 : 1;
}
