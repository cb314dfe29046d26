#pragma once
// The benchmark workloads, shared by every implementation (mote and its peers): their shapes, the
// random weights and input (fixed by seed, identical for every implementation), and FLOP counts.
//
// A workload is described as a PyTorch nn.Sequential would be: its weighted layers carry their
// position in the sequence (mote's WeightNames::layer_index() names) and PyTorch-layout tensors
// (Linear [out, in], Conv2d [out, in / groups, kh, kw]). Inputs and outputs are channels-last
// (NHWC), batch-major. Helpers at the end convert the weights to the layouts peers want.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace mote_bench {

enum class WorkloadId { W1, W2, W3b1, W3b64, W4, W5 };
inline constexpr WorkloadId all_workloads[] = {WorkloadId::W1,    WorkloadId::W2, WorkloadId::W3b1,
                                               WorkloadId::W3b64, WorkloadId::W4, WorkloadId::W5};

/// A tensor in PyTorch layout.
struct Param {
  std::vector<std::size_t> shape;
  std::vector<float> values;
};

/// One weighted layer (Linear or Conv2d, always with a bias).
struct WeightedLayer {
  std::size_t index;  ///< position in the nn.Sequential: parameters are "<index>.weight/.bias"
  Param weight;
  Param bias;
};

struct Workload {
  WorkloadId id;
  std::string name;  ///< "W1", ..., used as the first part of case names
  std::size_t batch = 1;
  std::vector<WeightedLayer> layers;  ///< in order
  std::vector<float> input;           ///< batch x input (channels-last)
  std::size_t output_size = 0;        ///< per batch element
  double flops = 0;  ///< per forward of the whole batch: 2 x multiply-adds of the weighted layers

  /// Bytes of f32 weights and biases.
  std::size_t weight_bytes() const {
    std::size_t count = 0;
    for (const WeightedLayer& layer : layers)
      count += layer.weight.values.size() + layer.bias.values.size();
    return count * sizeof(float);
  }
};

