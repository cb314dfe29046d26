// Ternary weights (Weights<Ternary>), held to the definition in numeric/ternary.hpp recomputed
// here without the library: the quantisation rule (threshold, special values, scales, padding),
// BatchNorm folding (scale_row), the f32-activation kernels on every ISA within the f32 summation
// bound, the binary-activation kernels on every ISA bit for bit, Dense layers in networks, and
// the bytes. The two sign planes could disagree with the codes unseen (a wrong plane, a padding
// bit, a halving that rounds), so every kernel is checked against the codes, not another kernel.

#include "../kernels/kernel_test_support.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

using namespace mote;
using mote_test::agrees;
using mote_test::dot_bound;
using TernaryMatrix = WeightMatrix<Ternary, DenseStorage>;

static_assert(NumberFormat<Ternary> && Ternary::bits_per_weight == 2 && std::string_view(Ternary::name) == "ternary");
static_assert(has_weight_storage_v<Ternary, DenseStorage>);
static_assert(Ternary::threshold_ratio == 0.7);

namespace {

constexpr float nan_f = std::numeric_limits<float>::quiet_NaN();
constexpr float inf_f = std::numeric_limits<float>::infinity();
constexpr float denorm_f = std::numeric_limits<float>::denorm_min();

/// A row quantised by the definition, written without the library's code.
struct Quantised { std::vector<std::int32_t> codes; float scale = 0.0f; };
Quantised quantise_row(const float* w, std::size_t cols) {
  double magnitude = 0.0;
  for (std::size_t k = 0; k < cols; ++k)
    if (std::isfinite(w[k])) magnitude += std::fabs(static_cast<double>(w[k]));
  const double threshold = 0.7 * (magnitude / static_cast<double>(cols));
  Quantised q;
  double kept = 0.0;
  std::size_t count = 0;
  for (std::size_t k = 0; k < cols; ++k) {
    const double v = w[k];
    const std::int32_t c = v > threshold ? 1 : v < -threshold ? -1 : 0;
    q.codes.push_back(c);
    if (c != 0) ++count, kept += std::isfinite(v) ? std::fabs(v) : 0.0;
  }
  q.scale = count == 0 ? 0.0f : static_cast<float>(kept / static_cast<double>(count));
  return q;
}

/// What the storage must hold for weights w: codes and scales by the definition, planes, padding.
void check_stored(const TernaryMatrix& m, const float* w) {
  const std::size_t cols = m.cols();
  for (std::size_t r = 0; r < m.rows(); ++r) {
    const Quantised q = quantise_row(w + r * cols, cols);
    INFO("row " << r << " of " << m.rows() << " x " << cols);
    REQUIRE(m.scale(r) == q.scale);
    REQUIRE(m.scales()[r] == q.scale);
    for (std::size_t k = 0; k < cols; ++k) {
      INFO("column " << k << ", weight " << w[r * cols + k]);
      REQUIRE(m.code(r, k) == q.codes[k]);
      REQUIRE(m.at(r, k) == q.scale * static_cast<float>(q.codes[k]));
      REQUIRE(m.first_plane().negative(r, k) == (q.codes[k] < 0));
      REQUIRE(m.second_plane().negative(r, k) == (q.codes[k] <= 0));
    }
    // Padding columns must stay +1 (bit 0) in both planes, else XNOR counts would include them.
    const std::size_t last = (cols - 1) / 32, used = cols - 32 * last;
    if (used < 32) REQUIRE(((m.first_plane().word(r, last) | m.second_plane().word(r, last)) >> used) == 0u);
    REQUIRE((m.first_plane().scale(r) == 0.5f && m.second_plane().scale(r) == 0.5f));
  }
  // Padding rows: scale 0 everywhere, so whatever their sums they add nothing to real rows.
  for (std::size_t r = 0; r < m.padded_rows(); ++r) REQUIRE(m.zero_bias()[r] == 0.0f);
  for (std::size_t r = m.rows(); r < m.padded_rows(); ++r)
    REQUIRE((m.scales()[r] == 0.0f && m.first_plane().scale(r) == 0.0f && m.second_plane().scale(r) == 0.0f));
}

/// A rows x cols matrix assigned from w (inlined with the hand-made rows' fixed shapes: the
/// storage allocates no std::vector, on which GCC 12 at -O3 misreported -Wfree-nonheap-object).
TernaryMatrix assigned(std::size_t rows, std::size_t cols, const float* w) {
  TernaryMatrix m(rows, cols);
  m.assign(w);
  return m;
}

/// Normal weights (about half the codes 0), the last row all zeros (scale 0) when there are
/// several, bias in [-1, 1].
struct Problem {
  std::vector<float> weights;
  TernaryMatrix matrix;
  AlignedBuffer<float> bias;
  Problem(std::mt19937& rng, std::size_t rows, std::size_t cols) : weights(rows * cols), matrix(rows, cols),
                                                                   bias(matrix.padded_rows()) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& v : weights) v = normal(rng);
    if (rows > 1) std::fill(weights.end() - static_cast<long>(cols), weights.end(), 0.0f);
    for (std::size_t r = 0; r < rows; ++r) bias[r] = uniform(rng);
    matrix.assign(weights.data());
  }
};

