// oneDNN (Debian's 2.6) in int8 on the CPU engine, one thread:
//   W1/int8/onednn, W2/int8/onednn, W3b1/int8/onednn, W3b64/int8/onednn, W4/int8/onednn,
//   W5/int8/onednn                       the input given as int8 codes, quantised untimed (compare
//                                        with <workload>/int8-u8in/mote)
//   W1/int8-f32in/onednn, ... W5         the same network behind a timed oneDNN reorder that
//                                        quantises the f32 input (output scale 1 / scale, and
//                                        the zero point for u8): what a caller holding floats
//                                        runs (compare with <workload>/int8/mote, which times
//                                        its own quantisation)
//
// Each Linear layer of W1-W3 is an int8 1x1 convolution over a 1 x batch NHWC image with `inputs`
// channels -- byte for byte the batch x inputs matrix, so the same computation as an inner
// product. oneDNN's int8 inner_product is the obvious primitive, but on this AVX2 CPU it runs
// its generic int8 GEMM (x64:gemm_s8u8s32:jit, which also packs per call), while the 1x1
// convolution has a dedicated kernel (jit_uni_int8_1x1:avx2) with the weights packed at setup.
// Measured on Zen 3 (same quantisation, us per forward): W1 14.2 (inner product) vs 4.7
// (1x1 convolution), W2 8.7 vs 2.4, W3b1 66 vs 22, W3b64 854 vs 726. So the convolution is
// oneDNN's fastest way here, and what these cases time. W4 and W5 are int8 convolutions anyway
// (NHWC activations throughout, as in onednn.cpp; weights in the layout each primitive picks).
//
// What a case times: the primitives of the network, executed through the C API with argument
// arrays built at setup (as in onednn.cpp), then stream.wait():
//   W1:    conv u8 -> u8, conv u8 -> u8, conv u8 -> f32  (ReLU is the u8 saturation of a
//                                                        destination with zero point 0: exactly
//                                                        max(x, 0))
//   W2:    conv u8 -> s8 + tanh post-op, conv s8 -> s8 + tanh post-op, conv s8 -> f32
//   W3b*:  conv u8 -> f32
//   W4:    conv 3x3 pad 1 s8 -> u8 (jit_uni_int8:avx2; ReLU as in W1), max pool 2x2 u8 -> u8
//          (jit_int:avx2), conv 3x3 u8 -> u8 (ReLU), max pool u8, then Flatten + Linear
//          1568 -> 10 as a 7x7 'valid' conv u8 -> f32 over the 7 x 7 x 32 NHWC map (its weights
//          are the Linear's read as [10, 32, 7, 7] oihw: PyTorch's (C, H, W) flatten, as in
//          onednn.cpp's 4-D inner product; a 1x1 conv over 1568 channels, jit_uni_int8_1x1, took
//          the same ~1 us)
//   W5:    depthwise 3x3 pad 1 (grouped conv, 32 groups; jit_uni_int8:avx2) s8 -> u8 (ReLU6 is
//          the u8 saturation: zero point 0 and top code = the reference max, which is <= 6),
//          1x1 conv u8 -> f32 (jit_uni_int8_1x1:avx2) + clip(0, 6) post-op for ReLU6
// Each primitive requantises (or dequantises, for the last one) its int32 accumulators with
// per-output-channel output scales and fused bias/post-ops inside (timed); max pooling works on
// the u8 codes (max commutes with the quantisation); the last layer writes floats, like mote's
// int8 cases. Not timed: the quantisation of the workload's f32 input to int8 (W1-W3: u8
// asymmetric per tensor, min/max of the input; W4, W5: s8 symmetric, see below), done once at
// setup, since the primitive takes int8 input; mote's int8 cases also time quantising their input.
//
// Quantisation, the same as mote's where oneDNN allows:
// - weights s8 symmetric per output channel (scale = max|w_row| / 127), reordered once at setup
//   into the layout the primitive picks (format_tag::any); but 7-bit (scale = max|w_row| / 63)
//   for layers with u8 input on CPUs without VNNI (this Zen 3), see weight_levels() (in W4 and W5
//   all but the first layer; the first, on s8 input, keeps 8 bits, which oneDNN halves in its
//   weight reorder, as for W2);
// - inputs asymmetric per tensor in W1-W3: the input zero point z is folded into the bias
//   (bias - z * sum_i w_q[o, i], in accumulator units: oneDNN 2.x adds the bias before applying
//   the output scale), exact for unpadded convolutions and free at run time;
// - W4's and W5's first layers are padded 3x3 convolutions, where a folded z would be wrong on
//   the border (padding must stand for real 0, i.e. code z). oneDNN 2.6 takes z as a source zero
//   point there (primitive_attr::set_zero_points; jit_uni_int8:avx2 compensates the padding,
//   checked exact against integer sums), but its compensation costs time: measured on Zen 3, us
//   per call, W4's first conv 11.6 (u8 + zero point) vs 9.3 (s8), W5's depthwise 87 vs 75. So
//   the workload's input (uniform in [-1, 1], i.e. symmetric: step 2/254 instead of 2/255) is
//   quantised s8 symmetric (scale = max|x| / 127, zero point 0) for W4 and W5, a deviation from
//   mote's asymmetric input (max_error_vs_f32 with u8 + zero point: W4 0.013, W5 0.008). Every
//   later layer's input is a ReLU/ReLU6 output, u8 with zero point 0;
// - hidden-layer outputs: after ReLU or ReLU6 u8 with scale max / 255 and zero point 0; after
//   tanh s8 with scale 1/127 (the tanh post-op's scale multiplies its result by 127). Ranges
//   come from a float reference pass over the workload's input at setup.
//
// Checked before timing: the output against the f32 reference (mote's f32 output); a relative max
// error above 0.1 aborts (it catches garbage, int8 noise is ~1e-2). The counter max_error_vs_f32
// is max |output - f32 output| / max |f32 output|.

