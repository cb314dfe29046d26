// Binary weights (Weights<Binary>) with f32 and binary activations: the packing (signs, scales,
// padding, BatchNorm folding), the scalar references against sums computed here from the
// definition, every SIMD ISA of this CPU against the references (XNOR-popcount bit for bit; f32
// activations within the f32 summation bound of kernel_test_support.hpp), and Dense layers in
// networks against f32 networks holding the dequantised weights.

#include "../kernels/kernel_test_support.hpp"

#include <bit>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <vector>

using namespace mote;
using mote_test::agrees;
using mote_test::dot_bound;

static_assert(NumberFormat<Binary> && Binary::bits_per_weight == 1 && std::string_view(Binary::name) == "binary");
static_assert(has_weight_storage_v<Binary, DenseStorage>);
static_assert(Binary::sign(0.0f) == 1 && Binary::sign(-0.0f) == 1 && Binary::sign(-1e-30f) == -1);
static_assert(Binary::sign(std::numeric_limits<float>::quiet_NaN()) == -1);
static_assert(Binary::sign(std::numeric_limits<float>::infinity()) == 1);

namespace {

constexpr float nan_f = std::numeric_limits<float>::quiet_NaN();
constexpr float inf_f = std::numeric_limits<float>::infinity();

/// The row scale by its definition: mean |w| over the row, non-finite values counting 0.
float expected_scale(const float* row, std::size_t cols) {
  double sum = 0.0;
  for (std::size_t k = 0; k < cols; ++k)
    if (std::isfinite(row[k])) sum += std::fabs(static_cast<double>(row[k]));
  return static_cast<float>(sum / static_cast<double>(cols));
}

/// Random weights in [-1, 1], bias in [-1, 1], inputs in [-4, 4], plus exact zeros of both
/// signs among the inputs.
struct Problem {
  std::vector<float> weights, bias, input;
};

Problem random_problem(std::mt19937& rng, std::size_t rows, std::size_t cols, std::size_t inputs) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  Problem p;
  p.weights.resize(rows * cols);
  p.bias.resize(rows);
  p.input.resize(inputs);
  for (float& v : p.weights) v = uniform(rng);
  for (float& v : p.bias) v = uniform(rng);
  for (float& v : p.input) v = uniform(rng) * 4.0f;
  for (std::size_t i = 5; i < p.input.size(); i += 11) p.input[i] = (i / 11) % 2 == 0 ? 0.0f : -0.0f;
  return p;
}

struct Stored {
  WeightMatrix<Binary, DenseStorage> matrix;
  AlignedBuffer<float> bias;
  Stored(const Problem& p, std::size_t rows, std::size_t cols) : matrix(rows, cols), bias(matrix.padded_rows()) {
    matrix.assign(p.weights.data());
    for (std::size_t r = 0; r < rows; ++r) bias[r] = p.bias[r];
  }
};

/// Scratch for the XNOR kernels, poisoned so that reading an unwritten word would show.
AlignedBuffer<std::byte> xnor_scratch(std::size_t cols, std::size_t batch) {
  AlignedBuffer<std::byte> scratch(kernels::binary_xnor_scratch_bytes(cols) * batch);
  for (std::byte& b : scratch) b = std::byte{0xA5};
  return scratch;
}

/// The float bound for f32 activations: the kernels sum cols terms +-x_k, multiply by the scale
/// and add the bias, in any order: 2 gamma_(cols + 2) (scale sum |x| + |b|).
double f32_bound(const Stored& stored, const Problem& p, std::size_t sample, std::size_t row) {
  const std::size_t cols = stored.matrix.cols();
  double magnitude = 0.0;
  for (std::size_t k = 0; k < cols; ++k) magnitude += std::fabs(static_cast<double>(p.input[sample * cols + k]));
  return dot_bound(cols + 1, magnitude * stored.matrix.scale(row) + std::fabs(p.bias[row]));
}

