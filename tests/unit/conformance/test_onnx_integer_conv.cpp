// Conformance of mote's int8 convolution kernels (kernels::conv2d_int8) with the ONNX backend
// node tests of ConvInteger and QLinearConv (Debian libonnx-testdata), on the scalar reference,
// every SIMD ISA this CPU supports and isa::Dynamic (which honours MOTE_FORCE_ISA).
//
// Method: exact integer arithmetic through the real kernels, as in test_onnx_integer_matmul.cpp.
// ConvInteger is, in int32,
//   y[n, m, oy, ox] = sum_{c, ky, kx} (x[n, c, iy, ix] - x_zp)(w[m, c, ky, kx] - w_zp[m])
// with iy = oy * stride_h + ky * dilation_h - pad_top (likewise ix), and the positions outside x
// padded with x_zp (so they add nothing). mote's kernel computes, per output channel m (a row of
// its weights, columns in (ky, kx, c) order) and output pixel, acc = sum (w - zw_m)(u - zu)
// exactly in integers over the receptive field of the channels-last input, padding with the code
// a float 0 quantises to (the input zero point), and returns
// fma(float(acc), input_scale * weight_scale_m, bias_m). So:
//  * weights = w reordered from [M, C, kH, kW] to M rows of (ky, kx, c) (as layers/conv.hpp's
//    to_rows does); uint8 w is stored as the int8 codes w - 128 with zero point w_zp - 128
//    (differences unchanged); int8 w as is. Scale 1, so the format is Int8<PerChannel,
//    Asymmetric> (one zero point per output channel, a scalar one repeated) and, when w_zp is one
//    number, also Int8<PerTensor, Asymmetric>; when every zero point is 0 and every code is in
//    [-127, 127] (never in the node tests' data; the mapping test below has such cases), also the
//    Symmetric formats, which take other kernel paths.
//  * each image x[n] is transposed from C x H x W to channels-last H x W x C, in the kernel's
//    unsigned code domain u (x itself for uint8, x + 128 for int8, zero point likewise), and fed
//    as the floats u - x_zp (exact small integers) with Int8InputQuant{{1, x_zp}, 0, 255}: the
//    codes the kernel multiplies are then exactly u, and the padding code is x_zp, as in ONNX.
//    Bias 0.
//  * the output fma(float(acc), 1, 0) is float(acc), exact because |acc| < 2^24 in every test
//    here (REQUIREd below; the largest |acc| of the node tests is 33660, in test_qlinearconv).
//    The H_out x W_out x M output is transposed back to NCHW.
// The geometry comes from the node's attributes (kernel_shape, strides, dilations, pads
// [top, left, bottom, right], auto_pad, group): WindowGeometry holds pad_top and pad_left, the
// bottom and right padding only lengthen out_h and out_w (the kernels pad whatever the window
// covers outside the input). Only 2-D convolutions with group 1 map onto conv2d_int8; anything
// else fails (group > 1 is skipped with a WARN: grouped convolutions would need one call per
// group, or depthwise_int8 when group == channels; no node test here has one). The accumulators
// must equal an independent int64 evaluation of the ONNX definition and, for ConvInteger,
// output_0 exactly. The kernels run once per image; guard bytes after the scratch
// (conv_int8_scratch_bytes) and the output check that they write nothing past either.
//
// QLinearConv: y = saturate(round((acc + B[m]) * x_scale * w_scale[m] / y_scale) + y_zp), B the
// optional int32 bias in accumulator units. acc as above, then mote::requantize(acc + B[m],
// make_fixed_point_multiplier(double(x_scale) * double(w_scale[m]) / double(y_scale)), y_zp,
// code range of y's type): gemmlowp/TFLite fixed point, rounding half away from zero, where
// ONNX rounds half to even. The two can differ by one code only on an exact tie; no output of
// test_qlinearconv is near one (its multiplier is 1/255 to 7 digits and every acc a multiple of
// 255, so the scaled values lie within 1e-5 of integers; checked below to be over 0.01 from a
// half-integer), so every code is compared exactly.

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../kernels/kernel_test_support.hpp"
#include "mote/io/onnx_tensor.hpp"
#include "mote/mote.hpp"
#include "integer_codes.hpp"
#include "onnx_node_test.hpp"

using mote::io::onnx::DataType;
using mote::io::onnx::TensorProto;
using mote::kernels::Int8InputQuant;
using mote::kernels::WindowGeometry;
using mote_onnx_test::Codes;
using mote_onnx_test::exact_float_limit;
using mote_onnx_test::load_node_test;
using mote_onnx_test::read_codes;
using mote_onnx_test::read_scales;
using mote_onnx_test::zero_codes;
using mote_onnx_test::NodeTest;
using mote_onnx_test::OnnxNode;