#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"
#include "reference_f32.hpp"

namespace mote_bench {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

void use_one_thread() {
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads")))
    set(1);
  else
    std::fprintf(stderr, "mote_bench: omp_set_num_threads not found; set OMP_NUM_THREADS=1\n");
#endif
}

enum class Activation { none, relu, relu6, tanh };

std::vector<float> activate(std::vector<float> y, Activation activation) {
  for (float& v : y)
    v = activation == Activation::relu    ? std::max(v, 0.0f)
        : activation == Activation::relu6 ? std::clamp(v, 0.0f, 6.0f)
        : activation == Activation::tanh  ? std::tanh(v)
                                          : v;
  return y;
}

/// The largest |weight| to quantise to for a layer whose input is `src`. Without VNNI, oneDNN's
/// int8 kernels multiply u8 x s8 with vpmaddubsw, whose int16 sums of two products saturate
/// (255 x 127 x 2 > 32767), and oneDNN 2.6 leaves u8 inputs unguarded: 7-bit weights ([-63, 63]:
/// 255 x 63 x 2 < 32768) are the usual remedy. s8 inputs it shifts to u8 itself, halving the
/// weights in its reorder to stay in range, so those keep 8 bits (halving 7-bit weights again
/// doubled W2's error). Measured on Zen 3, max_error_vs_f32 with 8-bit weights on u8 inputs:
/// 0.08 (W1), 0.14 (W2, aborted); with 7-bit ones 0.013 and 0.008. With AVX-512 VNNI (vpdpbusd
/// sums in int32) all weights keep 8 bits.
long weight_levels(dt src) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (src == dt::u8 && !__builtin_cpu_supports("avx512vnni")) return 63;
#else
  (void)src;
#endif
  return 127;
}

/// How an int8 activation tensor encodes reals: real = scale * (q - zero_point).
struct QParams {
  dt type;
  float scale;
  std::int32_t zero_point;
};