const std::size_t kRows[] = {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47};
const std::size_t kCols[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100};
// Around the byte-count flush (31 groups of 32 columns = 992) and its multiples.
const std::size_t kLongCols[] = {991, 992, 993, 1024, 1983, 1984, 1985, 3000};

}  // namespace

// ---- storage ------------------------------------------------------------------------------------

TEST_CASE("Binary weight matrix: sign bits in 16x32 groups, zero padding, mean |w| scales", "[binary][layout]") {
  const std::size_t rows = 19, cols = 37;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<float> values(rows * cols);
  for (float& v : values) v = uniform(rng);
  values[0] = 0.0f;             // +1
  values[1] = -0.0f;            // +1 (0 >= 0)
  values[2] = nan_f;            // -1, counts 0 in the scale
  values[cols + 3] = inf_f;     // +1, counts 0
  values[cols + 4] = -inf_f;    // -1, counts 0
  WeightMatrix<Binary, DenseStorage> matrix(rows, cols);
  matrix.assign(values.data());
  CHECK(matrix.padded_rows() == 32);
  CHECK(matrix.panel_count() == 2);
  CHECK(matrix.group_count() == 2);
  CHECK(matrix.bytes() == 32 * 2 * sizeof(std::uint32_t) + 32 * sizeof(float));
  for (std::size_t r = 0; r < rows; ++r) {
    INFO("row " << r);
    CHECK(matrix.scale(r) == expected_scale(values.data() + r * cols, cols));
    CHECK(matrix.scales()[r] == matrix.scale(r));
    for (std::size_t k = 0; k < cols; ++k) {
      const bool negative = !(values[r * cols + k] >= 0.0f);
      const std::uint32_t word = matrix.panel(r / 16)[(k / 32) * 16 + r % 16];
      CHECK(((word >> (k % 32)) & 1u) == (negative ? 1u : 0u));
      CHECK(matrix.negative(r, k) == negative);
      CHECK(matrix.sign(r, k) == (negative ? -1.0f : 1.0f));
      CHECK(matrix.at(r, k) == (negative ? -matrix.scale(r) : matrix.scale(r)));
    }
    CHECK((matrix.word(r, 1) >> (cols - 32)) == 0u);  // padding columns: +1 (bit 0)
  }
  CHECK_FALSE(matrix.negative(0, 0));
  CHECK_FALSE(matrix.negative(0, 1));
  CHECK(matrix.negative(0, 2));
  CHECK_FALSE(matrix.negative(1, 3));
  CHECK(matrix.negative(1, 4));
  for (std::size_t r = rows; r < 32; ++r) {  // padding rows: no bits, scale 0
    CHECK(matrix.scales()[r] == 0.0f);
    for (std::size_t g = 0; g < 2; ++g) CHECK(matrix.panel(1)[g * 16 + r % 16] == 0u);
  }
}

TEST_CASE("Binary weight matrix: scale_row (BatchNorm folding) scales, and flips signs for negative factors",
          "[binary][layout]") {
  const std::size_t rows = 5, cols = 40;
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(rows * cols);
  for (float& v : values) v = uniform(rng);
  WeightMatrix<Binary, DenseStorage> matrix(rows, cols), original(rows, cols);
  matrix.assign(values.data());
  original.assign(values.data());
  matrix.scale_row(1, 2.0f);
  matrix.scale_row(2, -0.5f);
  matrix.scale_row(3, 0.0f);
  for (std::size_t k = 0; k < cols; ++k) {
    CHECK(matrix.at(0, k) == original.at(0, k));
    CHECK(matrix.at(1, k) == 2.0f * original.at(1, k));
    CHECK(matrix.negative(2, k) == !original.negative(2, k));
    CHECK(matrix.at(2, k) == -0.5f * original.at(2, k));
    CHECK(matrix.at(3, k) == 0.0f);
  }
  CHECK((matrix.word(2, 1) >> (cols - 32)) == 0u);  // padding columns stay +1 after a flip
  CHECK(matrix.scale(2) == 0.5f * original.scale(2));
}

// ---- the scalar references against the definition ----------------------------------------------