/// Inputs in [-4, 4] with zeros of both signs; with `specials`, also NaN, +-inf and denormals.
std::vector<float> random_input(std::mt19937& rng, std::size_t count, bool specials) {
  std::uniform_real_distribution<float> uniform(-4.0f, 4.0f);
  std::vector<float> x(count);
  for (float& v : x) v = uniform(rng);
  const float special[] = {0.0f, -0.0f, nan_f, -nan_f, inf_f, -inf_f, denorm_f, -denorm_f};
  for (std::size_t i = 3; i < count; i += 7) x[i] = special[(i / 7) % (specials ? 8 : 2)];
  return x;
}

/// One kernel call with scratch as the kernels ask for it, poisoned so that reading an unwritten
/// byte would show, and one output past the real rows that must stay untouched.
template <class Activation>
std::vector<float> run_kernel(auto tag, const TernaryMatrix& m, const float* bias, const std::vector<float>& x,
                              std::size_t batch, Activation activation, bool binary) {
  AlignedBuffer<std::byte> scratch(kernels::ternary_dense_scratch_bytes(m.rows(), m.cols(), binary) * batch);
  for (std::byte& b : scratch) b = std::byte{0xA5};
  std::vector<float> out(batch * m.rows() + 1, -7.0f);
  if (binary) kernels::dense_ternary_xnor(tag, m, bias, x.data(), out.data(), batch, activation, scratch.data());
  else kernels::dense_ternary(tag, m, bias, x.data(), out.data(), batch, activation, scratch.data());
  REQUIRE(out.back() == -7.0f);
  return out;
}

/// The exact d_r = sum_k c_rk sign(x_k) of binary activations.
std::int32_t ternary_dot(const TernaryMatrix& m, std::size_t r, const float* x) {
  std::int32_t d = 0;
  for (std::size_t k = 0; k < m.cols(); ++k) d += m.code(r, k) * Binary::sign(x[k]);
  return d;
}

/// Scalar, Dynamic and every SIMD ISA of this CPU.
template <class F>
void for_each_isa(F&& f) {
  mote_test::for_each_simd_isa(f);
  f(isa::Scalar{}, std::string("scalar"));
  f(isa::Dynamic{}, std::string("dynamic"));
}

/// f32 activations against y = act(s_r sum_k c_rk x_k + b_r) in double. The bound: each plane
/// sums its cols terms +-x_k in f32 in some order (error <= gamma_(cols-1) sum|x|), halving is
/// exact, adding the halves rounds once, the scale and the bias once each (channel_affine need
/// not fuse them), so the kernel is within gamma_(cols+2) (s sum|x| + |b|) of the exact value
/// (Higham 3.1); one more u covers the double reference: gamma_(cols+3) (...) =
/// dot_bound(cols + 2, ...) / 2. ReLU is 1-Lipschitz, so the bound holds after it. Zero codes
/// still cost rounding (plane A adds x_k, plane B subtracts it), hence sum|x| over all columns.
template <class Activation>
void check_f32(auto tag, const std::string& isa_name, const TernaryMatrix& m, const float* bias,
               const std::vector<float>& x, std::size_t batch, Activation activation) {
  const std::size_t rows = m.rows(), cols = m.cols();
  const std::vector<float> out = run_kernel(tag, m, bias, x, batch, activation, false);
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t r = 0; r < rows; ++r) {
      double sum = 0.0, magnitude = 0.0;
      for (std::size_t k = 0; k < cols; ++k) {
        sum += m.code(r, k) * static_cast<double>(x[b * cols + k]);
        magnitude += std::fabs(static_cast<double>(x[b * cols + k]));
      }
      const double y = static_cast<double>(m.scale(r)) * sum + bias[r];
      const double expected = std::is_same_v<Activation, activation::Relu> ? std::max(y, 0.0) : y;
      INFO(isa_name << " " << Activation::name << ": " << rows << " x " << cols << ", batch " << batch << ", sample "
                    << b << ", row " << r << ": kernel " << out[b * rows + r] << ", exact " << expected);
      REQUIRE(agrees(out[b * rows + r], static_cast<float>(expected),
                     std::fabs(static_cast<float>(expected) - expected) +
                         dot_bound(cols + 2, m.scale(r) * magnitude + std::fabs(bias[r])) / 2));
    }
}

