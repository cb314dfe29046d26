// Weight range fitting (numeric/weight_scales.hpp, the WeightScales layer option): full_range is
// the formats' former rule, mse picks among the shrunk ranges the one of least reconstruction
// error, and the layers store exactly the parameters the fit returns.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <mote/mote.hpp>
#include <random>
#include <vector>

namespace {

using mote::QuantParams;
using mote::ScaleFit;

/// Normal weights (sigma 0.05) with a few outliers of 8 to 12 sigma: what trained layers look
/// like to a per-row scale.
std::vector<float> heavy_tailed(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::uniform_real_distribution<float> outlier(0.4f, 0.6f);
  std::vector<float> values(count);
  for (float& v : values) v = normal(rng);
  for (std::size_t i = 0; i < count; i += 97) values[i] = (i % 2 ? -1.0f : 1.0f) * outlier(rng);
  return values;
}

double error_of(const std::vector<float>& values, const QuantParams& params, std::int32_t low, std::int32_t high) {
  return mote::detail::reconstruction_error(values.data(), values.size(), params, low, high);
}

struct CodeRange {
  std::int32_t low, high;
  bool symmetric;
};
constexpr CodeRange int4{-7, 7, true}, int8_symmetric{-127, 127, true}, int8_asymmetric{-128, 127, false},
    int7{-63, 63, true};

}  // namespace

TEST_CASE("fit_weight_params: full_range is the whole finite range, as the formats always chose it",
          "[weight_scales]") {
  const std::vector<float> values = heavy_tailed(300, 1);
  float low = 0.0f, high = 0.0f;
  for (float v : values) low = std::min(low, v), high = std::max(high, v);
  for (const CodeRange& range : {int4, int8_symmetric, int8_asymmetric, int7}) {
    const QuantParams fitted =
        mote::fit_weight_params(values.data(), values.size(), range.low, range.high, range.symmetric, ScaleFit::full_range);
    const QuantParams expected = mote::choose_quant_params(low, high, range.low, range.high, range.symmetric);
    CHECK(fitted.scale == expected.scale);
    CHECK(fitted.zero_point == expected.zero_point);
  }
  // Int4's former rule, max |w| / 7, exactly.
  float bound = 0.0f;
  for (float v : values) bound = std::max(bound, std::fabs(v));
  CHECK(mote::fit_weight_params(values.data(), values.size(), -7, 7, true, ScaleFit::full_range).scale == bound / 7.0f);
}

TEST_CASE("fit_weight_params: mse is one of the 51 shrunk ranges, the one of least error", "[weight_scales]") {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    const std::vector<float> values = heavy_tailed(32 + seed * 37, seed);
    float low = 0.0f, high = 0.0f;
    for (float v : values) low = std::min(low, v), high = std::max(high, v);
    for (const CodeRange& range : {int4, int8_symmetric, int8_asymmetric, int7}) {
      INFO("seed " << seed << ", codes [" << range.low << ", " << range.high << "]");
      const QuantParams fitted =
          mote::fit_weight_params(values.data(), values.size(), range.low, range.high, range.symmetric, ScaleFit::mse);
      const double fitted_error = error_of(values, fitted, range.low, range.high);
      bool among_candidates = false;
      for (int i = 0; i < mote::detail::scale_fit_candidates; ++i) {
        const float shrink = static_cast<float>(100 - i) / 100.0f;
        const QuantParams candidate =
            mote::choose_quant_params(low * shrink, high * shrink, range.low, range.high, range.symmetric);
        REQUIRE(fitted_error <= error_of(values, candidate, range.low, range.high));
        among_candidates |= candidate.scale == fitted.scale && candidate.zero_point == fitted.zero_point;
      }
      CHECK(among_candidates);
    }
  }
}

TEST_CASE("fit_weight_params: mse clips outliers where 4-bit codes gain from it", "[weight_scales]") {
  const std::vector<float> values = heavy_tailed(784, 7);
  const QuantParams full = mote::fit_weight_params(values.data(), values.size(), -7, 7, true, ScaleFit::full_range);
  const QuantParams fitted = mote::fit_weight_params(values.data(), values.size(), -7, 7, true, ScaleFit::mse);
  CHECK(fitted.scale < full.scale);
  // With the full range (outliers at 8 to 12 sigma) the step is about 1.7 sigma: the shrunk
  // range's error is lower by a quarter here, not marginally.
  CHECK(error_of(values, fitted, -7, 7) < 0.8 * error_of(values, full, -7, 7));
}

