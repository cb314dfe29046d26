// bf16 and f16 weights: the scalar conversions (exhaustive over the 16-bit patterns, every
// rounding tie, overflow, subnormals, NaN), the SIMD widening on every ISA this CPU has (bit for
// bit over all patterns), the SIMD GEMV/GEMM against the scalar reference (bound:
// kernel_test_support.hpp, as for f32), and Dense layers in a network against an f32 network
// holding the same rounded weights.

#include "kernel_test_support.hpp"

#include <bit>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define MOTE_TEST_F16C 1
#endif

using namespace mote;
using mote_test::agrees;
using mote_test::dot_bound;

namespace {

std::uint32_t bits_of(float x) { return std::bit_cast<std::uint32_t>(x); }
float float_of(std::uint32_t bits) { return std::bit_cast<float>(bits); }

/// The value of an f16 bit pattern computed independently, in double.
double f16_value(std::uint16_t h) {
  const double sign = (h & 0x8000u) != 0 ? -1.0 : 1.0;
  const int exponent = (h >> 10) & 0x1F;
  const int mantissa = h & 0x3FF;
  if (exponent == 0x1F) return mantissa != 0 ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

#if defined(MOTE_TEST_F16C)
bool cpu_has_f16c() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
}
__attribute__((target("f16c"))) std::uint16_t hardware_float_to_f16(float x) {
  return static_cast<std::uint16_t>(
      _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), 0));
}
#endif

}  // namespace

// ---- conversions --------------------------------------------------------------------------------

static_assert(float_to_bf16(1.0f) == 0x3F80 && bf16_to_float(0xC000) == -2.0f);
static_assert(float_to_f16(1.0f) == 0x3C00 && f16_to_float(0xC000) == -2.0f && float_to_f16(65504.0f) == 0x7BFF);
static_assert(NumberFormat<BF16> && NumberFormat<F16> && BF16::bits_per_weight == 16);
static_assert(has_weight_storage_v<BF16, DenseStorage> && has_weight_storage_v<F16, DenseStorage>);

TEST_CASE("bf16: every pattern round-trips, NaN stays NaN and becomes quiet", "[half][numeric]") {
  for (std::uint32_t h = 0; h <= 0xFFFF; ++h) {
    const auto pattern = static_cast<std::uint16_t>(h);
    const float value = bf16_to_float(pattern);
    INFO("bf16 0x" << std::hex << h);
    REQUIRE(bits_of(value) == h << 16);  // widening is exact
    if (std::isnan(value)) {
      const std::uint16_t back = float_to_bf16(value);
      REQUIRE(std::isnan(bf16_to_float(back)));
      REQUIRE((back & 0x8040u) == ((pattern & 0x8000u) | 0x0040u));  // sign kept, quiet
    } else {
      REQUIRE(float_to_bf16(value) == pattern);
    }
  }
  // A NaN whose payload is only in the dropped bits must not become infinity.
  CHECK(float_to_bf16(float_of(0x7F800001u)) == 0x7FC0);
  CHECK(float_to_bf16(float_of(0xFF800001u)) == 0xFFC0);
  CHECK(float_to_bf16(std::numeric_limits<float>::infinity()) == 0x7F80);
  CHECK(float_to_bf16(-std::numeric_limits<float>::infinity()) == 0xFF80);
}

