// Element-wise SIMD kernels (kernels/elementwise/simd-inl.hpp, math-inl.hpp) against the scalar
// reference on every ISA this CPU has: every activation functor (and one without a vector form,
// which falls back to its scalar definition per lane), channel_affine, add, softmax, and the
// vector exp and erf against the C library; on every tail length 0..3*16+3 at several offsets
// (the floats around the output must stay untouched), in place, with random values in
// |x| < 1e-3, [-10, 10] and [-100, 100] and special values (+-0, +-inf, NaN, denormals, the
// overflow, underflow and branch points of exp/tanh/erf, +-3, +-6).
//
// Bounds. Measured maxima are printed with WARN; "scan" figures are over every 11th float of
// the range on AVX2 and SSE4 (math-inl.hpp explains why each bound holds):
//   exact (same bits, or both NaN): Identity, ReLU, ReLU6, LeakyReLU, HardSwish (the same
//       operations in the same order as the reference), add, the scalar fallback.
//   channel_affine: |d| <= ulp(in * scale) + ulp(reference): a multiply then an add, which a
//       compiler may contract into one FMA (GCC does in the AVX2 kernel: measured 0.98 of that
//       unit there, 0 on SSE4, NEON and with clang).
//   exp <= 2 ulp of std::exp, erf <= 2 ulp of std::erf (scan and tests: 1 ulp on every ISA
//       run, NEON under qemu included). ulp = the distance between the two floats, so
//       denormal results count denormal ulps.
//   Sigmoid <= 6 ulp (scan: 4; tests: 2-3): 1 / (1 + exp(-x)) is up to 2.5 ulp off the true
//       value in the reference itself (1 + e rounds where e ~ 2^24), and so is ours, in
//       either direction.
//   Tanh <= 4 ulp (scan and tests: 2; glibc's tanhf is itself up to 2.2 ulp off the true
//       value, ours 1.3).
//   GELU: |d| <= 2 (ulp(reference) + |x| 2^-24) (scan: 1.0 of that unit; tests 0.6-0.9). The
//       reference computes 0.5 x (1 + erf(x / sqrt 2)): for x < 0, 1 + erf cancels, so a
//       1-ulp difference of erf near -1 (2^-24) becomes 0.5 |x| 2^-24 absolute in the result,
//       whose own ulp may be far smaller; the |x| 2^-24 term is that absolute part.
//       GELU(-inf) is -0 in both (the reference clamps x below -8 in its first factor).
//   softmax <= 4 + 2 * channels ulp (tests: 5-7 ulp): exp within 1 ulp per term, and the
//       partial sums' other order (each sum within (channels - 1) 2^-24 relative of the exact
//       one), then one rounding each.

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mote/arch/targets.hpp>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "../support.hpp"

namespace {

using mote::arch::IsaLevel;
namespace act = mote::activation;

constexpr float inf = std::numeric_limits<float>::infinity();

/// f(tag, level) for each ISA mote dispatches to that this CPU supports, scalar excluded.
template <class F>
void each_simd_isa(F&& f) {
  const mote::arch::CpuFeatures cpu = mote::arch::detect_cpu();
  for (IsaLevel level : mote::arch::dispatch_order) {
    if (level == IsaLevel::scalar || !cpu.supports(level)) continue;
    mote::arch::with_isa(level, [&](auto tag) { f(tag, level); });
  }
}

std::int64_t ordered(float f) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &f, sizeof bits);
  return (bits >> 31) != 0 ? -static_cast<std::int64_t>(bits & 0x7fffffffu)
                           : static_cast<std::int64_t>(bits);
}
/// Floats between a and b (0 for the same value, +0 and -0 included; 1 from FLT_MAX to inf).
double ulp_distance(float a, float b) {
  return static_cast<double>(std::llabs(ordered(a) - ordered(b)));
}
/// The spacing of floats at |v| (2^-149 in the denormals).
double ulp_of(float v) {
  const double a = std::fabs(static_cast<double>(v));
  if (a < static_cast<double>(FLT_MIN)) return std::ldexp(1.0, -149);
  int exponent = 0;
  std::frexp(a, &exponent);
  return std::ldexp(1.0, exponent - 24);
}
bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(const float* a, const float* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!same_bits(a[i], b[i])) return false;
  return true;
}