TEST_CASE("fit_weight_params: non-finite weights take no part, zero groups keep scale 1", "[weight_scales]") {
  std::vector<float> values = heavy_tailed(200, 3);
  const QuantParams clean = mote::fit_weight_params(values.data(), values.size(), -7, 7, true, ScaleFit::mse);
  values[5] = std::numeric_limits<float>::quiet_NaN();
  values[6] = std::numeric_limits<float>::infinity();
  values[7] = -std::numeric_limits<float>::infinity();
  std::vector<float> without = values;
  without[5] = without[6] = without[7] = 0.0f;
  for (ScaleFit fit : {ScaleFit::full_range, ScaleFit::mse}) {
    const QuantParams with_bad = mote::fit_weight_params(values.data(), values.size(), -7, 7, true, fit);
    const QuantParams zeroed = mote::fit_weight_params(without.data(), without.size(), -7, 7, true, fit);
    CHECK(std::isfinite(with_bad.scale));
    CHECK(with_bad.scale == zeroed.scale);
  }
  CHECK(std::isfinite(clean.scale));
  const std::vector<float> zeros(64, 0.0f);
  for (const CodeRange& range : {int4, int8_symmetric, int8_asymmetric}) {
    const QuantParams fitted = mote::fit_weight_params(zeros.data(), zeros.size(), range.low, range.high,
                                                       range.symmetric, ScaleFit::mse);
    CHECK(fitted.scale == 1.0f);
  }
}

namespace {

/// A one-layer network with `weights` of PyTorch shape `shape` (rows first) and a zero bias.
template <class Net>
std::unique_ptr<Net> loaded(const std::vector<std::size_t>& shape, const std::vector<float>& weights) {
  auto net = std::make_unique<Net>();
  const std::vector<float> bias(shape[0], 0.0f);
  const mote::TensorRef refs[] = {mote::TensorRef::f32("0.weight", shape, weights.data()),
                                  mote::TensorRef::f32("0.bias", {shape[0]}, bias.data())};
  net->load(refs, "test", mote::WeightNames::layer_index());
  return net;
}

/// Loads `weights` (rows x cols, row-major) into a one-layer network and returns the layer's
/// matrix's squared reconstruction error, checking that every scale group holds what
/// fit_weight_params gives for it.
template <class Net>
double layer_error(const std::vector<float>& weights, std::size_t rows, std::size_t cols, ScaleFit fit,
                   std::int32_t low, std::int32_t high, bool symmetric, std::size_t group) {
  const auto net = loaded<Net>({rows, cols}, weights);
  const auto& matrix = net->template layer<0>().weights().matrix();
  double error = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t begin = 0; begin < cols; begin += group) {
      const std::size_t end = std::min(cols, begin + group);
      const QuantParams expected =
          mote::fit_weight_params(weights.data() + r * cols + begin, end - begin, low, high, symmetric, fit);
      if constexpr (mote::is_int4_format_v<typename std::remove_cvref_t<decltype(matrix)>::format>) {
        REQUIRE(matrix.scale(r, begin) == expected.scale);
      } else {
        REQUIRE(matrix.params(r).scale == expected.scale);
        REQUIRE(matrix.params(r).zero_point == expected.zero_point);
      }
      for (std::size_t k = begin; k < end; ++k) {
        const double gap = static_cast<double>(weights[r * cols + k]) - matrix.dequantized(r, k);
        error += gap * gap;
      }
    }
  }
  return error;
}

template <class Format, ScaleFit Fit>
using OneDense = mote::Sequential<mote::Input<96>, mote::Dense<21, mote::Weights<Format>, mote::WeightScales<Fit>>>;

}  // namespace

