// int4 Dense kernels of every ISA against the scalar reference: bit-exact (integers within a
// block and group, the same f32 operations in the same order across groups), over shapes around
// the 16-row panel and the 32-column block, group sizes 32, 64, 96 and per channel, both
// activation code ranges, special inputs, extreme codes, and the int16 accumulation's worst case.

#include <catch2/catch.hpp>

#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "../kernels/kernel_test_support.hpp"
#include "mote/mote.hpp"

namespace {

using mote::kernels::Int8InputQuant;

template <std::size_t G>
struct Int4Case {
  std::size_t rows, cols, batch;
  mote::WeightMatrix<mote::Int4<G>, mote::DenseStorage> weights;
  std::vector<float> bias, input;
  Int8InputQuant quant;
  Int4Case(std::size_t r, std::size_t c, std::size_t b) : rows(r), cols(c), batch(b), weights(r, c), bias(r), input(c * b) {}
};

template <std::size_t G, class Activation = mote::activation::Identity>
void check_all_isas(const Int4Case<G>& c, const std::string& label, Activation activation = {}) {
  mote::AlignedBuffer<std::byte> scratch(
      c.batch * mote::kernels::int4_dense_scratch_bytes(c.weights.padded_rows(), c.weights.padded_cols()));
  std::vector<float> expected(c.rows * c.batch), actual(c.rows * c.batch);
  mote::kernels::dense_int4(mote::isa::Scalar{}, c.weights, c.bias.data(), c.input.data(), expected.data(), c.batch,
                            c.quant, activation, scratch.data());
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa) {
    std::fill(actual.begin(), actual.end(), -12345.0f);
    mote::kernels::dense_int4(tag, c.weights, c.bias.data(), c.input.data(), actual.data(), c.batch, c.quant,
                              activation, scratch.data());
    for (std::size_t i = 0; i < actual.size(); ++i) {
      INFO(label << " isa " << isa << " output " << i << " of " << c.rows << "x" << c.cols << " batch " << c.batch
                 << " group " << G);
      if (std::isnan(expected[i])) REQUIRE(std::isnan(actual[i]));
      else REQUIRE(std::memcmp(&actual[i], &expected[i], sizeof(float)) == 0);
    }
  });
}

template <std::size_t G>
Int4Case<G> random_case(std::mt19937& rng, std::size_t rows, std::size_t cols, std::size_t batch, bool uint8_input) {
  Int4Case<G> c(rows, cols, batch);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(rows * cols);
  for (auto& v : w) v = normal(rng);
  c.weights.assign(w.data());
  for (auto& v : c.bias) v = normal(rng);
  for (auto& v : c.input) v = 2.0f * normal(rng) + 0.5f;
  const std::int32_t offset = uint8_input ? 0 : 128;
  const std::int32_t low = uint8_input ? 0 : -128, high = uint8_input ? 255 : 127;
  const mote::QuantParams p = mote::choose_quant_params(-4.0f, 5.0f, low, high, false);
  c.quant = Int8InputQuant{{p.scale, p.zero_point + offset}, low + offset, high + offset};
  return c;
}

template <std::size_t G>
void random_shapes() {
  std::mt19937 rng(99);
  // Up to 7 pairs of panels: AVX-512 VNNI's passes of 4 pairs, then 3 (200 rows), 2 (190) or 1
  // (130); AVX2's of 2 panels, SSE4's and NEON's of 1.
  for (std::size_t rows : {1u, 15u, 16u, 17u, 33u, 64u, 100u, 130u, 190u, 200u})
    for (std::size_t cols : {1u, 7u, 31u, 32u, 33u, 64u, 65u, 96u, 130u, 257u})
      for (std::size_t batch : {1u, 2u, 5u})
        for (bool u8 : {false, true}) check_all_isas(random_case<G>(rng, rows, cols, batch, u8), "random");
}

}  // namespace

TEST_CASE("int4 dense kernels: every ISA equals the scalar reference bit for bit", "[int4][kernels]") {
  random_shapes<32>();
  random_shapes<64>();
  random_shapes<96>();  // groups of 3 blocks: some straddle the AVX2 kernel's chunks of 8 blocks
  random_shapes<0>();
}

