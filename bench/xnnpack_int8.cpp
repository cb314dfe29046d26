// XNNPACK (Debian's 2022-02 snapshot) in int8, with its qs8/qc8 operators:
//   W1/int8/xnnpack, W2/int8/xnnpack, W3b1/int8/xnnpack, W3b64/int8/xnnpack, W4/int8/xnnpack,
//   W5/int8/xnnpack
//
// What a case times: xnn_run_operator on each operator of an int8-in, int8-between-layers
// pipeline, one thread, ending with a qs8 -> f32 convert operator, so that, like mote's int8
// cases, the case delivers floats:
//   W1:    FC qs8, FC qs8, FC qs8, convert qs8->f32   (ReLU = each FC's output clamp at its
//                                                      zero point)
//   W2:    FC qs8, tanh qs8, FC qs8, tanh qs8, FC qs8, convert qs8->f32   (tanh is XNNPACK's qs8
//                                                      lookup-table operator: output scale
//                                                      1/128, zero point 0 is all it accepts)
//   W3b*:  FC qs8, convert qs8->f32
//   W4:    conv 3x3 qc8, max pool 2x2 s8, conv 3x3 qc8, max pool s8, conv 1x1 qc8 (Flatten +
//          Linear 1568 -> 10: a 1x1 convolution over a 1 x 1 image with 1568 channels, the bytes
//          of the 7 x 7 x 32 NHWC map, whose weight columns are reordered from PyTorch's
//          (C, H, W) flatten to (H, W, C) as in xnnpack.cpp), convert qs8->f32   (ReLU = the
//          conv's output clamp at its zero point; max pooling works on the int8 codes, which
//          keep their encoding: max commutes with the quantisation)
//   W5:    depthwise conv 3x3 qc8 (groups = 32, one channel each: XNNPACK's dwconv path), conv
//          1x1 qc8, convert qs8->f32   (ReLU6 = the output clamp from the zero point to the code
//          of 6, or 127 where the range ends below 6). The convert of the 56 x 56 x 64 output
//          is ~25 us of the case: XNNPACK has no int8 convolution with a float output.
// Every FC and convolution requantises its int32 accumulators to int8 inside the operator
// (timed). Not timed: the quantisation of the workload's f32 input to int8 (asymmetric per
// tensor, min/max of the input), done once at setup, since the operators take int8 input. mote's
// int8 cases also time quantising their input, so they do slightly more work. On this AVX2 CPU
// XNNPACK runs its AVX2 int8 kernels (vpmovsxbw + vpmaddwd); the per-tensor qs8 convolution was
// no faster than the per-channel qc8 one (W4 and W5, within noise), so the convolutions are qc8.
//
// Quantisation: xnn_create_fully_connected_nc_qs8 takes ONE kernel scale per operator (this
// snapshot has no per-channel qc8 fully-connected operator), so the FC weights of W1-W3 are
// symmetric per tensor (scale = max|W| / 127), where mote's are per output channel. The
// convolutions of W4 and W5 (W4's Linear included) are qc8: weights symmetric per output channel
// (scale = max|w_row| / 127), as mote's. Biases are int32 in units of input scale x kernel scale
// (that channel's, for qc8). Padding is XNNPACK's: it pads with the input zero point (real 0).
// Each layer's output scale and zero point come from the min/max of that layer's f32 output on
// the workload's input (a float reference pass at setup; for ReLU/ReLU6 layers, of the output
// after the activation, for tanh layers, of the FC's output before the tanh).
//
// Checked before timing: the dequantised output against the f32 reference (mote's f32 output);
// a relative max error above 0.1 aborts (it catches garbage, int8 noise is ~1e-2). The counter
// max_error_vs_f32 is max |output - f32 output| / max |f32 output|.

#include <benchmark/benchmark.h>
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "harness.hpp"
#include "reference_f32.hpp"