TEST_CASE("Binary reference kernels compute the definition", "[binary][kernels][reference]") {
  std::mt19937 rng(3);
  for (std::size_t rows : {1, 5, 17}) {
    for (std::size_t cols : {1, 31, 32, 33, 70}) {
      const std::size_t batch = 3;
      Problem p = random_problem(rng, rows, cols, batch * cols);
      p.input[0] = nan_f;  // binarises to -1; propagates through the f32 path
      const Stored stored(p, rows, cols);
      std::vector<float> xnor(batch * rows), real(batch * rows);
      auto scratch = xnor_scratch(cols, batch);
      kernels::dense_xnor(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), xnor.data(), batch,
                          activation::Identity{}, scratch.data());
      kernels::dense_batch(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), real.data(), batch);
      for (std::size_t b = 0; b < batch; ++b) {
        for (std::size_t r = 0; r < rows; ++r) {
          const float* w = p.weights.data() + r * cols;
          const float* x = p.input.data() + b * cols;
          const float scale = expected_scale(w, cols);
          std::int32_t dot = 0;
          double sum = 0.0, magnitude = 0.0;
          for (std::size_t k = 0; k < cols; ++k) {
            const int ws = w[k] >= 0.0f ? 1 : -1, xs = x[k] >= 0.0f ? 1 : -1;
            dot += ws * xs;
            sum += ws * static_cast<double>(x[k]);
            magnitude += std::fabs(static_cast<double>(x[k]));
          }
          INFO("rows " << rows << ", cols " << cols << ", sample " << b << ", row " << r);
          CHECK(xnor[b * rows + r] == std::fma(static_cast<float>(dot), scale, p.bias[r]));
          if (b == 0) {
            CHECK(std::isnan(real[r]));
          } else {
            const double exact = scale * sum + p.bias[r];
            CHECK(std::fabs(real[b * rows + r] - exact) <= dot_bound(cols + 1, scale * magnitude + std::fabs(p.bias[r])) / 2);
          }
        }
      }
    }
  }
}

// ---- SIMD kernels against the references --------------------------------------------------------

namespace {

template <class Activation>
void check_xnor(std::mt19937& rng, auto tag, const std::string& isa_name, std::size_t rows, std::size_t cols,
                std::size_t batch, Activation activation) {
  const Problem p = random_problem(rng, rows, cols, batch * cols);
  const Stored stored(p, rows, cols);
  std::vector<float> expected(batch * rows + 1, -7.0f), actual(batch * rows + 1, -7.0f);  // +1: no overrun
  auto scratch_ref = xnor_scratch(cols, batch), scratch = xnor_scratch(cols, batch);
  kernels::dense_xnor(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data(), batch,
                      activation, scratch_ref.data());
  kernels::dense_xnor(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data(), batch, activation,
                      scratch.data());
  REQUIRE(actual[batch * rows] == -7.0f);
  for (std::size_t i = 0; i < batch * rows; ++i) {
    INFO(isa_name << " xnor " << Activation::name << ": rows " << rows << ", cols " << cols << ", batch " << batch
                  << ", output " << i << ": simd " << actual[i] << ", reference " << expected[i]);
    if constexpr (activation::is_piecewise_linear_v<Activation>) REQUIRE(std::bit_cast<std::uint32_t>(actual[i]) ==
                                                                         std::bit_cast<std::uint32_t>(expected[i]));
    else REQUIRE(std::fabs(actual[i] - expected[i]) <= 1e-6f);  // the ISA's vector tanh: a few ulp
  }
}

template <class Activation>
void check_real(std::mt19937& rng, auto tag, const std::string& isa_name, std::size_t rows, std::size_t cols,
                std::size_t batch, Activation activation) {
  const Problem p = random_problem(rng, rows, cols, batch * cols);
  const Stored stored(p, rows, cols);
  std::vector<float> expected(batch * rows + 1, -7.0f), actual(batch * rows + 1, -7.0f);
  if (batch == 1) {
    kernels::dense(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data(), activation);
    kernels::dense(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data(), activation);
  } else {
    kernels::dense_batch(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data(), batch,
                         activation);
    kernels::dense_batch(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data(), batch, activation);
  }
  REQUIRE(actual[batch * rows] == -7.0f);
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t r = 0; r < rows; ++r) {
      INFO(isa_name << " f32 activations " << Activation::name << ": rows " << rows << ", cols " << cols << ", batch "
                    << batch << ", sample " << b << ", row " << r << ": simd " << actual[b * rows + r]
                    << ", reference " << expected[b * rows + r]);
      // ReLU/ReLU6 are 1-Lipschitz and exact: the same bound holds after them.
      REQUIRE(agrees(actual[b * rows + r], expected[b * rows + r], f32_bound(stored, p, b, r)));
    }
}

}  // namespace

