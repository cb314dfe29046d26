// Integer Conv2D/Conv1D (int8 and int4 weights) and int8 DepthwiseConv2D: each output pixel's
// receptive field is gathered and multiplied by the integer dense kernels (depthwise: summed per
// channel in int32). Checked: every ISA equals the scalar reference bit
// for bit over strides, dilations, paddings and 1x1 (no gather); and each layer equals an f32
// convolution holding the dequantised weights, applied to the dequantised input, up to f32
// rounding (the integer arithmetic is exact, so only the float epilogue differs).

#include <catch2/catch.hpp>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <vector>

#include "../kernels/kernel_test_support.hpp"
#include "../support.hpp"
#include "mote/mote.hpp"

namespace {

using namespace mote;

template <class In, template <class Isa> class Layer, bool Depthwise = false>
void check_isas_and_float_twin(const char* label) {
  using Scalar = Sequential<In, Layer<isa::Scalar>>;
  auto reference = std::make_unique<Scalar>();
  mote_test::load_random_weights(*reference, 7);
  const QuantParams input_params{0.02f, 3};
  REQUIRE(reference->template layer<0>().set_input_quantization(input_params).is_ok());
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> input(In::shape::size);
  for (float& v : input) v = normal(rng);
  typename Scalar::Workspace ws;
  std::vector<float> expected(Scalar::output_shape::size);
  reference->forward(std::span<const float, In::shape::size>(input.data(), In::shape::size),
                     std::span<float, Scalar::output_shape::size>(expected.data(), expected.size()),
                     ws.bytes());
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa) {
    using Net = Sequential<In, Layer<decltype(tag)>>;
    auto net = std::make_unique<Net>();
    mote_test::load_random_weights(*net, 7);
    REQUIRE(net->template layer<0>().set_input_quantization(input_params).is_ok());
    typename Net::Workspace w;
    std::vector<float> actual(expected.size());
    net->forward(std::span<const float, In::shape::size>(input.data(), In::shape::size),
                 std::span<float, Net::output_shape::size>(actual.data(), actual.size()),
                 w.bytes());
    INFO(label << " on " << isa);
    REQUIRE(std::memcmp(actual.data(), expected.data(), actual.size() * sizeof(float)) == 0);
  });
  // The float twin: same geometry in f32, weights dequantised, input quantised-dequantised.
  using FloatLayer = Layer<void>;
  using Twin = Sequential<In, FloatLayer>;
  auto twin = std::make_unique<Twin>();
  const auto& matrix = reference->template layer<0>().weights().matrix();
  // mote's rows are (ky, kx, c); set_param takes PyTorch's [out, c, taps].
  // (Depthwise: [C * M, 1, kh, kw], already mote's rows of taps.)
  constexpr std::size_t channels = Depthwise ? 1 : In::shape::dims[In::shape::rank - 1];
  const std::size_t taps = matrix.cols() / channels;
  std::vector<float> weights(matrix.rows() * matrix.cols());
  for (std::size_t o = 0; o < matrix.rows(); ++o)
    for (std::size_t c = 0; c < channels; ++c)
      for (std::size_t t = 0; t < taps; ++t)
        weights[(o * channels + c) * taps + t] = matrix.dequantized(o, t * channels + c);
  twin->template layer<0>().set_param(0, weights.data());
  twin->template layer<0>().set_param(1, reference->template layer<0>().weights().bias());
  std::vector<float> fake_quantised(input.size());
  for (std::size_t i = 0; i < input.size(); ++i)
    fake_quantised[i] = dequantize(quantize(input[i], input_params, -128, 127), input_params);
  typename Twin::Workspace tw;
  std::vector<float> twin_out(expected.size());
  twin->forward(std::span<const float, In::shape::size>(fake_quantised.data(), In::shape::size),
                std::span<float, Twin::output_shape::size>(twin_out.data(), twin_out.size()),
                tw.bytes());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(label << " output " << i);
    REQUIRE(expected[i] == Approx(twin_out[i]).margin(1e-4).epsilon(1e-4));
  }
}

template <class Format, class... Options>
struct Conv3x3Same {
  template <class Isa>
  using type =
      std::conditional_t<std::is_void_v<Isa>, Conv2D<19, Kernel<3>, Pad::same, Options...>,
                         Conv2D<19, Kernel<3>, Pad::same, Weights<Format>, Options..., Isa>>;
};

}  // namespace

