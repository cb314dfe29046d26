// Dense, Conv2D and depthwise SIMD kernels against the scalar reference on every ISA this CPU
// has: random shapes around every tile edge (16-row panels, vector widths 4/8/16, pixel
// blocks), strides, dilations, paddings, and special values. Bound: kernel_test_support.hpp.

#include "kernel_test_support.hpp"

using namespace mote;
using mote_test::agrees;
using mote_test::dot_bound;

namespace {

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
  return p;
}

/// WeightMatrix plus padded bias, as a layer stores them.
struct Stored {
  WeightMatrix<F32, DenseStorage> matrix;
  AlignedBuffer<float> bias;
  Stored(const Problem& p, std::size_t rows, std::size_t cols) : matrix(rows, cols), bias(matrix.padded_rows()) {
    matrix.assign(p.weights.data());
    for (std::size_t r = 0; r < rows; ++r) bias[r] = p.bias[r];
  }
};

}  // namespace

TEST_CASE("SIMD dense matches the scalar reference on every ISA", "[kernels][dense][simd]") {
  std::mt19937 rng(11);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    for (std::size_t rows : {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47}) {
      for (std::size_t cols : {1, 2, 3, 7, 8, 9, 16, 17, 63, 64, 65}) {
        const Problem p = random_problem(rng, rows, cols, cols);
        const Stored stored(p, rows, cols);
        std::vector<float> expected(rows + 1, -7.0f), actual(rows + 1, -7.0f);  // +1: no overrun
        kernels::dense(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data());
        kernels::dense(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data());
        REQUIRE(actual[rows] == -7.0f);
        for (std::size_t r = 0; r < rows; ++r) {
          double magnitude = std::fabs(p.bias[r]);
          for (std::size_t k = 0; k < cols; ++k) magnitude += std::fabs(p.weights[r * cols + k] * p.input[k]);
          INFO(isa_name << ": rows " << rows << ", cols " << cols << ", row " << r);
          REQUIRE(agrees(actual[r], expected[r], dot_bound(cols, magnitude)));
        }
      }
    }
  });
}

TEST_CASE("SIMD batched dense (GEMM) matches the scalar reference on every ISA", "[kernels][dense][simd][batch]") {
  std::mt19937 rng(14);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    for (std::size_t batch : {1, 2, 3, 5, 6, 7, 12, 13, 24, 25, 64}) {
      // Panel counts 1 to 7: AVX-512 tiles 3 panels at a time, then single panels.
      for (std::size_t rows : {1, 9, 16, 17, 40, 48, 64, 100}) {
        const std::size_t cols = 1 + (batch * 7 + rows) % 45;
        const Problem p = random_problem(rng, rows, cols, batch * cols);
        const Stored stored(p, rows, cols);
        std::vector<float> expected(batch * rows + 1, -7.0f), actual(batch * rows + 1, -7.0f);
        kernels::dense_batch(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data(), batch);
        kernels::dense_batch(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data(), batch);
        REQUIRE(actual[batch * rows] == -7.0f);
        for (std::size_t b = 0; b < batch; ++b)
          for (std::size_t r = 0; r < rows; ++r) {
            double magnitude = std::fabs(p.bias[r]);
            for (std::size_t k = 0; k < cols; ++k)
              magnitude += std::fabs(p.weights[r * cols + k] * p.input[b * cols + k]);
            INFO(isa_name << ": batch " << batch << ", rows " << rows << ", cols " << cols << ", sample " << b
                          << ", row " << r);
            REQUIRE(agrees(actual[b * rows + r], expected[b * rows + r], dot_bound(cols, magnitude)));
          }
      }
    }
  });
}

TEST_CASE("SIMD dense propagates NaN and infinities like the reference", "[kernels][dense][simd][special]") {
  std::mt19937 rng(12);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    const std::size_t rows = 19, cols = 21;
    Problem p = random_problem(rng, rows, cols, cols);
    p.input[3] = std::numeric_limits<float>::quiet_NaN();
    p.input[7] = std::numeric_limits<float>::infinity();
    p.weights[5 * cols + 7] = 0.0f;  // inf * 0 = NaN on row 5 only
    p.input[11] = -0.0f;
    p.input[13] = std::numeric_limits<float>::denorm_min();
    const Stored stored(p, rows, cols);
    std::vector<float> expected(rows), actual(rows);
    kernels::dense(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data());
    kernels::dense(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data());
    for (std::size_t r = 0; r < rows; ++r) {
      INFO(isa_name << ": row " << r);
      REQUIRE(std::isnan(actual[r]) == std::isnan(expected[r]));
      REQUIRE(std::isnan(actual[r]));  // the NaN input reaches every row
    }
  });
}

