// int8 Dense kernels of every ISA against the scalar reference: bit-exact, over shapes around
// the panel (16 rows), group (4 columns) and register-tile sizes, every weight format, both
// activation code ranges, adversarial extremes and the largest K the accumulators allow.

#include <catch2/catch.hpp>

#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "../kernels/kernel_test_support.hpp"
#include "mote/mote.hpp"

namespace {

using mote::kernels::Int8InputQuant;

template <class Format>
struct Case {
  std::size_t rows, cols, batch;
  mote::WeightMatrix<Format, mote::DenseStorage> weights;
  std::vector<float> bias, input;
  Int8InputQuant quant;
  Case(std::size_t r, std::size_t c, std::size_t b) : rows(r), cols(c), batch(b), weights(r, c), bias(r), input(c * b) {}
};

std::size_t scratch_for(std::size_t rows, std::size_t cols, std::size_t batch) {
  const std::size_t pr = (rows + 15) / 16 * 16, pc = (cols + 3) / 4 * 4;
  return batch * std::max(mote::kernels::int8_dense_scratch_bytes(pr, pc),
                          mote::kernels::int8_dense_reference_scratch_bytes(pr, pc));
}

/// Distance in representable floats (same sign assumed close to each other).
std::int64_t ulp_distance(float a, float b) {
  std::int32_t ia, ib;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  if (ia < 0) ia = std::numeric_limits<std::int32_t>::min() - ia;
  if (ib < 0) ib = std::numeric_limits<std::int32_t>::min() - ib;
  return std::abs(std::int64_t{ia} - std::int64_t{ib});
}

/// Bit-exact (max_ulp = 0) unless the activation is transcendental: then the ISA's vector
/// function's bound (kernels/elementwise/math-inl.hpp: tanh 4 ulp, sigmoid 6 ulp) applies to
/// the activation of bit-identical pre-activation values.
template <class Format, class Activation = mote::activation::Identity>
void check_all_isas(const Case<Format>& c, const std::string& label, Activation activation = {},
                    std::int64_t max_ulp = 0) {
  mote::AlignedBuffer<std::byte> scratch(scratch_for(c.rows, c.cols, c.batch));
  std::vector<float> expected(c.rows * c.batch), actual(c.rows * c.batch);
  mote::kernels::dense_int8(mote::isa::Scalar{}, c.weights, c.bias.data(), c.input.data(), expected.data(), c.batch,
                            c.quant, activation, scratch.data());
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa) {
    std::fill(actual.begin(), actual.end(), -12345.0f);
    mote::kernels::dense_int8(tag, c.weights, c.bias.data(), c.input.data(), actual.data(), c.batch, c.quant,
                              activation, scratch.data());
    for (std::size_t i = 0; i < actual.size(); ++i) {
      INFO(label << " isa " << isa << " output " << i << " of " << c.rows << "x" << c.cols << " batch " << c.batch);
      // Bit-exact, NaN included (same bits are not required of NaN payloads).
      if (std::isnan(expected[i])) REQUIRE(std::isnan(actual[i]));
      else if (max_ulp == 0) REQUIRE(std::memcmp(&actual[i], &expected[i], sizeof(float)) == 0);
      else REQUIRE(ulp_distance(actual[i], expected[i]) <= max_ulp);
    }
  });
}

template <class Format>
Case<Format> random_case(std::mt19937& rng, std::size_t rows, std::size_t cols, std::size_t batch, bool uint8_input) {
  Case<Format> c(rows, cols, batch);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(rows * cols);
  for (auto& v : w) v = normal(rng);
  c.weights.assign(w.data());
  for (auto& v : c.bias) v = normal(rng);
  for (auto& v : c.input) v = 2.0f * normal(rng) + 0.5f;
  const std::int32_t offset = uint8_input ? 0 : 128;
  const std::int32_t low = uint8_input ? 0 : -128, high = uint8_input ? 255 : 127;
  mote::QuantParams p = mote::choose_quant_params(-4.0f, 5.0f, low, high, false);
  c.quant = Int8InputQuant{{p.scale, p.zero_point + offset}, low + offset, high + offset};
  return c;
}