namespace {

/// Shape and geometry of one 2-D convolution in ONNX's terms: x is N x C x H x W, w is
/// M x C x kH x kW, pads are [top, left, bottom, right].
struct ConvShape {
  std::size_t batch = 1, in_c = 1, in_h = 1, in_w = 1, out_c = 1, kernel_h = 1, kernel_w = 1;
  std::size_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  std::size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;

  std::size_t out_h() const {
    const std::size_t reach = (kernel_h - 1) * dilation_h + 1;
    REQUIRE(in_h + pad_top + pad_bottom >= reach);
    return (in_h + pad_top + pad_bottom - reach) / stride_h + 1;
  }
  std::size_t out_w() const {
    const std::size_t reach = (kernel_w - 1) * dilation_w + 1;
    REQUIRE(in_w + pad_left + pad_right >= reach);
    return (in_w + pad_left + pad_right - reach) / stride_w + 1;
  }
  /// The kernels' description of the same window over one channels-last image.
  WindowGeometry window() const {
    WindowGeometry g;
    g.in_h = in_h;
    g.in_w = in_w;
    g.in_c = in_c;
    g.out_h = out_h();
    g.out_w = out_w();
    g.out_c = out_c;
    g.kernel_h = kernel_h;
    g.kernel_w = kernel_w;
    g.stride_h = stride_h;
    g.stride_w = stride_w;
    g.dilation_h = dilation_h;
    g.dilation_w = dilation_w;
    g.pad_top = pad_top;
    g.pad_left = pad_left;
    return g;
  }
  /// y's ONNX dims.
  std::vector<std::int64_t> out_dims() const {
    return {static_cast<std::int64_t>(batch), static_cast<std::int64_t>(out_c),
            static_cast<std::int64_t>(out_h()), static_cast<std::int64_t>(out_w())};
  }
};

/// A positive extent from an INTS attribute entry.
std::size_t positive_extent(std::int64_t value, const char* attribute) {
  INFO("attribute " << attribute << " holds " << value);
  REQUIRE(value >= 1);
  return static_cast<std::size_t>(value);
}

/// Padding at the start and end of one spatial axis for auto_pad SAME_UPPER / SAME_LOWER: the
/// output is ceil(in / stride) long and the total padding that needs is split evenly, the odd
/// one at the end (UPPER) or the start (LOWER).
std::array<std::size_t, 2> same_padding(std::size_t in, std::size_t kernel, std::size_t stride,
                                        std::size_t dilation, bool upper) {
  const std::size_t out = (in + stride - 1) / stride;
  const std::size_t needed = (out - 1) * stride + (kernel - 1) * dilation + 1;
  const std::size_t total = needed > in ? needed - in : 0;
  const std::size_t small = total / 2, large = total - small;
  return upper ? std::array<std::size_t, 2>{small, large}
               : std::array<std::size_t, 2>{large, small};
}

/// The shape of a ConvInteger / QLinearConv node over x and w, from its attributes (ONNX
/// defaults: strides and dilations 1, pads 0, auto_pad NOTSET, group 1, kernel_shape from w).
/// Fails on anything that is not a 2-D convolution mote can describe; `group` is returned for
/// the caller to decide on.
ConvShape read_conv_shape(const OnnxNode& node, const TensorProto& x, const TensorProto& w,
                          std::int64_t& group) {
  INFO(node.op_type << " over x " << x.describe() << " and w " << w.describe());
  for (const mote_onnx_test::NodeAttribute& a : node.attributes) {
    INFO("attribute " << a.name);
    const bool known = a.name == "auto_pad" || a.name == "dilations" || a.name == "group" ||
                       a.name == "kernel_shape" || a.name == "pads" || a.name == "strides";
    CHECK(known);  // an attribute this test does not model would make the comparison meaningless
  }
  REQUIRE(x.dims.size() == 4);  // 1-D and 3-D convolutions have no mote kernel
  REQUIRE(w.dims.size() == 4);
  ConvShape s;
  s.batch = positive_extent(x.dims[0], "x.dims[0]");
  s.in_c = positive_extent(x.dims[1], "x.dims[1]");
  s.in_h = positive_extent(x.dims[2], "x.dims[2]");
  s.in_w = positive_extent(x.dims[3], "x.dims[3]");
  s.out_c = positive_extent(w.dims[0], "w.dims[0]");
  s.kernel_h = positive_extent(w.dims[2], "w.dims[2]");
  s.kernel_w = positive_extent(w.dims[3], "w.dims[3]");

  group = node.int_attribute("group", 1);
  REQUIRE(group >= 1);
  REQUIRE(s.in_c % static_cast<std::size_t>(group) == 0);
  REQUIRE(s.out_c % static_cast<std::size_t>(group) == 0);
  REQUIRE(static_cast<std::size_t>(w.dims[1]) * static_cast<std::size_t>(group) == s.in_c);

  const std::vector<std::int64_t> kernel_shape = node.ints_attribute("kernel_shape");
  if (!kernel_shape.empty()) {
    REQUIRE(kernel_shape == std::vector<std::int64_t>{w.dims[2], w.dims[3]});
  }
  const std::vector<std::int64_t> strides = node.ints_attribute("strides");
  if (!strides.empty()) {
    REQUIRE(strides.size() == 2);
    s.stride_h = positive_extent(strides[0], "strides");
    s.stride_w = positive_extent(strides[1], "strides");
  }
  const std::vector<std::int64_t> dilations = node.ints_attribute("dilations");
  if (!dilations.empty()) {
    REQUIRE(dilations.size() == 2);
    s.dilation_h = positive_extent(dilations[0], "dilations");
    s.dilation_w = positive_extent(dilations[1], "dilations");
  }

  const mote_onnx_test::NodeAttribute* auto_pad_attribute = node.find_attribute("auto_pad");
  const std::string auto_pad = auto_pad_attribute != nullptr ? auto_pad_attribute->s : "NOTSET";
  const std::vector<std::int64_t> pads = node.ints_attribute("pads");
  INFO("auto_pad " << auto_pad);
  if (auto_pad == "NOTSET") {
    if (!pads.empty()) {
      REQUIRE(pads.size() == 4);  // [x1_begin, x2_begin, x1_end, x2_end]
      for (std::int64_t pad : pads) REQUIRE(pad >= 0);
      s.pad_top = static_cast<std::size_t>(pads[0]);
      s.pad_left = static_cast<std::size_t>(pads[1]);
      s.pad_bottom = static_cast<std::size_t>(pads[2]);
      s.pad_right = static_cast<std::size_t>(pads[3]);
    }
  } else if (auto_pad == "VALID") {
    REQUIRE(pads.empty());  // the spec forbids pads together with auto_pad
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    REQUIRE(pads.empty());
    const bool upper = auto_pad == "SAME_UPPER";
    const auto vertical = same_padding(s.in_h, s.kernel_h, s.stride_h, s.dilation_h, upper);
    const auto horizontal = same_padding(s.in_w, s.kernel_w, s.stride_w, s.dilation_w, upper);
    s.pad_top = vertical[0];
    s.pad_bottom = vertical[1];
    s.pad_left = horizontal[0];
    s.pad_right = horizontal[1];
  } else {
    FAIL("auto_pad '" << auto_pad << "' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
  }
  return s;
}

/// One convolution (x - x_zp) * (w - w_zp) in the kernel's domains.
struct IntegerConv {
  ConvShape shape;
  std::vector<std::int32_t> x_u;    ///< N images of H x W x C (channels-last) codes in [0, 255]
  std::int32_t x_zp_u = 0;          ///< the same domain
  std::vector<std::int8_t> w;       ///< M rows of (ky, kx, c): w reordered, as int8 codes
  std::vector<std::int32_t> w_zp;   ///< M entries, int8 domain
  bool per_tensor_w = true;         ///< one zero point for all of w
  std::vector<std::int64_t> exact;  ///< the definition in int64, N x M x H_out x W_out (as y)
};

/// Builds the convolution of x (NCHW) and w ([M, C, kH, kW]) of `shape`. x_zp holds one entry,
/// w_zp one or M (per output channel).
IntegerConv make_problem(const Codes& x, const Codes& x_zp, const Codes& w, const Codes& w_zp,
                         const ConvShape& shape) {
  const ConvShape& s = shape;
  const std::size_t out_h = s.out_h(), out_w = s.out_w();
  REQUIRE(x_zp.is_signed == x.is_signed);
  REQUIRE(w_zp.is_signed == w.is_signed);
  REQUIRE(x_zp.values.size() == 1);  // ConvInteger and QLinearConv take a scalar x_zero_point
  REQUIRE((w_zp.values.size() == 1 || w_zp.values.size() == s.out_c));
  REQUIRE(x.values.size() == s.batch * s.in_c * s.in_h * s.in_w);
  REQUIRE(w.values.size() == s.out_c * s.in_c * s.kernel_h * s.kernel_w);
  IntegerConv p;
  p.shape = s;
  const std::int32_t x_shift = x.is_signed ? 128 : 0;   // to u in [0, 255]
  const std::int32_t w_shift = w.is_signed ? 0 : -128;  // to int8 codes
  auto x_at = [&](std::size_t n, std::size_t c, std::size_t iy, std::size_t ix) {
    return x.values[((n * s.in_c + c) * s.in_h + iy) * s.in_w + ix];
  };
  auto w_at = [&](std::size_t m, std::size_t c, std::size_t ky, std::size_t kx) {
    return w.values[((m * s.in_c + c) * s.kernel_h + ky) * s.kernel_w + kx];
  };
  for (std::size_t n = 0; n < s.batch; ++n)
    for (std::size_t iy = 0; iy < s.in_h; ++iy)
      for (std::size_t ix = 0; ix < s.in_w; ++ix)
        for (std::size_t c = 0; c < s.in_c; ++c) p.x_u.push_back(x_at(n, c, iy, ix) + x_shift);
  p.x_zp_u = x_zp.values[0] + x_shift;
  for (std::size_t m = 0; m < s.out_c; ++m) {
    for (std::size_t ky = 0; ky < s.kernel_h; ++ky)
      for (std::size_t kx = 0; kx < s.kernel_w; ++kx)
        for (std::size_t c = 0; c < s.in_c; ++c)
          p.w.push_back(static_cast<std::int8_t>(w_at(m, c, ky, kx) + w_shift));
    p.w_zp.push_back(w_zp.values[w_zp.values.size() == 1 ? 0 : m] + w_shift);
  }
  p.per_tensor_w = w_zp.values.size() == 1;

  // The definition, from the NCHW operands as given (not from the shifted, reordered codes):
  // positions outside x are x_zp, i.e. contribute nothing.
  const std::int64_t zx = x_zp.values[0];
  for (std::size_t n = 0; n < s.batch; ++n) {
    for (std::size_t m = 0; m < s.out_c; ++m) {
      const std::int64_t zw = w_zp.values[w_zp.values.size() == 1 ? 0 : m];
      for (std::size_t oy = 0; oy < out_h; ++oy) {
        for (std::size_t ox = 0; ox < out_w; ++ox) {
          std::int64_t sum = 0;
          for (std::size_t c = 0; c < s.in_c; ++c) {
            for (std::size_t ky = 0; ky < s.kernel_h; ++ky) {
              const auto iy = static_cast<std::int64_t>(oy * s.stride_h + ky * s.dilation_h) -
                              static_cast<std::int64_t>(s.pad_top);
              if (iy < 0 || iy >= static_cast<std::int64_t>(s.in_h)) continue;
              for (std::size_t kx = 0; kx < s.kernel_w; ++kx) {
                const auto ix = static_cast<std::int64_t>(ox * s.stride_w + kx * s.dilation_w) -
                                static_cast<std::int64_t>(s.pad_left);
                if (ix < 0 || ix >= static_cast<std::int64_t>(s.in_w)) continue;
                sum +=
                    (x_at(n, c, static_cast<std::size_t>(iy), static_cast<std::size_t>(ix)) - zx) *
                    (w_at(m, c, ky, kx) - zw);
              }
            }
          }
          INFO("accumulator (" << n << ", " << m << ", " << oy << ", " << ox << ") = " << sum);
          REQUIRE(std::llabs(sum) < exact_float_limit);  // float(acc) is exact
          p.exact.push_back(sum);
        }
      }
    }
  }
  return p;
}

/// Whether the weights also fit the Symmetric formats: every zero point 0, every code >= -127.
bool fits_symmetric(const IntegerConv& p) {
  return std::all_of(p.w_zp.begin(), p.w_zp.end(), [](std::int32_t z) { return z == 0; }) &&
         std::all_of(p.w.begin(), p.w.end(), [](std::int8_t v) { return v >= -127; });
}

/// Bytes past the scratch and the output that a kernel must leave alone.
constexpr std::size_t guard_bytes = 256;
constexpr unsigned char guard_pattern = 0xA5;

/// The N x M x H_out x W_out accumulators (NCHW) of `p` computed by mote's int8 convolution
/// kernel of ISA `tag`, with weights in `Format`: one kernel call per image.
template <class Format, class Tag>
std::vector<std::int64_t> kernel_convolution(Tag tag, const IntegerConv& p) {
  const ConvShape& s = p.shape;
  const WindowGeometry g = s.window();
  const std::size_t field = s.kernel_h * s.kernel_w * s.in_c;
  mote::WeightMatrix<Format, mote::DenseStorage> weights(s.out_c, field);
  std::vector<mote::QuantParams> params;
  if constexpr (Format::per_channel) {
    for (std::int32_t zp : p.w_zp) params.push_back(mote::QuantParams{1.0f, zp});
  } else {
    REQUIRE(p.per_tensor_w);
    params.push_back(mote::QuantParams{1.0f, p.w_zp[0]});
  }
  const mote::Status assigned =
      weights.try_assign_quantized(p.w.data(), params.data(), params.size(), "w");
  if (!assigned) FAIL(assigned.message());

  const std::size_t image_values = s.in_h * s.in_w * s.in_c;
  const std::size_t pixels = g.out_h * g.out_w;
  const std::size_t out_values = pixels * s.out_c;
  const std::vector<float> bias(weights.padded_rows(), 0.0f);
  const Int8InputQuant quant{mote::QuantParams{1.0f, p.x_zp_u}, 0, 255};
  // Guard bytes after the scratch and the output catch writes past what the kernel was given.
  const std::size_t scratch_bytes =
      mote::kernels::conv_int8_scratch_bytes(g, weights.padded_rows(), weights.padded_cols());
  mote::AlignedBuffer<std::byte> scratch(scratch_bytes + guard_bytes);
  std::vector<float> y(out_values + guard_bytes / sizeof(float));
  std::vector<std::int64_t> acc(s.batch * out_values);
  std::vector<float> x(image_values);
  for (std::size_t n = 0; n < s.batch; ++n) {
    for (std::size_t i = 0; i < image_values; ++i) {
      x[i] = static_cast<float>(p.x_u[n * image_values + i] - p.x_zp_u);
    }
    std::fill(y.begin(), y.end(), std::numeric_limits<float>::quiet_NaN());
    std::fill(scratch.data() + scratch_bytes, scratch.data() + scratch_bytes + guard_bytes,
              std::byte{guard_pattern});
    mote::kernels::conv2d_int8(tag, g, weights, bias.data(), x.data(), y.data(), quant,
                               mote::activation::Identity{}, scratch.data());
    const std::byte* scratch_guard = scratch.data() + scratch_bytes;
    const std::size_t scratch_overrun = static_cast<std::size_t>(
        std::find_if(scratch_guard, scratch_guard + guard_bytes,
                     [](std::byte b) { return b != std::byte{guard_pattern}; }) -
        scratch_guard);
    INFO("scratch of " << scratch_bytes << " bytes: first guard byte written " << scratch_overrun);
    REQUIRE(scratch_overrun == guard_bytes);  // none written
    const float* output_guard = y.data() + out_values;
    const std::size_t output_overrun =
        static_cast<std::size_t>(std::find_if(output_guard, output_guard + (y.size() - out_values),
                                              [](float v) { return !std::isnan(v); }) -
                                 output_guard);
    INFO("output of " << out_values << " floats: first guard float written " << output_overrun);
    REQUIRE(output_overrun == y.size() - out_values);  // none written
    // H_out x W_out x M (channels-last) back to y's M x H_out x W_out.
    for (std::size_t pixel = 0; pixel < pixels; ++pixel) {
      for (std::size_t m = 0; m < s.out_c; ++m) {
        const float value = y[pixel * s.out_c + m];
        INFO("image " << n << ", output channel " << m << ", pixel " << pixel << ": kernel output "
                      << value);
        REQUIRE(std::isfinite(value));
        REQUIRE(std::fabs(value) < static_cast<float>(exact_float_limit));
        REQUIRE(value == std::trunc(value));
        acc[(n * s.out_c + m) * pixels + pixel] = static_cast<std::int64_t>(value);
      }
    }
  }
  return acc;
}

/// Calls check(accumulators, label) with the convolution computed by every ISA (scalar
/// reference, each SIMD ISA of this CPU, isa::Dynamic) and weight format.
template <class Check>
void for_each_kernel_convolution(const IntegerConv& p, Check&& check) {
  std::size_t isas = 0;
  const bool symmetric = fits_symmetric(p);
  auto run = [&](auto tag, const std::string& isa) {
    ++isas;
    check(kernel_convolution<mote::Int8<mote::PerChannel, mote::Asymmetric>>(tag, p),
          isa + ", per-channel weights");
    if (p.per_tensor_w) {
      check(kernel_convolution<mote::Int8<mote::PerTensor, mote::Asymmetric>>(tag, p),
            isa + ", per-tensor weights");
    }
    if (symmetric) {
      check(kernel_convolution<mote::Int8<mote::PerChannel, mote::Symmetric>>(tag, p),
            isa + ", per-channel symmetric weights");
      if (p.per_tensor_w) {
        check(kernel_convolution<mote::Int8<mote::PerTensor, mote::Symmetric>>(tag, p),
              isa + ", per-tensor symmetric weights");
      }
    }
  };
  run(mote::isa::Scalar{}, "scalar reference");
  mote_test::for_each_simd_isa(run);
  std::string dynamic = "isa::Dynamic (";
  dynamic += mote::arch::to_string(mote::arch::selected_isa());
  dynamic += ")";
  run(mote::isa::Dynamic{}, dynamic);
  CHECK(isas >= 2);
}

/// "n, m, oy, ox" of an index into y (NCHW).
std::string y_position(const ConvShape& s, std::size_t i) {
  const std::size_t out_w = s.out_w(), out_h = s.out_h();
  return std::to_string(i / (s.out_c * out_h * out_w)) + ", " +
         std::to_string(i / (out_h * out_w) % s.out_c) + ", " + std::to_string(i / out_w % out_h) +
         ", " + std::to_string(i % out_w);
}

void check_conv_integer(const std::string& test_name) {
  const NodeTest test = load_node_test(test_name);
  REQUIRE(test.node().op_type == "ConvInteger");
  const TensorProto* x = test.operator_input(0);
  const TensorProto* w = test.operator_input(1);
  REQUIRE(x != nullptr);
  REQUIRE(w != nullptr);
  std::int64_t group = 1;
  const ConvShape shape = read_conv_shape(test.node(), *x, *w, group);
  if (group != 1) {
    WARN(test_name << ": group " << group << " is not checked (conv2d_int8 takes group 1 only)");
    return;
  }
  const Codes x_codes = read_codes(*x);
  const Codes w_codes = read_codes(*w);
  const Codes x_zp =
      test.operator_input(2) != nullptr ? read_codes(*test.operator_input(2)) : zero_codes(x_codes);
  const Codes w_zp =
      test.operator_input(3) != nullptr ? read_codes(*test.operator_input(3)) : zero_codes(w_codes);
  const TensorProto& y = test.operator_output(0);
  REQUIRE(y.data_type == DataType::int32);
  REQUIRE(y.dims == shape.out_dims());
  const std::vector<std::int32_t> expected = y.as<std::int32_t>();

  const IntegerConv p = make_problem(x_codes, x_zp, w_codes, w_zp, shape);
  REQUIRE(p.exact.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(test_name << ": the int64 definition at y[" << y_position(shape, i) << "]");
    REQUIRE(p.exact[i] == expected[i]);
  }
  for_each_kernel_convolution(
      p, [&](const std::vector<std::int64_t>& acc, const std::string& label) {
        for (std::size_t i = 0; i < expected.size(); ++i) {
          INFO(test_name << ", " << label << ": y[" << y_position(shape, i) << "]");
          CHECK(acc[i] == expected[i]);
        }
      });
}

void check_qlinear_conv(const std::string& test_name) {
  const NodeTest test = load_node_test(test_name);
  REQUIRE(test.node().op_type == "QLinearConv");
  for (std::size_t position = 0; position < 8; ++position) {
    REQUIRE(test.operator_input(position) != nullptr);  // all but B (8) are required
  }
  const TensorProto& x = *test.operator_input(0);
  const TensorProto& w = *test.operator_input(3);
  std::int64_t group = 1;
  const ConvShape shape = read_conv_shape(test.node(), x, w, group);
  if (group != 1) {
    WARN(test_name << ": group " << group << " is not checked (conv2d_int8 takes group 1 only)");
    return;
  }
  const std::size_t m_count = shape.out_c;
  const Codes x_codes = read_codes(x);
  const Codes w_codes = read_codes(w);
  const std::vector<float> x_scale = read_scales(*test.operator_input(1), 1);
  const Codes x_zp = read_codes(*test.operator_input(2));
  const std::vector<float> w_scale = read_scales(*test.operator_input(4), m_count);
  const Codes w_zp = read_codes(*test.operator_input(5));
  const std::vector<float> y_scale = read_scales(*test.operator_input(6), 1);
  const TensorProto& y_zp_tensor = *test.operator_input(7);
  const Codes y_zp = read_codes(y_zp_tensor);
  REQUIRE(y_zp.values.size() == 1);
  const std::int32_t low = y_zp.is_signed ? -128 : 0;
  const std::int32_t high = y_zp.is_signed ? 127 : 255;
  // B: int32 per output channel, in accumulator units (scale x_scale * w_scale, zero point 0).
  std::vector<std::int64_t> bias(m_count, 0);
  if (const TensorProto* b = test.operator_input(8); b != nullptr) {
    INFO("B " << b->describe());
    REQUIRE(b->data_type == DataType::int32);
    const std::vector<std::int32_t> values = b->as<std::int32_t>();
    REQUIRE(values.size() == m_count);
    std::copy(values.begin(), values.end(), bias.begin());
  }

  const TensorProto& y = test.operator_output(0);
  REQUIRE(y.data_type == y_zp_tensor.data_type);
  REQUIRE(y.dims == shape.out_dims());
  const Codes expected = read_codes(y);

  const IntegerConv p = make_problem(x_codes, x_zp, w_codes, w_zp, shape);
  REQUIRE(expected.values.size() == p.exact.size());
  const std::size_t pixels = shape.out_h() * shape.out_w();

  // Requantisation parameters of each output channel, and the distance of each exactly scaled
  // value from a rounding tie (where gemmlowp and ONNX may round differently).
  std::vector<mote::FixedPointMultiplier> multipliers(m_count);
  std::vector<double> reals(m_count);
  for (std::size_t m = 0; m < m_count; ++m) {
    reals[m] = static_cast<double>(x_scale[0]) *
               static_cast<double>(w_scale[w_scale.size() == 1 ? 0 : m]) /
               static_cast<double>(y_scale[0]);
    multipliers[m] = mote::make_fixed_point_multiplier(reals[m]);
  }
  double nearest_tie = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < p.exact.size(); ++i) {
    const std::size_t m = i / pixels % m_count;
    const double scaled = static_cast<double>(p.exact[i] + bias[m]) * reals[m];
    nearest_tie = std::min(nearest_tie, std::fabs(scaled - std::floor(scaled) - 0.5));
  }

  for_each_kernel_convolution(
      p, [&](const std::vector<std::int64_t>& acc, const std::string& label) {
        for (std::size_t i = 0; i < p.exact.size(); ++i) {
          const std::size_t m = i / pixels % m_count;
          INFO(test_name << ", " << label << ": y[" << y_position(shape, i) << "], accumulator "
                         << acc[i] << " (definition " << p.exact[i] << "), B " << bias[m]);
          REQUIRE(acc[i] == p.exact[i]);
          const std::int64_t biased = acc[i] + bias[m];
          REQUIRE(biased >= std::numeric_limits<std::int32_t>::min());
          REQUIRE(biased <= std::numeric_limits<std::int32_t>::max());
          const std::int32_t code = mote::requantize(static_cast<std::int32_t>(biased),
                                                     multipliers[m], y_zp.values[0], low, high);
          CHECK(code == expected.values[i]);
        }
      });
  // The exact comparison above holds without a tie allowance: no output is near a tie.
  INFO(test_name
       << ": nearest distance of (acc + B) * x_scale * w_scale / y_scale to a half-integer: "
       << nearest_tie);
  CHECK(nearest_tie > 0.01);
}

}  // namespace