TEST_CASE("bf16: rounding to nearest, ties to even, between every pair of neighbours", "[half][numeric]") {
  // Between patterns h and h + 1 (same sign, h finite): the float at the midpoint, just below and
  // just above. Covers subnormals (h < 0x0080), and overflow: max finite 0x7F7F is odd, so its
  // midpoint with 0x7F80 (infinity) rounds to infinity.
  for (std::uint32_t h = 0; h <= 0xFFFF; ++h) {
    if ((h & 0x7FFFu) >= 0x7F80u) continue;  // inf, NaN
    const std::uint32_t midpoint = (h << 16) | 0x8000u;
    const auto even = static_cast<std::uint16_t>((h & 1u) == 0 ? h : h + 1);
    INFO("bf16 0x" << std::hex << h);
    REQUIRE(float_to_bf16(float_of(midpoint)) == even);
    REQUIRE(float_to_bf16(float_of(midpoint - 1)) == h);
    REQUIRE(float_to_bf16(float_of(midpoint + 1)) == h + 1);
  }
  CHECK(float_to_bf16(std::numeric_limits<float>::max()) == 0x7F80);
  CHECK(float_to_bf16(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK(float_to_bf16(-std::numeric_limits<float>::denorm_min()) == 0x8000);
}

TEST_CASE("f16: every pattern decodes exactly and round-trips, NaN stays NaN", "[half][numeric]") {
  for (std::uint32_t h = 0; h <= 0xFFFF; ++h) {
    const auto pattern = static_cast<std::uint16_t>(h);
    const float value = f16_to_float(pattern);
    const double expected = f16_value(pattern);
    INFO("f16 0x" << std::hex << h);
    if (std::isnan(expected)) {
      REQUIRE(std::isnan(value));
      REQUIRE(std::signbit(value) == ((h & 0x8000u) != 0));
      const std::uint16_t back = float_to_f16(value);
      REQUIRE((back & 0x7C00u) == 0x7C00u);
      REQUIRE((back & 0x03FFu) != 0);
      REQUIRE((back & 0x8200u) == ((pattern & 0x8000u) | 0x0200u));  // sign kept, quiet
      REQUIRE((back & 0x01FFu) == (pattern & 0x01FFu));              // payload kept
    } else {
      REQUIRE(static_cast<double>(value) == expected);
      REQUIRE(std::signbit(value) == ((h & 0x8000u) != 0));  // -0 too
      REQUIRE(float_to_f16(value) == pattern);
    }
  }
}

TEST_CASE("f16: rounding to nearest, ties to even, overflow and subnormals", "[half][numeric]") {
  // Between every pair of neighbours h, h + 1 below infinity, both signs: the midpoint (exact in
  // f32: 12 significant bits) and its float neighbours on either side.
  for (std::uint32_t magnitude = 0; magnitude < 0x7C00u; ++magnitude) {
    for (std::uint32_t sign : {0x0000u, 0x8000u}) {
      const auto low = static_cast<std::uint16_t>(sign | magnitude);
      const auto high = static_cast<std::uint16_t>(sign | (magnitude + 1));
      // Above the largest finite value (65504) the next step would be 65536: midpoint 65520.
      const double high_value = magnitude + 1 == 0x7C00u ? (sign != 0 ? -65536.0 : 65536.0) : f16_value(high);
      const float midpoint = static_cast<float>((f16_value(low) + high_value) / 2.0);
      const float toward_zero = std::nextafter(midpoint, 0.0f);
      const float away = std::nextafter(midpoint, sign != 0 ? -INFINITY : INFINITY);
      INFO("f16 0x" << std::hex << low << " .. 0x" << high);
      REQUIRE(float_to_f16(midpoint) == ((magnitude & 1u) == 0 ? low : high));
      REQUIRE(float_to_f16(toward_zero) == low);
      REQUIRE(float_to_f16(away) == high);  // 0x7BFF + 1 is infinity: overflow at 65520
    }
  }
  CHECK(float_to_f16(65519.996f) == 0x7BFF);
  CHECK(float_to_f16(65520.0f) == 0x7C00);
  CHECK(float_to_f16(-1e10f) == 0xFC00);
  CHECK(float_to_f16(std::numeric_limits<float>::max()) == 0x7C00);
  CHECK(float_to_f16(-std::numeric_limits<float>::infinity()) == 0xFC00);
  CHECK(float_to_f16(0x1p-24f) == 0x0001);                    // smallest subnormal
  CHECK(float_to_f16(0x1p-25f) == 0x0000);                    // tie with 0: even
  CHECK(float_to_f16(std::nextafter(0x1p-25f, 1.0f)) == 0x0001);
  CHECK(float_to_f16(0x1.8p-24f) == 0x0002);                  // 1.5 units: tie, to even 2
  CHECK(float_to_f16(0x1p-14f) == 0x0400);                    // smallest normal
  CHECK(float_to_f16(0x1.ffcp-15f) == 0x0400);                // 1023.5 units: carries into it
  CHECK(float_to_f16(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK(float_to_f16(-std::numeric_limits<float>::denorm_min()) == 0x8000);
  CHECK(float_to_f16(std::numeric_limits<float>::quiet_NaN()) == 0x7E00);
  CHECK(float_to_f16(float_of(0x7F800001u)) == 0x7E00);       // signalling: quiet, not inf
}

#if defined(MOTE_TEST_F16C)
TEST_CASE("f16: float_to_f16 agrees with F16C vcvtps2ph on random and special floats", "[half][numeric]") {
  if (!cpu_has_f16c()) {
    WARN("this CPU has no F16C: float_to_f16 not compared with vcvtps2ph");
    return;
  }
  std::mt19937 rng(21);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  std::uniform_int_distribution<std::uint32_t> near_range(0x32800000u, 0x47900000u);  // 2^-26 .. 2^16
  for (int i = 0; i < 1 << 20; ++i) {
    const std::uint32_t bits = i % 2 == 0 ? any_bits(rng) : (near_range(rng) | (any_bits(rng) & 0x80000000u));
    const float value = float_of(bits);
    INFO("float 0x" << std::hex << bits);
    REQUIRE(float_to_f16(value) == hardware_float_to_f16(value));
  }
}
#endif

// ---- storage ------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("Half weight matrices: panels, rounding once, bytes, scale_row", "[half][layout]", BF16, F16) {
  const std::size_t rows = 19, cols = 5;
  std::vector<float> values(rows * cols);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.1f * static_cast<float>(i) - 3.0f;
  WeightMatrix<TestType, DenseStorage> matrix(rows, cols);
  matrix.assign(values.data());
  WeightMatrix<F32, DenseStorage> reference(rows, cols);
  reference.assign(values.data());
  CHECK(matrix.padded_rows() == 32);
  CHECK(matrix.panel_count() == 2);
  CHECK(matrix.bytes() * 2 == reference.bytes());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < cols; ++k) {
      const std::uint16_t stored = matrix.panel(r / 16)[k * 16 + r % 16];
      CHECK(stored == TestType::encode(values[r * cols + k]));
      CHECK(matrix.at(r, k) == TestType::decode(stored));
    }
  for (std::size_t k = 0; k < cols; ++k) CHECK(matrix.panel(1)[k * 16 + 15] == 0);  // padding rows
  matrix.scale_row(3, 2.0f);  // a power of two: exact
  for (std::size_t k = 0; k < cols; ++k) CHECK(matrix.at(3, k) == 2.0f * TestType::decode(TestType::encode(values[3 * cols + k])));
  CHECK(matrix.at(4, 0) == TestType::decode(TestType::encode(values[4 * cols])));
}

// ---- SIMD kernels against the scalar reference --------------------------------------------------

namespace {

/// Random weights in [-1, 1], bias in [-1, 1], inputs in [-4, 4] (as the f32 tests).
struct HalfProblem {
  std::vector<float> weights, bias, input;
};

HalfProblem random_half_problem(std::mt19937& rng, std::size_t rows, std::size_t cols, std::size_t inputs) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  HalfProblem p;
  p.weights.resize(rows * cols);
  p.bias.resize(rows);
  p.input.resize(inputs);
  for (float& v : p.weights) v = uniform(rng);
  for (float& v : p.bias) v = uniform(rng);
  for (float& v : p.input) v = uniform(rng) * 4.0f;
  return p;
}

template <class Format>
struct HalfStored {
  WeightMatrix<Format, DenseStorage> matrix;
  AlignedBuffer<float> bias;
  HalfStored(const HalfProblem& p, std::size_t rows, std::size_t cols)
      : matrix(rows, cols), bias(matrix.padded_rows()) {
    matrix.assign(p.weights.data());
    for (std::size_t r = 0; r < rows; ++r) bias[r] = p.bias[r];
  }
};

/// The float bound of kernel_test_support.hpp for output (sample, row): the products are those
/// of the widened weights, which both kernels multiply by.
template <class Format>
double half_bound(const HalfStored<Format>& stored, const HalfProblem& p, std::size_t sample, std::size_t row) {
  const std::size_t cols = stored.matrix.cols();
  double magnitude = std::fabs(p.bias[row]);
  for (std::size_t k = 0; k < cols; ++k)
    magnitude += std::fabs(static_cast<double>(stored.matrix.at(row, k)) * p.input[sample * cols + k]);
  return dot_bound(cols, magnitude);
}

template <class Format, class Activation>
void check_gemv(std::mt19937& rng, auto tag, const std::string& isa_name, Activation activation) {
  for (std::size_t rows : {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47}) {
    for (std::size_t cols : {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 63, 64, 65}) {
      const HalfProblem p = random_half_problem(rng, rows, cols, cols);
      const HalfStored<Format> stored(p, rows, cols);
      std::vector<float> expected(rows + 1, -7.0f), actual(rows + 1, -7.0f);  // +1: no overrun
      kernels::dense(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data(), activation);
      kernels::dense(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data(), activation);
      REQUIRE(actual[rows] == -7.0f);
      for (std::size_t r = 0; r < rows; ++r) {
        INFO(isa_name << " " << Format::name << " " << Activation::name << ": rows " << rows << ", cols " << cols
                      << ", row " << r << ": simd " << actual[r] << ", reference " << expected[r]);
        REQUIRE(agrees(actual[r], expected[r], half_bound(stored, p, 0, r)));
      }
    }
  }
}

template <class Format>
void check_gemm(std::mt19937& rng, auto tag, const std::string& isa_name) {
  for (std::size_t batch : {1, 2, 3, 4, 5, 6, 7, 12, 13, 24, 25}) {
    for (std::size_t rows : {1, 7, 9, 16, 17, 40}) {
      for (std::size_t cols : {1, 3, 8, 9, 17, 45}) {
        const HalfProblem p = random_half_problem(rng, rows, cols, batch * cols);
        const HalfStored<Format> stored(p, rows, cols);
        std::vector<float> expected(batch * rows + 1, -7.0f), actual(batch * rows + 1, -7.0f);
        kernels::dense_batch(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data(), batch);
        kernels::dense_batch(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data(), batch);
        REQUIRE(actual[batch * rows] == -7.0f);
        for (std::size_t b = 0; b < batch; ++b)
          for (std::size_t r = 0; r < rows; ++r) {
            INFO(isa_name << " " << Format::name << ": batch " << batch << ", rows " << rows << ", cols " << cols
                          << ", sample " << b << ", row " << r);
            REQUIRE(agrees(actual[b * rows + r], expected[b * rows + r], half_bound(stored, p, b, r)));
          }
      }
    }
  }
}

/// Every 16-bit pattern as a weight (rows = 65536, one column), times 1 plus a zero bias: the
/// kernel's output is its widened weight, which must be the scalar decode bit for bit (a zero's
/// sign aside: -0 + 0 is +0; NaN: any NaN).
template <class Format>
void check_widening(auto tag, const std::string& isa_name) {
  const std::size_t rows = 65536;
  std::vector<float> decoded(rows);
  for (std::size_t h = 0; h < rows; ++h) decoded[h] = Format::decode(static_cast<std::uint16_t>(h));
  WeightMatrix<Format, DenseStorage> matrix(rows, 1);
  matrix.assign(decoded.data());
  AlignedBuffer<float> bias(matrix.padded_rows());
  const float one = 1.0f;
  std::vector<float> out(rows);
  kernels::dense(tag, matrix, bias.data(), &one, out.data());
  for (std::size_t h = 0; h < rows; ++h) {
    INFO(isa_name << " " << Format::name << " 0x" << std::hex << h);
    if (std::isnan(decoded[h])) REQUIRE(std::isnan(out[h]));
    else REQUIRE(out[h] == decoded[h]);
  }
}

}  // namespace

TEST_CASE("SIMD bf16/f16 widening is exact on every ISA, for every pattern", "[half][kernels][simd]") {
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    check_widening<BF16>(tag, isa_name);
    check_widening<F16>(tag, isa_name);
  });
}