template <class Format>
void random_shapes(const char* name) {
  std::mt19937 rng(1234);
  const std::size_t row_sizes[] = {1, 3, 15, 16, 17, 31, 33, 48};
  const std::size_t col_sizes[] = {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 64, 100};
  for (std::size_t rows : row_sizes)
    for (std::size_t cols : col_sizes)
      for (std::size_t batch : {1u, 2u, 3u, 5u, 6u, 7u, 8u, 9u, 13u})
        for (bool u8 : {false, true}) {
          auto c = random_case<Format>(rng, rows, cols, batch, u8);
          check_all_isas(c, name);
        }
}

}  // namespace

TEST_CASE("int8 dense kernels: every ISA equals the scalar reference bit for bit", "[int8][kernels]") {
  random_shapes<mote::Int8<mote::PerChannel, mote::Symmetric>>("per-channel symmetric");
  random_shapes<mote::Int8<mote::PerTensor, mote::Symmetric>>("per-tensor symmetric");
  random_shapes<mote::Int8<mote::PerChannel, mote::Asymmetric>>("per-channel asymmetric");
  random_shapes<mote::Int8<mote::PerTensor, mote::Asymmetric>>("per-tensor asymmetric");
  random_shapes<mote::Int7<mote::PerChannel>>("int7 per-channel");
  random_shapes<mote::Int7<mote::PerTensor>>("int7 per-tensor");
}

TEST_CASE("int8 dense kernels: fused activations in the epilogue match the reference", "[int8][kernels]") {
  std::mt19937 rng(7);
  auto c = random_case<mote::Int8<>>(rng, 37, 29, 3, false);
  check_all_isas(c, "relu", mote::activation::Relu{});
  check_all_isas(c, "relu6", mote::activation::Relu6{});
  check_all_isas(c, "leaky relu", mote::activation::LeakyRelu<1, 10>{});
  check_all_isas(c, "tanh", mote::activation::Tanh{}, 4);
  check_all_isas(c, "sigmoid", mote::activation::Sigmoid{}, 6);
  // Whole 16-row panels and several samples: AVX2 applies the epilogue (and the activations it
  // has in registers) to the GEMM's register tiles; 4-sample tiles and a tail of 1 to 3.
  for (std::size_t batch : {2u, 4u, 7u}) {
    auto panels = random_case<mote::Int8<>>(rng, 48, 29, batch, batch != 4);
    check_all_isas(panels, "whole panels, identity");
    check_all_isas(panels, "whole panels, relu", mote::activation::Relu{});
    check_all_isas(panels, "whole panels, relu6", mote::activation::Relu6{});
    check_all_isas(panels, "whole panels, leaky relu", mote::activation::LeakyRelu<1, 10>{});
    check_all_isas(panels, "whole panels, tanh", mote::activation::Tanh{}, 4);
    auto narrow = random_case<mote::Int7<>>(rng, 32, 40, batch, batch == 4);
    check_all_isas(narrow, "int7 whole panels, relu6", mote::activation::Relu6{});
    // More rows than the tile epilogue takes (256): the dots, then the per-sample epilogue.
    auto tall = random_case<mote::Int8<>>(rng, 320, 100, batch, batch == 2);
    check_all_isas(tall, "20 panels, relu", mote::activation::Relu{});
    auto tall_narrow = random_case<mote::Int7<>>(rng, 320, 36, batch, batch == 7);
    check_all_isas(tall_narrow, "int7, 20 panels");
  }
  // AVX-512 VNNI's tiles of 4 panels x 6 samples (2 x 12, 1 x 16 for the panels left over), its
  // epilogue in chunks of 512 rows: 6 panels (a block of 4 and one of 2) and 33 (a chunk of 32
  // panels, then one), whole tiles and every kind of tail.
  for (std::size_t batch : {6u, 13u, 17u}) {
    auto six = random_case<mote::Int8<>>(rng, 96, 20, batch, batch == 13);
    check_all_isas(six, "6 panels, relu6", mote::activation::Relu6{});
    auto chunks = random_case<mote::Int8<>>(rng, 528, 12, batch, batch != 13);
    check_all_isas(chunks, "33 panels, relu", mote::activation::Relu{});
    auto asymmetric = random_case<mote::Int8<mote::PerChannel, mote::Asymmetric>>(rng, 96, 20, batch, true);
    check_all_isas(asymmetric, "6 panels, asymmetric (the dots)");
  }
}

