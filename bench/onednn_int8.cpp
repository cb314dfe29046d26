// oneDNN (Debian's 2.6) in int8 on the CPU engine, one thread:
//   W1/int8/onednn, W2/int8/onednn, W3b1/int8/onednn, W3b64/int8/onednn
//
// Each Linear layer is an int8 1x1 convolution over a 1 x batch NHWC image with `inputs`
// channels -- byte for byte the batch x inputs matrix, so the same computation as an inner
// product. oneDNN's int8 inner_product is the obvious primitive, but on this AVX2 CPU it runs
// its generic int8 GEMM (x64:gemm_s8u8s32:jit, which also packs per call), while the 1x1
// convolution has a dedicated kernel (jit_uni_int8_1x1:avx2) with the weights packed at setup.
// Measured on Zen 3 (same quantisation, us per forward): W1 14.2 (inner product) vs 4.7
// (1x1 convolution), W2 8.7 vs 2.4, W3b1 66 vs 22, W3b64 854 vs 726. So the convolution is
// oneDNN's fastest way here, and what these cases time.
//
// What a case times: the primitives of the network, executed through the C API with argument
// arrays built at setup (as in onednn.cpp), then stream.wait():
//   W1:    conv u8 -> u8, conv u8 -> u8, conv u8 -> f32  (ReLU is the u8 saturation of a
//                                                        destination with zero point 0: exactly
//                                                        max(x, 0))
//   W2:    conv u8 -> s8 + tanh post-op, conv s8 -> s8 + tanh post-op, conv s8 -> f32
//   W3b*:  conv u8 -> f32
// Each primitive requantises (or dequantises, for the last one) its int32 accumulators with
// per-output-channel output scales and fused bias/post-ops inside (timed); the last layer writes
// floats, like mote's int8 cases. Not timed: the quantisation of the workload's f32 input to u8
// (asymmetric per tensor, min/max of the input), done once at setup, since the primitive takes
// int8 input; mote's int8 cases also time quantising their input.
//
// Quantisation, the same as mote's where oneDNN allows:
// - weights s8 symmetric per output channel (scale = max|w_row| / 127), reordered once at setup
//   into the layout the primitive picks (format_tag::any); but 7-bit (scale = max|w_row| / 63)
//   for layers with u8 input on CPUs without VNNI (this Zen 3), see weight_levels();
// - inputs asymmetric per tensor: oneDNN 2.6's int8 convolution on AVX2 takes no source zero
//   point, so an input zero point z is folded into the bias (bias - z * sum_i w_q[o, i], in
//   accumulator units: oneDNN 2.x adds the bias before applying the output scale);
// - hidden-layer outputs: after ReLU u8 with scale max / 255 and zero point 0; after tanh s8
//   with scale 1/127 (the tanh post-op's scale multiplies its result by 127). Ranges come from a
//   float reference pass over the workload's input at setup.
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
#include <string>
#include <vector>

