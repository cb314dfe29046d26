// oneDNN (Debian's 2.6): one primitive per layer on the CPU engine, inference propagation, with
// bias and activation fused as eltwise post-ops (relu, tanh, clip(0, 6) for ReLU6). Weights use
// format_tag::any, so each primitive picks its preferred (blocked) layout, reordered once at
// setup. Feature maps stay channels-last (NHWC) from input to output, as for mote and XNNPACK:
// oneDNN's jit kernels take NHWC, and letting them pick blocked activation layouts (nChw8c) with
// reorders at the ends was slower here (W5: 225 us against 175 us). Where two neighbouring
// primitives still disagreed on a layout, a timed reorder would be inserted (none is now).
//
// The timed part executes the primitives through the C API with argument arrays built at setup
// (the C++ execute() converts an std::unordered_map on every call). One thread: Debian builds
// oneDNN with OpenMP, so the OpenMP runtime it loaded is set to one thread before the engine
// exists (tools/bench.sh also exports OMP_NUM_THREADS=1).

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
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
  // The OpenMP runtime libdnnl links (libgomp on Debian), found without linking it ourselves.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads")))
    set(1);
  else
    std::fprintf(stderr, "mote_bench: omp_set_num_threads not found; set OMP_NUM_THREADS=1\n");
#endif
}

/// An eltwise post-op (algorithm::undef: none).
struct Activation {
  algorithm kind = algorithm::undef;
  float alpha = 0, beta = 0;
};
constexpr Activation none{};
constexpr Activation relu{algorithm::eltwise_relu, 0.0f, 0.0f};
constexpr Activation relu6{algorithm::eltwise_clip, 0.0f, 6.0f};
constexpr Activation tanh_activation{algorithm::eltwise_tanh, 0.0f, 0.0f};

dnnl::primitive_attr attributes(Activation activation) {
  dnnl::primitive_attr attr;
  if (activation.kind != algorithm::undef) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, activation.kind, activation.alpha, activation.beta);
    attr.set_post_ops(ops);
  }
  return attr;
}

memory::dims dims_of(const std::vector<std::size_t>& shape) {
  return memory::dims(shape.begin(), shape.end());
}

class OnednnRunner final : public Runner {
 public:
  OnednnRunner() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

  void run() override {
    for (const Step& step : steps_)
      dnnl::error::wrap_c_api(
          dnnl_primitive_execute(step.primitive.get(), stream_.get(),
                                 static_cast<int>(step.args.size()), step.args.data()),
          "could not execute a primitive");
    stream_.wait();
  }
  std::span<const float> output() const override {
    return {static_cast<const float*>(output_.get_data_handle()),
            output_.get_desc().get_size() / sizeof(float)};
  }
  std::string label() const override { return label_; }

  /// The workload's input as user memory in `format` (its data is copied: the runner owns it).
  memory input(const std::vector<float>& values, const memory::dims& dims, tag format) {
    input_values_ = values;
    return memory({dims, dt::f32, format}, engine_, input_values_.data());
  }
  /// Ends the network: `result` reordered to the user layout `format` if needed.
  void finish(const memory& result, tag format) {
    output_ = to_format(result, {result.get_desc().dims(), dt::f32, format});
  }

  /// Linear layer on `src` as it is laid out (a 4-D NHWC map included: the weights are then
  /// reordered from PyTorch's (C, H, W) flatten order to match).
  memory inner_product(const memory& src, const WeightedLayer& layer,
                       const memory::dims& weight_dims, tag weight_format, Activation activation) {
    const memory::dim outputs = weight_dims[0];
    const memory::dims src_dims = src.get_desc().dims();
    const dnnl::inner_product_forward::desc desc(
        dnnl::prop_kind::forward_inference, src.get_desc(),
        memory::desc(weight_dims, dt::f32, tag::any), memory::desc({outputs}, dt::f32, tag::a),
        memory::desc({src_dims[0], outputs}, dt::f32, tag::nc));
    const dnnl::inner_product_forward::primitive_desc pd(desc, attributes(activation), engine_);
    const memory weights = set_weights(layer.weight, weight_dims, weight_format, pd.weights_desc());
    const memory bias = set_weights(layer.bias, {outputs}, tag::a, pd.bias_desc());
    const memory dst(pd.dst_desc(), engine_);
    add(dnnl::inner_product_forward(pd),
        {{DNNL_ARG_SRC, src},
         {DNNL_ARG_WEIGHTS, weights},
         {DNNL_ARG_BIAS, bias},
         {DNNL_ARG_DST, dst}},
        pd.impl_info_str());
    return dst;
  }

