// Integer hand-over between int8 layers (model/chain.hpp): a layer writes the next layer's input
// codes through the gemmlowp requantisation instead of floats. Checked: the codes and outputs
// follow the definitions of numeric/quantization.hpp (computed here from them, independently of
// the library's tables); every ISA equals the scalar reference bit for bit, codes in and out,
// over extreme multipliers, shifts, biases and code ranges; networks that hand codes over are
// bit-exact across ISAs, batched or not; it is off by default; and a change after linking falls
// back to floats.

#include <catch2/catch.hpp>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "../kernels/kernel_test_support.hpp"
#include "../support.hpp"
#include "mote/mote.hpp"

namespace {

using namespace mote;
using Q8 = Weights<Int8<>>;

template <class Net>
std::vector<float> run(const Net& net, const std::vector<float>& input, std::size_t batch) {
  auto workspace = std::make_unique<typename Net::Workspace>(batch);
  std::vector<float> out(batch * Net::output_shape::size);
  net.forward_batch(std::span<const float>(input), std::span<float>(out), *workspace);
  return out;
}

std::vector<float> normal_values(std::size_t count, std::uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> values(count);
  for (float& v : values) v = normal(rng);
  return values;
}

template <class Net>
std::unique_ptr<Net> calibrated(std::uint32_t seed, const std::vector<float>& calibration) {
  auto net = std::make_unique<Net>();
  mote_test::load_random_weights(*net, seed);
  net->set_integer_handover(true);
  net->calibrate(calibration);
  return net;
}

template <template <class Isa> class Net>
void check_bit_exact_across_isas(const char* label, std::size_t batch) {
  using In = typename Net<isa::Scalar>::input_shape;
  const std::vector<float> calibration = normal_values(8 * In::size, 11);
  const std::vector<float> input = normal_values(batch * In::size, 12, 1.3f);  // beyond the range: saturation
  auto reference = calibrated<Net<isa::Scalar>>(5, calibration);
  const std::vector<float> expected = run(*reference, input, batch);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa) {
    auto net = calibrated<Net<decltype(tag)>>(5, calibration);
    const std::vector<float> actual = run(*net, input, batch);
    INFO(label << " on " << isa << ", batch " << batch);
    REQUIRE(std::memcmp(actual.data(), expected.data(), actual.size() * sizeof(float)) == 0);
  });
}

template <class Isa>
using Mlp = Sequential<Input<40>, Dense<48, Q8, Isa>, ReLU, Dense<24, Q8, Isa>, ReLU6, Dense<10, Q8, Isa>>;
template <class Isa>
using MobileNetBlock =
    Sequential<Input<7, 9, 16>, DepthwiseConv2D<Kernel<3>, Pad::same, Q8, Isa>, ReLU6, Conv2D<24, Kernel<1>, Q8, Isa>,
               ReLU6, Conv2D<16, Kernel<3>, Pad::same, Q8, Isa>, DepthwiseConv2D<Kernel<3>, Multiplier<2>, Q8, Isa>,
               Flatten, Dense<5, Q8, Isa>>;
// Rows of 25.6 KB of float codes: the depthwise layer runs in bands of 4 output rows (4, 4, 4, 1),
// and requantises each band's sums into codes.
template <class Isa>
using WideBlock = Sequential<Input<13, 400, 16>, DepthwiseConv2D<Kernel<3>, Pad::same, Q8, Isa>, ReLU6,
                             Conv2D<8, Kernel<1>, Q8, Isa>>;
// A first convolution of 9 columns (sums in floats) into one of 36 (the GEMM), then Dense.
template <class Isa>
using SmallCnn = Sequential<Input<8, 8, 1>, Conv2D<4, Kernel<3>, Q8, Isa>, ReLU,
                            Conv2D<8, Kernel<3>, Stride<2>, Q8, Isa>, Flatten, Dense<6, Q8, Isa>>;

TEST_CASE("integer hand-over: off by default, on when asked", "[quantized][handover]") {
  using Net = Mlp<isa::Default>;
  auto net = std::make_unique<Net>();
  mote_test::load_random_weights(*net, 2);
  net->calibrate(normal_values(4 * 40, 3));
  REQUIRE_FALSE(net->hands_over_codes<0>());
  net->set_integer_handover(true);
  REQUIRE(net->hands_over_codes<0>());
  REQUIRE(net->hands_over_codes<2>());
  // Only calibrated layers hand codes over: a dynamically quantised consumer takes floats.
  net->layer<2>().clear_input_quantization();
  net->link_integer_handover();
  REQUIRE_FALSE(net->hands_over_codes<0>());
  REQUIRE_FALSE(net->hands_over_codes<2>());
}