/// The u8 encoding of activations after ReLU or ReLU6 whose largest reference value is `max`:
/// zero point 0, so the u8 saturation of the destination is the activation (ReLU: max(x, 0);
/// ReLU6: the reference max is at most 6, so saturating at it clamps at or below 6).
QParams rectified(const std::vector<float>& y) {
  const float max = *std::max_element(y.begin(), y.end());
  return {dt::u8, max > 0 ? max / 255.0f : 1.0f, 0};
}

/// A stride-1 convolution over an NHWC map: src dims (N, C, H, W), weights in PyTorch layout
/// ([O, I, kh, kw] = oihw, or [G, O/G, I/G, kh, kw] = goihw when grouped).
struct ConvShape {
  memory::dims src;
  memory::dims weights;
  memory::dim pad = 0;
};

class OnednnInt8Runner final : public Runner {
 public:
  explicit OnednnInt8Runner(const Workload& w)
      : w_(w), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

  void run() override {
    for (const Step& step : steps_)
      dnnl::error::wrap_c_api(
          dnnl_primitive_execute(step.primitive.get(), stream_.get(),
                                 static_cast<int>(step.args.size()), step.args.data()),
          "could not execute a primitive");
    stream_.wait();
  }
  std::span<const float> output() const override { return output_; }
  std::string label() const override { return label_; }
  std::size_t weight_bytes() const { return weight_bytes_; }

  /// Builds the network of the workload's Linear layers, `hidden` between them.
  void build(Activation hidden) {
    std::vector<float> x = w_.input;  // f32 reference activations, layer by layer
    QParams xq = quantize_input();
    const void* src = input_.data();
    const auto batch = static_cast<memory::dim>(w_.batch);
    input_dims_ = {1, static_cast<memory::dim>(w_.layers[0].weight.shape[1]), 1, batch};
    input_quant_ = xq;
    for (std::size_t l = 0; l < w_.layers.size(); ++l) {
      const WeightedLayer& layer = w_.layers[l];
      const bool last = l + 1 == w_.layers.size();
      const Activation activation = last ? Activation::none : hidden;
      const std::vector<float> y = linear_f32(x, w_.batch, layer);
      x = activate(y, activation);
      QParams yq{dt::f32, 1.0f, 0};  // the last layer writes floats
      if (activation == Activation::relu) yq = rectified(x);
      if (activation == Activation::tanh) yq = {dt::s8, 1.0f / 127.0f, 0};
      // A 1x1 convolution on a 1 x batch NHWC image with `inputs` channels (the bytes of the
      // batch x inputs matrix), faster than oneDNN's inner product (see the top).
      const auto outputs = static_cast<memory::dim>(layer.weight.shape[0]);
      const auto inputs = static_cast<memory::dim>(layer.weight.shape[1]);
      src = convolution(src, xq, {{1, inputs, 1, batch}, {outputs, inputs, 1, 1}}, layer, yq,
                        activation, "conv1x1");
      xq = yq;
    }
    output_ = {static_cast<const float*>(src), w_.batch * w_.output_size};
    label_ += "; input quantised untimed";
  }