TEST_CASE("SIMD XNOR-popcount dense equals the scalar reference bit for bit on every ISA",
          "[binary][kernels][dense][simd]") {
  std::mt19937 rng(11);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    for (std::size_t rows : kRows)
      for (std::size_t cols : kCols)
        for (std::size_t batch = 1; batch <= 9; ++batch) check_xnor(rng, tag, isa_name, rows, cols, batch, activation::Identity{});
    for (std::size_t cols : kLongCols)
      for (std::size_t batch : {1, 4, 9}) check_xnor(rng, tag, isa_name, 33, cols, batch, activation::Identity{});
    for (std::size_t batch : {1, 5}) {
      check_xnor(rng, tag, isa_name, 21, 45, batch, activation::Relu{});
      check_xnor(rng, tag, isa_name, 21, 45, batch, activation::Relu6{});
      check_xnor(rng, tag, isa_name, 21, 45, batch, activation::LeakyRelu<1, 8>{});
      check_xnor(rng, tag, isa_name, 21, 45, batch, activation::Tanh{});
    }
  });
}

TEST_CASE("SIMD XNOR dense: the adversarial counts and special inputs", "[binary][kernels][dense][simd][special]") {
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    // All weights +1 or all -1, inputs all agreeing or all disagreeing: d = +-cols, across the
    // flush boundary (every byte count at its maximum, 8 per group, for 31 groups).
    for (std::size_t cols : {992, 993, 2048}) {
      const std::size_t rows = 18, batch = 2;
      Problem p;
      p.weights.resize(rows * cols);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t k = 0; k < cols; ++k) p.weights[r * cols + k] = r % 2 == 0 ? 1.0f : -1.0f;
      p.bias.assign(rows, 0.0f);
      p.input.resize(batch * cols);
      for (std::size_t k = 0; k < cols; ++k) p.input[k] = 1.0f, p.input[cols + k] = -2.0f;
      const Stored stored(p, rows, cols);
      std::vector<float> out(batch * rows);
      auto scratch = xnor_scratch(cols, batch);
      kernels::dense_xnor(tag, stored.matrix, stored.bias.data(), p.input.data(), out.data(), batch,
                          activation::Identity{}, scratch.data());
      for (std::size_t r = 0; r < rows; ++r) {
        INFO(isa_name << ": cols " << cols << ", row " << r);
        const float d = static_cast<float>(cols);
        REQUIRE(out[r] == (r % 2 == 0 ? d : -d));
        REQUIRE(out[rows + r] == (r % 2 == 0 ? -d : d));
      }
    }
    // Special inputs: +-0 binarise to +1, NaN to -1, +-inf and denormals by their sign.
    const std::size_t rows = 3, cols = 40;
    Problem p;
    p.weights.assign(rows * cols, 1.0f);
    p.bias.assign(rows, 0.5f);
    p.input.assign(cols, 1.0f);
    const float specials[] = {0.0f, -0.0f, nan_f, -nan_f, inf_f, -inf_f, std::numeric_limits<float>::denorm_min(),
                              -std::numeric_limits<float>::denorm_min()};
    std::int32_t expected_dot = static_cast<std::int32_t>(cols);
    for (std::size_t i = 0; i < std::size(specials); ++i) {
      p.input[3 * i + 1] = specials[i];  // columns 1..22, across both ends of a word
      if (Binary::negative(specials[i])) expected_dot -= 2;
    }
    CHECK(expected_dot == static_cast<std::int32_t>(cols) - 2 * 4);
    const Stored stored(p, rows, cols);
    std::vector<float> out(rows), reference(rows);
    auto scratch = xnor_scratch(cols, 1);
    kernels::dense_xnor(tag, stored.matrix, stored.bias.data(), p.input.data(), out.data(), 1, activation::Identity{},
                        scratch.data());
    kernels::dense_xnor(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), reference.data(), 1,
                        activation::Identity{}, scratch.data());
    for (std::size_t r = 0; r < rows; ++r) {
      INFO(isa_name << ": row " << r);
      CHECK(out[r] == static_cast<float>(expected_dot) + 0.5f);
      CHECK(reference[r] == out[r]);
    }
  });
}