TEST_CASE("SIMD conv2d and depthwise match the scalar reference on every ISA", "[kernels][conv2d][depthwise][simd]") {
  std::mt19937 rng(13);
  std::uniform_int_distribution<std::size_t> channels(1, 5), filters(1, 35);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    int checked = 0;
    while (checked < 300) {
      const mote_test::RandomWindow window = mote_test::random_window(rng, channels(rng));
      kernels::WindowGeometry g = window.geometry;
      const bool depthwise = checked % 3 == 2;
      g.out_c = depthwise ? g.in_c * 4 + checked % 5 : filters(rng);  // depthwise: 4..25 channels
      if (depthwise) g.in_c = g.out_c;
      const std::size_t taps = g.kernel_h * g.kernel_w;
      const std::size_t cols = depthwise ? taps : taps * g.in_c;
      const Problem p = random_problem(rng, g.out_c, cols, g.in_h * g.in_w * g.in_c);
      const Stored stored(p, g.out_c, cols);
      const std::size_t out_size = g.out_h * g.out_w * g.out_c;
      std::vector<float> expected(out_size + 1, -7.0f), actual(out_size + 1, -7.0f);
      if (depthwise) {
        kernels::depthwise_conv2d(isa::Scalar{}, g, stored.matrix, stored.bias.data(), p.input.data(), expected.data());
        kernels::depthwise_conv2d(tag, g, stored.matrix, stored.bias.data(), p.input.data(), actual.data());
      } else {
        kernels::conv2d(isa::Scalar{}, g, stored.matrix, stored.bias.data(), p.input.data(), expected.data());
        kernels::conv2d(tag, g, stored.matrix, stored.bias.data(), p.input.data(), actual.data());
      }
      mote_test::RandomWindow shown = window;
      shown.geometry = g;
      INFO(isa_name << (depthwise ? ": depthwise " : ": conv ") << shown.describe());
      REQUIRE(actual[out_size] == -7.0f);
      // Every output sums at most `cols` products of magnitude <= 4 plus a bias <= 1.
      const double bound = dot_bound(cols, 4.0 * static_cast<double>(cols) + 1.0);
      for (std::size_t i = 0; i < out_size; ++i) {
        INFO("output " << i << ": simd " << actual[i] << ", reference " << expected[i]);
        REQUIRE(agrees(actual[i], expected[i], bound));
      }
      ++checked;
    }
  });
}

TEST_CASE("SIMD depthwise on wide rows (pixel blocks) matches the scalar reference", "[kernels][depthwise][simd]") {
  std::mt19937 rng(15);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    // Stride 1 with whole channel vectors takes the 3x3 "same" path (weights in registers per
    // row): widths 2 and 3 have no interior block, 6 ends a block exactly; heights 1 and 2 have
    // no row above and/or below. That path takes any top and bottom padding (the int8 layer's
    // bands have their own): 0 and 2 rows above as well as 1.
    for (std::size_t channels : {3, 8, 13, 16, 32, 35}) {
      for (std::size_t width : {2, 3, 6, 17, 23, 40}) {
        for (std::size_t stride : {1, 2}) {
          for (std::size_t height : {1, 2, 4})
          for (std::size_t pad_top : {1, 0, 2}) {
          kernels::WindowGeometry g;
          g.in_h = height, g.in_w = width, g.in_c = channels, g.out_c = channels;
          g.kernel_h = g.kernel_w = 3;
          g.stride_h = g.stride_w = stride;
          g.pad_top = pad_top, g.pad_left = 1;  // and 2 - pad_top at the bottom, 1 at the right
          g.out_h = (g.in_h + 2 - 3) / stride + 1;
          g.out_w = (g.in_w + 2 - 3) / stride + 1;
          const Problem p = random_problem(rng, channels, 9, g.in_h * g.in_w * channels);
          const Stored stored(p, channels, 9);
          const std::size_t out_size = g.out_h * g.out_w * g.out_c;
          std::vector<float> expected(out_size + 1, -7.0f), actual(out_size + 1, -7.0f);
          kernels::depthwise_conv2d(isa::Scalar{}, g, stored.matrix, stored.bias.data(), p.input.data(), expected.data());
          kernels::depthwise_conv2d(tag, g, stored.matrix, stored.bias.data(), p.input.data(), actual.data());
          REQUIRE(actual[out_size] == -7.0f);
          for (std::size_t i = 0; i < out_size; ++i) {
            INFO(isa_name << ": channels " << channels << ", " << height << "x" << width << ", stride " << stride
                          << ", top padding " << pad_top << ", output " << i);
            REQUIRE(agrees(actual[i], expected[i], dot_bound(9, 4.0 * 9 + 1.0)));
          }
          }
        }
      }
    }
  });
}