  /// W4: conv 3x3 + ReLU, max pool, conv 3x3 + ReLU, max pool, Linear as a 7x7 convolution.
  void build_w4() {
    const std::vector<WeightedLayer>& layers = w_.layers;
    QParams xq = quantize_input(true);
    input_dims_ = {1, 1, 28, 28};
    input_quant_ = xq;
    // Conv(1 -> 16) + ReLU on 28 x 28, u8 out; max pool 2 in u8 (same encoding).
    std::vector<float> x = activate(conv_f32(w_.input, 28, 28, layers[0], 1), Activation::relu);
    QParams yq = rectified(x);
    const void* a = convolution(input_.data(), xq, {{1, 1, 28, 28}, {16, 1, 3, 3}, 1}, layers[0],
                                yq, Activation::relu, "conv3x3");
    a = max_pool2(a, yq.type, {1, 16, 28, 28});
    x = max_pool2_f32(x, 28, 28, 16);
    // Conv(16 -> 32) + ReLU on 14 x 14, u8 out; max pool 2.
    xq = yq;
    x = activate(conv_f32(x, 14, 14, layers[1], 1), Activation::relu);
    yq = rectified(x);
    a = convolution(a, xq, {{1, 16, 14, 14}, {32, 16, 3, 3}, 1}, layers[1], yq, Activation::relu,
                    "conv3x3");
    a = max_pool2(a, yq.type, {1, 32, 14, 14});
    // Flatten + Linear 1568 -> 10, f32 out: a 7x7 'valid' convolution over the 7 x 7 x 32 NHWC
    // map with the Linear weights read as [10, 32, 7, 7] oihw -- exactly PyTorch's (C, H, W)
    // flatten order, as in onednn.cpp's 4-D inner product.
    a = convolution(a, yq, {{1, 32, 7, 7}, {10, 32, 7, 7}}, layers[2], {dt::f32, 1.0f, 0},
                    Activation::none, "conv7x7 (Linear)");
    output_ = {static_cast<const float*>(a), w_.output_size};
    label_ += "; input s8 symmetric, quantised untimed";
  }

  /// W5: depthwise 3x3 + ReLU6 (u8 out), pointwise 1x1 + ReLU6 (f32 out).
  void build_w5() {
    const QParams xq = quantize_input(true);
    input_dims_ = {1, 32, 56, 56};
    input_quant_ = xq;
    const std::vector<float> x =
        activate(conv_f32(w_.input, 56, 56, w_.layers[0], 32), Activation::relu6);
    const QParams yq = rectified(x);
    const void* a = convolution(input_.data(), xq, {{1, 32, 56, 56}, {32, 1, 1, 3, 3}, 1},
                                w_.layers[0], yq, Activation::relu6, "dw3x3");
    a = convolution(a, yq, {{1, 32, 56, 56}, {64, 32, 1, 1}}, w_.layers[1], {dt::f32, 1.0f, 0},
                    Activation::relu6, "conv1x1");
    output_ = {static_cast<const float*>(a), w_.output_size};
    label_ += "; input s8 symmetric, quantised untimed";
  }