/// Binary activations against the exact definition: d_r = sum_k c_rk sign(x_k) as an integer,
/// y_r = Activation::apply(fma(float(d_r), s_r, b_r)), bit for bit for piecewise-linear
/// activations; tanh runs on the ISA's vector tanh after the exact epilogue (as for Binary), so
/// within a few ulp there. Returns the d_r.
template <class Activation>
std::vector<std::int32_t> check_xnor(auto tag, const std::string& isa_name, const TernaryMatrix& m, const float* bias,
                                     const std::vector<float>& x, std::size_t batch, Activation activation) {
  const std::size_t rows = m.rows(), cols = m.cols();
  const std::vector<float> out = run_kernel(tag, m, bias, x, batch, activation, true);
  std::vector<std::int32_t> dots(batch * rows);
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t r = 0; r < rows; ++r) {
      const std::int32_t d = dots[b * rows + r] = ternary_dot(m, r, x.data() + b * cols);
      const float expected = Activation::apply(std::fma(static_cast<float>(d), m.scale(r), bias[r]));
      INFO(isa_name << " " << Activation::name << ": " << rows << " x " << cols << ", batch " << batch << ", sample "
                    << b << ", row " << r << ", d " << d << ": kernel " << out[b * rows + r] << ", exact " << expected);
      if constexpr (activation::is_piecewise_linear_v<Activation>)
        REQUIRE(std::bit_cast<std::uint32_t>(out[b * rows + r]) == std::bit_cast<std::uint32_t>(expected));
      else REQUIRE(std::fabs(out[b * rows + r] - expected) <= 1e-6f);
    }
  return dots;
}

}  // namespace

TEST_CASE("Ternary weights: threshold, codes (special values too), scales, planes and padding", "[ternary][layout]") {
  struct Row { std::vector<float> w; std::vector<std::int32_t> codes; float scale; };
  const Row rows[] = {
      // mean |w| over finite values = 7/8, t = 0.6125: +-0.5 and 0 fall inside; NaN is 0,
      // +-inf are +-1 and count 0 in the scale but 1 in its denominator: 6 / 4.
      {{3.0f, -0.5f, 0.5f, 0.0f, nan_f, inf_f, -inf_f, -3.0f}, {1, 0, 0, 0, 0, 1, -1, -1}, 1.5f},
      {{1.0f, -1.0f, 0.1f, 0.2f}, {1, -1, 0, 0}, 1.0f},  // t = 0.4025
      {{0.0f, -0.0f, 0.0f}, {0, 0, 0}, 0.0f},             // all zero: scale 0
      {{-2.0f}, {-1}, 2.0f},
      {{nan_f}, {0}, 0.0f},
      {{inf_f}, {1}, 0.0f},                               // t = 0: +1, with scale 0 / 1
      {{-inf_f, 1.0f, 1.0f}, {-1, 1, 1}, static_cast<float>(2.0 / 3.0)},
  };
  for (const Row& row : rows) {
    const std::size_t cols = row.w.size();
    for (std::size_t count : {1, 17}) {  // 17: the second panel of 16 rows too
      std::vector<float> w;
      for (std::size_t r = 0; r < count; ++r) w.insert(w.end(), row.w.begin(), row.w.end());
      const TernaryMatrix m = assigned(count, cols, w.data());
      for (std::size_t r = 0; r < count; ++r) {
        INFO("hand row of " << cols << " columns, row " << r);
        CHECK(m.scale(r) == row.scale);
        for (std::size_t k = 0; k < cols; ++k) CHECK(m.code(r, k) == row.codes[k]);
      }
      check_stored(m, w.data());
    }
  }
  // Random rows of every shape around the 16-row panels and 32-column words.
  std::mt19937 rng(1);
  for (std::size_t rows : {1, 16, 17, 33})
    for (std::size_t cols : {1, 2, 31, 32, 33, 64, 100}) {
      Problem p(rng, rows, cols);
      p.weights[0] = nan_f;  // and special values among the random ones, assigned again
      if (cols > 2) p.weights[1] = inf_f, p.weights[2] = -inf_f;
      p.matrix.assign(p.weights.data());
      check_stored(p.matrix, p.weights.data());
    }
  check_stored(TernaryMatrix(5, 40), std::vector<float>(5 * 40, 0.0f).data());  // before assign(): all 0
}