TEST_CASE(
    "integer Conv2D: every ISA bit-exact, and equal to the f32 convolution of dequantised values",
    "[int8][int4][conv]") {
  check_isas_and_float_twin<Input<9, 11, 5>, Conv3x3Same<Int8<>>::template type>("int8 3x3 same");
  check_isas_and_float_twin<Input<9, 11, 5>, Conv3x3Same<Int4<32>>::template type>("int4 3x3 same");
  check_isas_and_float_twin<Input<9, 11, 5>, Conv3x3Same<Int8<>, Stride<2>>::template type>(
      "int8 3x3 stride 2");
  check_isas_and_float_twin<Input<9, 11, 5>, Conv3x3Same<Int7<>>::template type>("int7 3x3 same");
  check_isas_and_float_twin<Input<9, 11, 5>,
                            Conv3x3Same<Int8<PerTensor, Asymmetric>, Dilation<2>>::template type>(
      "int8 asymmetric 3x3 dilation 2");
}

namespace {
/// Any Conv2D: the integer layer adds Weights<Format> and the ISA to the options.
template <class Format, std::size_t Filters, class KernelSize, class... Options>
struct AnyConv {
  template <class Isa>
  using type = std::conditional_t<std::is_void_v<Isa>, Conv2D<Filters, KernelSize, Options...>,
                                  Conv2D<Filters, KernelSize, Options..., Weights<Format>, Isa>>;
};
}  // namespace

TEST_CASE("integer Conv2D: the quantised, bordered image and code gathering across geometries",
          "[int8][conv]") {
  // One input channel (the taps are single codes), many pixel chunks; asymmetric padding with
  // strides and dilations that make the bordered image larger than the padded input on one side
  // only; uint8 activations (another padding code); per-tensor asymmetric weights (the epilogue
  // sums the gathered codes).
  check_isas_and_float_twin<Input<28, 28, 1>,
                            AnyConv<Int8<>, 16, Kernel<3>, Pad::same>::template type>(
      "int8 3x3 same, one channel");
  check_isas_and_float_twin<Input<13, 17, 6>,
                            AnyConv<Int8<>, 21, Kernel<3, 5>, Stride<2, 3>, Dilation<2, 1>,
                                    Padding<1, 3, 2, 0>>::template type>(
      "int8 3x5 stride 2x3 dilation 2x1 padding 1,3,2,0");
  check_isas_and_float_twin<Input<10, 9, 7>,
                            AnyConv<Int8<PerTensor, Asymmetric>, 33, Kernel<2>>::template type>(
      "int8 asymmetric 2x2 valid");
  check_isas_and_float_twin<Input<10, 9, 7>,
                            AnyConv<Int8<PerChannel, Asymmetric>, 5, Kernel<4, 1>, Stride<3>,
                                    Padding<2, 0, 1, 0>>::template type>(
      "int8 per-channel asymmetric 4x1 stride 3");
  // Receptive fields of at most conv_int8_float_max_field values sum in floats: asymmetric
  // weights, strides, dilations and asymmetric padding there too, and the largest such field.
  static_assert(3 * 2 * 2 <= kernels::conv_int8_float_max_field &&
                4 * 4 == kernels::conv_int8_float_max_field);
  check_isas_and_float_twin<Input<11, 13, 2>,
                            AnyConv<Int8<PerChannel, Asymmetric>, 19, Kernel<3, 2>, Stride<2, 1>,
                                    Dilation<1, 2>, Padding<2, 1, 0, 1>>::template type>(
      "int8 per-channel asymmetric 3x2 on 2 channels (f32 path)");
  check_isas_and_float_twin<Input<9, 10, 1>, AnyConv<Int8<PerTensor, Asymmetric>, 7, Kernel<4>,
                                                     Pad::same>::template type>(
      "int8 per-tensor asymmetric 4x4 on 1 channel (f32 path, 16 values)");
  // int4 windows run the same bordered image and code gather with the int4 GEMM: a receptive
  // field of 30 (the gather's 4 padding codes spill 2 past the 32-column row), groups of 64
  // over 126 columns, per-channel scales, strides, dilations and asymmetric padding.
  check_isas_and_float_twin<Input<9, 8, 10>,
                            AnyConv<Int4<32>, 17, Kernel<3, 1>, Pad::same>::template type>(
      "int4 3x1 on 10 channels (30 columns)");
  check_isas_and_float_twin<Input<13, 17, 14>,
                            AnyConv<Int4<64>, 21, Kernel<3, 3>, Stride<2, 3>, Dilation<2, 1>,
                                    Padding<1, 3, 2, 0>>::template type>(
      "int4 groups of 64, 3x3 stride 2x3 dilation 2x1 padding 1,3,2,0");
  check_isas_and_float_twin<Input<28, 28, 1>,
                            AnyConv<Int4<0>, 16, Kernel<3>, Pad::same>::template type>(
      "int4 per-channel 3x3 same, one channel");
}