/// How a SIMD result is compared with the reference: the error in the bound's unit (0 when
/// equal; +inf when NaN-ness or an infinity differs).
enum class Measure { exact, ulp, gelu };
double error_of(Measure measure, float x, float simd, float reference) {
  if (std::isnan(reference) || std::isnan(simd))
    return std::isnan(reference) && std::isnan(simd) ? 0.0 : inf;
  switch (measure) {
    case Measure::exact: return same_bits(simd, reference) ? 0.0 : inf;
    case Measure::ulp: return ulp_distance(simd, reference);
    case Measure::gelu: {
      if (std::isinf(reference)) return simd == reference ? 0.0 : inf;
      const double d = std::fabs(static_cast<double>(simd) - static_cast<double>(reference));
      return d / (ulp_of(reference) + std::fabs(static_cast<double>(x)) * std::ldexp(1.0, -24));
    }
  }
  return inf;
}

std::vector<float> special_values() {
  std::vector<float> s = {0.0f,
                          -0.0f,
                          inf,
                          -inf,
                          std::numeric_limits<float>::quiet_NaN(),
                          -std::numeric_limits<float>::quiet_NaN(),
                          FLT_MIN,
                          -FLT_MIN,
                          FLT_TRUE_MIN,
                          -FLT_TRUE_MIN,
                          1e-40f,
                          -1e-40f,
                          3e-39f,
                          -3e-39f,
                          FLT_MAX,
                          -FLT_MAX,
                          1.0f,
                          -1.0f,
                          3.0f,
                          -3.0f,
                          6.0f,
                          -6.0f,
                          88.0f,
                          -88.0f,
                          88.5f,
                          88.72f,
                          88.7229f,
                          89.0f,
                          -87.3f,
                          -87.34f,
                          -90.0f,
                          -103.0f,
                          -103.97f,
                          -104.0f,
                          -105.0f,
                          0.625f,
                          -0.625f,
                          0.6249999f,
                          1.41421356f,
                          -1.41421356f,
                          5.568f,
                          -5.568f,
                          5.57f,
                          -5.57f,
                          9.0f,
                          -9.0f,
                          44.0f,
                          45.0f,
                          -45.0f,
                          1e-3f,
                          -1e-3f,
                          1e-20f,
                          -1e-20f,
                          1e30f,
                          -1e30f,
                          16.6f,
                          -16.6f,
                          2.9999998f,
                          -3.0000002f,
                          5.9999995f,
                          6.0000005f};
  return s;
}

/// Specials first, then `per_range` random values in each of |x| < 1e-3, [-10, 10], [-100, 100].
std::vector<float> test_values(std::mt19937& rng, std::size_t per_range) {
  std::vector<float> v = special_values();
  for (float range : {1e-3f, 10.0f, 100.0f}) {
    std::uniform_real_distribution<float> uniform(-range, range);
    for (std::size_t i = 0; i < per_range; ++i) v.push_back(uniform(rng));
  }
  return v;
}

/// A functor without a vector form: the kernels fall back to its scalar definition per lane.
struct Cube {
  static constexpr const char* name = "Cube";
  static float apply(float x) noexcept { return x * x * x; }
};

std::string isa_name(IsaLevel level) { return mote::arch::to_string(level); }

struct Worst {
  double error = 0.0;
  float at = 0.0f;
  void update(double e, float x) {
    if (e > error) error = e, at = x;
  }
};