  /// Puts a reorder before the network that quantises the workload's f32 input into the codes
  /// the first primitive reads (timed from then on): real / scale rounded to nearest even, plus
  /// the zero point, saturated. Checked against the untimed codes (the rounding of x / scale
  /// and of x * (1 / scale) may differ by one code at a tie; more than 1 in 1000 aborts).
  void quantise_input_in_run() {
    const std::vector<std::uint8_t> untimed = input_;
    const memory::desc src_md(input_dims_, dt::f32, tag::nhwc);
    const memory::desc dst_md(input_dims_, input_quant_.type, tag::nhwc);
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {1.0f / input_quant_.scale});
    if (input_quant_.zero_point != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {input_quant_.zero_point});
    const dnnl::reorder::primitive_desc pd(engine_, src_md, engine_, dst_md, attr);
    Step step{dnnl::reorder(pd), {}};
    memory src(src_md, engine_, const_cast<float*>(w_.input.data()));
    memory dst(dst_md, engine_, input_.data());
    step.args = {{DNNL_ARG_FROM, src.get()}, {DNNL_ARG_TO, dst.get()}};
    memories_.push_back(src);
    memories_.push_back(dst);
    steps_.insert(steps_.begin(), std::move(step));
    run();
    std::size_t differing = 0;
    for (std::size_t i = 0; i < input_.size(); ++i) {
      const int gap = std::abs(int{input_[i]} - int{untimed[i]});
      if (gap > 1) throw std::logic_error("mote_bench: oneDNN's input reorder is off by more than one code");
      differing += gap;
    }
    if (differing * 1000 > input_.size())
      throw std::logic_error("mote_bench: oneDNN's input reorder differs from the untimed codes too often");
    label_ = std::string("reorder f32->") + (input_quant_.type == dt::u8 ? "u8 " : "s8 ") + pd.impl_info_str() +
             " (timed) | " + label_.substr(0, label_.find(';'));
  }

 private:
  struct Step {
    dnnl::primitive primitive;
    std::vector<dnnl_exec_arg_t> args;
  };

  /// The workload's input as int8 into input_ (untimed); returns its encoding: u8 asymmetric per
  /// tensor over [min, max] (widened to include 0), or for `symmetric` s8 with scale
  /// max |x| / 127 and zero point 0 (for padded first layers, see the top).
  QParams quantize_input(bool symmetric = false) {
    const std::vector<float>& x = w_.input;
    input_.resize(x.size());
    if (symmetric) {
      float max = 0;
      for (float v : x) max = std::max(max, std::abs(v));
      const QParams xq{dt::s8, max > 0 ? max / 127.0f : 1.0f, 0};
      for (std::size_t i = 0; i < x.size(); ++i)
        input_[i] = static_cast<std::uint8_t>(  // the bytes of the s8 codes
            static_cast<std::int8_t>(std::clamp(std::lround(x[i] / xq.scale), -127L, 127L)));
      return xq;
    }
    float lo = 0, hi = 0;
    for (float v : x) lo = std::min(lo, v), hi = std::max(hi, v);
    QParams xq{dt::u8, hi > lo ? (hi - lo) / 255.0f : 1.0f, 0};
    xq.zero_point = static_cast<std::int32_t>(std::clamp(std::lround(-lo / xq.scale), 0L, 255L));
    for (std::size_t i = 0; i < x.size(); ++i)
      input_[i] = static_cast<std::uint8_t>(
          std::clamp(std::lround(x[i] / xq.scale) + xq.zero_point, 0L, 255L));
    return xq;
  }

  void add(dnnl::primitive primitive, std::vector<std::pair<int, memory>> args) {
    Step step{std::move(primitive), {}};
    for (auto& [index, mem] : args) {
      step.args.push_back({index, mem.get()});
      memories_.push_back(mem);  // keeps the handle alive
    }
    steps_.push_back(std::move(step));
  }

  /// One int8 convolution (stride 1, `shape.pad` on every side) of the NHWC map at `src`,
  /// encoded as `in`, with `layer`'s weights (PyTorch layout: a row per output channel); returns
  /// its NHWC result, encoded as `out` (f32: real values).
  const void* convolution(const void* src, QParams in, const ConvShape& shape,
                          const WeightedLayer& layer, QParams out, Activation activation,
                          const char* what) {
    const bool grouped = shape.weights.size() == 5;
    const memory::dim groups = grouped ? shape.weights[0] : 1;
    const memory::dim outputs = grouped ? groups * shape.weights[1] : shape.weights[0];
    const memory::dim k_h = shape.weights[shape.weights.size() - 2];
    const memory::dim k_w = shape.weights.back();
    const std::size_t rows = static_cast<std::size_t>(outputs);
    const std::size_t cols = layer.weight.values.size() / rows;  // weights per output channel
    // Weights s8 per output channel; bias f32 in accumulator units with the input zero point
    // folded in (bias - z * sum_i w_q[o, i]): exact when every tap reads real input, i.e. without
    // padding. Padded layers take inputs with zero point 0 (see the top).
    if (shape.pad != 0 && in.zero_point != 0)
      throw std::logic_error("mote_bench: a padded int8 convolution needs an input zero point 0");
    const long weight_max = weight_levels(in.type);
    std::vector<std::int8_t> weights(rows * cols);
    std::vector<float> bias(rows), output_scales(rows);
    for (std::size_t o = 0; o < rows; ++o) {
      float w_max = 0;
      for (std::size_t i = 0; i < cols; ++i)
        w_max = std::max(w_max, std::abs(layer.weight.values[o * cols + i]));
      const float w_scale = w_max > 0 ? w_max / static_cast<float>(weight_max) : 1.0f;
      long row_sum = 0;
      for (std::size_t i = 0; i < cols; ++i) {
        const long q = std::clamp(std::lround(layer.weight.values[o * cols + i] / w_scale),
                                  -weight_max, weight_max);
        weights[o * cols + i] = static_cast<std::int8_t>(q);
        row_sum += q;
      }
      const double acc_scale = double{in.scale} * w_scale;  // real per accumulator unit
      bias[o] =
          static_cast<float>(layer.bias.values[o] / acc_scale -
                             static_cast<double>(in.zero_point) * static_cast<double>(row_sum));
      // tanh's post-op sees reals (scale acc_scale) and its scale quantises the result; so does
      // ReLU6's clip on a float destination.
      const bool real_post_op = activation == Activation::tanh ||
                                (activation == Activation::relu6 && out.type == dt::f32);
      output_scales[o] = static_cast<float>(real_post_op ? acc_scale : acc_scale / out.scale);
    }
    dnnl::primitive_attr attr;
    attr.set_output_scales(1 << 1, output_scales);  // per output channel (dim 1 of dst)
    if (activation == Activation::tanh) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f / out.scale, algorithm::eltwise_tanh, 0.0f, 0.0f);
      attr.set_post_ops(ops);
    } else if (activation == Activation::relu6 && out.type == dt::f32) {
      dnnl::post_ops ops;  // on u8 the destination's saturation is the clamp (see rectified())
      ops.append_eltwise(1.0f, algorithm::eltwise_clip, 0.0f, 6.0f);
      attr.set_post_ops(ops);
    }
    const memory::dims& src_dims = shape.src;
    const memory::dims dst_dims{src_dims[0], outputs, src_dims[2] + 2 * shape.pad - k_h + 1,
                                src_dims[3] + 2 * shape.pad - k_w + 1};
    const memory::desc src_md(src_dims, in.type, tag::nhwc);
    const memory::desc dst_md(dst_dims, out.type, tag::nhwc);
    const memory::desc bias_md({outputs}, dt::f32, tag::a);
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, algorithm::convolution_direct, src_md,
        memory::desc(shape.weights, dt::s8, tag::any), bias_md, dst_md, {1, 1},
        {shape.pad, shape.pad}, {shape.pad, shape.pad});
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine_);
    // Weights reordered once (untimed) from PyTorch's layout into the primitive's.
    memory user_weights({shape.weights, dt::s8, grouped ? tag::goihw : tag::oihw}, engine_,
                        weights.data());
    memory packed_weights(pd.weights_desc(), engine_);
    dnnl::reorder(user_weights, packed_weights).execute(stream_, user_weights, packed_weights);
    memory user_bias(bias_md, engine_, bias.data());
    memory packed_bias(pd.bias_desc(), engine_);
    dnnl::reorder(user_bias, packed_bias).execute(stream_, user_bias, packed_bias);
    stream_.wait();
    weight_bytes_ += rows * cols + rows * sizeof(float);
    void* dst = buffers_.emplace_back(dst_md.get_size()).data();
    // oneDNN only reads a source; its C++ API takes a non-const handle anyway.
    add(dnnl::convolution_forward(pd),
        {{DNNL_ARG_SRC, memory(src_md, engine_, const_cast<void*>(src))},
         {DNNL_ARG_WEIGHTS, packed_weights},
         {DNNL_ARG_BIAS, packed_bias},
         {DNNL_ARG_DST, memory(dst_md, engine_, dst)}});
    const char* name = out.type == dt::u8 ? "u8" : out.type == dt::s8 ? "s8" : "f32";
    const char* src_name = in.type == dt::u8 ? "u8" : "s8";
    label_ += std::string(label_.empty() ? "" : " | ") + what + " " + pd.impl_info_str() + " " +
              src_name + "->" + name + (activation == Activation::tanh ? "+tanh" : "") +
              (weight_max == 63 ? " (7-bit weights)" : "");
    return dst;
  }

  /// 2x2 stride-2 max pooling of the NHWC map at `src` (dims N, C, H, W) in its int8 type: the
  /// encoding is unchanged (max commutes with a monotone quantisation).
  const void* max_pool2(const void* src, dt type, const memory::dims& src_dims) {
    const memory::desc src_md(src_dims, type, tag::nhwc);
    const memory::desc dst_md({src_dims[0], src_dims[1], src_dims[2] / 2, src_dims[3] / 2}, type,
                              tag::nhwc);
    const dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference,
                                           algorithm::pooling_max, src_md, dst_md, {2, 2}, {2, 2},
                                           {0, 0}, {0, 0});
    const dnnl::pooling_forward::primitive_desc pd(desc, engine_);
    void* dst = buffers_.emplace_back(dst_md.get_size()).data();
    add(dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, memory(src_md, engine_, const_cast<void*>(src))},
                                    {DNNL_ARG_DST, memory(dst_md, engine_, dst)}});
    label_ += std::string(" | maxpool ") + pd.impl_info_str() + (type == dt::u8 ? " u8" : " s8");
    return dst;
  }

  const Workload& w_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<Step> steps_;
  std::vector<memory> memories_;
  std::vector<std::uint8_t> input_;
  memory::dims input_dims_;  // the first primitive's source (N, C, H, W), NHWC in memory
  QParams input_quant_{dt::u8, 1.0f, 0};
  std::vector<std::vector<std::byte>> buffers_;  // activations, each layer's output
  std::span<const float> output_;
  std::string label_;
  std::size_t weight_bytes_ = 0;
};