TEST_CASE("Ternary weights: scale_row (BatchNorm folding) scales, and negates one row's codes",
          "[ternary][layout][kernels]") {
  std::mt19937 rng(2);
  const std::size_t rows = 17, cols = 45;
  Problem p(rng, rows, cols);
  const TernaryMatrix original = p.matrix;
  std::vector<float> factors(rows, 1.0f);
  factors[1] = 2.0f, factors[2] = -0.5f, factors[3] = 0.0f, factors[5] = -1.0f, factors[16] = -3.0f;
  for (std::size_t r = 0; r < rows; ++r) p.matrix.scale_row(r, factors[r]);
  p.matrix.scale_row(5, -1.0f);  // twice -1: the codes come back
  TernaryMatrix& m = p.matrix;
  std::size_t zeros = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    INFO("row " << r);
    const bool negated = r == 2 || r == 16;
    for (std::size_t k = 0; k < cols; ++k) {
      CHECK(m.code(r, k) == (negated ? -original.code(r, k) : original.code(r, k)));
      zeros += negated && original.code(r, k) == 0;
    }
    CHECK(m.scale(r) == original.scale(r) * std::fabs(factors[r]));
    // Padding columns must not be flipped with the row, and the planes' halving must stay.
    CHECK(((m.first_plane().word(r, 1) | m.second_plane().word(r, 1)) >> (cols - 32)) == 0u);
    CHECK((m.first_plane().scale(r) == 0.5f && m.second_plane().scale(r) == 0.5f));
  }
  CHECK(zeros > 0);  // a negated row with zero codes, which must stay 0
  for (std::size_t r = rows; r < m.padded_rows(); ++r) CHECK(m.scales()[r] == 0.0f);

  const std::size_t batch = 3;
  const std::vector<float> x = random_input(rng, batch * cols, true), finite = random_input(rng, batch * cols, false);
  const auto before = check_xnor(isa::Scalar{}, "unfolded", original, p.bias.data(), x, batch, activation::Identity{});
  for_each_isa([&](auto tag, const std::string& isa_name) {
    const auto after = check_xnor(tag, isa_name, m, p.bias.data(), x, batch, activation::Identity{});
    for (std::size_t i = 0; i < after.size(); ++i)
      CHECK(after[i] == (i % rows == 2 || i % rows == 16 ? -before[i] : before[i]));
    check_f32(tag, isa_name, m, p.bias.data(), finite, batch, activation::Identity{});
  });
}