/// Runs one activation on every ISA against the scalar reference: each tail length at several
/// offsets (guards around the output must stay untouched), in place, and a long run over all
/// values. Returns nothing; fails on the first element out of bound.
template <class Activation>
void check_activation(Measure measure, double bound) {
  std::mt19937 rng(42);
  const std::vector<float> values = test_values(rng, 4096);
  std::vector<float> expected(values.size());
  mote::kernels::activate(mote::isa::Scalar{}, Activation{}, values.data(), expected.data(),
                          values.size());
  const auto expect = [&](std::size_t i) { return expected[i]; };
  each_simd_isa([&](auto tag, IsaLevel level) {
    Worst worst;
    constexpr float guard = -12345.0f;
    for (std::size_t n = 0; n <= 3 * 16 + 3; ++n) {
      for (std::size_t offset : {std::size_t{0}, std::size_t{1}, std::size_t{3},
                                 values.size() / 2 - n / 2, values.size() - n}) {
        std::vector<float> out(n + 2, guard);
        mote::kernels::activate(tag, Activation{}, values.data() + offset, out.data() + 1, n);
        INFO(isa_name(level) << " " << Activation::name << ": n = " << n << ", offset " << offset);
        REQUIRE(same_bits(out[0], guard));
        REQUIRE(same_bits(out[n + 1], guard));
        for (std::size_t i = 0; i < n; ++i) {
          const float x = values[offset + i];
          const double e = error_of(measure, x, out[i + 1], expect(offset + i));
          INFO("x = " << x << " (" << std::hexfloat << x << "): simd " << out[i + 1]
                      << ", reference " << expect(offset + i) << std::defaultfloat);
          REQUIRE(e <= bound);
          worst.update(e, x);
        }
        // In place: the same bits as out of place.
        std::vector<float> in_place(values.begin() + static_cast<std::ptrdiff_t>(offset),
                                    values.begin() + static_cast<std::ptrdiff_t>(offset + n));
        mote::kernels::activate(tag, Activation{}, in_place.data(), in_place.data(), n);
        for (std::size_t i = 0; i < n; ++i)
          REQUIRE((same_bits(in_place[i], out[i + 1]) ||
                   (std::isnan(in_place[i]) && std::isnan(out[i + 1]))));
      }
    }
    std::vector<float> all(values.size());
    mote::kernels::activate(tag, Activation{}, values.data(), all.data(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      const double e = error_of(measure, values[i], all[i], expect(i));
      INFO(isa_name(level) << " " << Activation::name << ": x = " << std::hexfloat << values[i]
                           << ": simd " << all[i] << ", reference " << expect(i));
      REQUIRE(e <= bound);
      worst.update(e, values[i]);
    }
    if (measure != Measure::exact)
      WARN(isa_name(level) << " " << Activation::name << ": max error " << worst.error
                           << (measure == Measure::ulp ? " ulp" : " (ulp(ref) + |x| 2^-24)")
                           << " at x = " << std::hexfloat << worst.at << std::defaultfloat
                           << ", bound " << bound);
  });
}

// ---- the vector exp and erf, called directly in each ISA's target region
// -------------------------

enum class MathFn { exp, erf };

#define MOTE_TEST_MATH_WRAPPER(ns)                                                               \
  void math_##ns(MathFn fn, const float* in, float* out, std::size_t n) {                        \
    using V = mote::kernels::ns::Vec;                                                            \
    for (std::size_t i = 0; i < n; i += V::lanes) {                                              \
      const std::size_t m = n - i < V::lanes ? n - i : V::lanes;                                 \
      const V x = V::load_partial(in + i, m);                                                    \
      const V y =                                                                                \
          fn == MathFn::exp ? mote::kernels::ns::math::exp(x) : mote::kernels::ns::math::erf(x); \
      y.store_partial(out + i, m);                                                               \
    }                                                                                            \
  }

#if MOTE_SIMD_X86
MOTE_TARGET_REGION_BEGIN("sse4.2")
MOTE_TEST_MATH_WRAPPER(sse4)
MOTE_TARGET_REGION_END
MOTE_TARGET_REGION_BEGIN("avx2,fma,bmi2,f16c")
MOTE_TEST_MATH_WRAPPER(avx2)
MOTE_TARGET_REGION_END
MOTE_TARGET_REGION_BEGIN("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi2,f16c")
MOTE_TEST_MATH_WRAPPER(avx512)
MOTE_TARGET_REGION_END
#endif
#if MOTE_SIMD_NEON
MOTE_TEST_MATH_WRAPPER(neon)
#endif

