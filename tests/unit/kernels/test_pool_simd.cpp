// Pooling SIMD kernels (kernels/pool/simd-inl.hpp) against the scalar reference on every ISA
// this CPU has. Bound: bit-exact (same bits, or both NaN), because each channel lane visits
// the same taps in the same order with the same operation as the reference (max: a greater or
// NaN tap replaces the maximum; average: a sum from +0 in tap order times 1.0f / taps).
// Covers every channel tail 1..3*16+3 (4-vector blocks, single vectors, partial vectors),
// random rectangular kernels, strides, dilations and paddings (windows clipped on every side),
// floor and ceil mode output sizes (ceil mode: the last window may run past the padded input
// and is clipped to the taps that exist), and special values (NaN, +-inf, -0, denormals).

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <mote/arch/targets.hpp>
#include <random>
#include <string>
#include <vector>

#include "../support.hpp"

namespace {

using mote::arch::IsaLevel;
using mote::kernels::WindowGeometry;

template <class F>
void each_simd_isa(F&& f) {
  const mote::arch::CpuFeatures cpu = mote::arch::detect_cpu();
  for (IsaLevel level : mote::arch::dispatch_order) {
    if (level == IsaLevel::scalar || !cpu.supports(level)) continue;
    mote::arch::with_isa(level,
                         [&](auto tag) { f(tag, std::string(mote::arch::to_string(level))); });
  }
}

bool identical(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

/// Random values in [-10, 10], about 1 in 12 replaced by a special value.
std::vector<float> random_input(std::mt19937& rng, std::size_t count) {
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            -0.0f,
                            0.0f,
                            1e-40f,
                            -1e-40f,
                            FLT_MAX,
                            -FLT_MAX};
  std::uniform_real_distribution<float> uniform(-10.0f, 10.0f);
  std::uniform_int_distribution<int> pick(0, 11 * static_cast<int>(std::size(specials)));
  std::vector<float> v(count);
  for (float& x : v) {
    const int p = pick(rng);
    x = p < static_cast<int>(std::size(specials)) ? specials[p] : uniform(rng);
  }
  return v;
}

/// Whether every window of g has at least one tap inside the input (what the layers ensure).
bool windows_nonempty(const WindowGeometry& g) {
  const auto axis_ok = [](std::size_t out, std::size_t stride, std::size_t pad, std::size_t kernel,
                          std::size_t dilation, std::size_t extent) {
    for (std::size_t o = 0; o < out; ++o) {
      bool any = false;
      for (std::size_t k = 0; k < kernel; ++k) {
        const long i = static_cast<long>(o * stride + k * dilation) - static_cast<long>(pad);
        any = any || (i >= 0 && i < static_cast<long>(extent));
      }
      if (!any) return false;
    }
    return true;
  };
  return axis_ok(g.out_h, g.stride_h, g.pad_top, g.kernel_h, g.dilation_h, g.in_h) &&
         axis_ok(g.out_w, g.stride_w, g.pad_left, g.kernel_w, g.dilation_w, g.in_w);
}

/// Output size in ceil mode (ONNX ceil_mode=1, PyTorch ceil_mode=True): rounded up, less the
/// last window if it would start past the input and its leading padding.
std::size_t ceil_mode_size(std::size_t in, std::size_t pad_before, std::size_t padded, std::size_t span,
                           std::size_t stride) {
  std::size_t n = (padded - span + stride - 1) / stride + 1;
  if ((n - 1) * stride >= in + pad_before) --n;
  return n;
}

WindowGeometry random_geometry(std::mt19937& rng, std::size_t channels) {
  const auto in = [&](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  for (;;) {
    WindowGeometry g;
    g.in_h = in(1, 9);
    g.in_w = in(1, 9);
    g.in_c = g.out_c = channels;
    g.kernel_h = in(1, 4);
    g.kernel_w = in(1, 4);
    g.stride_h = in(1, 3);
    g.stride_w = in(1, 3);
    g.dilation_h = in(1, 2);
    g.dilation_w = in(1, 2);
    const std::size_t span_h = g.dilation_h * (g.kernel_h - 1) + 1,
                      span_w = g.dilation_w * (g.kernel_w - 1) + 1;
    g.pad_top = in(0, span_h - 1);
    g.pad_left = in(0, span_w - 1);
    const std::size_t pad_bottom = in(0, span_h - 1), pad_right = in(0, span_w - 1);
    const std::size_t padded_h = g.in_h + g.pad_top + pad_bottom,
                      padded_w = g.in_w + g.pad_left + pad_right;
    if (padded_h < span_h || padded_w < span_w) continue;
    g.out_h = (padded_h - span_h) / g.stride_h + 1;
    g.out_w = (padded_w - span_w) / g.stride_w + 1;
    if (in(0, 1) == 1) {  // ceil mode: one more window where the last one runs past the end
      g.out_h = ceil_mode_size(g.in_h, g.pad_top, padded_h, span_h, g.stride_h);
      g.out_w = ceil_mode_size(g.in_w, g.pad_left, padded_w, span_w, g.stride_w);
    }
    if (windows_nonempty(g)) return g;
  }
}

std::string describe(const WindowGeometry& g) {
  return std::to_string(g.in_h) + "x" + std::to_string(g.in_w) + "x" + std::to_string(g.in_c) +
         " -> " + std::to_string(g.out_h) + "x" + std::to_string(g.out_w) + ", kernel " +
         std::to_string(g.kernel_h) + "x" + std::to_string(g.kernel_w) + ", stride " +
         std::to_string(g.stride_h) + "x" + std::to_string(g.stride_w) + ", dilation " +
         std::to_string(g.dilation_h) + "x" + std::to_string(g.dilation_w) + ", pad top/left " +
         std::to_string(g.pad_top) + "/" + std::to_string(g.pad_left);
}

std::vector<WindowGeometry> test_geometries(std::mt19937& rng) {
  std::vector<WindowGeometry> geometries;
  for (std::size_t channels = 1; channels <= 3 * 16 + 3; ++channels)
    for (int repeat = 0; repeat < 4; ++repeat) geometries.push_back(random_geometry(rng, channels));
  // Typical layers: 2x2 stride 2 on 28x28x16, 3x3 stride 2 pad 1 on 7x7x33 and 9x9x64.
  WindowGeometry a;
  a.in_h = a.in_w = 28, a.in_c = a.out_c = 16, a.out_h = a.out_w = 14, a.kernel_h = a.kernel_w = 2;
  a.stride_h = a.stride_w = 2;
  geometries.push_back(a);
  for (std::size_t side : {7, 9}) {
    WindowGeometry b;
    b.in_h = b.in_w = side, b.in_c = b.out_c = side == 7 ? 33 : 64,
    b.out_h = b.out_w = (side + 2 - 3) / 2 + 1;
    b.kernel_h = b.kernel_w = 3, b.stride_h = b.stride_w = 2, b.pad_top = b.pad_left = 1;
    geometries.push_back(b);
  }
  return geometries;
}

template <class Simd, class Reference>
void check_pool(const char* name, Simd simd, Reference reference) {
  std::mt19937 rng(17);
  const std::vector<WindowGeometry> geometries = test_geometries(rng);
  each_simd_isa([&](auto tag, const std::string& isa) {
    for (const WindowGeometry& g : geometries) {
      const std::vector<float> in = random_input(rng, g.in_h * g.in_w * g.in_c);
      const std::size_t count = g.out_h * g.out_w * g.out_c;
      std::vector<float> expected(count), actual(count + 1, -7.0f);
      reference(g, in.data(), expected.data());
      simd(tag, g, in.data(), actual.data());
      INFO(isa << " " << name << ": " << describe(g));
      REQUIRE(actual[count] == -7.0f);
      for (std::size_t i = 0; i < count; ++i) {
        INFO("output " << i << ": " << actual[i] << " vs " << expected[i]);
        REQUIRE(identical(actual[i], expected[i]));
      }
    }
  });
}

}  // namespace

TEST_CASE("SIMD max pooling is bit-exact with the scalar reference", "[kernels][pool][simd]") {
  check_pool(
      "max_pool2d",
      [](auto tag, const WindowGeometry& g, const float* in, float* out) {
        mote::kernels::max_pool2d(tag, g, in, out);
      },
      [](const WindowGeometry& g, const float* in, float* out) {
        mote::kernels::max_pool2d(mote::isa::Scalar{}, g, in, out);
      });
}

TEST_CASE("SIMD average pooling is bit-exact with the scalar reference", "[kernels][pool][simd]") {
  check_pool(
      "avg_pool2d",
      [](auto tag, const WindowGeometry& g, const float* in, float* out) {
        mote::kernels::avg_pool2d(tag, g, in, out);
      },
      [](const WindowGeometry& g, const float* in, float* out) {
        mote::kernels::avg_pool2d(mote::isa::Scalar{}, g, in, out);
      });
}

TEST_CASE("SIMD max pooling propagates NaN and ignores padding", "[kernels][pool][simd]") {
  // 1x3 input, 2 channels, kernel 1x3 padded by 1 on both sides: three windows.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float in[] = {1.0f, -5.0f, nan, -4.0f, 3.0f, -6.0f};
  WindowGeometry g;
  g.in_h = 1, g.in_w = 3, g.in_c = g.out_c = 2, g.out_h = 1, g.out_w = 3, g.kernel_w = 3,
  g.pad_left = 1;
  each_simd_isa([&](auto tag, const std::string& isa) {
    INFO(isa);
    float out[6];
    mote::kernels::max_pool2d(tag, g, in, out);
    CHECK(std::isnan(out[0]));  // {1, nan}: the NaN wins
    CHECK(out[1] == -4.0f);     // {-5, -4}: the padding counts as -inf, not 0
    CHECK(std::isnan(out[2]));  // {1, nan, 3}: the NaN stays
    CHECK(out[3] == -4.0f);
    CHECK(std::isnan(out[4]));
    CHECK(out[5] == -4.0f);
    mote::kernels::avg_pool2d(tag, g, in, out);
    CHECK(std::isnan(out[0]));
    CHECK(out[1] == -4.5f);  // (-5 - 4) / 2: padded taps not counted
    CHECK(out[5] == -5.0f);  // (-4 - 6) / 2
  });
}

TEST_CASE("SIMD global average pooling is bit-exact with the scalar reference",
          "[kernels][pool][simd]") {
  std::mt19937 rng(23);
  each_simd_isa([&](auto tag, const std::string& isa) {
    for (std::size_t channels = 1; channels <= 3 * 16 + 3; ++channels) {
      for (std::size_t pixels : {1, 2, 3, 7, 49, 196}) {
        const std::vector<float> in = random_input(rng, pixels * channels);
        std::vector<float> expected(channels), actual(channels + 1, -7.0f);
        mote::kernels::global_avg_pool(mote::isa::Scalar{}, pixels, channels, in.data(),
                                       expected.data());
        mote::kernels::global_avg_pool(tag, pixels, channels, in.data(), actual.data());
        INFO(isa << " global_avg_pool: " << pixels << " x " << channels);
        REQUIRE(actual[channels] == -7.0f);
        for (std::size_t c = 0; c < channels; ++c) {
          INFO("channel " << c << ": " << actual[c] << " vs " << expected[c]);
          REQUIRE(identical(actual[c], expected[c]));
        }
      }
    }
  });
}

TEST_CASE("SIMD pooling clips ceil mode's last window to the taps that exist", "[kernels][pool][simd]") {
  // 1x5 input, 2 channels, kernel 1x2, stride 2, ceil mode: windows {0, 1}, {2, 3}, {4}.
  const float in[] = {1.0f, -1.0f, 3.0f, -3.0f, 5.0f, 2.0f, 7.0f, -8.0f, 9.0f, -0.0f};
  WindowGeometry g;
  g.in_h = 1, g.in_w = 5, g.in_c = g.out_c = 2, g.out_h = 1, g.out_w = 3, g.kernel_w = 2, g.stride_w = 2;
  float expected_max[6], expected_avg[6];
  mote::kernels::max_pool2d(mote::isa::Scalar{}, g, in, expected_max);
  mote::kernels::avg_pool2d(mote::isa::Scalar{}, g, in, expected_avg);
  CHECK(expected_max[4] == 9.0f);
  CHECK(expected_avg[4] == 9.0f);  // one tap: divided by 1
  CHECK((expected_avg[5] == 0.0f && !std::signbit(expected_avg[5])));  // sums start from +0
  CHECK(expected_avg[2] == 6.0f);
  each_simd_isa([&](auto tag, const std::string& isa) {
    INFO(isa);
    float out[7];
    out[6] = -7.0f;
    mote::kernels::max_pool2d(tag, g, in, out);
    for (int i = 0; i < 6; ++i) CHECK(identical(out[i], expected_max[i]));
    mote::kernels::avg_pool2d(tag, g, in, out);
    for (int i = 0; i < 6; ++i) CHECK(identical(out[i], expected_avg[i]));
    CHECK(out[6] == -7.0f);
  });
}

TEST_CASE("Zero padding for count_include_pad, then SIMD average pooling", "[kernels][pool][simd]") {
  // AvgPool2D<..., CountPad> copies its input into a zero-bordered buffer (pad_with_zeros) and
  // averages that without padding, so padded taps count as +0 in the divisor.
  std::mt19937 rng(29);
  std::uniform_int_distribution<std::size_t> small(0, 3);
  for (std::size_t channels : {1, 3, 8, 17, 35}) {
    for (int repeat = 0; repeat < 6; ++repeat) {
      const std::size_t h = 1 + small(rng), w = 1 + small(rng) * 2;
      const std::size_t top = small(rng), left = small(rng), bottom = small(rng), right = small(rng);
      const std::vector<float> in = random_input(rng, h * w * channels);
      const std::size_t ph = top + h + bottom, pw = left + w + right;
      std::vector<float> padded(ph * pw * channels + 1, -7.0f);
      mote::kernels::pad_with_zeros(mote::isa::Scalar{}, in.data(), h, w, channels, top, left, bottom, right,
                                    padded.data());
      REQUIRE(padded.back() == -7.0f);
      for (std::size_t y = 0; y < ph; ++y)
        for (std::size_t x = 0; x < pw; ++x)
          for (std::size_t c = 0; c < channels; ++c) {
            const bool inside = y >= top && y < top + h && x >= left && x < left + w;
            const float expected = inside ? in[((y - top) * w + (x - left)) * channels + c] : 0.0f;
            REQUIRE(identical(padded[(y * pw + x) * channels + c], expected));
          }
      WindowGeometry g;  // 2x2 windows, stride 1, ceil-mode sizes: the last ones clipped
      g.in_h = ph, g.in_w = pw, g.in_c = g.out_c = channels, g.kernel_h = std::min<std::size_t>(2, ph),
      g.kernel_w = std::min<std::size_t>(2, pw), g.stride_h = g.stride_w = 2;
      g.out_h = ceil_mode_size(ph, 0, ph, g.kernel_h, 2), g.out_w = ceil_mode_size(pw, 0, pw, g.kernel_w, 2);
      std::vector<float> expected(g.out_h * g.out_w * channels);
      mote::kernels::avg_pool2d(mote::isa::Scalar{}, g, padded.data(), expected.data());
      each_simd_isa([&](auto tag, const std::string& isa) {
        std::vector<float> actual(expected.size());
        mote::kernels::avg_pool2d(tag, g, padded.data(), actual.data());
        INFO(isa << ": " << describe(g));
        for (std::size_t i = 0; i < expected.size(); ++i) REQUIRE(identical(actual[i], expected[i]));
      });
    }
  }
}
