// XNNPACK (Debian's 2022-02 snapshot) in int8, with its qs8 operators:
//   W1/int8/xnnpack, W2/int8/xnnpack, W3b1/int8/xnnpack, W3b64/int8/xnnpack
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
// Every FC requantises its int32 accumulators to int8 inside the operator (timed). Not timed: the
// quantisation of the workload's f32 input to int8 (asymmetric per tensor, min/max of the input),
// done once at setup, since the operators take int8 input. mote's int8 cases also time quantising
// their input, so they do slightly more work.
//
// Quantisation: xnn_create_fully_connected_nc_qs8 takes ONE kernel scale per operator (this
// snapshot has no per-channel qc8 fully-connected operator), so the weights are symmetric per
// tensor (scale = max|W| / 127), where mote's are per output channel. Biases are int32 in units of
// input scale x kernel scale. Each layer's output scale and zero point come from the min/max of
// that layer's f32 output on the workload's input (a float reference pass at setup; for ReLU
// layers, of the output after the ReLU, for tanh layers, of the FC's output before the tanh).
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

namespace mote_bench {
namespace {

void check(xnn_status status, const char* what) {
  if (status != xnn_status_success) {
    std::fprintf(stderr, "mote_bench: XNNPACK %s failed (status %d)\n", what,
                 static_cast<int>(status));
    std::exit(EXIT_FAILURE);
  }
}

enum class Activation { none, relu, tanh };

/// f32 reference of a Linear layer (before its activation), the whole batch: batch x outputs.
std::vector<float> linear_f32(const std::vector<float>& x, std::size_t batch,
                              const WeightedLayer& layer) {
  const std::size_t rows = layer.weight.shape[0], cols = layer.weight.shape[1];
  std::vector<float> y(batch * rows);
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t o = 0; o < rows; ++o) {
      double sum = layer.bias.values[o];
      for (std::size_t i = 0; i < cols; ++i)
        sum += static_cast<double>(layer.weight.values[o * cols + i]) * x[n * cols + i];
      y[n * rows + o] = static_cast<float>(sum);
    }
  return y;
}

std::vector<float> activate(std::vector<float> y, Activation activation) {
  for (float& v : y)
    v = activation == Activation::relu   ? std::max(v, 0.0f)
        : activation == Activation::tanh ? std::tanh(v)
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

  /// Bytes of int8 weights and int32 biases.
  std::size_t weight_bytes() const {
    std::size_t bytes = 0;
    for (const auto& k : kernels_) bytes += k.size();
    for (const auto& b : biases_) bytes += b.size() * sizeof(std::int32_t);
    return bytes;
  }

 private:
  std::int8_t* buffer(std::size_t count) { return buffers_.emplace_back(count).data(); }

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
          (*runner)->build(id == WorkloadId::W1   ? Activation::relu
                           : id == WorkloadId::W2 ? Activation::tanh
                                                  : Activation::none);
          (*runner)->run();
          *error_vs_f32 = relative_error((*runner)->output(), reference_output(id));
          if (!(*error_vs_f32 <= 0.1)) {
            std::fprintf(stderr,
                         "mote_bench: %s is far from the f32 output (max |difference| %g of max "
                         "|output|). Aborting.\n",
                         name.c_str(), *error_vs_f32);
            std::exit(EXIT_FAILURE);
          }
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
  for (WorkloadId id : {WorkloadId::W1, WorkloadId::W2, WorkloadId::W3b1, WorkloadId::W3b64})
    register_case(id);
  return true;
}();

}  // namespace
}  // namespace mote_bench