using MathWrapper = void (*)(MathFn, const float*, float*, std::size_t);
MathWrapper math_wrapper(IsaLevel level) {
  switch (level) {
#if MOTE_SIMD_X86
    case IsaLevel::sse4: return math_sse4;
    case IsaLevel::avx2:
    case IsaLevel::avx_vnni: return math_avx2;
    case IsaLevel::avx512:
    case IsaLevel::avx512_vnni:
    case IsaLevel::avx512_bf16:
    case IsaLevel::avx512_amx: return math_avx512;
#endif
#if MOTE_SIMD_NEON
    case IsaLevel::neon:
    case IsaLevel::neon_dotprod: return math_neon;
#endif
    default: return nullptr;
  }
}

}  // namespace

TEST_CASE("SIMD activations match the scalar reference on every ISA",
          "[kernels][elementwise][simd]") {
  check_activation<act::Identity>(Measure::exact, 0.0);
  check_activation<act::Relu>(Measure::exact, 0.0);
  check_activation<act::Relu6>(Measure::exact, 0.0);
  check_activation<act::LeakyRelu<1, 100>>(Measure::exact, 0.0);
  check_activation<act::LeakyRelu<-3, 7>>(Measure::exact, 0.0);
  check_activation<act::HardSwish>(Measure::exact, 0.0);
  check_activation<act::Sigmoid>(Measure::ulp, 6.0);
  check_activation<act::Tanh>(Measure::ulp, 4.0);
  check_activation<act::Gelu>(Measure::gelu, 2.0);
  check_activation<Cube>(Measure::exact, 0.0);
}

TEST_CASE("SIMD special values of the activations", "[kernels][elementwise][simd]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float in[] = {nan, -inf, inf, -0.0f, 0.0f};
  each_simd_isa([&](auto tag, IsaLevel level) {
    INFO(isa_name(level));
    float out[5];
    const auto run = [&](auto activation) { mote::kernels::activate(tag, activation, in, out, 5); };
    run(act::Relu{});
    CHECK((std::isnan(out[0]) && out[1] == 0.0f && out[2] == inf && std::signbit(out[3]) &&
           out[4] == 0.0f));
    run(act::Relu6{});
    CHECK((std::isnan(out[0]) && out[1] == 0.0f && out[2] == 6.0f && std::signbit(out[3])));
    run(act::LeakyRelu<1, 10>{});
    CHECK((std::isnan(out[0]) && out[1] == -inf && out[2] == inf && std::signbit(out[3])));
    run(act::Sigmoid{});
    CHECK((std::isnan(out[0]) && out[1] == 0.0f && out[2] == 1.0f && out[3] == 0.5f &&
           out[4] == 0.5f));
    run(act::Tanh{});
    CHECK((std::isnan(out[0]) && out[1] == -1.0f && out[2] == 1.0f && out[3] == 0.0f &&
           std::signbit(out[3]) && !std::signbit(out[4])));
    run(act::Gelu{});
    CHECK((std::isnan(out[0]) && out[1] == 0.0f && out[2] == inf && out[3] == 0.0f &&
           std::signbit(out[3])));
    run(act::HardSwish{});
    CHECK((std::isnan(out[0]) && std::isnan(out[1]) && out[2] == inf));  // -inf * 0, inf * 6
  });
}