namespace mote_bench {
namespace {

void check(xnn_status status, const char* what) {
  if (status != xnn_status_success) {
    std::fprintf(stderr, "mote_bench: XNNPACK %s failed (status %d)\n", what,
                 static_cast<int>(status));
    std::exit(EXIT_FAILURE);
  }
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

/// int8 asymmetric quantisation covering [min, max] of `values` (widened to include 0).
struct QParams {
  float scale;
  std::int8_t zero_point;
};
QParams asymmetric(std::span<const float> values) {
  float lo = 0, hi = 0;
  for (float v : values) lo = std::min(lo, v), hi = std::max(hi, v);
  const float scale = hi > lo ? (hi - lo) / 255.0f : 1.0f;
  const long zero = std::lround(-128.0 - static_cast<double>(lo) / scale);
  return {scale, static_cast<std::int8_t>(std::clamp(zero, -128L, 127L))};
}

std::int8_t quantize(float v, QParams q) {
  const long r = std::lround(static_cast<double>(v) / q.scale) + q.zero_point;
  return static_cast<std::int8_t>(std::clamp(r, -128L, 127L));
}

class XnnpackInt8Runner final : public Runner {
 public:
  explicit XnnpackInt8Runner(const Workload& w) : w_(w) {}
  ~XnnpackInt8Runner() override {
    for (xnn_operator_t op : ops_) xnn_delete_operator(op);
  }
  XnnpackInt8Runner(const XnnpackInt8Runner&) = delete;
  XnnpackInt8Runner& operator=(const XnnpackInt8Runner&) = delete;

  void run() override {
    for (xnn_operator_t op : ops_) check(xnn_run_operator(op, nullptr), "run");
  }
  std::span<const float> output() const override { return output_; }
  std::string label() const override { return label_; }

  /// Builds the pipeline for the workload's Linear layers, `hidden` between them.
  void build(Activation hidden) {
    const std::size_t batch = w_.batch;
    std::vector<float> x = w_.input;  // f32 reference activations, layer by layer
    QParams xq = asymmetric(x);
    input_.resize(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) input_[i] = quantize(x[i], xq);
    const std::int8_t* in = input_.data();
    for (std::size_t l = 0; l < w_.layers.size(); ++l) {
      const WeightedLayer& layer = w_.layers[l];
      const bool last = l + 1 == w_.layers.size();
      const Activation activation = last ? Activation::none : hidden;
      const std::size_t rows = layer.weight.shape[0], cols = layer.weight.shape[1];
      // Weights: symmetric per tensor; bias: int32 in units of input scale x kernel scale.
      float w_max = 0;
      for (float v : layer.weight.values) w_max = std::max(w_max, std::abs(v));
      const float kernel_scale = w_max > 0 ? w_max / 127.0f : 1.0f;
      std::vector<std::int8_t>& kernel = kernels_.emplace_back(layer.weight.values.size());
      for (std::size_t i = 0; i < kernel.size(); ++i)
        kernel[i] = quantize(layer.weight.values[i], {kernel_scale, 0});
      std::vector<std::int32_t>& bias = biases_.emplace_back(rows);
      for (std::size_t o = 0; o < rows; ++o)
        bias[o] = static_cast<std::int32_t>(std::lround(static_cast<double>(layer.bias.values[o]) /
                                                        (double{xq.scale} * kernel_scale)));
      // Output quantisation from the f32 reference: after ReLU (fused as the clamp), before tanh.
      const std::vector<float> y = linear_f32(x, batch, layer);
      const std::vector<float> fc_out =
          activation == Activation::relu ? activate(y, activation) : y;
      const QParams yq = asymmetric(fc_out);
      const std::int8_t out_min = activation == Activation::relu ? yq.zero_point : INT8_MIN;
      xnn_operator_t op = nullptr;
      check(xnn_create_fully_connected_nc_qs8(cols, rows, cols, rows, xq.zero_point, xq.scale,
                                              kernel_scale, kernel.data(), bias.data(),
                                              yq.zero_point, yq.scale, out_min, INT8_MAX, 0, &op),
            "create fully_connected_nc_qs8");
      ops_.push_back(op);
      std::int8_t* out = buffer(batch * rows);
      check(xnn_setup_fully_connected_nc_qs8(op, batch, in, out, nullptr),
            "setup fully_connected_nc_qs8");
      label_ += std::string(label_.empty() ? "" : " > ") + "FC qs8";
      in = out;
      xq = yq;
      if (activation == Activation::tanh) {
        const QParams tq{1.0f / 128.0f, 0};  // the only output quantisation XNNPACK accepts
        check(xnn_create_tanh_nc_qs8(rows, rows, rows, xq.zero_point, xq.scale, tq.zero_point,
                                     tq.scale, INT8_MIN, INT8_MAX, 0, &op),
              "create tanh_nc_qs8");
        ops_.push_back(op);
        out = buffer(batch * rows);
        check(xnn_setup_tanh_nc_qs8(op, batch, in, out, nullptr), "setup tanh_nc_qs8");
        label_ += " > tanh qs8";
        in = out;
        xq = tq;
      }
      x = activate(y, activation);
    }
    // Dequantise the final layer's int8 output to floats (timed, like mote's float output).
    const std::size_t outputs = w_.output_size;
    xnn_operator_t op = nullptr;
    check(xnn_create_convert_nc_qs8_f32(outputs, outputs, outputs, xq.scale, xq.zero_point, 0, &op),
          "create convert_nc_qs8_f32");
    ops_.push_back(op);
    output_.resize(batch * outputs);
    check(xnn_setup_convert_nc_qs8_f32(op, batch, in, output_.data(), nullptr),
          "setup convert_nc_qs8_f32");
    label_ += " > qs8->f32; per-tensor weights; input quantised untimed";
  }

  /// W4: conv 3x3 + ReLU, max pool, conv 3x3 + ReLU, max pool, Linear as a 1x1 convolution.
  void build_w4() {
    const std::vector<WeightedLayer>& layers = w_.layers;
    QParams xq = quantize_input();
    const std::int8_t* a = input_.data();
    // The f32 reference, for each layer's output quantisation.
    std::vector<float> x = activate(conv_f32(w_.input, 28, 28, layers[0], 1), Activation::relu);
    a = convolution(a, xq, 28, 28, layers[0].weight.shape, conv_weight_ohwi(layers[0].weight),
                    layers[0].bias.values, 1, 1, x, Activation::relu, "conv3x3 qc8");
    a = max_pool2(a, 28, 28, 16);
    x = max_pool2_f32(x, 28, 28, 16);
    std::vector<float> y = activate(conv_f32(x, 14, 14, layers[1], 1), Activation::relu);
    a = convolution(a, xq, 14, 14, layers[1].weight.shape, conv_weight_ohwi(layers[1].weight),
                    layers[1].bias.values, 1, 1, y, Activation::relu, "conv3x3 qc8");
    a = max_pool2(a, 14, 14, 32);
    // Flatten + Linear 1568 -> 10: a 1x1 convolution over a 1 x 1 image with 1568 channels (the
    // bytes of the 7 x 7 x 32 NHWC map), which takes per-channel weights where the qs8 FC does
    // not. Its weight columns are reordered from PyTorch's (C, H, W) flatten to (H, W, C), as in
    // xnnpack.cpp.
    y = max_pool2_f32(y, 14, 14, 32);
    const WeightedLayer linear{
        layers[2].index,
        {layers[2].weight.shape, dense_weight_hwc_columns(layers[2].weight, 32, 7 * 7)},
        layers[2].bias};
    a = convolution(a, xq, 1, 1, {10, 32 * 7 * 7, 1, 1}, linear.weight.values, linear.bias.values,
                    1, 0, linear_f32(y, 1, linear), Activation::none, "conv1x1 qc8 (Linear)");
    dequantize(a, xq, w_.output_size);
  }

  /// W5: depthwise 3x3 + ReLU6, pointwise 1x1 + ReLU6.
  void build_w5() {
    const std::vector<WeightedLayer>& layers = w_.layers;
    QParams xq = quantize_input();
    const std::vector<float> x =
        activate(conv_f32(w_.input, 56, 56, layers[0], 32), Activation::relu6);
    const std::int8_t* a = convolution(input_.data(), xq, 56, 56, layers[0].weight.shape,
                                       conv_weight_ohwi(layers[0].weight), layers[0].bias.values,
                                       32, 1, x, Activation::relu6, "dw3x3 qc8");
    a = convolution(a, xq, 56, 56, layers[1].weight.shape, conv_weight_ohwi(layers[1].weight),
                    layers[1].bias.values, 1, 0,
                    activate(conv_f32(x, 56, 56, layers[1], 1), Activation::relu6),
                    Activation::relu6, "conv1x1 qc8");
    dequantize(a, xq, w_.output_size);
  }

  /// Bytes of int8 weights and int32 biases.
  std::size_t weight_bytes() const {
    std::size_t bytes = 0;
    for (const auto& k : kernels_) bytes += k.size();
    for (const auto& b : biases_) bytes += b.size() * sizeof(std::int32_t);
    return bytes;
  }

 private:
  std::int8_t* buffer(std::size_t count) { return buffers_.emplace_back(count).data(); }

  /// The workload's input as int8, asymmetric per tensor (untimed); returns its encoding.
  QParams quantize_input() {
    const QParams xq = asymmetric(w_.input);
    input_.resize(w_.input.size());
    for (std::size_t i = 0; i < input_.size(); ++i) input_[i] = quantize(w_.input[i], xq);
    return xq;
  }

  /// A qc8 convolution (stride 1, `pad` on every side, depthwise when groups > 1) of the h x w
  /// NHWC map at `in`, encoded as `xq` (updated to the output's encoding). `kernel_f32` is in
  /// XNNPACK's [out, kh, kw, in / groups] layout, `shape` PyTorch's [out, in / groups, kh, kw];
  /// `reference` is the layer's f32 output after its activation, whose range sets the output's
  /// asymmetric quantisation. ReLU and ReLU6 are the output clamp: from the zero point (real 0)
  /// to 127 or the code of 6, whichever is smaller.
  const std::int8_t* convolution(const std::int8_t* in, QParams& xq, std::size_t h, std::size_t w,
                                 const std::vector<std::size_t>& shape,
                                 const std::vector<float>& kernel_f32,
                                 const std::vector<float>& bias_f32, std::size_t groups,
                                 std::uint32_t pad, const std::vector<float>& reference,
                                 Activation activation, const char* what) {
    const std::size_t out_c = shape[0], per_group = shape[1];
    const auto k_h = static_cast<std::uint32_t>(shape[2]),
               k_w = static_cast<std::uint32_t>(shape[3]);
    const std::size_t cols = kernel_f32.size() / out_c;  // weights per output channel
    // Weights symmetric per output channel (the kernel's rows are per output channel); bias int32
    // in units of input scale x that channel's kernel scale.
    std::vector<float> kernel_scales(out_c);
    std::vector<std::int8_t>& kernel = kernels_.emplace_back(kernel_f32.size());
    std::vector<std::int32_t>& bias = biases_.emplace_back(out_c);
    for (std::size_t o = 0; o < out_c; ++o) {
      float w_max = 0;
      for (std::size_t i = 0; i < cols; ++i)
        w_max = std::max(w_max, std::abs(kernel_f32[o * cols + i]));
      kernel_scales[o] = w_max > 0 ? w_max / 127.0f : 1.0f;
      for (std::size_t i = 0; i < cols; ++i)
        kernel[o * cols + i] = quantize(kernel_f32[o * cols + i], {kernel_scales[o], 0});
      bias[o] = static_cast<std::int32_t>(
          std::lround(static_cast<double>(bias_f32[o]) / (double{xq.scale} * kernel_scales[o])));
    }
    const QParams yq = asymmetric(reference);
    std::int8_t out_min = INT8_MIN, out_max = INT8_MAX;
    if (activation == Activation::relu || activation == Activation::relu6) out_min = yq.zero_point;
    if (activation == Activation::relu6) out_max = quantize(6.0f, yq);
    xnn_operator_t op = nullptr;
    check(xnn_create_convolution2d_nhwc_qc8(
              pad, pad, pad, pad, k_h, k_w, 1, 1, 1, 1, static_cast<std::uint32_t>(groups),
              per_group, out_c / groups, per_group * groups, out_c, xq.zero_point, xq.scale,
              kernel_scales.data(), kernel.data(), bias.data(), yq.zero_point, yq.scale, out_min,
              out_max, 0, &op),
          "create convolution2d_nhwc_qc8");
    ops_.push_back(op);
    const std::size_t out_h = h + 2 * pad - k_h + 1, out_w = w + 2 * pad - k_w + 1;
    std::int8_t* out = buffer(out_h * out_w * out_c);
    check(xnn_setup_convolution2d_nhwc_qc8(op, 1, h, w, in, out, nullptr),
          "setup convolution2d_nhwc_qc8");
    label_ += std::string(label_.empty() ? "" : " > ") + what;
    xq = yq;
    return out;
  }

  /// 2x2 stride-2 max pooling in int8 (the encoding is unchanged: max commutes with it).
  const std::int8_t* max_pool2(const std::int8_t* in, std::size_t h, std::size_t w,
                               std::size_t channels) {
    xnn_operator_t op = nullptr;
    check(xnn_create_max_pooling2d_nhwc_s8(0, 0, 0, 0, 2, 2, 2, 2, 1, 1, channels, channels,
                                           channels, INT8_MIN, INT8_MAX, 0, &op),
          "create max_pooling2d_nhwc_s8");
    ops_.push_back(op);
    std::int8_t* out = buffer((h / 2) * (w / 2) * channels);
    check(xnn_setup_max_pooling2d_nhwc_s8(op, 1, h, w, in, out, nullptr),
          "setup max_pooling2d_nhwc_s8");
    label_ += " > maxpool s8";
    return out;
  }

  /// The final int8 output (`channels` values per batch element) dequantised to floats (timed).
  void dequantize(const std::int8_t* in, QParams xq, std::size_t channels) {
    xnn_operator_t op = nullptr;
    check(xnn_create_convert_nc_qs8_f32(channels, channels, channels, xq.scale, xq.zero_point, 0,
                                        &op),
          "create convert_nc_qs8_f32");
    ops_.push_back(op);
    output_.resize(w_.batch * channels);
    check(xnn_setup_convert_nc_qs8_f32(op, w_.batch, in, output_.data(), nullptr),
          "setup convert_nc_qs8_f32");
    label_ += " > qs8->f32; per-channel weights; input quantised untimed";
  }

  const Workload& w_;
  std::vector<std::int8_t> input_;
  std::vector<std::vector<std::int8_t>> kernels_;  // XNNPACK packs its own copy, kept anyway
  std::vector<std::vector<std::int32_t>> biases_;
  std::vector<std::vector<std::int8_t>> buffers_;  // int8 activations between operators
  std::vector<float> output_;
  std::vector<xnn_operator_t> ops_;
  std::string label_;
};

void register_case(WorkloadId id) {
  const std::string name = workload(id).name + "/int8/xnnpack";
  auto runner = std::make_shared<std::unique_ptr<XnnpackInt8Runner>>();
  auto error_vs_f32 = std::make_shared<double>(0.0);
  benchmark::RegisterBenchmark(
      name.c_str(), [runner, error_vs_f32, id, name](benchmark::State& state) {
        const Workload& w = workload(id);
        if (!*runner) {  // built on the first call, so a filter skips excluded cases' setup
          static const bool initialized = [] {
            check(xnn_initialize(nullptr), "initialize");
            return true;
          }();
          (void)initialized;
          *runner = std::make_unique<XnnpackInt8Runner>(w);
          if (id == WorkloadId::W4)
            (*runner)->build_w4();
          else if (id == WorkloadId::W5)
            (*runner)->build_w5();
          else
            (*runner)->build(id == WorkloadId::W1   ? Activation::relu
                             : id == WorkloadId::W2 ? Activation::tanh
                                                    : Activation::none);
          (*runner)->run();
          *error_vs_f32 = checked_error_vs_f32(name, (*runner)->output(), id);
        }
        XnnpackInt8Runner& r = **runner;
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
    register_case(id);
  return true;
}();

}  // namespace
}  // namespace mote_bench