TEST_CASE("int8 dense kernels: large batches of short rows (1x1 convolutions) match the reference",
          "[int8][kernels]") {
  // The epilogue that runs the samples in blocks of 64 with each row vector's operands held
  // (AVX2): samples on both sides of a block edge, rows with and without a tail of fewer than 8,
  // columns with and without padding (the one-run quantisation).
  std::mt19937 rng(21);
  for (std::size_t rows : {8u, 13u, 64u, 256u, 257u})
    for (std::size_t cols : {32u, 30u})
      for (std::size_t batch : {63u, 64u, 65u, 130u}) {
        auto c = random_case<mote::Int8<>>(rng, rows, cols, batch, batch % 2 == 0);
        check_all_isas(c, "identity");
        check_all_isas(c, "relu6", mote::activation::Relu6{});
      }
  // Weights under 64 KiB run the batch in blocks of samples (dense_int8): block edges for
  // asymmetric and 7-bit weights too.
  for (std::size_t batch : {95u, 97u, 200u}) {
    auto asymmetric = random_case<mote::Int8<mote::PerChannel, mote::Asymmetric>>(rng, 64, 32, batch, true);
    check_all_isas(asymmetric, "asymmetric, blocks of samples");
    auto narrow = random_case<mote::Int7<>>(rng, 64, 32, batch, false);
    check_all_isas(narrow, "int7, blocks of samples", mote::activation::Relu{});
  }
}

TEST_CASE("int8 dense kernels: batches of 16 samples and more (AMX tiles) match the reference", "[int8][kernels]") {
  // AMX runs whole blocks of 16 samples on tiles, two blocks and two panels at a time, and steps
  // through K by the largest of 16, 8, 4, 2 or 1 groups that divides it; the samples left over
  // run the VNNI kernel. Every mix: one or two blocks, a leftover or none, an odd panel count,
  // and each step size. On CPUs without AMX this is one more batched-GEMM sweep.
  std::mt19937 rng(16);
  for (std::size_t rows : {16u, 32u, 48u, 50u})
    for (std::size_t cols : {4u, 8u, 16u, 32u, 60u, 64u, 100u, 192u, 1024u})
      for (std::size_t batch : {16u, 17u, 31u, 32u, 33u, 48u, 64u}) {
        auto symmetric = random_case<mote::Int8<>>(rng, rows, cols, batch, batch % 2 == 0);
        check_all_isas(symmetric, "per-channel symmetric");
        auto asymmetric = random_case<mote::Int8<mote::PerTensor, mote::Asymmetric>>(rng, rows, cols, batch, true);
        check_all_isas(asymmetric, "per-tensor asymmetric");
      }
}

TEST_CASE("int8 dense kernels: one sample over many panels matches the reference", "[int8][kernels]") {
  // The AVX2 GEMV runs four panels (64 rows) per pass, then two, then one: every mix of them.
  std::mt19937 rng(33);
  for (std::size_t rows : {64u, 80u, 96u, 112u, 127u, 200u})
    for (std::size_t cols : {4u, 33u, 100u}) {
      auto c = random_case<mote::Int8<>>(rng, rows, cols, 1, rows % 2 == 0);
      check_all_isas(c, "identity");
    }
}

