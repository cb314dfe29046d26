#pragma once
// What a layer is. Users write layer *specs* (`Dense<10>`, `ReLU`); a network binds each spec
// to the shape flowing into it and to its position, giving a *bound layer* that knows its
// input/output shapes, its workspace needs and its weights. Every shape is a compile-time
// constant, so every misconfiguration is a compile-time error naming the bound layer type,
// whose first template arguments are its position (LayerPath) and input shape.

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

#include "mote/core/shape.hpp"

namespace mote {

/// Position of a layer: `LayerPath<3>` is the 4th layer after Input (0-based, as in a PyTorch
/// nn.Sequential), `LayerPath<3, 1>` the 2nd layer inside the Residual at position 3.
template <std::size_t... Index>
struct LayerPath {
  template <std::size_t Child>
  using child = LayerPath<Index..., Child>;
  /// "3.1"; empty for the root.
  static std::string to_string() {
    std::string text;
    ((text += (text.empty() ? "" : "."), text += std::to_string(Index)), ...);
    return text;
  }
};

/// A weight tensor a layer expects, in PyTorch's shape convention (e.g. Conv2d weight is
/// [out, in, kh, kw]) so that state_dict exports load without reshaping.
struct ParamSpec {
  const char* name = "";             ///< state_dict suffix: "weight", "bias", "running_mean", ...
  std::array<std::size_t, 4> dims{};  ///< the first `rank` entries are used
  std::size_t rank = 0;
  std::size_t size() const noexcept {
    std::size_t n = 1;
    for (std::size_t i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  std::string shape_string() const {
    std::string text = "[";
    for (std::size_t i = 0; i < rank; ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + "]";
  }
};

/// A layer spec: binds to an input shape and a position.
template <class Spec>
concept LayerSpec = requires { typename Spec::template bind<Shape<1>, LayerPath<0>>; };

/// A bound layer: what a network holds and runs.
template <class L>
concept BoundLayer = requires(const L& layer, const float* in, float* out, std::byte* scratch) {
  typename L::in_shape;
  typename L::out_shape;
  { L::in_place } -> std::convertible_to<bool>;
  { L::scratch_bytes } -> std::convertible_to<std::size_t>;
  { L::describe() } -> std::convertible_to<std::string>;
  layer.forward(in, out, scratch);
};

/// A bound layer with weights to load (Dense, Conv2D, BatchNorm, ...).
template <class L>
concept WeightedLayer = BoundLayer<L> && requires(L& layer, const float* values) {
  { L::param_count } -> std::convertible_to<std::size_t>;
  { L::param_spec(std::size_t{}) } -> std::same_as<ParamSpec>;
  layer.set_param(std::size_t{}, values);
};

/// A layer whose output channels can absorb a following per-channel affine map
/// (y * scale + shift): how BatchNorm is folded into Conv2D/Dense when weights are set.
template <class L>
concept AffineFoldable = requires(L& layer, const float* scale, const float* shift) {
  layer.fold_channel_affine(scale, shift);
};

/// Unweighted layers that have nothing to load report zero parameters.
template <class L>
inline constexpr std::size_t param_count_v = 0;
template <WeightedLayer L>
inline constexpr std::size_t param_count_v<L> = L::param_count;

}  // namespace mote