TEST_CASE("SIMD bf16/f16 dense (GEMV) matches the scalar reference on every ISA", "[half][kernels][dense][simd]") {
  std::mt19937 rng(31);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    check_gemv<BF16>(rng, tag, isa_name, activation::Identity{});
    check_gemv<F16>(rng, tag, isa_name, activation::Identity{});
    check_gemv<BF16>(rng, tag, isa_name, activation::Relu{});  // exact after the sum: same bound
    check_gemv<F16>(rng, tag, isa_name, activation::Relu6{});
  });
}

TEST_CASE("SIMD bf16/f16 batched dense (GEMM) matches the scalar reference on every ISA",
          "[half][kernels][dense][simd][batch]") {
  std::mt19937 rng(32);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    check_gemm<BF16>(rng, tag, isa_name);
    check_gemm<F16>(rng, tag, isa_name);
  });
}

TEST_CASE("SIMD bf16/f16 dense propagates NaN and infinities like the reference", "[half][kernels][simd][special]") {
  std::mt19937 rng(33);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    const std::size_t rows = 19, cols = 21;
    HalfProblem p = random_half_problem(rng, rows, cols, cols);
    p.weights[2 * cols + 4] = std::numeric_limits<float>::infinity();  // row 2: +-inf
    p.weights[6 * cols + 9] = std::numeric_limits<float>::quiet_NaN();  // row 6: NaN
    p.weights[8 * cols + 1] = 1e6f;                                     // f16: infinity
    p.input[11] = -0.0f;
    p.input[13] = std::numeric_limits<float>::denorm_min();
    const HalfStored<BF16> bf16(p, rows, cols);
    const HalfStored<F16> f16(p, rows, cols);
    std::vector<float> expected(rows), actual(rows);
    auto compare = [&](const auto& stored, const char* format) {
      kernels::dense(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data());
      kernels::dense(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data());
      for (std::size_t r = 0; r < rows; ++r) {
        INFO(isa_name << " " << format << ": row " << r << ": simd " << actual[r] << ", reference " << expected[r]);
        REQUIRE(agrees(actual[r], expected[r], half_bound(stored, p, 0, r)));
      }
      CHECK(std::isinf(actual[2]));
      CHECK(std::isnan(actual[6]));
    };
    compare(bf16, "bf16");
    compare(f16, "f16");
    CHECK(std::isinf(actual[8]));  // f16 only: 1e6 overflowed to infinity
  });
}