namespace {
template <class Format>
struct Pointwise {
  template <class Isa>
  using type = std::conditional_t<std::is_void_v<Isa>, Conv2D<24, Kernel<1>>,
                                  Conv2D<24, Kernel<1>, Weights<Format>, Isa>>;
};
template <class Format>
struct OneD {
  template <class Isa>
  using type = std::conditional_t<std::is_void_v<Isa>, Conv1D<7, 5, Padding<2, 1>>,
                                  Conv1D<7, 5, Padding<2, 1>, Weights<Format>, Isa>>;
};
}  // namespace

TEST_CASE("integer Conv2D 1x1 (no gather) and Conv1D", "[int8][int4][conv]") {
  check_isas_and_float_twin<Input<13, 7, 32>, Pointwise<Int8<>>::template type>("int8 pointwise");
  check_isas_and_float_twin<Input<13, 7, 32>, Pointwise<Int4<32>>::template type>("int4 pointwise");
  check_isas_and_float_twin<Input<40, 6>, OneD<Int8<>>::template type>("int8 conv1d");
  check_isas_and_float_twin<Input<13, 7, 32>, Pointwise<Int7<PerTensor>>::template type>("int7 per-tensor pointwise");
}

namespace {
template <std::size_t KH, std::size_t KW, class Format, class... Options>
struct AnyDepthwise {
  template <class Isa>
  using type =
      std::conditional_t<std::is_void_v<Isa>, DepthwiseConv2D<Kernel<KH, KW>, Options...>,
                         DepthwiseConv2D<Kernel<KH, KW>, Options..., Weights<Format>, Isa>>;
};
}  // namespace

TEST_CASE(
    "integer DepthwiseConv2D: every ISA bit-exact, and equal to the f32 depthwise convolution",
    "[int8][depthwise]") {
  // 32 channels (whole 16-channel blocks), 37 (a block tail), 3 (tail only); padding, strides,
  // dilations, a channel multiplier; symmetric and asymmetric weights.
  check_isas_and_float_twin<Input<12, 10, 32>, AnyDepthwise<3, 3, Int8<>, Pad::same>::template type,
                            true>("depthwise int8 3x3 same, 32 channels");
  check_isas_and_float_twin<Input<12, 10, 32>, AnyDepthwise<3, 3, Int7<>, Pad::same>::template type,
                            true>("depthwise int7 3x3 same, 32 channels");
  check_isas_and_float_twin<
      Input<9, 11, 37>,
      AnyDepthwise<3, 3, Int8<PerChannel, Asymmetric>, Stride<2>, Pad::same>::template type, true>(
      "depthwise int8 asymmetric 3x3 stride 2, 37 channels");
  check_isas_and_float_twin<Input<9, 11, 3>,
                            AnyDepthwise<5, 3, Int8<PerTensor, Symmetric>, Dilation<2, 1>,
                                         Padding<3, 1, 0, 2>>::template type,
                            true>("depthwise int8 5x3 dilation 2x1, 3 channels");
  check_isas_and_float_twin<
      Input<7, 8, 5>, AnyDepthwise<3, 3, Int8<>, Multiplier<3>, Pad::same>::template type, true>(
      "depthwise int8 multiplier 3");
  // Rows of at least 12 KB of float codes: the f32 path runs in bands of 2 output rows, each
  // converting only the input rows the previous band did not (kernels/depthwise/int8-inl.hpp).
  check_isas_and_float_twin<Input<19, 130, 32>, AnyDepthwise<3, 3, Int8<>, Pad::same>::template type, true>(
      "depthwise int8 3x3 same in 10 bands");
  check_isas_and_float_twin<
      Input<17, 90, 37>,
      AnyDepthwise<3, 3, Int8<PerChannel, Asymmetric>, Stride<2>, Pad::same>::template type, true>(
      "depthwise int8 3x3 stride 2 in 5 bands");
  check_isas_and_float_twin<Input<23, 1100, 3>,
                            AnyDepthwise<5, 3, Int8<PerTensor, Symmetric>, Dilation<2, 1>,
                                         Padding<3, 1, 0, 2>>::template type,
                            true>("depthwise int8 5x3 dilation 2x1 in bands");
}