TEST_CASE("SIMD pointwise (1x1) conv2d, a GEMM over pixel chunks, matches the scalar reference",
          "[kernels][conv2d][simd]") {
  std::mt19937 rng(16);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    // Chunks hold 16 KiB of input: 126 pixels of 32 channels, 54 of 70; the sizes cross them.
    for (std::size_t in_c : {1, 3, 32, 70}) {
      for (std::size_t out_c : {1, 16, 17, 64}) {
        for (const auto& [h, w] : {std::pair<std::size_t, std::size_t>{1, 1}, {7, 9}, {12, 12}, {20, 20}}) {
          kernels::WindowGeometry g;
          g.in_h = g.out_h = h, g.in_w = g.out_w = w, g.in_c = in_c, g.out_c = out_c;
          const Problem p = random_problem(rng, out_c, in_c, h * w * in_c);
          const Stored stored(p, out_c, in_c);
          const std::size_t out_size = h * w * out_c;
          std::vector<float> expected(out_size + 1, -7.0f), actual(out_size + 1, -7.0f);
          kernels::conv2d(isa::Scalar{}, g, stored.matrix, stored.bias.data(), p.input.data(), expected.data());
          kernels::conv2d(tag, g, stored.matrix, stored.bias.data(), p.input.data(), actual.data());
          REQUIRE(actual[out_size] == -7.0f);
          const double bound = dot_bound(in_c, 4.0 * static_cast<double>(in_c) + 1.0);
          for (std::size_t i = 0; i < out_size; ++i) {
            INFO(isa_name << ": " << h << "x" << w << "x" << in_c << " -> " << out_c << ", output " << i);
            REQUIRE(agrees(actual[i], expected[i], bound));
          }
        }
      }
    }
  });
}

TEST_CASE("MOTE_FORCE_ISA selection: best supported, capped, or a clear error", "[dispatch]") {
  arch::CpuFeatures avx2_cpu;
  avx2_cpu.sse4_2 = avx2_cpu.avx2 = avx2_cpu.fma = true;
#if MOTE_SIMD_X86
  CHECK(*arch::try_select_isa(avx2_cpu, nullptr) == arch::IsaLevel::avx2);
  CHECK(*arch::try_select_isa(avx2_cpu, "sse4") == arch::IsaLevel::sse4);
  CHECK(*arch::try_select_isa(avx2_cpu, "scalar") == arch::IsaLevel::scalar);
  // AVX-VNNI ranks above AVX2 and below AVX-512 (whose VNNI, where present, ranks higher still).
  arch::CpuFeatures vnni_cpu = avx2_cpu;
  vnni_cpu.avx_vnni = true;
  CHECK(*arch::try_select_isa(vnni_cpu, nullptr) == arch::IsaLevel::avx_vnni);
  CHECK(*arch::try_select_isa(vnni_cpu, "avx2") == arch::IsaLevel::avx2);
  vnni_cpu.avx512f = vnni_cpu.avx512bw = vnni_cpu.avx512dq = vnni_cpu.avx512vl = true;
  CHECK(*arch::try_select_isa(vnni_cpu, nullptr) == arch::IsaLevel::avx512);
  CHECK(*arch::try_select_isa(vnni_cpu, "avx_vnni") == arch::IsaLevel::avx_vnni);
  const auto no_vnni = arch::try_select_isa(avx2_cpu, "avx_vnni");
  REQUIRE_FALSE(no_vnni.has_value());
  CHECK_THAT(no_vnni.error().describe(), Catch::Contains("this CPU does not support avx_vnni"));
  const auto unsupported = arch::try_select_isa(avx2_cpu, "avx512");
  REQUIRE_FALSE(unsupported.has_value());
  CHECK_THAT(unsupported.error().describe(), Catch::Contains("MOTE_FORCE_ISA=avx512") &&
                                                 Catch::Contains("this CPU does not support avx512"));
#endif
  const auto unknown = arch::try_select_isa(avx2_cpu, "avx3000");
  REQUIRE_FALSE(unknown.has_value());
  CHECK_THAT(unknown.error().describe(), Catch::Contains("'avx3000' is not an ISA name"));
  // This process: whatever was selected is supported by this CPU.
  CHECK(arch::detect_cpu().supports(arch::selected_isa()));
}