TEST_CASE("int8 dense kernels: special input values quantise as mote::quantize", "[int8][kernels]") {
  std::mt19937 rng(11);
  auto c = random_case<mote::Int8<>>(rng, 20, 41, 2, true);
  const float inf = std::numeric_limits<float>::infinity();
  const float specials[] = {0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), 1e-42f, -1e-42f,
                            1e30f, -1e30f, 3.4e38f};
  for (std::size_t i = 0; i < c.input.size(); ++i) c.input[i] = specials[i % std::size(specials)];
  check_all_isas(c, "specials");
  // Exact ties of x / scale round to even on every ISA.
  for (std::size_t i = 0; i < c.input.size(); ++i)
    c.input[i] = (static_cast<float>(i % 9) - 4.0f + 0.5f) * c.quant.params.scale;
  check_all_isas(c, "ties");
}

TEST_CASE("int8 dense kernels: values a few ulps around every rounding boundary quantise as mote::quantize",
          "[int8][kernels]") {
  // Every code from -130 to 130 (clamped at the range's ends) approached from 3 ulps below to 3
  // above its boundary, for scales with inexact reciprocals and one whose reciprocal overflows:
  // a quantiser that multiplied by 1 / scale, or rounded twice, would differ somewhere here.
  // 1,827 values: 45 samples, so the AMX tiles take part too.
  std::mt19937 rng(5);
  for (float scale : {0.1f, 1.0f / 3.0f, 0.0078125f, 0.0123f, 7.3e-5f, 2.9e-39f}) {
    constexpr std::size_t cols = 41, values = 261 * 7, batch = (values + cols - 1) / cols;
    auto c = random_case<mote::Int8<>>(rng, 20, cols, batch, true);
    c.quant = Int8InputQuant{mote::QuantParams{scale, 128}, 0, 255};
    for (std::size_t i = 0; i < c.input.size(); ++i) {
      const auto code = static_cast<double>(static_cast<int>(i / 7 % 261) - 130);
      float x = static_cast<float>((code + 0.5) * static_cast<double>(scale));
      for (int k = static_cast<int>(i % 7) - 3; k != 0; k += k < 0 ? 1 : -1)
        x = std::nextafter(x, k < 0 ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity());
      c.input[i] = x;
    }
    check_all_isas(c, "near ties, scale " + std::to_string(scale));
  }
}

TEST_CASE("int8 dense kernels: quantisation by reciprocal and two corrections equals the division",
          "[int8][kernels]") {
  // AVX-512 quantises with r = 1 / scale and two FMA corrections instead of dividing, for scales
  // in [2^-100, 2^100] (arch/x86/avx512_int8.hpp). Here: 120 random scales and adversarial ones
  // (significands of all ones, 1 + 1 ulp, powers of two, the ends of the range and just past
  // them), each with values within 8 ulps of every rounding boundary from -260.5 to 260.5, the
  // clamp at 2^22 scale and past it, infinities, NaN, zeros, subnormals and random values.
  std::mt19937 rng(2026);
  std::vector<float> scales = {0x1.fffffep-1f, 0x1.000002p+0f, 0x1.fffffep-8f, 0x1.000002p-7f, 0x1p-10f, 0x1.8p-3f,
                               0x1p-100f,      0x1p100f,      0x1.fffffep-101f, 0x1.000002p100f, 3.0f / 255.0f, 0.1f};
  std::uniform_real_distribution<float> exponent(-20.0f, 4.0f);
  for (int i = 0; i < 120; ++i) scales.push_back(std::exp2(exponent(rng)));
  const float inf = std::numeric_limits<float>::infinity();
  for (float scale : scales) {
    std::vector<float> values;
    for (int half = -521; half <= 521; half += 2) {  // the boundaries (half / 2) * scale
      const float boundary = static_cast<float>(half * 0.5 * static_cast<double>(scale));
      float below = boundary, above = boundary;
      values.push_back(boundary);
      for (int k = 0; k < 8; ++k) {
        below = std::nextafter(below, -inf);
        above = std::nextafter(above, inf);
        values.push_back(below);
        values.push_back(above);
      }
    }
    const float clamp = std::ldexp(scale, 22);
    for (float x : {clamp, std::nextafter(clamp, inf), std::nextafter(clamp, 0.0f), -clamp, 2 * clamp, inf, -inf,
                    std::numeric_limits<float>::quiet_NaN(), 0.0f, -0.0f, 1e-45f, -1e-40f, 0.25f * scale,
                    std::nextafter(0.25f * scale, 0.0f), std::numeric_limits<float>::max()})
      values.push_back(x);
    std::uniform_real_distribution<float> spread(-300.0f, 300.0f);
    while (values.size() % 64 != 0) values.push_back(spread(rng) * scale);
    constexpr std::size_t cols = 64;  // whole 16-value vectors
    auto c = random_case<mote::Int8<>>(rng, 6, cols, values.size() / cols, true);
    c.input = values;
    for (std::int32_t zero_point : {0, 128, 255}) {
      c.quant = Int8InputQuant{mote::QuantParams{scale, zero_point}, 0, 255};
      check_all_isas(c, "scale " + std::to_string(scale) + ", zero point " + std::to_string(zero_point));
    }
  }
}