TEST_CASE(
    "integer DepthwiseConv2D: kernels above the f32 path's 49 taps sum in int32, bit-exact on "
    "every ISA",
    "[int8][depthwise]") {
  // 8x7 = 56 taps (> depthwise_int8_float_max_taps): the int32 path with multiplier 1, 16-channel
  // blocks (AVX2's tap pairs) and a tail of 3 channels.
  static_assert(8 * 7 > kernels::depthwise_int8_float_max_taps);
  check_isas_and_float_twin<
      Input<10, 9, 19>, AnyDepthwise<8, 7, Int8<PerChannel, Asymmetric>, Pad::same>::template type,
      true>("depthwise int8 8x7 same, 19 channels");
}

TEST_CASE("integer DepthwiseConv2D: the largest sums of the f32 path are exact on every ISA",
          "[int8][depthwise]") {
  // 7x7 = 49 taps, every centred weight at +-255 and every centred input code at 255: each sum is
  // +-49 x 255 x 255 = 3,186,225 (below 2^24 = 16,777,216, where integers stop being exact in f32).
  static_assert(7 * 7 == kernels::depthwise_int8_float_max_taps);
  constexpr std::size_t channels = 21;
  using Input7 = Input<9, 9, channels>;
  auto run = [&](auto tag) {
    using Net =
        Sequential<Input7,
                   DepthwiseConv2D<Kernel<7>, Pad::same, Weights<Int8<PerChannel, Asymmetric>>,
                                   Activations<Int8<PerTensor, Asymmetric>>, decltype(tag)>>;
    auto net = std::make_unique<Net>();
    // Per channel: 48 weights at +-1 and one at 0, so that the range is [0, 1] or [-1, 0], the
    // zero point sits at its far end and |w - zw| = 255 for the 48 (the sign alternates by
    // channel).
    std::vector<float> weights(channels * 49), bias(channels, 0.25f);
    for (std::size_t c = 0; c < channels; ++c)
      for (std::size_t t = 0; t < 49; ++t)
        weights[c * 49 + t] = t == 0 ? 0.0f : c % 2 == 0 ? 1.0f : -1.0f;
    net->template layer<0>().set_param(0, weights.data());
    net->template layer<0>().set_param(1, bias.data());
    REQUIRE(net->template layer<0>().set_input_quantization(QuantParams{1.0f, -128}).is_ok());
    std::vector<float> input(Input7::shape::size, 1e6f), output(Net::output_shape::size);
    typename Net::Workspace ws;
    net->forward(std::span<const float, Input7::shape::size>(input.data(), input.size()),
                 std::span<float, Net::output_shape::size>(output.data(), output.size()),
                 ws.bytes());
    return output;
  };
  const std::vector<float> expected = run(isa::Scalar{});
  // The centre pixel sees all 49 taps: 48 x 255 x 255 in magnitude plus the 49th's 0.
  const std::size_t centre = (4 * 9 + 4) * channels;
  REQUIRE(expected[centre] == Approx(48.0 * 255.0 * 255.0 / 255.0 + 0.25).epsilon(1e-6));
  REQUIRE(expected[centre + 1] == Approx(-48.0 * 255.0 * 255.0 / 255.0 + 0.25).epsilon(1e-6));
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa) {
    INFO(isa);
    const std::vector<float> actual = run(tag);
    REQUIRE(std::memcmp(actual.data(), expected.data(), actual.size() * sizeof(float)) == 0);
  });
}