  /// 'same'-padded, stride-1 convolution; grouped (depthwise) when groups > 1.
  memory convolution(const memory& src, const WeightedLayer& layer, memory::dim groups,
                     Activation activation) {
    const memory::dims src_dims = src.get_desc().dims();  // N, C, H, W
    const auto out_c = static_cast<memory::dim>(layer.weight.shape[0]);
    const auto k = static_cast<memory::dim>(layer.weight.shape[2]);
    memory::dims weight_dims = dims_of(layer.weight.shape);  // O, I, kh, kw
    tag weight_format = tag::oihw;
    if (groups > 1) {
      weight_dims = {groups, out_c / groups, weight_dims[1], k, k};
      weight_format = tag::goihw;
    }
    const memory::dims dst_dims{src_dims[0], out_c, src_dims[2], src_dims[3]};
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, algorithm::convolution_direct,
        memory::desc(src_dims, dt::f32, tag::nhwc), memory::desc(weight_dims, dt::f32, tag::any),
        memory::desc({out_c}, dt::f32, tag::a), memory::desc(dst_dims, dt::f32, tag::nhwc), {1, 1},
        {k / 2, k / 2}, {k / 2, k / 2});
    const dnnl::convolution_forward::primitive_desc pd(desc, attributes(activation), engine_);
    const memory in = to_format(src, pd.src_desc());
    const memory weights = set_weights(layer.weight, weight_dims, weight_format, pd.weights_desc());
    const memory bias = set_weights(layer.bias, {out_c}, tag::a, pd.bias_desc());
    const memory dst(pd.dst_desc(), engine_);
    add(dnnl::convolution_forward(pd),
        {{DNNL_ARG_SRC, in},
         {DNNL_ARG_WEIGHTS, weights},
         {DNNL_ARG_BIAS, bias},
         {DNNL_ARG_DST, dst}},
        pd.impl_info_str());
    return dst;
  }

  /// 2x2 stride-2 max pooling, in the layout of its input.
  memory max_pool2(const memory& src) {
    const memory::dims src_dims = src.get_desc().dims();
    const memory::dims dst_dims{src_dims[0], src_dims[1], src_dims[2] / 2, src_dims[3] / 2};
    const dnnl::pooling_forward::desc desc(
        dnnl::prop_kind::forward_inference, algorithm::pooling_max, src.get_desc(),
        memory::desc(dst_dims, dt::f32, tag::any), {2, 2}, {2, 2}, {0, 0}, {0, 0});
    const dnnl::pooling_forward::primitive_desc pd(desc, engine_);
    const memory dst(pd.dst_desc(), engine_);
    add(dnnl::pooling_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, pd.impl_info_str());
    return dst;
  }

 private:
  struct Step {
    dnnl::primitive primitive;
    std::vector<dnnl_exec_arg_t> args;
  };

  void add(dnnl::primitive primitive, std::vector<std::pair<int, memory>> args, const char* impl) {
    Step step{std::move(primitive), {}};
    for (auto& [index, mem] : args) {
      step.args.push_back({index, mem.get()});
      memories_.push_back(mem);  // keeps the handle alive
    }
    steps_.push_back(std::move(step));
    label_ += (label_.empty() ? "" : " | ") + std::string(impl);
  }

  /// `from` in layout `md`: itself, or the result of a (timed) reorder.
  memory to_format(const memory& from, const memory::desc& md) {
    if (from.get_desc() == md) return from;
    const memory to(md, engine_);
    add(dnnl::reorder(from, to), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, "reorder");
    return to;
  }

  /// Weights from PyTorch layout (`user_format`) into the primitive's layout, once, untimed.
  memory set_weights(const Param& param, const memory::dims& dims, tag user_format,
                     const memory::desc& wanted) {
    // oneDNN only reads a reorder's source; its C++ API takes a non-const handle anyway.
    memory user({dims, dt::f32, user_format}, engine_, const_cast<float*>(param.values.data()));
    memory weights(wanted, engine_);
    dnnl::reorder(user, weights).execute(stream_, user, weights);
    stream_.wait();
    memories_.push_back(weights);
    return weights;
  }

  dnnl::engine engine_;
  dnnl::stream stream_;
  std::vector<Step> steps_;
  std::vector<memory> memories_;
  std::vector<float> input_values_;
  memory output_;
  std::string label_;
};

std::unique_ptr<Runner> make(const Workload& w) {
  static const bool single_threaded = [] {
    use_one_thread();
    return true;
  }();
  (void)single_threaded;
  auto r = std::make_unique<OnednnRunner>();
  const auto batch = static_cast<memory::dim>(w.batch);
  switch (w.id) {
    case WorkloadId::W1:
    case WorkloadId::W2: {
      const Activation hidden = w.id == WorkloadId::W1 ? relu : tanh_activation;
      memory x = r->input(w.input, {batch, static_cast<memory::dim>(w.layers[0].weight.shape[1])},
                          tag::nc);
      for (std::size_t i = 0; i < w.layers.size(); ++i)
        x = r->inner_product(x, w.layers[i], dims_of(w.layers[i].weight.shape), tag::oi,
                             i + 1 < w.layers.size() ? hidden : none);
      r->finish(x, tag::nc);
      break;
    }
    case WorkloadId::W3b1:
    case WorkloadId::W3b64: {
      const memory x = r->input(w.input, {batch, 1024}, tag::nc);
      r->finish(r->inner_product(x, w.layers[0], {1024, 1024}, tag::oi, none), tag::nc);
      break;
    }
    case WorkloadId::W4: {
      memory x = r->input(w.input, {batch, 1, 28, 28}, tag::nhwc);
      x = r->max_pool2(r->convolution(x, w.layers[0], 1, relu));
      x = r->max_pool2(r->convolution(x, w.layers[1], 1, relu));
      // A 4-D inner product: the weights keep PyTorch's (C, H, W) flatten order, oihw.
      r->finish(r->inner_product(x, w.layers[2], {10, 32, 7, 7}, tag::oihw, none), tag::nc);
      break;
    }
    case WorkloadId::W5: {
      memory x = r->input(w.input, {batch, 32, 56, 56}, tag::nhwc);
      x = r->convolution(x, w.layers[0], 32, relu6);
      r->finish(r->convolution(x, w.layers[1], 1, relu6), tag::nhwc);
      break;
    }
  }
  return r;
}

}  // namespace

Impl onednn_impl() {
  const dnnl_version_t* v = dnnl_version();
  return {
      "onednn",
      std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch),
      [](WorkloadId) { return true; }, &make};
}

}  // namespace mote_bench