// ---- Dense layers in a network ------------------------------------------------------------------

namespace {

template <class Format, class... Tag>
using HalfMlp = Sequential<Input<37>, Dense<40, Weights<Format>, Tag...>, ReLU, Dense<19, Weights<Format>, Tag...>,
                           Tanh, Dense<33, Weights<Format>, Tag...>, Dense<5, Weights<Format>, Tag...>>;

/// Loads the same seeded weights into `half` as they are and into `f32` rounded through Format,
/// so that both networks multiply by the same values.
template <class Format, class HalfNet, class F32Net>
void load_same_rounded_weights(HalfNet& half, F32Net& f32, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
  std::vector<std::vector<float>> exact, rounded;
  std::vector<TensorRef> exact_refs, rounded_refs;
  const auto params = HalfNet::parameters();
  exact.reserve(params.size()), rounded.reserve(params.size());
  for (const ParameterInfo& p : params) {
    exact.emplace_back(p.spec.size());
    for (float& v : exact.back()) v = uniform(rng);
    rounded.push_back(exact.back());
    const bool is_weight = std::string(p.spec.name) == "weight";
    if (is_weight)
      for (float& v : rounded.back()) v = Format::decode(Format::encode(v));
    const std::vector<std::size_t> dims(p.spec.dims.begin(), p.spec.dims.begin() + static_cast<long>(p.spec.rank));
    exact_refs.push_back(TensorRef::f32(p.name, dims, exact.back().data()));
    rounded_refs.push_back(TensorRef::f32(p.name, dims, rounded.back().data()));
  }
  half.load(exact_refs, "random", WeightNames::layer_index());
  f32.load(rounded_refs, "random rounded", WeightNames::layer_index());
}

template <class Format, class Half, class Full>
void check_network_against_rounded_f32() {
  auto half = std::make_unique<Half>();
  auto full = std::make_unique<Full>();
  load_same_rounded_weights<Format>(*half, *full, 41);
  CHECK_THAT(Half::summary(), Catch::Contains(std::string("(") + Format::name));
  // Weights and biases: the f32 matrices' bytes halved, biases (f32) unchanged.
  const std::size_t bias_bytes = (48 + 32 + 48 + 16) * sizeof(float);  // padded to 16 rows
  CHECK(half->weight_bytes() - bias_bytes == (full->weight_bytes() - bias_bytes) / 2);

  constexpr std::size_t batch = 7;
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<float> in(batch * 37);
  for (float& v : in) v = uniform(rng);
  std::vector<float> expected(batch * 5), actual(batch * 5);
  typename Half::Workspace half_workspace(batch);
  typename Full::Workspace full_workspace(batch);
  for (std::size_t b = 0; b < batch; ++b) {
    half->forward(std::span<const float, 37>(in.data() + b * 37, 37), std::span<float, 5>(actual.data() + b * 5, 5),
                  half_workspace.bytes());
    full->forward(std::span<const float, 37>(in.data() + b * 37, 37), std::span<float, 5>(expected.data() + b * 5, 5),
                  full_workspace.bytes());
  }
  // The same products summed by kernels of the same ISA (or one of them the scalar reference):
  // require_close's default bound covers reordered f32 sums of this size.
  mote_test::require_close(actual.data(), expected);
  for (std::size_t size : {std::size_t{1}, std::size_t{2}, std::size_t{6}, batch}) {
    std::vector<float> batched(size * 5);
    half->forward_batch(std::span<const float>(in.data(), size * 37), batched, half_workspace);
    mote_test::require_close(batched.data(), std::vector<float>(expected.begin(), expected.begin() + size * 5));
  }
}

}  // namespace

TEMPLATE_TEST_CASE("Dense<N, Weights<BF16|F16>> computes what f32 Dense computes with the rounded weights",
                   "[half][layers]", BF16, F16) {
  // Run-time dispatch (the default), and the scalar reference pinned.
  check_network_against_rounded_f32<TestType, HalfMlp<TestType>, HalfMlp<F32>>();
  check_network_against_rounded_f32<TestType, HalfMlp<TestType, isa::Scalar>, HalfMlp<F32>>();
}