TEST_CASE("int8 dense kernels: extreme codes and the largest K stay exact", "[int8][kernels]") {
  // Every product at its maximum magnitude, all of one sign: pmaddubsw would saturate at
  // 2 * 255 * 127 per pair; mote's kernels must not. K = int8_max_cols is the bound for which
  // |sum (w - zw)(u - zu)| < 2^31.
  for (std::size_t cols : {std::size_t{64}, std::size_t{4099}, mote::kernels::int8_max_cols}) {
    for (int sign : {1, -1}) {
      // 17 samples: one block of AMX tiles and one sample in vectors.
      Case<mote::Int8<mote::PerChannel, mote::Asymmetric>> c(18, cols, sign > 0 ? 2 : 17);
      std::vector<std::int8_t> codes(c.rows * cols);
      for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::int8_t>(sign > 0 ? 127 : -128);
      std::vector<mote::QuantParams> params(c.rows, mote::QuantParams{1.0f / 65536, sign > 0 ? -128 : 127});
      REQUIRE(c.weights.try_assign_quantized(codes.data(), params.data(), params.size(), "extreme").is_ok());
      for (auto& x : c.input) x = 1e6f;  // saturates to the top code
      mote::QuantParams p{1.0f, 0};       // uint8 zero point 0: u = 255 everywhere
      c.quant = Int8InputQuant{p, 0, 255};
      check_all_isas(c, "extreme codes");
      // And the accumulator is the exact value: 255 * 255 * K per row (scaled by 2^-16).
      std::vector<float> out(c.rows * c.batch);
      mote::AlignedBuffer<std::byte> scratch(scratch_for(c.rows, cols, c.batch));
      mote::kernels::dense_int8(mote::isa::Dynamic{}, c.weights, c.bias.data(), c.input.data(), out.data(), c.batch,
                                c.quant, mote::activation::Identity{}, scratch.data());
      const double exact = 255.0 * 255.0 * static_cast<double>(cols) * sign / 65536.0;
      REQUIRE(out[0] == Approx(exact).epsilon(1e-6));
    }
  }
}

