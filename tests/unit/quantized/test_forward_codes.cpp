// Sequential::forward_codes: a network whose first layer is int8 runs on input codes instead of
// floats. Checked: the outputs equal forward() on floats that quantise to those codes, bit for
// bit, on every ISA, batched or not, with the integer hand-over off and on, for a first Dense,
// Conv2D (both of its paths) and DepthwiseConv2D layer (rows of whole vectors and with tails)
// and for signed activation codes; and a
// network without an input quantisation, or given partial samples, gets an error and no output.

#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <vector>

#include "../kernels/kernel_test_support.hpp"
#include "../support.hpp"
#include "mote/mote.hpp"

namespace {

using namespace mote;
using Q8 = Weights<Int8<>>;

template <class Isa>
using Mlp = Sequential<Input<40>, Dense<48, Q8, Isa>, ReLU, Dense<24, Q8, Isa>, ReLU6, Dense<10, Q8, Isa>>;
template <class Isa>
using SignedMlp = Sequential<Input<40>, Dense<24, Weights<Int8<>>, Activations<Int8<PerTensor, Symmetric>>, Isa>,
                             Tanh, Dense<10, Q8, Isa>>;
template <class Isa>
using MobileNetBlock = Sequential<Input<7, 9, 16>, DepthwiseConv2D<Kernel<3>, Pad::same, Q8, Isa>, ReLU6,
                                  Conv2D<24, Kernel<1>, Q8, Isa>, ReLU6, Flatten, Dense<5, Q8, Isa>>;
// A first convolution of 9 columns (sums in floats), and one of 36 (the GEMM on gathered codes).
template <class Isa>
using SmallCnn = Sequential<Input<8, 8, 1>, Conv2D<4, Kernel<3>, Q8, Isa>, ReLU, Conv2D<8, Kernel<3>, Stride<2>, Q8, Isa>,
                            Flatten, Dense<6, Q8, Isa>>;
// Input rows of 21 values: the code conversion's tails (5 after 16 on AVX-512, after 2 x 8 on AVX2).
template <class Isa>
using OddDepthwise = Sequential<Input<5, 7, 3>, DepthwiseConv2D<Kernel<3>, Pad::same, Q8, Isa>, ReLU, Flatten,
                                Dense<4, Q8, Isa>>;
template <class Isa>
using WideCnn = Sequential<Input<6, 6, 4>, Conv2D<8, Kernel<3>, Pad::same, Q8, Isa>, ReLU, Flatten, Dense<3, Q8, Isa>>;

std::vector<float> normal_values(std::size_t count, std::uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> values(count);
  for (float& v : values) v = normal(rng);
  return values;
}

template <template <class Isa> class Net>
void check_codes_equal_floats(const char* label) {
  using In = typename Net<isa::Scalar>::input_shape;
  using Out = typename Net<isa::Scalar>::output_shape;
  const std::vector<float> calibration = normal_values(8 * In::size, 21, 1.0f);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    using N = Net<decltype(tag)>;
    for (bool handover : {false, true}) {
      auto net = std::make_unique<N>();
      mote_test::load_random_weights(*net, 7);
      net->set_integer_handover(handover);
      net->calibrate(calibration);
      const auto quant = net->input_codes_quantization();
      REQUIRE(quant.has_value());
      // 200 samples: more than one block of samples for the Dense layers (int8_sample_block).
      for (std::size_t batch : {1u, 3u, 200u}) {
        // Beyond the calibrated range too: codes at both ends.
        const std::vector<float> input = normal_values(batch * In::size, 22 + static_cast<std::uint32_t>(batch), 1.5f);
        std::vector<std::uint8_t> codes(input.size());
        for (std::size_t i = 0; i < input.size(); ++i)
          codes[i] = static_cast<std::uint8_t>(quantize(input[i], quant->params, quant->low, quant->high));
        typename N::Workspace workspace(batch);
        std::vector<float> from_floats(batch * Out::size), from_codes(batch * Out::size, -7.0f);
        net->forward_batch(std::span<const float>(input), std::span<float>(from_floats), workspace);
        const Status status =
            batch == 1 ? net->forward_codes(std::span<const std::uint8_t, In::size>(codes.data(), In::size),
                                            std::span<float, Out::size>(from_codes.data(), Out::size), workspace)
                       : net->forward_codes_batch(codes, from_codes, workspace);
        INFO(label << " on " << isa_name << ", hand-over " << handover << ", batch " << batch);
        REQUIRE(status.is_ok());
        REQUIRE(std::memcmp(from_codes.data(), from_floats.data(), from_codes.size() * sizeof(float)) == 0);
      }
    }
  });
}

}  // namespace

TEST_CASE("forward_codes: the same outputs as forward() on the floats the codes stand for", "[quantized][codes]") {
  check_codes_equal_floats<Mlp>("mlp");
  check_codes_equal_floats<SignedMlp>("signed activation codes");
  check_codes_equal_floats<MobileNetBlock>("depthwise first");
  check_codes_equal_floats<OddDepthwise>("depthwise first, rows of 21 codes");
  check_codes_equal_floats<SmallCnn>("convolution of 9 columns first");
  check_codes_equal_floats<WideCnn>("convolution of 36 columns first");
}

TEST_CASE("forward_codes: no input quantisation or partial samples are errors", "[quantized][codes]") {
  auto net = std::make_unique<Mlp<isa::Dynamic>>();
  mote_test::load_random_weights(*net, 3);
  Mlp<isa::Dynamic>::Workspace workspace(2);
  std::vector<std::uint8_t> codes(80, 130);
  std::vector<float> out(20, -7.0f);
  REQUIRE_FALSE(net->input_codes_quantization().has_value());
  Status status = net->forward_codes_batch(codes, out, workspace);
  REQUIRE_FALSE(status.is_ok());
  REQUIRE(status.error().code == ErrorCode::invalid_value);
  REQUIRE(status.message().find("layer 0 has no input quantisation") != std::string::npos);
  REQUIRE(out[0] == -7.0f);

  REQUIRE(net->layer<0>().set_input_quantization(QuantParams{0.05f, 120}).is_ok());
  const auto quant = net->input_codes_quantization();
  REQUIRE(quant.has_value());
  REQUIRE(quant->params.scale == 0.05f);
  // The default activation format is signed int8: its codes travel as uint8, offset by 128.
  REQUIRE(quant->params.zero_point == 248);
  REQUIRE(quant->low == 0);
  REQUIRE(quant->high == 255);
  status = net->forward_codes_batch(std::span<const std::uint8_t>(codes.data(), 79), out, workspace);
  REQUIRE(status.error().code == ErrorCode::shape_mismatch);
  REQUIRE(status.message().find("79 input codes") != std::string::npos);
  std::vector<std::uint8_t> three(120, 128);
  std::vector<float> out3(30);
  status = net->forward_codes_batch(three, out3, workspace);
  REQUIRE(status.error().code == ErrorCode::shape_mismatch);
  REQUIRE(status.message().find("made for 2") != std::string::npos);
  REQUIRE(out[0] == -7.0f);
  REQUIRE(net->forward_codes_batch(codes, out, workspace).is_ok());
  // Codes at the zero point stand for zeros: the same as forward() on zeros.
  std::vector<float> zeros(80, 0.0f), expected(20);
  std::fill(codes.begin(), codes.end(), std::uint8_t{248});
  REQUIRE(net->forward_codes_batch(codes, out, workspace).is_ok());
  net->forward_batch(zeros, expected, workspace);
  REQUIRE(std::memcmp(out.data(), expected.data(), out.size() * sizeof(float)) == 0);
}