TEST_CASE("SIMD binary dense with f32 activations matches the scalar reference on every ISA (GEMV and GEMM)",
          "[binary][kernels][dense][simd]") {
  std::mt19937 rng(12);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    for (std::size_t rows : kRows)
      for (std::size_t cols : kCols)
        for (std::size_t batch = 1; batch <= 9; ++batch) check_real(rng, tag, isa_name, rows, cols, batch, activation::Identity{});
    for (std::size_t cols : {161, 200, 737, 991, 1024, 1057})
      for (std::size_t batch : {1, 3, 8}) check_real(rng, tag, isa_name, 17, cols, batch, activation::Identity{});
    for (std::size_t batch : {1, 4}) {
      check_real(rng, tag, isa_name, 21, 45, batch, activation::Relu{});
      check_real(rng, tag, isa_name, 21, 45, batch, activation::Relu6{});
    }
  });
}

TEST_CASE("SIMD binary dense with f32 activations propagates NaN and infinities", "[binary][kernels][simd][special]") {
  std::mt19937 rng(13);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    const std::size_t rows = 19, cols = 45;
    Problem p = random_problem(rng, rows, cols, 2 * cols);
    p.input[7] = nan_f;          // sample 0: every output NaN
    p.input[cols + 40] = inf_f;  // sample 1: +-inf by each row's sign of column 40
    const Stored stored(p, rows, cols);
    for (std::size_t batch : {1, 2}) {
      std::vector<float> expected(2 * rows), actual(2 * rows);
      for (std::size_t b = 0; b < 2; b += batch) {
        if (batch == 1) {
          kernels::dense(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data() + b * cols,
                         expected.data() + b * rows);
          kernels::dense(tag, stored.matrix, stored.bias.data(), p.input.data() + b * cols, actual.data() + b * rows);
        } else {
          kernels::dense_batch(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data(), 2);
          kernels::dense_batch(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data(), 2);
        }
      }
      for (std::size_t r = 0; r < rows; ++r) {
        INFO(isa_name << ": batch " << batch << ", row " << r);
        CHECK(std::isnan(actual[r]));
        CHECK(actual[rows + r] == (stored.matrix.negative(r, 40) ? -inf_f : inf_f));
        CHECK(actual[rows + r] == expected[rows + r]);
      }
    }
  });
}

// ---- Dense layers in networks -------------------------------------------------------------------