TEST_CASE("WeightScales<ScaleFit::mse>: Dense layers store the fitted ranges and reconstruct better",
          "[weight_scales][layers]") {
  constexpr std::size_t rows = 21, cols = 96;
  const std::vector<float> weights = heavy_tailed(rows * cols, 11);
  using mote::Int4;
  using mote::Int8;
  const double int4_full = layer_error<OneDense<Int4<0>, ScaleFit::full_range>>(weights, rows, cols,
                                                                                ScaleFit::full_range, -7, 7, true, cols);
  const double int4_mse = layer_error<OneDense<Int4<0>, ScaleFit::mse>>(weights, rows, cols, ScaleFit::mse, -7, 7,
                                                                        true, cols);
  CHECK(int4_mse < 0.9 * int4_full);
  const double group_full = layer_error<OneDense<Int4<32>, ScaleFit::full_range>>(weights, rows, cols,
                                                                                  ScaleFit::full_range, -7, 7, true, 32);
  const double group_mse = layer_error<OneDense<Int4<32>, ScaleFit::mse>>(weights, rows, cols, ScaleFit::mse, -7, 7,
                                                                          true, 32);
  CHECK(group_mse <= group_full);
  const double int8_full = layer_error<OneDense<Int8<>, ScaleFit::full_range>>(weights, rows, cols,
                                                                               ScaleFit::full_range, -127, 127, true, cols);
  const double int8_mse = layer_error<OneDense<Int8<>, ScaleFit::mse>>(weights, rows, cols, ScaleFit::mse, -127, 127,
                                                                       true, cols);
  CHECK(int8_mse <= int8_full);
  using Asymmetric = Int8<mote::PerChannel, mote::Asymmetric>;
  const double asymmetric_full = layer_error<OneDense<Asymmetric, ScaleFit::full_range>>(
      weights, rows, cols, ScaleFit::full_range, -128, 127, false, cols);
  const double asymmetric_mse =
      layer_error<OneDense<Asymmetric, ScaleFit::mse>>(weights, rows, cols, ScaleFit::mse, -128, 127, false, cols);
  CHECK(asymmetric_mse <= asymmetric_full);
  // The option changes the conversion only: same bytes.
  CHECK(OneDense<Int4<0>, ScaleFit::mse>().weight_bytes() == OneDense<Int4<0>, ScaleFit::full_range>().weight_bytes());
  CHECK_THAT((OneDense<Int4<0>, ScaleFit::mse>::summary()), Catch::Contains("int4 per-channel") &&
                                                              Catch::Contains("mse-fitted scales"));
  CHECK_THAT((OneDense<Int4<0>, ScaleFit::full_range>::summary()), !Catch::Contains("mse"));
}

TEST_CASE("WeightScales<ScaleFit::mse>: convolutions and block-sparse int8 layers fit too", "[weight_scales][layers]") {
  // A 3x3 convolution over 8 channels: 72 values per filter row; a depthwise 3x3: 9 per row.
  using Conv = mote::Sequential<mote::Input<6, 6, 8>,
                                mote::Conv2D<5, mote::Kernel<3>, mote::Weights<mote::Int4<0>>,
                                             mote::WeightScales<ScaleFit::mse>>>;
  using Depthwise = mote::Sequential<mote::Input<6, 6, 8>,
                                     mote::DepthwiseConv2D<mote::Kernel<3>, mote::Weights<mote::Int8<>>,
                                                           mote::WeightScales<ScaleFit::mse>>>;
  using SparseDense = mote::Sequential<
      mote::Input<64>, mote::Dense<32, mote::Weights<mote::Int8<>, mote::Sparse<mote::Block<16, 4>>>,
                                   mote::WeightScales<ScaleFit::mse>>>;
  {
    const std::vector<float> w = heavy_tailed(5 * 72, 21);
    const auto net = loaded<Conv>({5, 8, 3, 3}, w);
    const auto& matrix = net->layer<0>().weights().matrix();
    for (std::size_t r = 0; r < 5; ++r) {
      // mote's rows are (ky, kx, c): the layer fitted the same 72 values in that order.
      std::vector<float> row(72);
      for (std::size_t c = 0; c < 8; ++c)
        for (std::size_t t = 0; t < 9; ++t) row[t * 8 + c] = w[r * 72 + c * 9 + t];
      CHECK(matrix.scale(r, 0) == mote::fit_weight_params(row.data(), 72, -7, 7, true, ScaleFit::mse).scale);
    }
  }
  {
    const std::vector<float> w = heavy_tailed(8 * 9, 22);
    const auto net = loaded<Depthwise>({8, 1, 3, 3}, w);
    const auto& matrix = net->layer<0>().weights().matrix();
    for (std::size_t r = 0; r < 8; ++r)
      CHECK(matrix.params(r).scale == mote::fit_weight_params(w.data() + r * 9, 9, -127, 127, true, ScaleFit::mse).scale);
  }
  {
    std::vector<float> w = heavy_tailed(32 * 64, 23);
    for (std::size_t r = 0; r < 32; ++r)  // every other block of 4 columns zero: a block pattern
      for (std::size_t k = 0; k < 64; ++k)
        if ((k / 4) % 2 == 1) w[r * 64 + k] = 0.0f;
    const auto net = loaded<SparseDense>({32, 64}, w);
    const auto& matrix = net->layer<0>().weights().matrix();
    for (std::size_t r = 0; r < 32; ++r)
      CHECK(matrix.params(r).scale == mote::fit_weight_params(w.data() + r * 64, 64, -127, 127, true, ScaleFit::mse).scale);
  }
}