TEST_CASE("SIMD exp and erf against the C library on every ISA", "[kernels][elementwise][simd]") {
  std::mt19937 rng(7);
  std::vector<float> values = test_values(rng, 20000);
  std::uniform_real_distribution<float> wide(-110.0f, 90.0f), tail(-104.0f, -87.0f),
      around(-5.0f, 5.0f);
  for (int i = 0; i < 20000; ++i) values.push_back(wide(rng));
  for (int i = 0; i < 4000; ++i) values.push_back(tail(rng));  // denormal results
  for (int i = 0; i < 20000; ++i) values.push_back(around(rng));
  each_simd_isa([&](auto, IsaLevel level) {
    const MathWrapper wrapper = math_wrapper(level);
    REQUIRE(wrapper != nullptr);
    for (MathFn fn : {MathFn::exp, MathFn::erf}) {
      const char* name = fn == MathFn::exp ? "exp" : "erf";
      std::vector<float> out(values.size() + 1, -7.0f);
      // Every tail length first, then everything at once.
      for (std::size_t n = 0; n <= 3 * 16 + 3; ++n) {
        wrapper(fn, values.data(), out.data(), n);
        REQUIRE(out[n] == -7.0f);
        for (std::size_t i = 0; i < n; ++i) out[i] = -7.0f;
      }
      wrapper(fn, values.data(), out.data(), values.size());
      REQUIRE(out[values.size()] == -7.0f);
      Worst worst;
      for (std::size_t i = 0; i < values.size(); ++i) {
        const float x = values[i];
        const float expected = fn == MathFn::exp ? std::exp(x) : std::erf(x);
        const double e = error_of(Measure::ulp, x, out[i], expected);
        INFO(isa_name(level) << " " << name << "(" << std::hexfloat << x << ") = " << out[i]
                             << ", C library " << expected);
        REQUIRE(e <= 2.0);
        worst.update(e, x);
      }
      WARN(isa_name(level) << " " << name << ": max error " << worst.error << " ulp at x = "
                           << std::hexfloat << worst.at << std::defaultfloat << ", bound 2");
    }
  });
}

TEST_CASE("SIMD channel_affine and add match the scalar reference",
          "[kernels][elementwise][simd]") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(-10.0f, 10.0f);
  const std::vector<float> specials = special_values();
  each_simd_isa([&](auto tag, IsaLevel level) {
    double worst_affine = 0.0;
    for (std::size_t channels = 1; channels <= 3 * 16 + 3; ++channels) {
      for (std::size_t pixels : {std::size_t{1}, std::size_t{2}, std::size_t{5}}) {
        const std::size_t count = pixels * channels;
        std::vector<float> in(count), scale(channels), shift(channels);
        for (float& v : in) v = uniform(rng);
        for (float& v : scale) v = uniform(rng);
        for (float& v : shift) v = uniform(rng);
        for (std::size_t i = 0; i < count; i += 7) in[i] = specials[(i / 7) % specials.size()];
        std::vector<float> expected(count), actual(count + 1, -7.0f);
        mote::kernels::channel_affine(mote::isa::Scalar{}, scale.data(), shift.data(), in.data(),
                                      expected.data(), pixels, channels);
        mote::kernels::channel_affine(tag, scale.data(), shift.data(), in.data(), actual.data(),
                                      pixels, channels);
        INFO(isa_name(level) << " channel_affine: " << pixels << " x " << channels);
        REQUIRE(actual[count] == -7.0f);
        for (std::size_t i = 0; i < count; ++i) {
          const float product = in[i] * scale[i % channels];
          INFO("element " << i << ": " << actual[i] << " vs " << expected[i]);
          if (std::isnan(expected[i]) || std::isinf(expected[i])) {
            REQUIRE((same_bits(actual[i], expected[i]) ||
                     (std::isnan(actual[i]) && std::isnan(expected[i]))));
            continue;
          }
          const double d = std::fabs(static_cast<double>(actual[i]) - expected[i]);
          REQUIRE(d <= ulp_of(product) + ulp_of(expected[i]));
          worst_affine = std::max(worst_affine, d / (ulp_of(product) + ulp_of(expected[i])));
        }
        // In place gives the same bits.
        std::vector<float> in_place = in;
        mote::kernels::channel_affine(tag, scale.data(), shift.data(), in_place.data(),
                                      in_place.data(), pixels, channels);
        REQUIRE(same_bits(in_place.data(), actual.data(), count));
      }
    }
    WARN(isa_name(level) << " channel_affine: max error " << worst_affine
                         << " (ulp(in * scale) + ulp(reference)), bound 1");

    for (std::size_t n = 0; n <= 3 * 16 + 3; ++n) {
      std::vector<float> a(n), b(n);
      for (std::size_t i = 0; i < n; ++i) {
        a[i] = i % 5 == 0 ? specials[i % specials.size()] : uniform(rng);
        b[i] = i % 3 == 0 ? specials[(i * 7) % specials.size()] : uniform(rng);
      }
      std::vector<float> expected(n), actual(n + 1, -7.0f);
      mote::kernels::add(mote::isa::Scalar{}, a.data(), b.data(), expected.data(), n);
      mote::kernels::add(tag, a.data(), b.data(), actual.data(), n);
      INFO(isa_name(level) << " add: n = " << n);
      REQUIRE(actual[n] == -7.0f);
      for (std::size_t i = 0; i < n; ++i)
        REQUIRE((same_bits(actual[i], expected[i]) ||
                 (std::isnan(actual[i]) && std::isnan(expected[i]))));
      std::vector<float> a_in_place = a, b_in_place = b;
      mote::kernels::add(tag, a_in_place.data(), b.data(), a_in_place.data(), n);
      mote::kernels::add(tag, a.data(), b_in_place.data(), b_in_place.data(), n);
      REQUIRE(same_bits(a_in_place.data(), actual.data(), n));
      REQUIRE(same_bits(b_in_place.data(), actual.data(), n));
    }
  });
}