TEST_CASE(
    "integer convolutions that sum in floats quantise special inputs as mote::quantize on every "
    "ISA",
    "[int8][conv][depthwise]") {
  // NaN (the zero point), +-inf and huge values (saturation), +-0, and ties at half a step (round
  // half to even) through the f32 paths' quantiser: a depthwise layer and a 2x2 convolution on 4
  // channels (16 values, conv_int8_float_max_field).
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            0.0f,
                            -0.0f,
                            0.25f,
                            0.75f,
                            -1.25f,
                            3e38f,
                            -3e38f,
                            1.0f,
                            -63.9f,
                            70.1f};
  using In = Input<6, 5, 4>;
  std::vector<float> input(In::shape::size);
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = specials[(i * 7) % std::size(specials)];
  auto run = [&](auto tag, auto spec) {
    using Net = Sequential<In, decltype(spec)>;
    auto net = std::make_unique<Net>();
    mote_test::load_random_weights(*net, 11);
    (void)tag;
    REQUIRE(net->template layer<0>().set_input_quantization(QuantParams{0.5f, 3}).is_ok());
    std::vector<float> output(Net::output_shape::size);
    typename Net::Workspace ws;
    net->forward(std::span<const float, In::shape::size>(input.data(), input.size()),
                 std::span<float, Net::output_shape::size>(output.data(), output.size()),
                 ws.bytes());
    return output;
  };
  auto compare = [&](auto make_spec) {
    const std::vector<float> expected = run(isa::Scalar{}, make_spec(isa::Scalar{}));
    for (float v : expected) REQUIRE(std::isfinite(v));
    mote_test::for_each_simd_isa([&](auto tag, const std::string& isa) {
      INFO(isa);
      const std::vector<float> actual = run(tag, make_spec(tag));
      REQUIRE(std::memcmp(actual.data(), expected.data(), actual.size() * sizeof(float)) == 0);
    });
  };
  compare([](auto tag) {
    return DepthwiseConv2D<Kernel<3>, Pad::same, Weights<Int8<>>, decltype(tag)>{};
  });
  compare([](auto tag) {
    return Conv2D<5, Kernel<2>, Pad::same, Weights<Int8<PerChannel, Asymmetric>>, decltype(tag)>{};
  });
}

TEST_CASE("integer convolution kernels equal the reference over random geometries on every ISA",
          "[int8][int4][conv][depthwise]") {
  // Kernels up to 4x4 on 1-5 channels: receptive fields of 1 to 80 values, so both sides of
  // conv_int8_float_max_field; depthwise with multiplier 1 (the f32 path) and 2 (int32 sums);
  // strides, dilations, paddings on every side, and ReLU6 fused half of the time.
  std::mt19937 rng(17);
  std::uniform_int_distribution<std::size_t> channels(1, 5), filters(1, 35);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const kernels::Int8InputQuant quant{{0.03f, 3 + 128}, 0, 255};
  auto random_values = [&](std::size_t count) {
    std::vector<float> values(count);
    for (float& v : values) v = normal(rng);
    return values;
  };
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    for (int checked = 0; checked < 150; ++checked) {
      mote_test::RandomWindow window = mote_test::random_window(rng, channels(rng));
      kernels::WindowGeometry& g = window.geometry;
      const int kind = checked % 3;  // 0: int8 conv, 1: int8 depthwise, 2: int4 conv
      const std::size_t multiplier = 1 + checked % 2;
      g.out_c = kind == 1 ? g.in_c * multiplier : filters(rng);
      const std::size_t cols = g.kernel_h * g.kernel_w * (kind == 1 ? 1 : g.in_c);
      const std::vector<float> weights = random_values(g.out_c * cols),
                               bias = random_values(g.out_c + 16),
                               input = random_values(g.in_h * g.in_w * g.in_c);
      const std::size_t out_size = g.out_h * g.out_w * g.out_c;
      std::vector<float> expected(out_size + 1, -7.0f), actual(out_size + 1, -7.0f);
      auto run_both = [&](const auto& matrix, std::size_t scratch_bytes, auto kernel) {
        AlignedBuffer<std::byte> scratch(scratch_bytes);
        if (checked % 4 < 2) {
          kernel(isa::Scalar{}, matrix, expected.data(), scratch.data(), activation::Identity{});
          kernel(tag, matrix, actual.data(), scratch.data(), activation::Identity{});
        } else {
          kernel(isa::Scalar{}, matrix, expected.data(), scratch.data(), activation::Relu6{});
          kernel(tag, matrix, actual.data(), scratch.data(), activation::Relu6{});
        }
      };
      if (kind == 2) {
        WeightMatrix<Int4<32>, DenseStorage> matrix(g.out_c, cols);
        matrix.assign(weights.data());
        run_both(
            matrix, kernels::conv_int4_scratch_bytes(g, matrix.padded_rows(), matrix.padded_cols()),
            [&](auto isa, const auto& m, float* out, std::byte* scratch, auto act) {
              kernels::conv2d_int4(isa, g, m, bias.data(), input.data(), out, quant, act, scratch);
            });
      } else {
        WeightMatrix<Int8<PerChannel, Asymmetric>, DenseStorage> matrix(g.out_c, cols);
        matrix.assign(weights.data());
        if (kind == 0)
          run_both(matrix,
                   kernels::conv_int8_scratch_bytes(g, matrix.padded_rows(), matrix.padded_cols()),
                   [&](auto isa, const auto& m, float* out, std::byte* scratch, auto act) {
                     kernels::conv2d_int8(isa, g, m, bias.data(), input.data(), out, quant, act,
                                          scratch);
                   });
        else
          run_both(matrix, kernels::depthwise_int8_scratch_bytes(g),
                   [&](auto isa, const auto& m, float* out, std::byte* scratch, auto act) {
                     kernels::depthwise_int8(isa, g, m, bias.data(), input.data(), out, quant, act,
                                             scratch);
                   });
      }
      INFO(isa_name << (kind == 0   ? ": int8 conv "
                        : kind == 1 ? ": int8 depthwise "
                                    : ": int4 conv ")
                    << window.describe());
      REQUIRE(actual[out_size] == -7.0f);
      REQUIRE(std::memcmp(actual.data(), expected.data(), out_size * sizeof(float)) == 0);
    }
  });
}