TEST_CASE("Ternary dense kernels on every ISA: f32 activations within the f32 bound, binary ones bit for bit",
          "[ternary][kernels][simd]") {
  std::mt19937 rng(3);
  const std::size_t shapes[][2] = {{1, 1}, {16, 32}, {17, 33}, {37, 100}, {64, 257}, {130, 1024}, {18, 4099}};
  for (const auto& shape : shapes) {
    const Problem p(rng, shape[0], shape[1]);
    for (std::size_t batch : {1, 3, 8}) {
      const std::vector<float> x = random_input(rng, batch * shape[1], false);
      const std::vector<float> x_special = random_input(rng, batch * shape[1], true);
      for_each_isa([&](auto tag, const std::string& isa_name) {
        check_f32(tag, isa_name, p.matrix, p.bias.data(), x, batch, activation::Identity{});
        check_f32(tag, isa_name, p.matrix, p.bias.data(), x, batch, activation::Relu{});
        check_xnor(tag, isa_name, p.matrix, p.bias.data(), x_special, batch, activation::Identity{});
        check_xnor(tag, isa_name, p.matrix, p.bias.data(), x_special, batch, activation::Relu{});
        check_xnor(tag, isa_name, p.matrix, p.bias.data(), x_special, batch, activation::Tanh{});
      });
    }
  }
  // d at its extremes: rows of all +1, all -1 (scale 1) and all 0 codes, against inputs of one
  // sign, including the values that binarise to +1 (+-0, +inf) and to -1 (NaN, -inf, -denormal).
  // 992 and 2048: where popcount kernels flush their byte counts.
  for (std::size_t cols : {992, 993, 2048, 4099}) {
    const std::size_t rows = 18, batch = 2;
    std::vector<float> w(rows * cols), x(batch * cols);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < cols; ++k) w[r * cols + k] = r % 3 == 0 ? 1.0f : r % 3 == 1 ? -1.0f : 0.0f;
    const float positive[] = {1.0f, 0.0f, -0.0f, inf_f, denorm_f}, negative[] = {-2.0f, nan_f, -inf_f, -denorm_f};
    for (std::size_t k = 0; k < cols; ++k) x[k] = positive[k % 5], x[cols + k] = negative[k % 4];
    const TernaryMatrix m = assigned(rows, cols, w.data());
    const AlignedBuffer<float> bias(m.padded_rows());
    for_each_isa([&](auto tag, const std::string& isa_name) {
      const std::vector<std::int32_t> d = check_xnor(tag, isa_name, m, bias.data(), x, batch, activation::Identity{});
      const auto n = static_cast<std::int32_t>(cols);
      for (std::size_t r = 0; r < rows; ++r) {
        const std::int32_t code = r % 3 == 0 ? 1 : r % 3 == 1 ? -1 : 0;
        CHECK(d[r] == code * n);
        CHECK(d[rows + r] == -code * n);
      }
    });
  }
}

// ---- Dense layers in networks -------------------------------------------------------------------

namespace {

template <class... Tag>
using TernaryMlp =
    Sequential<Input<70>, Dense<33, Weights<Ternary>, Tag...>, ReLU, Dense<10, Weights<Ternary>, Tag...>>;
using FloatMlp = Sequential<Input<70>, Dense<33>, ReLU, Dense<10>>;
template <class... Tag>
using XnorNet = Sequential<Input<70>, Dense<33, Weights<Ternary>, Activations<Binary>, Tag...>,
                           Dense<40, Weights<Ternary>, Activations<Binary>, Tag...>, Tanh,
                           Dense<10, Weights<Ternary>, Activations<Binary>, Tag...>>;

/// Seeded parameters uniform in [-0.5, 0.5], returned as drawn; with `dequantise`, each weight
/// matrix is loaded as what ternary storage stands for (scale * code, by the definition).
template <class Net>
std::vector<std::vector<float>> load_parameters(Net& net, std::uint32_t seed, bool dequantise) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
  std::vector<std::vector<float>> storage, values;
  std::vector<TensorRef> refs;
  for (const ParameterInfo& p : Net::parameters()) {
    storage.emplace_back(p.spec.size());
    for (float& v : storage.back()) v = uniform(rng);
    values.push_back(storage.back());
    if (dequantise && p.spec.rank == 2) {
      const std::size_t rows = p.spec.dims[0], cols = p.spec.dims[1];
      for (std::size_t r = 0; r < rows; ++r) {
        float* row = storage.back().data() + r * cols;
        const Quantised q = quantise_row(row, cols);
        for (std::size_t k = 0; k < cols; ++k) row[k] = q.scale * static_cast<float>(q.codes[k]);
      }
    }
    const std::vector<std::size_t> dims(p.spec.dims.begin(), p.spec.dims.begin() + static_cast<long>(p.spec.rank));
    refs.push_back(TensorRef::f32(p.name, dims, storage.back().data()));
  }
  net.load(refs, "random", WeightNames::layer_index());
  return values;
}