void register_case(WorkloadId id, bool float_input) {
  const std::string name = workload(id).name + (float_input ? "/int8-f32in/onednn" : "/int8/onednn");
  auto runner = std::make_shared<std::unique_ptr<OnednnInt8Runner>>();
  auto error_vs_f32 = std::make_shared<double>(0.0);
  benchmark::RegisterBenchmark(
      name.c_str(), [runner, error_vs_f32, id, name, float_input](benchmark::State& state) {
        const Workload& w = workload(id);
        if (!*runner) {  // built on the first call, so a filter skips excluded cases' setup
          static const bool single_threaded = [] {
            use_one_thread();
            return true;
          }();
          (void)single_threaded;
          *runner = std::make_unique<OnednnInt8Runner>(w);
          if (id == WorkloadId::W4)
            (*runner)->build_w4();
          else if (id == WorkloadId::W5)
            (*runner)->build_w5();
          else
            (*runner)->build(id == WorkloadId::W1   ? Activation::relu
                             : id == WorkloadId::W2 ? Activation::tanh
                                                    : Activation::none);
          if (float_input) (*runner)->quantise_input_in_run();
          (*runner)->run();
          *error_vs_f32 = checked_error_vs_f32(name, (*runner)->output(), id);
        }
        OnednnInt8Runner& r = **runner;
        for (auto _ : state) {
          r.run();
          benchmark::ClobberMemory();
        }
        state.counters["GFLOPS"] =
            benchmark::Counter(w.flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
        state.counters["weight_bytes"] =
            benchmark::Counter(static_cast<double>(r.weight_bytes()), benchmark::Counter::kDefaults,
                               benchmark::Counter::kIs1024);
        state.counters["max_error_vs_f32"] = *error_vs_f32;
        state.SetLabel(r.label());
      });
}

/// Registered during static initialisation (main.cpp registers the f32 cases in main()).
[[maybe_unused]] const bool registered = [] {
  for (WorkloadId id : {WorkloadId::W1, WorkloadId::W2, WorkloadId::W3b1, WorkloadId::W3b64,
                        WorkloadId::W4, WorkloadId::W5})
    for (bool float_input : {false, true}) register_case(id, float_input);
  return true;
}();

}  // namespace
}  // namespace mote_bench