#include "harness.hpp"

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
    // The input: u8 asymmetric per tensor over [min, max] (widened to include 0).
    float lo = 0, hi = 0;
    for (float v : x) lo = std::min(lo, v), hi = std::max(hi, v);
    QParams xq{dt::u8, hi > lo ? (hi - lo) / 255.0f : 1.0f, 0};
    xq.zero_point = static_cast<std::int32_t>(std::clamp(std::lround(-lo / xq.scale), 0L, 255L));
    input_.resize(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      input_[i] = static_cast<std::uint8_t>(
          std::clamp(std::lround(x[i] / xq.scale) + xq.zero_point, 0L, 255L));
    const void* src = input_.data();
    for (std::size_t l = 0; l < w_.layers.size(); ++l) {
      const bool last = l + 1 == w_.layers.size();
      const Activation activation = last ? Activation::none : hidden;
      const std::vector<float> y = linear_f32(x, w_.batch, w_.layers[l]);
      x = activate(y, activation);
      QParams yq{dt::f32, 1.0f, 0};  // the last layer writes floats
      if (activation == Activation::relu) {
        const float max = *std::max_element(x.begin(), x.end());
        yq = {dt::u8, max > 0 ? max / 255.0f : 1.0f, 0};
      } else if (activation == Activation::tanh) {
        yq = {dt::s8, 1.0f / 127.0f, 0};
      }
      src = layer(src, xq, w_.layers[l], yq, activation);
      xq = yq;
    }
    output_ = {static_cast<const float*>(src), w_.batch * w_.output_size};
    label_ += "; input quantised untimed";
  }

 private:
  struct Step {
    dnnl::primitive primitive;
    std::vector<dnnl_exec_arg_t> args;
  };

  /// One int8 Linear layer on the batch x inputs matrix at `src`, encoded as `in`; returns its
  /// batch x outputs result, encoded as `out` (f32: real values).
  const void* layer(const void* src, QParams in, const WeightedLayer& layer, QParams out,
                    Activation activation) {
    const std::size_t rows = layer.weight.shape[0], cols = layer.weight.shape[1];
    const auto batch = static_cast<memory::dim>(w_.batch);
    const auto outputs = static_cast<memory::dim>(rows), inputs = static_cast<memory::dim>(cols);
    // Weights s8 per output channel; bias f32 in accumulator units with the input zero point.
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
      // tanh's post-op sees reals (scale acc_scale) and its scale quantises the result.
      output_scales[o] =
          static_cast<float>(activation == Activation::tanh ? acc_scale : acc_scale / out.scale);
    }
    dnnl::primitive_attr attr;
    attr.set_output_scales(1 << 1, output_scales);  // per output channel (dim 1 of dst)
    if (activation == Activation::tanh) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.0f / out.scale, algorithm::eltwise_tanh, 0.0f, 0.0f);
      attr.set_post_ops(ops);
    }
    // The primitive: a 1x1 convolution on a 1 x batch NHWC image with `inputs` channels (the
    // bytes of the batch x inputs matrix), faster than oneDNN's inner product (see the top).
    const memory::desc src_md({1, inputs, 1, batch}, in.type, tag::nhwc);
    const memory::desc dst_md({1, outputs, 1, batch}, out.type, tag::nhwc);
    const memory::dims weight_dims{outputs, inputs, 1, 1};
    const memory::desc bias_md({outputs}, dt::f32, tag::a);
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, algorithm::convolution_direct, src_md,
        memory::desc(weight_dims, dt::s8, tag::any), bias_md, dst_md, {1, 1}, {0, 0}, {0, 0});
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, engine_);
    // Weights reordered once (untimed) from [out, in] into the primitive's layout.
    memory user_weights({weight_dims, dt::s8, tag::oihw}, engine_, weights.data());
    memory packed_weights(pd.weights_desc(), engine_);
    dnnl::reorder(user_weights, packed_weights).execute(stream_, user_weights, packed_weights);
    memory user_bias(bias_md, engine_, bias.data());
    memory packed_bias(pd.bias_desc(), engine_);
    dnnl::reorder(user_bias, packed_bias).execute(stream_, user_bias, packed_bias);
    stream_.wait();
    weight_bytes_ += rows * cols + rows * sizeof(float);
    void* dst = buffers_.emplace_back(dst_md.get_size()).data();
    Step step{dnnl::convolution_forward(pd), {}};
    // oneDNN only reads a source; its C++ API takes a non-const handle anyway.
    for (auto [index, mem] :
         {std::pair{DNNL_ARG_SRC, memory(src_md, engine_, const_cast<void*>(src))},
          std::pair{DNNL_ARG_WEIGHTS, packed_weights}, std::pair{DNNL_ARG_BIAS, packed_bias},
          std::pair{DNNL_ARG_DST, memory(dst_md, engine_, dst)}}) {
      step.args.push_back({index, mem.get()});
      memories_.push_back(mem);  // keeps the handle alive
    }
    steps_.push_back(std::move(step));
    const char* name = out.type == dt::u8 ? "u8" : out.type == dt::s8 ? "s8" : "f32";
    const char* src_name = in.type == dt::u8 ? "u8" : "s8";
    label_ += std::string(label_.empty() ? "" : " | ") + "conv1x1 " + pd.impl_info_str() + " " +
              src_name + "->" + name + (activation == Activation::tanh ? "+tanh" : "") +
              (weight_max == 63 ? " (7-bit weights)" : "");
    return dst;
  }

  const Workload& w_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<Step> steps_;
  std::vector<memory> memories_;
  std::vector<std::uint8_t> input_;
  std::vector<std::vector<std::byte>> buffers_;  // activations, each layer's output
  std::span<const float> output_;
  std::string label_;
  std::size_t weight_bytes_ = 0;
};

void register_case(WorkloadId id) {
  const std::string name = workload(id).name + "/int8/onednn";
  auto runner = std::make_shared<std::unique_ptr<OnednnInt8Runner>>();
  auto error_vs_f32 = std::make_shared<double>(0.0);
  benchmark::RegisterBenchmark(
      name.c_str(), [runner, error_vs_f32, id, name](benchmark::State& state) {
        const Workload& w = workload(id);
        if (!*runner) {  // built on the first call, so a filter skips excluded cases' setup
          static const bool single_threaded = [] {
            use_one_thread();
            return true;
          }();
          (void)single_threaded;
          *runner = std::make_unique<OnednnInt8Runner>(w);
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
  for (WorkloadId id : {WorkloadId::W1, WorkloadId::W2, WorkloadId::W3b1, WorkloadId::W3b64})
    register_case(id);
  return true;
}();

}  // namespace
}  // namespace mote_bench