namespace {

template <class... Tag>
using BinaryMlp = Sequential<Input<37>, Dense<40, Weights<Binary>, Tag...>, ReLU, Dense<19, Weights<Binary>, Tag...>,
                             Tanh, Dense<33, Weights<Binary>, Tag...>, Dense<5, Weights<Binary>, Tag...>>;
using FloatMlp = Sequential<Input<37>, Dense<40>, ReLU, Dense<19>, Tanh, Dense<33>, Dense<5>>;

template <class... Tag>
using BinaryBnNet = Sequential<Input<70>, Dense<48, Weights<Binary>, Tag...>, BatchNorm, ReLU,
                               Dense<6, Weights<Binary>, Tag...>>;
using FloatBnNet = Sequential<Input<70>, Dense<48>, BatchNorm, ReLU, Dense<6>>;

/// Seeded parameters for `Net`; with `dequantise`, each Dense weight matrix replaced by what
/// binary storage stands for (sign times the row's mean |w|, computed here from the definition).
template <class Net>
void load_parameters(Net& net, std::uint32_t seed, bool dequantise) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
  std::vector<std::vector<float>> storage;
  std::vector<TensorRef> refs;
  for (const ParameterInfo& p : Net::parameters()) {
    storage.emplace_back(p.spec.size());
    const std::string name = p.spec.name;
    for (float& v : storage.back()) v = name == "running_var" ? 1.0f + uniform(rng) : uniform(rng);
    if (dequantise && name == "weight" && p.spec.rank == 2) {
      const std::size_t rows = p.spec.dims[0], cols = p.spec.dims[1];
      for (std::size_t r = 0; r < rows; ++r) {
        float* row = storage.back().data() + r * cols;
        const float scale = expected_scale(row, cols);
        for (std::size_t k = 0; k < cols; ++k) row[k] = row[k] >= 0.0f ? scale : -scale;
      }
    }
    const std::vector<std::size_t> dims(p.spec.dims.begin(), p.spec.dims.begin() + static_cast<long>(p.spec.rank));
    refs.push_back(TensorRef::f32(p.name, dims, storage.back().data()));
  }
  net.load(refs, "random", WeightNames::layer_index());
}

template <class BinaryNet, class FloatNet>
void check_against_dequantised(std::uint32_t seed) {
  auto binary = std::make_unique<BinaryNet>();
  auto full = std::make_unique<FloatNet>();
  load_parameters(*binary, seed, false);
  load_parameters(*full, seed, true);
  CHECK_THAT(BinaryNet::summary(), Catch::Contains("(binary"));
  CHECK(binary->weight_bytes() < full->weight_bytes() / 4);
  constexpr std::size_t in_size = BinaryNet::input_shape::size, out_size = BinaryNet::output_shape::size;
  constexpr std::size_t batch = 7;
  std::mt19937 rng(seed + 1);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<float> in(batch * in_size);
  for (float& v : in) v = uniform(rng);
  std::vector<float> expected(batch * out_size), actual(batch * out_size);
  typename BinaryNet::Workspace binary_workspace(batch);
  typename FloatNet::Workspace full_workspace(batch);
  for (std::size_t b = 0; b < batch; ++b) {
    binary->forward(std::span<const float, in_size>(in.data() + b * in_size, in_size),
                    std::span<float, out_size>(actual.data() + b * out_size, out_size), binary_workspace.bytes());
    full->forward(std::span<const float, in_size>(in.data() + b * in_size, in_size),
                  std::span<float, out_size>(expected.data() + b * out_size, out_size), full_workspace.bytes());
  }
  // The same real products (+-scale x), rounded in a different order: require_close's bound.
  mote_test::require_close(actual.data(), expected);
  for (std::size_t size = 1; size <= batch; ++size) {
    std::vector<float> batched(size * out_size);
    binary->forward_batch(std::span<const float>(in.data(), size * in_size), batched, binary_workspace);
    mote_test::require_close(batched.data(), std::vector<float>(expected.begin(), expected.begin() + size * out_size));
  }
}

}  // namespace

TEST_CASE("Dense<N, Weights<Binary>> computes what f32 Dense computes with the dequantised weights",
          "[binary][layers]") {
  check_against_dequantised<BinaryMlp<>, FloatMlp>(41);               // run-time dispatch
  check_against_dequantised<BinaryMlp<isa::Scalar>, FloatMlp>(42);     // the reference pinned
  // BatchNorm folded into binary weights (negative gammas flip rows) vs folded into f32 ones.
  check_against_dequantised<BinaryBnNet<>, FloatBnNet>(43);
  check_against_dequantised<BinaryBnNet<isa::Scalar>, FloatBnNet>(44);
}

