// XNNPACK (Debian's 2022-02 snapshot), operator API: every operator is created and set up once
// (setup binds the buffers), so the timed part is xnn_run_operator on each, with no thread pool
// (single thread). ReLU and ReLU6 are fused as the operators' output clamps.

#include <xnnpack.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
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

constexpr float no_min = -std::numeric_limits<float>::infinity();
constexpr float no_max = std::numeric_limits<float>::infinity();

class XnnpackRunner final : public Runner {
 public:
  explicit XnnpackRunner(const Workload& w) : batch_(w.batch), input_(w.input) {}
  ~XnnpackRunner() override {
    for (xnn_operator_t op : ops_) xnn_delete_operator(op);
  }
  XnnpackRunner(const XnnpackRunner&) = delete;
  XnnpackRunner& operator=(const XnnpackRunner&) = delete;

  void run() override {
    for (xnn_operator_t op : ops_) check(xnn_run_operator(op, nullptr), "run");
  }
  std::span<const float> output() const override { return buffers_.back(); }
  std::string label() const override { return label_; }

  const float* input() const { return input_.data(); }
  /// A new activation buffer of `count` floats (for the whole batch).
  float* buffer(std::size_t count) { return buffers_.emplace_back(count).data(); }

  /// Linear layer with `weight` [out, in] (PyTorch layout, XNNPACK's default too).
  float* fully_connected(const float* in, const float* weight, const float* bias,
                         std::size_t inputs, std::size_t outputs, float lo, float hi) {
    xnn_operator_t op = nullptr;
    check(xnn_create_fully_connected_nc_f32(inputs, outputs, inputs, outputs, weight, bias, lo, hi,
                                            0, &op),
          "create fully_connected");
    ops_.push_back(op);
    float* out = buffer(batch_ * outputs);
    check(xnn_setup_fully_connected_nc_f32(op, batch_, in, out, nullptr), "setup fully_connected");
    return out;
  }
  float* fully_connected(const float* in, const WeightedLayer& layer, float lo, float hi) {
    return fully_connected(in, layer.weight.values.data(), layer.bias.values.data(),
                           layer.weight.shape[1], layer.weight.shape[0], lo, hi);
  }
  float* sigmoid(const float* in, std::size_t channels) {
    xnn_operator_t op = nullptr;
    check(xnn_create_sigmoid_nc_f32(channels, channels, channels, 0, &op), "create sigmoid");
    ops_.push_back(op);
    float* out = buffer(batch_ * channels);
    check(xnn_setup_sigmoid_nc_f32(op, batch_, in, out, nullptr), "setup sigmoid");
    return out;
  }
  /// 'same'-padded, stride-1 k x k convolution of an h x w NHWC map; depthwise when `groups`
  /// equals the input channels. Weights [groups, out/groups, k, k, in/groups] (from PyTorch's
  /// [out, in/groups, k, k]).
  float* convolution(const float* in, std::size_t h, std::size_t w, const WeightedLayer& layer,
                     std::size_t groups, float lo, float hi) {
    const auto out_c = layer.weight.shape[0], in_per_group = layer.weight.shape[1];
    const auto k = static_cast<std::uint32_t>(layer.weight.shape[2]), pad = k / 2;
    weights_.push_back(conv_weight_ohwi(layer.weight));
    xnn_operator_t op = nullptr;
    check(xnn_create_convolution2d_nhwc_f32(
              pad, pad, pad, pad, k, k, 1, 1, 1, 1, static_cast<std::uint32_t>(groups),
              in_per_group, out_c / groups, in_per_group * groups, out_c, weights_.back().data(),
              layer.bias.values.data(), lo, hi, 0, &op),
          "create convolution2d");
    ops_.push_back(op);
    float* out = buffer(batch_ * h * w * out_c);
    check(xnn_setup_convolution2d_nhwc_f32(op, batch_, h, w, in, out, nullptr),
          "setup convolution2d");
    return out;
  }
  float* max_pool2(const float* in, std::size_t h, std::size_t w, std::size_t channels) {
    xnn_operator_t op = nullptr;
    check(xnn_create_max_pooling2d_nhwc_f32(0, 0, 0, 0, 2, 2, 2, 2, 1, 1, channels, channels,
                                            channels, no_min, no_max, 0, &op),
          "create max_pooling2d");
    ops_.push_back(op);
    float* out = buffer(batch_ * (h / 2) * (w / 2) * channels);
    check(xnn_setup_max_pooling2d_nhwc_f32(op, batch_, h, w, in, out, nullptr),
          "setup max_pooling2d");
    return out;
  }
  void keep(std::vector<float> weights) { weights_.push_back(std::move(weights)); }
  const float* kept() const { return weights_.back().data(); }
  void set_label(std::string label) { label_ = std::move(label); }