namespace {

/// The symmetric GEMV and GEMM at their worst case. Int8 (AVX2: vpmaddubsw on |a| and
/// w * sign(a), a = u - 128): |a| = 128 (u = 0) and |w| = 127 make every product 16256 and every
/// pair 32512, the largest sum below int16 saturation; u = 255 gives a = 127. Int7 (vpmaddubsw on
/// u and w): u = 255 and |w| = 63 make every pair 32130. Rows alternate the weights' sign; batch
/// 1 runs the GEMV, batches 2, 5 and 9 the GEMM's tiles and their tails, 33 two blocks of AMX
/// tiles and a leftover, with samples alternating between the two ends.
template <class Format>
void symmetric_extremes() {
  constexpr std::int8_t top = static_cast<std::int8_t>(Format::max_code);
  for (std::size_t cols : {std::size_t{4}, std::size_t{68}, std::size_t{4099}, mote::kernels::int8_max_cols}) {
    for (std::size_t batch : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{9}, std::size_t{33}}) {
      for (std::int32_t first_u : {0, 255}) {
        Case<Format> c(18, cols, batch);
        std::vector<std::int8_t> codes(c.rows * cols);
        for (std::size_t r = 0; r < c.rows; ++r)
          for (std::size_t k = 0; k < cols; ++k) codes[r * cols + k] = static_cast<std::int8_t>(r % 2 == 0 ? top : -top);
        std::vector<mote::QuantParams> params(c.rows, mote::QuantParams{1.0f / 65536, 0});
        REQUIRE(c.weights.try_assign_quantized(codes.data(), params.data(), params.size(), "extreme").is_ok());
        auto u_of = [&](std::size_t b) { return (b % 2 == 0) == (first_u == 0) ? 0 : 255; };
        for (std::size_t b = 0; b < batch; ++b)  // saturates to the bottom or top code
          std::fill(c.input.begin() + b * cols, c.input.begin() + (b + 1) * cols, u_of(b) == 0 ? -1e6f : 1e6f);
        c.quant = Int8InputQuant{mote::QuantParams{1.0f, 128}, 0, 255};
        check_all_isas(c, std::string(Format::name) + " symmetric extremes, batch " + std::to_string(batch) + ", first u = " + std::to_string(first_u));
        std::vector<float> out(c.rows * batch);
        mote::AlignedBuffer<std::byte> scratch(scratch_for(c.rows, cols, batch));
        mote::kernels::dense_int8(mote::isa::Dynamic{}, c.weights, c.bias.data(), c.input.data(), out.data(), batch,
                                  c.quant, mote::activation::Identity{}, scratch.data());
        for (std::size_t b = 0; b < batch; ++b) {
          // (u - zero point) * w summed over K, scaled by 2^-16.
          const double exact = static_cast<double>(u_of(b) - 128) * top * static_cast<double>(cols) / 65536.0;
          for (std::size_t r = 0; r < c.rows; ++r) {
            INFO("K " << cols << ", batch " << batch << ", sample " << b << ", row " << r);
            REQUIRE(out[b * c.rows + r] == Approx(r % 2 == 0 ? exact : -exact).epsilon(1e-6));
          }
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("int8 dense kernels: symmetric weights at +-127 (int8) and +-63 (int7) against activations at both ends "
          "stay exact",
          "[int8][kernels]") {
  symmetric_extremes<mote::Int8<mote::PerChannel, mote::Symmetric>>();
  symmetric_extremes<mote::Int7<mote::PerChannel>>();
}

TEST_CASE("int7 weights: codes outside [-63, 63] are refused with the range, and float weights use 63 codes",
          "[int8][kernels]") {
  mote::WeightMatrix<mote::Int7<>, mote::DenseStorage> weights(2, 3);
  const std::int8_t codes[] = {1, -63, 63, 2, 64, 0};
  const mote::QuantParams params{0.5f, 0};
  const mote::Status status = weights.try_assign_quantized(codes, &params, 1, "layer 0");
  REQUIRE_FALSE(status.is_ok());
  CHECK(status.message().find("code 64 at 4 is outside the int7 symmetric 7-bit range [-63, 63]") != std::string::npos);
  const std::int8_t inside[] = {1, -63, 63, 2, -5, 0};
  REQUIRE(weights.try_assign_quantized(inside, &params, 1, "layer 0").is_ok());
  const float values[] = {0.5f, -2.0f, 1.0f, 3.0f, -0.25f, 0.0f};
  weights.assign(values);
  CHECK(weights.at(0, 1) == -63);  // row 0's largest magnitude, 2.0, is code -63
  CHECK(weights.at(1, 0) == 63);   // row 1's, 3.0, is code 63
  CHECK(weights.params(0).scale == 2.0f / 63.0f);
  CHECK(std::string(mote::Int7<>::name) == "int7");
}