TEST_CASE("integer hand-over: the codes follow gemmlowp's requantisation", "[quantized][handover]") {
  // Dense -> ReLU -> Dense, computed from the definitions: the first layer's sums, its bias in
  // units of its sums, the multiplier s_in s_w / s_next as a Q31 mantissa and exponent, the
  // rounding of requantize, the ReLU as the code range from the zero point up.
  using Net = Sequential<Input<20>, Dense<12, Q8, isa::Scalar>, ReLU, Dense<3, Q8, isa::Scalar>>;
  const std::vector<float> calibration = normal_values(6 * 20, 21);
  auto net = calibrated<Net>(9, calibration);
  REQUIRE(net->hands_over_codes<0>());
  const auto& first = net->layer<0>();
  const auto& second = net->layer<2>();
  const QuantParams q0 = *first.input_quantization(), q1 = *second.input_quantization();
  const auto& w0 = first.weights().matrix();
  const auto& w1 = second.weights().matrix();
  const std::vector<float> input = normal_values(20, 22, 1.5f);
  std::vector<std::int32_t> codes(12);
  for (std::size_t r = 0; r < 12; ++r) {
    std::int32_t acc = 0;
    for (std::size_t k = 0; k < 20; ++k) acc += w0.at(r, k) * (quantize(input[k], q0, -128, 127) - q0.zero_point);
    const double sum_scale = static_cast<double>(q0.scale) * static_cast<double>(w0.scales()[r]);
    const auto bias = static_cast<std::int32_t>(std::nearbyint(first.weights().bias()[r] / sum_scale));
    const FixedPointMultiplier m = make_fixed_point_multiplier(sum_scale / static_cast<double>(q1.scale));
    codes[r] = requantize(acc + bias, m, q1.zero_point, std::max(q1.zero_point, -128), 127);
  }
  std::vector<float> expected(3);
  for (std::size_t r = 0; r < 3; ++r) {
    std::int32_t acc = 0;
    for (std::size_t k = 0; k < 12; ++k) acc += w1.at(r, k) * (codes[k] - q1.zero_point);
    expected[r] = std::fma(static_cast<float>(acc), q1.scale * w1.scales()[r], second.weights().bias()[r]);
  }
  const std::vector<float> actual = run(*net, input, 1);
  REQUIRE(std::memcmp(actual.data(), expected.data(), sizeof(float) * 3) == 0);

  // Off, the same network hands floats over (ONNX's QDQ semantics): within the error of a code.
  net->set_integer_handover(false);
  REQUIRE_FALSE(net->hands_over_codes<0>());
  const std::vector<float> floats = run(*net, input, 1);
  for (std::size_t r = 0; r < 3; ++r) {
    float bound = 0.0f;
    for (std::size_t k = 0; k < 12; ++k) bound += std::abs(w1.dequantized(r, k)) * q1.scale;
    REQUIRE(std::abs(floats[r] - actual[r]) <= bound);
  }
}

TEST_CASE("integer hand-over: networks are bit-exact across ISAs", "[quantized][handover]") {
  {
    auto net = calibrated<Mlp<isa::Scalar>>(5, normal_values(8 * 40, 11));
    REQUIRE(net->hands_over_codes<0>());
    REQUIRE(net->hands_over_codes<2>());
    REQUIRE_FALSE(net->hands_over_codes<4>());
  }
  {
    auto net = calibrated<MobileNetBlock<isa::Scalar>>(5, normal_values(8 * 7 * 9 * 16, 11));
    REQUIRE(net->hands_over_codes<0>());  // depthwise (sums in floats) -> 1x1 (Dense kernel)
    REQUIRE(net->hands_over_codes<2>());  // 1x1 -> 3x3 (GEMM over gathered codes)
    REQUIRE(net->hands_over_codes<4>());  // 3x3 -> depthwise multiplier 2 (int32 sums)
    REQUIRE(net->hands_over_codes<5>());  // depthwise -> Flatten -> Dense
  }
  for (std::size_t batch : {1, 3}) {
    check_bit_exact_across_isas<Mlp>("Dense -> ReLU -> Dense -> ReLU6 -> Dense", batch);
    check_bit_exact_across_isas<MobileNetBlock>("depthwise, 1x1, 3x3, depthwise x2, Dense", batch);
    check_bit_exact_across_isas<SmallCnn>("conv of 9 columns -> conv of 36 -> Dense", batch);
  }
  // Batches of Dense run the GEMM (and AMX's tiles from 16 samples): codes in and out.
  check_bit_exact_across_isas<Mlp>("Dense GEMM", 37);
  check_bit_exact_across_isas<WideBlock>("depthwise in bands -> 1x1", 2);
}