// The node tests' data is one UINT8 channel in and out with a 2x2 or 1x1 kernel, stride 1 and
// symmetric padding, which the kernels' chunking, panels and gathering barely touch. This
// covers the rest of what the operators allow with the same mapping, against the int64
// definition: INT8 x (u = x + 128) and w (codes as is), a zero point per output channel
// (per-channel weights), zero weight zero points (the Symmetric formats), extreme codes, several
// channels, more than 16 output channels (two weight panels), more than 64 output pixels (two
// pixel chunks), receptive fields not a multiple of 4 codes, strides, dilations (both axes),
// asymmetric padding, windows wholly in the padding, and a batch of two images.
TEST_CASE("ONNX integer conv mapping: int8 operands, zero points and window geometry",
          "[onnx][int8]") {
  std::vector<ConvShape> shapes;
  {
    ConvShape s;  // strided and dilated, asymmetric padding, two images, two weight panels
    s.batch = 2;
    s.in_c = 5;
    s.in_h = 9;
    s.in_w = 11;
    s.out_c = 19;
    s.kernel_h = 3;
    s.kernel_w = 2;
    s.stride_h = 2;
    s.dilation_w = 2;
    s.pad_top = 1;
    s.pad_left = 2;
    s.pad_bottom = 2;
    s.pad_right = 0;
    shapes.push_back(s);
  }
  {
    ConvShape s;  // 3x3 "same" convolution of 12 x 10 pixels: two pixel chunks; 9 * 7 columns
    s.in_c = 7;
    s.in_h = 12;
    s.in_w = 10;
    s.out_c = 6;
    s.kernel_h = 3;
    s.kernel_w = 3;
    s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
    shapes.push_back(s);
  }
  {
    ConvShape s;  // windows wholly in the padding (oy = 0), dilation and stride on both axes
    s.in_c = 3;
    s.in_h = 6;
    s.in_w = 5;
    s.out_c = 17;
    s.kernel_h = 2;
    s.kernel_w = 3;
    s.stride_h = 2;
    s.stride_w = 3;
    s.dilation_h = 3;
    s.dilation_w = 2;
    s.pad_top = 4;
    s.pad_left = 3;
    s.pad_bottom = 3;
    s.pad_right = 5;
    shapes.push_back(s);
  }
  for (std::size_t shape_index = 0; shape_index < shapes.size(); ++shape_index) {
    const ConvShape& s = shapes[shape_index];
    const std::size_t x_count = s.batch * s.in_c * s.in_h * s.in_w;
    const std::size_t w_count = s.out_c * s.in_c * s.kernel_h * s.kernel_w;
    for (bool x_signed : {false, true}) {
      for (bool w_signed : {false, true}) {
        // 0: one zero point; 1: one per output channel; 2: zero points that are 0 in the int8
        // code domain (128 for uint8), codes in [-127, 127] there: the Symmetric formats too.
        for (int zero_points = 0; zero_points < 3; ++zero_points) {
          const std::int32_t x_low = x_signed ? -128 : 0, w_low = w_signed ? -128 : 0;
          Codes x{{}, x_signed}, w{{}, w_signed}, x_zp{{}, x_signed}, w_zp{{}, w_signed};
          for (std::size_t i = 0; i < x_count; ++i) {
            x.values.push_back(x_low + static_cast<std::int32_t>((i * 97 + 13) % 256));
          }
          for (std::size_t i = 0; i < w_count; ++i) {
            w.values.push_back(w_low + static_cast<std::int32_t>((i * 61 + 200) % 256));
          }
          x_zp.values.push_back(x_low + static_cast<std::int32_t>((shape_index * 53 + 7) % 256));
          if (zero_points == 2) {
            w_zp.values.push_back(w_low + 128);
            for (std::int32_t& v : w.values) v = std::max(v, w_low + 1);  // no code -128
            w.values[1] = w_low + 1;                                      // the extreme codes
            w.values[2] = w_low + 255;
          } else {
            for (std::size_t m = 0; m < (zero_points == 1 ? s.out_c : 1); ++m) {
              w_zp.values.push_back(w_low + static_cast<std::int32_t>((m * 31 + 250) % 256));
            }
            w.values[1] = w_low;  // the extreme codes
            w.values[2] = w_low + 255;
          }
          x.values[0] = x_low;
          x.values[1] = x_low + 255;
          const IntegerConv p = make_problem(x, x_zp, w, w_zp, s);
          REQUIRE(fits_symmetric(p) == (zero_points == 2));
          for_each_kernel_convolution(
              p, [&](const std::vector<std::int64_t>& acc, const std::string& label) {
                INFO(label << ": shape " << shape_index << ", x " << (x_signed ? "INT8" : "UINT8")
                           << ", w " << (w_signed ? "INT8" : "UINT8")
                           << (zero_points == 0   ? ", one zero point"
                               : zero_points == 1 ? ", per-channel zero points"
                                                  : ", symmetric weights"));
                // The first difference, not the whole vectors (thousands of entries) on failure.
                REQUIRE(acc.size() == p.exact.size());
                const auto first_difference = static_cast<std::size_t>(
                    std::mismatch(acc.begin(), acc.end(), p.exact.begin()).first - acc.begin());
                INFO((first_difference < acc.size()
                          ? "first difference at y[" + y_position(s, first_difference) +
                                "]: kernel " + std::to_string(acc[first_difference]) +
                                ", definition " + std::to_string(p.exact[first_difference])
                          : std::string("no difference")));
                CHECK(first_difference == acc.size());
              });
        }
      }
    }
  }
}

TEST_CASE("ONNX ConvInteger node tests through the int8 convolution kernels", "[onnx][int8]") {
  SECTION("test_basic_convinteger") { check_conv_integer("test_basic_convinteger"); }
  SECTION("test_convinteger_with_padding") { check_conv_integer("test_convinteger_with_padding"); }
  SECTION("test_convinteger_without_padding") {
    check_conv_integer("test_convinteger_without_padding");
  }
}

TEST_CASE("ONNX QLinearConv node test through the int8 convolution kernels", "[onnx][int8]") {
  check_qlinear_conv("test_qlinearconv");
}