namespace {

template <class... Tag>
using XnorNet = Sequential<Input<70>, Dense<48, Weights<Binary>, Tag...>, ReLU,
                           Dense<40, Weights<Binary>, Activations<Binary>, Tag...>, Tanh,
                           Dense<33, Weights<Binary>, Activations<Binary>, Tag...>, ReLU,
                           Dense<5, Weights<Binary>, Activations<Binary>, Tag...>>;

/// forward (one sample at a time) and forward_batch (1..batch samples) equal `expected` exactly.
/// Between XNOR layers only signs matter: Tanh on the ISA's vector tanh, and layer 0's f32 sums
/// (which may differ from the reference in the last bits) pass on their signs only (a value
/// within rounding of 0 would be the exception; these seeds have none).
template <class Net>
void check_xnor_network(const Net& net, const std::vector<float>& in, const std::vector<float>& expected,
                        const char* isa_name) {
  constexpr std::size_t in_size = Net::input_shape::size, out_size = Net::output_shape::size;
  const std::size_t batch = in.size() / in_size;
  INFO(isa_name);
  typename Net::Workspace workspace(batch);
  std::vector<float> actual(batch * out_size);
  for (std::size_t b = 0; b < batch; ++b)
    net.forward(std::span<const float, in_size>(in.data() + b * in_size, in_size),
                std::span<float, out_size>(actual.data() + b * out_size, out_size), workspace.bytes());
  mote_test::require_close(actual.data(), expected, 0.0f, 0.0f);
  for (std::size_t size = 1; size <= batch; ++size) {
    std::vector<float> batched(size * out_size);
    net.forward_batch(std::span<const float>(in.data(), size * in_size), batched, workspace);
    mote_test::require_close(batched.data(), std::vector<float>(expected.begin(), expected.begin() + static_cast<long>(size * out_size)),
                             0.0f, 0.0f);
  }
}

}  // namespace

TEST_CASE("Dense<N, Weights<Binary>, Activations<Binary>>: XNOR layers in a network, bit-exact across ISAs",
          "[binary][layers]") {
  static_assert(XnorNet<>::workspace_bytes > 0);
  auto dynamic = std::make_unique<XnorNet<>>();
  auto scalar = std::make_unique<XnorNet<isa::Scalar>>();
  load_parameters(*dynamic, 51, false);
  load_parameters(*scalar, 51, false);
  CHECK_THAT(XnorNet<>::summary(), Catch::Contains("binary, binary activations"));
  constexpr std::size_t batch = 7;
  std::mt19937 rng(52);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<float> in(batch * 70);
  for (float& v : in) v = uniform(rng);

  // By hand: layer 0 (f32 activations, the scalar reference), then each XNOR layer's own
  // reference on the previous output, activations applied in between.
  std::vector<float> expected(batch * 5);
  {
    const auto& l0 = scalar->layer<0>().weights();
    const auto& l2 = scalar->layer<2>().weights();
    const auto& l4 = scalar->layer<4>().weights();
    const auto& l6 = scalar->layer<6>().weights();
    for (std::size_t b = 0; b < batch; ++b) {
      std::vector<float> h0(48), h1(40), h2(33);
      auto scratch = xnor_scratch(48, 1);
      kernels::dense(isa::Scalar{}, l0.matrix(), l0.bias(), in.data() + b * 70, h0.data(), activation::Relu{});
      kernels::dense_xnor(isa::Scalar{}, l2.matrix(), l2.bias(), h0.data(), h1.data(), 1, activation::Tanh{},
                          scratch.data());
      kernels::dense_xnor(isa::Scalar{}, l4.matrix(), l4.bias(), h1.data(), h2.data(), 1, activation::Relu{},
                          scratch.data());
      kernels::dense_xnor(isa::Scalar{}, l6.matrix(), l6.bias(), h2.data(), expected.data() + b * 5, 1,
                          activation::Identity{}, scratch.data());
    }
  }
  check_xnor_network(*dynamic, in, expected, "isa::Dynamic");
  check_xnor_network(*scalar, in, expected, "isa::Scalar");
}