TEST_CASE("integer hand-over: a change after linking hands floats over", "[quantized][handover]") {
  const std::vector<float> calibration = normal_values(8 * 40, 31);
  const std::vector<float> input = normal_values(2 * 40, 32);
  auto net = calibrated<Mlp<isa::Default>>(3, calibration);
  auto floats = calibrated<Mlp<isa::Default>>(3, calibration);
  floats->set_integer_handover(false);
  REQUIRE(net->hands_over_codes<0>());
  REQUIRE_FALSE(floats->hands_over_codes<0>());

  // A new input quantisation of the second layer: neither its rows (built for its old input
  // scale) nor the first layer's (built for its old codes) hold any more.
  const QuantParams other{net->layer<2>().input_quantization()->scale * 1.5f, -20};
  REQUIRE(net->layer<2>().set_input_quantization(other).is_ok());
  REQUIRE(floats->layer<2>().set_input_quantization(other).is_ok());
  REQUIRE_FALSE(net->hands_over_codes<0>());
  REQUIRE_FALSE(net->hands_over_codes<2>());
  REQUIRE(std::memcmp(run(*net, input, 2).data(), run(*floats, input, 2).data(), 2 * 10 * sizeof(float)) == 0);
  net->link_integer_handover();
  REQUIRE(net->hands_over_codes<0>());
  REQUIRE(net->hands_over_codes<2>());

  // New weights in the first layer: their version no longer matches its rows.
  std::vector<float> weights(48 * 40, 0.01f);
  net->layer<0>().set_param(0, weights.data());
  REQUIRE_FALSE(net->hands_over_codes<0>());
  REQUIRE(net->hands_over_codes<2>());
  net->link_integer_handover();
  REQUIRE(net->hands_over_codes<0>());
}

TEST_CASE("integer hand-over: requantisation at the extremes, every ISA against the reference",
          "[quantized][handover]") {
  // The rows are drawn directly (not built from scales): mantissas over [2^30, 2^31) and 0,
  // exponents from -31 to 30 (left shifts that saturate), biases up to +-2^30, zero points and
  // code ranges at the ends; sums as large as the weights and codes allow.
  std::mt19937 rng(41);
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t rows = 1 + rng() % 70, cols = 1 + rng() % 90, batch = 1 + rng() % 20;
    WeightMatrix<Int8<>, DenseStorage> weights(rows, cols);
    std::vector<float> values(rows * cols);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& v : values) v = trial % 4 == 0 ? (uniform(rng) < 0 ? -1.0f : 1.0f) : uniform(rng);
    weights.assign(values.data());
    std::vector<std::int32_t> bias(rows), mantissa(rows), left(rows), right(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      const int exponent = static_cast<int>(rng() % 62) - 31;
      mantissa[r] = rng() % 9 == 0 ? 0 : static_cast<std::int32_t>((1u << 30) + rng() % (1u << 30));
      left[r] = std::max(exponent, 0);
      right[r] = std::max(-exponent, 0);
      const std::int32_t ends[] = {requantize_max_bias, -requantize_max_bias, 0};
      bias[r] = rng() % 5 == 0 ? ends[rng() % 3]
                               : static_cast<std::int32_t>(rng() % (2u << 20)) - (1 << 20);
    }
    const std::int32_t zero_point = trial % 3 == 0 ? 0 : trial % 3 == 1 ? 255 : static_cast<std::int32_t>(rng() % 256);
    const std::int32_t low = static_cast<std::int32_t>(rng() % 2 ? 0 : rng() % 128);
    const std::int32_t high = static_cast<std::int32_t>(rng() % 2 ? 255 : 128 + rng() % 128);
    const RequantizationRows table{bias.data(), mantissa.data(), left.data(), right.data(), zero_point, low, high};
    kernels::Int8InputQuant quant{{0.05f, static_cast<std::int32_t>(rng() % 256)}, 0, 255};
    std::vector<std::uint8_t> codes_in(batch * cols);
    for (auto& c : codes_in) c = static_cast<std::uint8_t>(trial % 4 == 0 ? (rng() % 2 ? 255 : 0) : rng() % 256);
    const std::size_t pr = (rows + 15) / 16 * 16, pc = (cols + 3) / 4 * 4;
    AlignedBuffer<std::byte> scratch(batch * std::max(kernels::int8_dense_scratch_bytes(pr, pc),
                                                      kernels::int8_dense_reference_scratch_bytes(pr, pc)));
    std::vector<std::uint8_t> expected(batch * rows), actual(batch * rows);
    kernels::dense_int8(isa::Scalar{}, weights, nullptr, codes_in.data(), kernels::Int8CodesOut{expected.data(), table},
                        batch, quant, activation::Identity{}, scratch.data());
    // The reference against the definition, one row of the first sample.
    {
      std::int32_t acc = 0;
      for (std::size_t k = 0; k < cols; ++k) acc += weights.at(0, k) * (codes_in[k] - quant.params.zero_point);
      REQUIRE(expected[0] == requantize_row(table, 0, acc));
    }
    mote_test::for_each_simd_isa([&](auto tag, const std::string& isa) {
      std::fill(actual.begin(), actual.end(), std::uint8_t{77});
      kernels::dense_int8(tag, weights, nullptr, codes_in.data(), kernels::Int8CodesOut{actual.data(), table}, batch,
                          quant, activation::Identity{}, scratch.data());
      INFO("trial " << trial << " on " << isa << ": " << rows << "x" << cols << ", batch " << batch);
      REQUIRE(actual == expected);
    });
  }
}

}  // namespace