/// Runs `net` one sample at a time (forward) and on all at once (forward_batch).
template <class Net>
std::pair<std::vector<float>, std::vector<float>> run(const Net& net, const std::vector<float>& in) {
  constexpr std::size_t in_size = Net::input_shape::size, out_size = Net::output_shape::size;
  const std::size_t batch = in.size() / in_size;
  typename Net::Workspace workspace(batch);
  std::vector<float> single(batch * out_size), batched(batch * out_size);
  for (std::size_t b = 0; b < batch; ++b)
    net.forward(std::span<const float, in_size>(in.data() + b * in_size, in_size),
                std::span<float, out_size>(single.data() + b * out_size, out_size), workspace.bytes());
  net.forward_batch(std::span<const float>(in), batched, workspace);
  return {single, batched};
}

/// One layer's exact value in double, y_r = s_r sum_k c_rk h_k + b_r, and the bound on a
/// network's error there given the error bound e_k of each input: the perturbed input adds
/// s_r sum_k |c_rk| e_k, the layer's own rounding gamma_(n+3) (s_r sum_k (|h_k| + e_k) + |b_r|)
/// (check_f32's bound; f32 Dense rounds the products (s c_k) h_k and their sum with b in some
/// order, within gamma_(n+1) of the same magnitude, Higham 3.1).
template <class Weights>
void exact_layer(const Weights& weights, const std::vector<double>& h, const std::vector<double>& e,
                 std::vector<double>& y, std::vector<double>& bound) {
  const auto& m = weights.matrix();
  y.assign(m.rows(), 0.0), bound.assign(m.rows(), 0.0);
  for (std::size_t r = 0; r < m.rows(); ++r) {
    double sum = 0.0, propagated = 0.0, magnitude = 0.0;
    for (std::size_t k = 0; k < m.cols(); ++k) {
      sum += m.code(r, k) * h[k];
      propagated += std::abs(m.code(r, k)) * e[k];
      magnitude += std::fabs(h[k]) + e[k];
    }
    const double s = m.scale(r), b = weights.bias()[r];
    y[r] = s * sum + b;
    bound[r] = s * propagated + dot_bound(m.cols() + 2, s * magnitude + std::fabs(b)) / 2;
  }
}

/// The ternary MLP against its exact value in double (each network within the bound of
/// exact_layer, ReLU passing layer 0's on) and against the f32 MLP with the dequantised weights
/// (the networks differ by at most twice that).
template <class Tag>
void check_ternary_mlp(std::uint32_t seed) {
  auto ternary = std::make_unique<TernaryMlp<Tag>>();
  auto full = std::make_unique<FloatMlp>();
  const auto drawn = load_parameters(*ternary, seed, false);
  load_parameters(*full, seed, true);
  const auto& l0 = ternary->template layer<0>().weights();
  const auto& l2 = ternary->template layer<2>().weights();
  check_stored(l0.matrix(), drawn[0].data());  // the loader quantises by the definition
  check_stored(l2.matrix(), drawn[2].data());
  const std::size_t batch = 5;
  std::mt19937 rng(seed + 1);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<float> in(batch * 70);
  for (float& v : in) v = uniform(rng);
  const auto [single, batched] = run(*ternary, in);
  const auto [full_single, full_batched] = run(*full, in);
  for (std::size_t b = 0; b < batch; ++b) {
    const std::vector<double> x(in.begin() + static_cast<long>(b * 70), in.begin() + static_cast<long>(b * 70 + 70));
    std::vector<double> h, bound0, y, bound;
    exact_layer(l0, x, std::vector<double>(70, 0.0), h, bound0);
    for (double& v : h) v = std::max(v, 0.0);
    exact_layer(l2, h, bound0, y, bound);
    for (std::size_t j = 0; j < 10; ++j) {
      const std::size_t i = b * 10 + j;
      INFO("sample " << b << ", output " << j << ": forward " << single[i] << ", forward_batch " << batched[i]
                     << ", f32 network " << full_single[i] << ", exact " << y[j] << ", bound " << bound[j]);
      for (float actual : {single[i], batched[i], full_single[i], full_batched[i]})
        REQUIRE(std::fabs(actual - y[j]) <= bound[j]);
      REQUIRE(std::fabs(single[i] - full_single[i]) <= 2 * bound[j]);
      REQUIRE(std::fabs(batched[i] - single[i]) <= 2 * bound[j]);
      if constexpr (std::is_same_v<Tag, isa::Scalar>) REQUIRE(batched[i] == single[i]);  // one code path
    }
  }
}

}  // namespace