TEST_CASE("int4 dense kernels: extreme codes on every panel and chunk path", "[int4][kernels]") {
  // Weights at codes +7 and -7 (stored 15 and 1) and zeros, activations at the codes 0 and 255
  // (centred -128 and +127): the largest int16 block sums of both signs. Shapes: one to four
  // panels (the AVX2 kernel takes two per pass, then one), 8 to 10 blocks (its chunks of 8),
  // groups of 1, 2 and 3 blocks and per channel, batches of 1 and 3.
  auto run = [](auto group_tag, std::size_t rows, std::size_t cols, std::size_t batch, int weight_pattern,
                int input_pattern) {
    constexpr std::size_t G = decltype(group_tag)::value;
    Int4Case<G> c(rows, cols, batch);
    std::vector<float> w(rows * cols);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < cols; ++k) {
        float v = 1.0f;
        if (weight_pattern == 1) v = -1.0f;
        if (weight_pattern == 2) v = ((r + k) % 2 == 0) ? 1.0f : -1.0f;
        if (weight_pattern == 3) v = (k % 3 == 0) ? 0.0f : ((r / 16 + k / 32) % 2 == 0 ? 1.0f : -1.0f);
        w[r * cols + k] = v;
      }
    c.weights.assign(w.data());
    for (std::size_t r = 0; r < rows; ++r) c.bias[r] = 0.25f * static_cast<float>(r % 5);
    for (std::size_t i = 0; i < c.input.size(); ++i) {
      bool high = input_pattern == 1;
      if (input_pattern == 2) high = i % 2 == 1;
      if (input_pattern == 3) high = (i / 32) % 2 == 0;
      c.input[i] = high ? 1e9f : -1e9f;  // saturate to u = 255 and u = 0
    }
    c.quant = Int8InputQuant{{0.5f, 0}, 0, 255};
    check_all_isas(c, "extreme codes, weights " + std::to_string(weight_pattern) + " inputs " +
                          std::to_string(input_pattern));
  };
  for (std::size_t rows : {16u, 32u, 48u, 61u})
    for (std::size_t cols : {256u, 288u, 300u})
      for (std::size_t batch : {1u, 3u})
        for (int weights = 0; weights < 4; ++weights)
          for (int inputs = 0; inputs < 4; ++inputs) {
            run(std::integral_constant<std::size_t, 32>{}, rows, cols, batch, weights, inputs);
            run(std::integral_constant<std::size_t, 64>{}, rows, cols, batch, weights, inputs);
            run(std::integral_constant<std::size_t, 96>{}, rows, cols, batch, weights, inputs);
            run(std::integral_constant<std::size_t, 0>{}, rows, cols, batch, weights, inputs);
          }
}

TEST_CASE("int4 dense kernels: fused piecewise-linear activations and special inputs", "[int4][kernels]") {
  std::mt19937 rng(5);
  auto c = random_case<32>(rng, 21, 77, 3, false);
  check_all_isas(c, "relu", mote::activation::Relu{});
  check_all_isas(c, "relu6", mote::activation::Relu6{});
  const float inf = std::numeric_limits<float>::infinity();
  const float specials[] = {0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), 1e-42f, 1e30f, -3.4e38f};
  for (std::size_t i = 0; i < c.input.size(); ++i) c.input[i] = specials[i % std::size(specials)];
  check_all_isas(c, "specials");
}

TEST_CASE("int4 dense kernels: the 16-bit block accumulation cannot overflow", "[int4][kernels]") {
  // Every weight at +7 or -7 (stored 15 or 1) and every activation at the code farthest from 128:
  // the largest pmaddubsw pair sums, 8 of them per block. Integer results must equal the exact sum.
  for (float sign : {1.0f, -1.0f}) {
    Int4Case<0> c(16, 256, 1);
    std::vector<float> w(16 * 256, sign);
    c.weights.assign(w.data());
    std::fill(c.input.begin(), c.input.end(), -1e9f);  // saturates to u = 0, centred -128
    c.quant = Int8InputQuant{{1.0f, 0}, 0, 255};
    check_all_isas(c, "extremes");
    std::vector<float> out(16);
    mote::AlignedBuffer<std::byte> scratch(mote::kernels::int4_dense_scratch_bytes(c.weights.padded_rows(), 256));
    mote::kernels::dense_int4(mote::isa::Dynamic{}, c.weights, c.bias.data(), c.input.data(), out.data(), 1, c.quant,
                              mote::activation::Identity{}, scratch.data());
    // y = scale_in * sum_k w * (u - zu) = 1 * 256 * (sign * 1.0) * (0 - 0) = 0, through
    // F = sum w s = 256 * 7 * (-128) * scale(1/7) and the centre term 128 * sum w.
    REQUIRE(out[0] == Approx(0.0).margin(1e-3));
  }
}