namespace detail {

inline std::vector<float> uniform_values(std::size_t count, float bound, std::mt19937& rng) {
  std::uniform_real_distribution<float> uniform(-bound, bound);
  std::vector<float> values(count);
  for (float& v : values) v = uniform(rng);
  return values;
}

/// PyTorch's default initialisation: weights and biases uniform in +-1/sqrt(fan_in), which keeps
/// activations of order 1 through the layers.
inline WeightedLayer random_layer(std::size_t index, std::vector<std::size_t> weight_shape,
                                  std::mt19937& rng) {
  std::size_t count = 1;
  for (std::size_t d : weight_shape) count *= d;
  const std::size_t outputs = weight_shape[0];
  const std::size_t fan_in = count / outputs;
  const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
  WeightedLayer layer{index, {weight_shape, uniform_values(count, bound, rng)}, {}};
  layer.bias = {{outputs}, uniform_values(outputs, bound, rng)};
  return layer;
}
inline WeightedLayer dense(std::size_t index, std::size_t in, std::size_t out, std::mt19937& rng) {
  return random_layer(index, {out, in}, rng);
}
/// Conv2d weight [out, in / groups, k, k].
inline WeightedLayer conv(std::size_t index, std::size_t out, std::size_t in_per_group,
                          std::size_t k, std::mt19937& rng) {
  return random_layer(index, {out, in_per_group, k, k}, rng);
}

inline Workload build(WorkloadId id) {
  Workload w{id, {}, 1, {}, {}, 0, 0};
  std::mt19937 rng(1000 + static_cast<std::uint32_t>(id));
  std::size_t input_size = 0;
  double macs = 0;
  switch (id) {
    case WorkloadId::W1:  // MLP 784-256-128-10, ReLU: Linear, ReLU, Linear, ReLU, Linear
      w.name = "W1";
      w.layers = {dense(0, 784, 256, rng), dense(2, 256, 128, rng), dense(4, 128, 10, rng)};
      input_size = 784;
      w.output_size = 10;
      macs = 784 * 256 + 256 * 128 + 128 * 10;
      break;
    case WorkloadId::W2:  // policy MLP 64-64-64-8: Linear, Tanh, Linear, Tanh, Linear
      w.name = "W2";
      w.layers = {dense(0, 64, 64, rng), dense(2, 64, 64, rng), dense(4, 64, 8, rng)};
      input_size = 64;
      w.output_size = 8;
      macs = 64 * 64 + 64 * 64 + 64 * 8;
      break;
    case WorkloadId::W3b1:  // one Linear 1024 -> 1024 (+bias, no activation)
    case WorkloadId::W3b64:
      w.name = id == WorkloadId::W3b1 ? "W3b1" : "W3b64";
      w.batch = id == WorkloadId::W3b1 ? 1 : 64;
      rng.seed(1000 +
               static_cast<std::uint32_t>(WorkloadId::W3b1));  // same weights for both batches
      w.layers = {dense(0, 1024, 1024, rng)};
      input_size = 1024;
      w.output_size = 1024;
      macs = 1024.0 * 1024.0;
      break;
    case WorkloadId::W4:  // CNN on 28x28x1: Conv(1->16, 3x3, pad 1), ReLU, MaxPool 2,
                          // Conv(16->32, 3x3, pad 1), ReLU, MaxPool 2, Flatten, Linear 1568 -> 10
      w.name = "W4";
      w.layers = {conv(0, 16, 1, 3, rng), conv(3, 32, 16, 3, rng), dense(7, 32 * 7 * 7, 10, rng)};
      input_size = 28 * 28 * 1;
      w.output_size = 10;
      macs = 28.0 * 28 * 16 * 9 * 1 + 14.0 * 14 * 32 * 9 * 16 + 1568.0 * 10;
      break;
    case WorkloadId::W5:  // MobileNet block on 56x56x32: depthwise 3x3 pad 1, ReLU6,
                          // pointwise 1x1 32 -> 64, ReLU6
      w.name = "W5";
      w.layers = {conv(0, 32, 1, 3, rng), conv(2, 64, 32, 1, rng)};
      input_size = 56 * 56 * 32;
      w.output_size = 56 * 56 * 64;
      macs = 56.0 * 56 * 32 * 9 + 56.0 * 56 * 32 * 64;
      break;
  }
  w.input = uniform_values(w.batch * input_size, 1.0f, rng);
  w.flops = 2.0 * macs * static_cast<double>(w.batch);
  return w;
}

}  // namespace detail

/// The workload `id`, built once (the same object for every implementation).
inline const Workload& workload(WorkloadId id) {
  static const std::vector<Workload> built = [] {
    std::vector<Workload> list;
    for (WorkloadId each : all_workloads) list.push_back(detail::build(each));
    return list;
  }();
  return built[static_cast<std::size_t>(id)];
}

// ---- layout conversions for peers ------------------------------------------------------------

/// Conv2d weight [O, I, kh, kw] -> [O, kh, kw, I] (XNNPACK's layout; a row per output channel
/// in the order of a channels-last input patch).
inline std::vector<float> conv_weight_ohwi(const Param& weight) {
  const std::size_t o_count = weight.shape[0], i_count = weight.shape[1];
  const std::size_t taps = weight.shape[2] * weight.shape[3];
  std::vector<float> out(weight.values.size());
  for (std::size_t o = 0; o < o_count; ++o)
    for (std::size_t i = 0; i < i_count; ++i)
      for (std::size_t t = 0; t < taps; ++t)
        out[(o * taps + t) * i_count + i] = weight.values[(o * i_count + i) * taps + t];
  return out;
}

/// Linear weight [O, C*H*W] whose columns follow PyTorch's flatten of a (C, H, W) map ->
/// columns in channels-last (H, W, C) order.
inline std::vector<float> dense_weight_hwc_columns(const Param& weight, std::size_t channels,
                                                   std::size_t pixels) {
  const std::size_t rows = weight.shape[0], cols = weight.shape[1];
  std::vector<float> out(weight.values.size());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < channels; ++c)
      for (std::size_t p = 0; p < pixels; ++p)
        out[r * cols + p * channels + c] = weight.values[r * cols + c * pixels + p];
  return out;
}

}  // namespace mote_bench