 private:
  std::size_t batch_;
  std::vector<float> input_;
  std::vector<std::vector<float>> buffers_;  // activations (the last one is the output)
  std::vector<std::vector<float>> weights_;  // re-laid-out weights (XNNPACK packs its own copy)
  std::vector<xnn_operator_t> ops_;
  std::string label_;
};

/// W2 with tanh(z) = 2 sigmoid(2z) - 1: this XNNPACK snapshot has no f32 tanh operator. The
/// scalings are folded into the Linear layers, so the operators are FC, sigmoid, FC, sigmoid, FC:
///   s1 = sigmoid(2 W1 x + 2 b1)                     (h1 = 2 s1 - 1)
///   s2 = sigmoid(4 W2 s1 + 2 (b2 - W2 1))           (h2 = 2 s2 - 1)
///   y  = 2 W3 s2 + (b3 - W3 1)
void build_w2(XnnpackRunner& r, const Workload& w) {
  const std::size_t hidden = 64;
  const float* x = r.input();
  auto folded = [&](const WeightedLayer& layer, float weight_scale, float bias_scale,
                    bool subtract_row_sums) {
    const std::size_t rows = layer.weight.shape[0], cols = layer.weight.shape[1];
    std::vector<float> weight(layer.weight.values.size()), bias(rows);
    for (std::size_t o = 0; o < rows; ++o) {
      double row_sum = 0;
      for (std::size_t i = 0; i < cols; ++i) {
        weight[o * cols + i] = weight_scale * layer.weight.values[o * cols + i];
        row_sum += layer.weight.values[o * cols + i];
      }
      bias[o] = bias_scale *
                static_cast<float>(layer.bias.values[o] - (subtract_row_sums ? row_sum : 0.0));
    }
    r.keep(std::move(weight));
    const float* weight_data = r.kept();
    r.keep(std::move(bias));
    return std::pair{weight_data, r.kept()};
  };
  auto [w1, b1] = folded(w.layers[0], 2.0f, 2.0f, false);
  const float* s1 = r.sigmoid(r.fully_connected(x, w1, b1, 64, hidden, no_min, no_max), hidden);
  auto [w2, b2] = folded(w.layers[1], 4.0f, 2.0f, true);
  const float* s2 =
      r.sigmoid(r.fully_connected(s1, w2, b2, hidden, hidden, no_min, no_max), hidden);
  auto [w3, b3] = folded(w.layers[2], 2.0f, 1.0f, true);
  r.fully_connected(s2, w3, b3, hidden, 8, no_min, no_max);
  r.set_label("tanh as 2*sigmoid(2x)-1 folded into the FC weights: no f32 tanh in this XNNPACK");
}

std::unique_ptr<Runner> make(const Workload& w) {
  static const bool initialized = [] {
    check(xnn_initialize(nullptr), "initialize");
    return true;
  }();
  (void)initialized;
  auto r = std::make_unique<XnnpackRunner>(w);
  const float* x = r->input();
  switch (w.id) {
    case WorkloadId::W1: {
      const float* h1 = r->fully_connected(x, w.layers[0], 0.0f, no_max);
      const float* h2 = r->fully_connected(h1, w.layers[1], 0.0f, no_max);
      r->fully_connected(h2, w.layers[2], no_min, no_max);
      break;
    }
    case WorkloadId::W2: build_w2(*r, w); break;
    case WorkloadId::W3b1:
    case WorkloadId::W3b64: r->fully_connected(x, w.layers[0], no_min, no_max); break;
    case WorkloadId::W4: {
      const float* c1 = r->convolution(x, 28, 28, w.layers[0], 1, 0.0f, no_max);
      const float* p1 = r->max_pool2(c1, 28, 28, 16);
      const float* c2 = r->convolution(p1, 14, 14, w.layers[1], 1, 0.0f, no_max);
      const float* p2 = r->max_pool2(c2, 14, 14, 32);
      // PyTorch flattens (C, H, W); the NHWC map flattens (H, W, C).
      r->keep(dense_weight_hwc_columns(w.layers[2].weight, 32, 7 * 7));
      r->fully_connected(p2, r->kept(), w.layers[2].bias.values.data(), 32 * 7 * 7, 10, no_min,
                         no_max);
      break;
    }
    case WorkloadId::W5: {
      const float* dw = r->convolution(x, 56, 56, w.layers[0], 32, 0.0f, 6.0f);
      r->convolution(dw, 56, 56, w.layers[1], 1, 0.0f, 6.0f);
      break;
    }
  }
  return r;
}

}  // namespace

Impl xnnpack_impl() {
  return {"xnnpack", "(the library has no version API)", [](WorkloadId) { return true; }, &make};
}

}  // namespace mote_bench