TEST_CASE("Dense<N, Weights<Ternary>> computes what f32 Dense computes with the dequantised weights",
          "[ternary][layers]") {
  check_ternary_mlp<isa::Scalar>(41);
  check_ternary_mlp<isa::Default>(42);
  CHECK_THAT(TernaryMlp<>::summary(), Catch::Contains("ternary"));
}

TEST_CASE("Dense<N, Weights<Ternary>, Activations<Binary>>: bit-exact definition across ISAs", "[ternary][layers]") {
  auto dynamic = std::make_unique<XnorNet<>>();
  auto scalar = std::make_unique<XnorNet<isa::Scalar>>();
  load_parameters(*dynamic, 51, false);
  load_parameters(*scalar, 51, false);
  const std::size_t batch = 5;
  std::mt19937 rng(52);
  std::vector<float> in = random_input(rng, batch * 70, true);
  // By hand from the codes: each layer y = fma(float(d), s, b), d the exact integer sum. The Tanh
  // between layers may be the ISA's vector tanh, but only its signs reach the next layer.
  const auto layer_by_definition = [](const auto& weights, const std::vector<float>& x) {
    const auto& m = weights.matrix();
    std::vector<float> y(m.rows());
    for (std::size_t r = 0; r < m.rows(); ++r)
      y[r] = std::fma(static_cast<float>(ternary_dot(m, r, x.data())), m.scale(r), weights.bias()[r]);
    return y;
  };
  std::vector<float> expected;
  for (std::size_t b = 0; b < batch; ++b) {
    std::vector<float> h(in.begin() + static_cast<long>(b * 70), in.begin() + static_cast<long>(b * 70 + 70));
    h = layer_by_definition(scalar->layer<0>().weights(), h);
    h = layer_by_definition(scalar->layer<1>().weights(), h);
    for (float& v : h) v = activation::Tanh::apply(v);
    h = layer_by_definition(scalar->layer<3>().weights(), h);
    expected.insert(expected.end(), h.begin(), h.end());
  }
  const auto [scalar_single, scalar_batched] = run(*scalar, in);
  const auto [dynamic_single, dynamic_batched] = run(*dynamic, in);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("output " << i << ": expected " << expected[i] << ", scalar " << scalar_single[i] << ", dynamic "
                   << dynamic_single[i]);
    for (const std::vector<float>* actual : {&scalar_single, &scalar_batched, &dynamic_single, &dynamic_batched})
      REQUIRE(std::bit_cast<std::uint32_t>((*actual)[i]) == std::bit_cast<std::uint32_t>(expected[i]));
  }
  CHECK_THAT(XnorNet<>::summary(), Catch::Contains("ternary, binary activations"));
}

TEST_CASE("Dense<N, Weights<Ternary>>: weight_bytes is the planes, scales and bias: about 1/16 of f32",
          "[ternary][layers]") {
  auto small = std::make_unique<TernaryMlp<>>();
  const auto& l0 = small->layer<0>();
  // 33 x 70: 48 padded rows, 3 words per row in each plane, plus plane scales, row scales, zeros.
  CHECK(l0.weights().matrix().bytes() == 2 * (48 * 3 * 4 + 48 * 4) + 2 * 48 * 4);
  CHECK(l0.weight_bytes() == l0.weights().matrix().bytes() + 48 * sizeof(float));
  CHECK(small->weight_bytes() == l0.weight_bytes() + small->layer<2>().weight_bytes());

  auto big = std::make_unique<Sequential<Input<1024>, Dense<1024, Weights<Ternary>>>>();
  auto big_f32 = std::make_unique<Sequential<Input<1024>, Dense<1024>>>();
  const auto& matrix = big->layer<0>().weights().matrix();
  CHECK(big->layer<0>().weight_bytes() == matrix.bytes() + 1024 * sizeof(float));
  CHECK(matrix.bytes() >= std::size_t{1024} * 1024 * 4 / 16);  // 2 bits a weight is the floor
  CHECK(matrix.bytes() < std::size_t{1024} * 1024 * 4 / 15);
  CHECK(big->weight_bytes() * 14 < big_f32->weight_bytes());  // with the f32 bias: still under 1/14
}