TEST_CASE("SIMD softmax matches the scalar reference", "[kernels][elementwise][simd]") {
  std::mt19937 rng(5);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  each_simd_isa([&](auto tag, IsaLevel level) {
    double worst = 0.0;
    for (std::size_t channels = 1; channels <= 3 * 16 + 3; ++channels) {
      for (float range : {1e-3f, 10.0f, 100.0f}) {
        std::uniform_real_distribution<float> uniform(-range, range);
        constexpr std::size_t rows = 8;
        std::vector<float> in(rows * channels);
        for (float& v : in) v = uniform(rng);
        // Row 1: a NaN; row 2: +inf; row 3: all -inf; row 4: one -inf; row 5: a denormal and -0.
        in[1 * channels + channels / 2] = nan;
        in[2 * channels + (channels - 1)] = inf;
        for (std::size_t c = 0; c < channels; ++c) in[3 * channels + c] = -inf;
        in[4 * channels] = -inf;
        in[5 * channels + channels / 3] = 1e-40f;
        in[5 * channels + channels - 1] = -0.0f;
        std::vector<float> expected(in.size()), actual(in.size() + 1, -7.0f);
        mote::kernels::softmax(mote::isa::Scalar{}, in.data(), expected.data(), rows, channels);
        mote::kernels::softmax(tag, in.data(), actual.data(), rows, channels);
        const double bound = 4.0 + 2.0 * static_cast<double>(channels);
        INFO(isa_name(level) << " softmax: " << rows << " x " << channels << ", range " << range);
        REQUIRE(actual[in.size()] == -7.0f);
        for (std::size_t i = 0; i < in.size(); ++i) {
          INFO("element " << i << ": " << actual[i] << " vs " << expected[i]);
          const double e = error_of(Measure::ulp, in[i], actual[i], expected[i]);
          REQUIRE(e <= bound);
          worst = std::max(worst, e);
        }
        std::vector<float> in_place = in;
        mote::kernels::softmax(tag, in_place.data(), in_place.data(), rows, channels);
        for (std::size_t i = 0; i < in.size(); ++i)
          REQUIRE((same_bits(in_place[i], actual[i]) ||
                   (std::isnan(in_place[i]) && std::isnan(actual[i]))));
      }
    }
    WARN(isa_name(level) << " softmax: max error " << worst << " ulp, bound 4 + 2 * channels");
  });
}