TEST_CASE("integer DepthwiseConv2D: MobileNet's 3x3 with its activation in registers, on every ISA",
          "[int8][depthwise]") {
  // 3x3, stride 1, 'same', whole channel vectors: the f32 path finishes each band's sums in the
  // kernel's registers (fma with the multiplier and bias, then the activation) instead of a pass
  // of its own. One band and several (rows of 40 KB of float codes), symmetric and asymmetric
  // weights, every piecewise-linear activation the kernel fuses.
  std::mt19937 rng(29);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const kernels::Int8InputQuant quant{{0.02f, 7 + 128}, 0, 255};
  struct Shape {
    std::size_t h, w, c;
  };
  for (const Shape shape : {Shape{6, 9, 16}, Shape{5, 2, 32}, Shape{11, 320, 32}}) {
    kernels::WindowGeometry g;
    g.in_h = g.out_h = shape.h;
    g.in_w = g.out_w = shape.w;
    g.in_c = g.out_c = shape.c;
    g.kernel_h = g.kernel_w = 3;
    g.pad_top = g.pad_left = 1;
    std::vector<float> weights(shape.c * 9), bias(shape.c + 16), input(shape.h * shape.w * shape.c);
    for (float& v : weights) v = normal(rng);
    for (float& v : bias) v = normal(rng);
    for (float& v : input) v = 2.5f * normal(rng);
    const std::size_t out_size = shape.h * shape.w * shape.c;
    auto check = [&](const auto& matrix, auto activation, const char* label) {
      AlignedBuffer<std::byte> scratch(kernels::depthwise_int8_scratch_bytes(g));
      std::vector<float> expected(out_size), actual(out_size);
      kernels::depthwise_int8(isa::Scalar{}, g, matrix, bias.data(), input.data(), expected.data(), quant, activation,
                              scratch.data());
      mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
        std::fill(actual.begin(), actual.end(), -7.0f);
        kernels::depthwise_int8(tag, g, matrix, bias.data(), input.data(), actual.data(), quant, activation,
                                scratch.data());
        INFO(isa_name << ": " << label << ", " << shape.h << "x" << shape.w << "x" << shape.c);
        REQUIRE(std::memcmp(actual.data(), expected.data(), out_size * sizeof(float)) == 0);
      });
    };
    WeightMatrix<Int8<>, DenseStorage> symmetric(shape.c, 9);
    symmetric.assign(weights.data());
    WeightMatrix<Int8<PerTensor, Asymmetric>, DenseStorage> asymmetric(shape.c, 9);
    asymmetric.assign(weights.data());
    check(symmetric, activation::Identity{}, "identity");
    check(symmetric, activation::Relu{}, "relu");
    check(symmetric, activation::Relu6{}, "relu6");
    check(symmetric, activation::LeakyRelu<1, 10>{}, "leaky relu");
    check(asymmetric, activation::Relu6{}, "asymmetric, relu6");
  }
}