TEST_CASE("int4 dense kernels: int32 sums at the longest input a layer accepts", "[int4][kernels]") {
  // K = int8_max_cols, every weight at +7 or -7 and every activation at -128 or +127: AVX-512
  // VNNI's sums of whole bytes (up to 255 x 128 per column) and of high nibbles (16 x 15 x 128)
  // are then at their largest, and must still give the reference's exact dots.
  auto run = [](auto group_tag, float weight, float input) {
    constexpr std::size_t G = decltype(group_tag)::value;
    constexpr std::size_t cols = mote::kernels::int8_max_cols;
    Int4Case<G> c(20, cols, 1);
    std::vector<float> w(20 * cols);
    for (std::size_t r = 0; r < 20; ++r)
      for (std::size_t k = 0; k < cols; ++k) w[r * cols + k] = r % 3 == 2 ? -weight : weight;
    c.weights.assign(w.data());
    std::fill(c.input.begin(), c.input.end(), input);
    c.quant = Int8InputQuant{{1.0f, 0}, 0, 255};
    check_all_isas(c, "longest input");
  };
  for (float weight : {1.0f, -1.0f})
    for (float input : {-1e9f, 1e9f}) {
      run(std::integral_constant<std::size_t, 0>{}, weight, input);
      run(std::integral_constant<std::size_t, 32>{}, weight, input);
    }
}

TEST_CASE("int4 weights: quantisation, bytes and a network against its dequantised float twin", "[int4]") {
  using Int4Net = mote::Sequential<mote::Input<100>, mote::Dense<40, mote::Weights<mote::Int4<32>>>, mote::ReLU,
                                   mote::Dense<10, mote::Weights<mote::Int4<32>>>>;
  using FloatNet = mote::Sequential<mote::Input<100>, mote::Dense<40>, mote::ReLU, mote::Dense<10>>;
  std::mt19937 rng(17);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  std::vector<std::vector<float>> tensors = {std::vector<float>(4000), std::vector<float>(40), std::vector<float>(400),
                                             std::vector<float>(10)};
  for (auto& t : tensors)
    for (auto& v : t) v = normal(rng);
  auto q = std::make_unique<Int4Net>();
  std::vector<mote::TensorRef> refs = {mote::TensorRef::f32("0.weight", {40, 100}, tensors[0].data()),
                                       mote::TensorRef::f32("0.bias", {40}, tensors[1].data()),
                                       mote::TensorRef::f32("2.weight", {10, 40}, tensors[2].data()),
                                       mote::TensorRef::f32("2.bias", {10}, tensors[3].data())};
  q->load(refs, "test", mote::WeightNames::layer_index());
  // Codes round to nearest of max|w|/7 steps: |w - dequantised| <= scale / 2.
  const auto& m = q->layer<0>().weights().matrix();
  for (std::size_t r = 0; r < 40; ++r)
    for (std::size_t k = 0; k < 100; ++k) {
      REQUIRE(m.at(r, k) >= -7);
      REQUIRE(m.at(r, k) <= 7);
      REQUIRE(std::fabs(m.dequantized(r, k) - tensors[0][r * 100 + k]) <= m.scale(r, k) * 0.5f + 1e-7f);
    }
  // 0.5 byte per weight (padded to 48 rows, a pair of panels and a lone one, x 128 columns), a
  // float scale per 32 columns of a row, one float per row for the zero-point term; biases in f32.
  REQUIRE(q->layer<0>().weight_bytes() == 48 * 128 / 2 + 48 * 4 * 4 + 48 * 4 + 48 * 4);
  // Against the float network holding the dequantised weights: the difference is the input
  // quantisation only (calibrated on the inputs themselves). Layer 2's input (ReLU outputs up to
  // about 10, 40 of them) is rounded with a step of about 0.04: an rms error of about 0.012 per
  // input, times 40 weights of about 0.3, is about 0.023 rms per output; 0.15 is over 6 sigma.
  std::vector<float> dequantised0(4000), dequantised2(400);
  for (std::size_t r = 0; r < 40; ++r)
    for (std::size_t k = 0; k < 100; ++k) dequantised0[r * 100 + k] = m.dequantized(r, k);
  const auto& m2 = q->layer<2>().weights().matrix();
  for (std::size_t r = 0; r < 10; ++r)
    for (std::size_t k = 0; k < 40; ++k) dequantised2[r * 40 + k] = m2.dequantized(r, k);
  auto f = std::make_unique<FloatNet>();
  refs[0] = mote::TensorRef::f32("0.weight", {40, 100}, dequantised0.data());
  refs[2] = mote::TensorRef::f32("2.weight", {10, 40}, dequantised2.data());
  f->load(refs, "test", mote::WeightNames::layer_index());
  std::vector<float> inputs(100 * 20);
  for (auto& v : inputs) v = normal(rng) * 3.0f;
  q->calibrate(inputs);
  typename Int4Net::Workspace wq;
  typename FloatNet::Workspace wf;
  for (std::size_t s = 0; s < 20; ++s) {
    mote::Tensor<mote::Shape<10>> yq, yf;
    q->forward(std::span<const float, 100>(inputs.data() + s * 100, 100), yq.span(), wq.bytes());
    f->forward(std::span<const float, 100>(inputs.data() + s * 100, 100), yf.span(), wf.bytes());
    for (std::size_t i = 0; i < 10; ++i) REQUIRE(yq[i] == Approx(yf[i]).margin(0.15));
  }
}
