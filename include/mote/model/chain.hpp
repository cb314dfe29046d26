#pragma once
// A chain of layers bound one after another, with its compile-time memory plan.
//
// Memory plan ("two-ended arena"): intermediate activations live in one workspace of
// `workspace_bytes`. A layer that cannot run in place writes to the end of the arena opposite
// to its input (low end at offset 0, high end flush with the arena's end), and its scratch
// space sits between them, so at every step only the live input, output and scratch occupy
// memory. The arena size is therefore
//     max over layers i of ( |input_i| + |scratch_i| + |output_i| )   (sizes rounded to 64 B,
//                                                                      in-place steps count once,
//                                                                      the network's own input
//                                                                      and output excluded;
//                                                                      Flatten is a view),
// the smallest possible for a chain that keeps each layer's input alive while it runs.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "mote/core/aligned.hpp"
#include "mote/layers/elementwise.hpp"
#include "mote/layers/layer.hpp"

namespace mote {

namespace detail {

/// Stands in for a template argument that is not a layer spec, so that the static_assert
/// reporting it is not followed by a cascade of unrelated errors.
struct NotALayer {
  template <ShapeType In, class Path>
  struct bind {
    using in_shape = In;
    using out_shape = In;
    static constexpr bool in_place = true;
    static constexpr std::size_t scratch_bytes = 0;
    static const char* describe() { return "not a layer"; }
    void forward(const float*, float*, std::byte*) const noexcept {}
  };
};

template <class Spec, std::size_t Index>
struct CheckedSpec {
  static_assert(LayerSpec<Spec>,
                "A network argument is not a mote layer spec (such as Dense<10>, ReLU or "
                "Conv2D<8, Kernel<3>>); its position is the second template argument of this "
                "CheckedSpec.");
  using type = std::conditional_t<LayerSpec<Spec>, Spec, NotALayer>;
};

template <ShapeType In, class Path, std::size_t Index, class... Specs>
struct BindChain {
  using type = std::tuple<>;
  using out_shape = In;
};
/// A weighted layer spec followed by an activation spec: the pair binds as the layer with the
/// activation fused into its epilogue, then a pass-through placeholder keeping the position.
template <class First, class Second>
concept FusesWith = requires {
  typename Second::function;
  typename First::template with_activation<typename Second::function>;
};

template <ShapeType In, class Path, std::size_t Index, class First, class... Rest>
struct BindChain<In, Path, Index, First, Rest...> {
  using spec = typename CheckedSpec<First, Index>::type;
  using layer = typename spec::template bind<In, typename Path::template child<Index>>;
  using next = BindChain<typename layer::out_shape, Path, Index + 1, Rest...>;
  using type = decltype(std::tuple_cat(std::declval<std::tuple<layer>>(),
                                       std::declval<typename next::type>()));
  using out_shape = typename next::out_shape;
};

template <ShapeType In, class Path, std::size_t Index, class First, class Second, class... Rest>
  requires FusesWith<First, Second>
struct BindChain<In, Path, Index, First, Second, Rest...> {
  using function = typename Second::function;
  using layer = typename First::template with_activation<function>::template bind<In, typename Path::template child<Index>>;
  using fused = FusedActivationLayer<typename Path::template child<Index + 1>, typename layer::out_shape, function>;
  using next = BindChain<typename layer::out_shape, Path, Index + 2, Rest...>;
  using type = decltype(std::tuple_cat(std::declval<std::tuple<layer, fused>>(), std::declval<typename next::type>()));
  using out_shape = typename next::out_shape;
};

/// Where a step's output lives: the caller's input (a view layer passing it through), the
/// caller's output, or one end of the arena.
enum class Slot : unsigned char { input, output, low, high };

struct StepPlan {
  Slot out_slot = Slot::output;
  std::size_t out_offset = 0;      ///< byte offset of the output in the arena (if not external)
  std::size_t scratch_offset = 0;  ///< byte offset of the layer's scratch space
};

template <std::size_t N>
struct ChainPlan {
  std::array<StepPlan, N> steps{};
  std::size_t bytes = 0;
};

/// Layers that only rename the shape (Flatten) pass their input through, even the caller's.
template <class Layer>
constexpr bool is_view_v = requires { requires Layer::is_view; };

template <class Layer>
constexpr std::size_t output_bytes() {
  return align_up(Layer::out_shape::size * sizeof(float));
}

template <class... Layers>
constexpr ChainPlan<sizeof...(Layers)> make_plan(std::tuple<Layers...>*) {
  constexpr std::size_t n = sizeof...(Layers);
  constexpr std::array<std::size_t, n> out_bytes{output_bytes<Layers>()...};
  constexpr std::array<bool, n> in_place{Layers::in_place...};
  constexpr std::array<bool, n> view{is_view_v<Layers>...};
  constexpr std::array<std::size_t, n> scratch{align_up(Layers::scratch_bytes)...};
  ChainPlan<n> plan{};
  std::array<std::size_t, n> low_used{};
  Slot in_slot = Slot::input;
  std::size_t in_bytes = 0;
  // Views at the end of the chain (e.g. an activation fused into the layer before) pass the
  // caller's output through: the last layer that computes writes there directly.
  std::size_t last_computing = n - 1;
  while (last_computing > 0 && view[last_computing]) --last_computing;
  for (std::size_t i = 0; i < n; ++i) {
    Slot out_slot = Slot::output;
    if (i < last_computing || (i == last_computing && view[i] && i + 1 < n)) {
      if (view[i] || (in_place[i] && in_slot != Slot::input)) out_slot = in_slot;
      else out_slot = in_slot == Slot::low ? Slot::high : Slot::low;
    }
    std::size_t low = 0, high = 0;
    if (in_slot == Slot::low) low = std::max(low, in_bytes);
    if (in_slot == Slot::high) high = std::max(high, in_bytes);
    if (out_slot == Slot::low) low = std::max(low, out_bytes[i]);
    if (out_slot == Slot::high) high = std::max(high, out_bytes[i]);
    plan.bytes = std::max(plan.bytes, low + scratch[i] + high);
    plan.steps[i].out_slot = out_slot;
    low_used[i] = low;
    in_slot = out_slot;
    in_bytes = out_bytes[i];
  }
  for (std::size_t i = 0; i < n; ++i) {
    plan.steps[i].scratch_offset = low_used[i];
    plan.steps[i].out_offset = plan.steps[i].out_slot == Slot::high ? plan.bytes - out_bytes[i] : 0;
  }
  return plan;
}

/// The hook of a plain forward(): nothing observes the layers' inputs.
struct NoInputHook {
  void operator()(std::size_t, const float*) const noexcept {}
};

template <class L>
constexpr bool quantizes_input_v = requires { requires L::quantizes_input; };

/// A bound layer that can write the next layer's codes / take the previous layer's (Dense,
/// Conv2D and DepthwiseConv2D with int8 weights, layers/weighted.hpp).
template <class L>
constexpr bool layer_requantizes_output_v = requires { requires L::requantizes_output; };
template <class L>
constexpr bool layer_accepts_codes_v = requires { requires L::accepts_codes; };

template <class L>
concept HasBody = requires(L& layer) { layer.body(); };

template <class L>
concept IsBatchNorm = requires(L& layer) {
  layer.mark_folded();
  layer.scale();
  layer.shift();
};

}  // namespace detail

/// Layers `Specs...` bound in sequence to input shape `In`; `Path` is the position of the
/// chain itself (empty for a network, the Residual's position for its body).
template <ShapeType In, class Path, class... Specs>
class Chain {
  using binding = detail::BindChain<In, Path, 0, Specs...>;

 public:
  using layers_type = typename binding::type;
  using in_shape = In;
  using out_shape = typename binding::out_shape;
  static constexpr std::size_t layer_count = sizeof...(Specs);
  static_assert(layer_count > 0, "A network (or Residual body) needs at least one layer.");
  static constexpr detail::ChainPlan<layer_count> plan =
      detail::make_plan(static_cast<layers_type*>(nullptr));
  /// Bytes of workspace forward() needs (see the plan above); a multiple of 64.
  static constexpr std::size_t workspace_bytes = plan.bytes;

  /// Runs every layer; `workspace` must be 64-byte aligned and hold workspace_bytes.
  /// `in` and `out` must not overlap the workspace.
  void forward(const float* in, float* out, std::byte* workspace) const noexcept {
    run(in, out, workspace, 1, std::make_index_sequence<layer_count>{}, detail::NoInputHook{});
  }
  /// forward() that first calls `hook(index, input)` for each layer that quantises its input
  /// (`index` counts those layers from 0 in order): how calibration sees each layer's input.
  template <class Hook>
  void forward_observed(const float* in, float* out, std::byte* workspace, Hook&& hook) const {
    run(in, out, workspace, 1, std::make_index_sequence<layer_count>{}, hook);
  }
  /// Number of layers of this chain that quantise their input.
  static constexpr std::size_t quantizing_layer_count = [] {
    std::size_t count = 0;
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      ((count += detail::quantizes_input_v<std::tuple_element_t<J, layers_type>> ? 1 : 0), ...);
    }(std::make_index_sequence<sizeof...(Specs)>{});
    return count;
  }();
  /// `batch` samples stored one after the other; the workspace must hold batch *
  /// workspace_bytes. The plan is linear in the sizes, so every offset is scaled by `batch`.
  /// Layers with a batched kernel (Dense: GEMM) use it; the others run sample by sample.
  void forward_batch(const float* in, float* out, std::size_t batch, std::byte* workspace) const noexcept {
    run(in, out, workspace, batch, std::make_index_sequence<layer_count>{}, detail::NoInputHook{});
  }

  /// Whether the first layer takes input codes (an int8 Dense, Conv2D or DepthwiseConv2D with
  /// dense weights): what forward_codes_batch needs.
  static constexpr bool takes_input_codes =
      detail::layer_accepts_codes_v<std::tuple_element_t<0, layers_type>>;
  /// The quantisation forward_codes_batch's input codes are in: the first layer's calibrated (or
  /// set) input quantisation; nullptr while it has none.
  const kernels::Int8InputQuant* input_codes_quantization() const noexcept {
    if constexpr (require_input_codes()) return std::get<0>(layers_).codes_quantization();
    else return nullptr;
  }
  /// forward_batch() on the first layer's input codes (input_codes_quantization() must not be
  /// null): `batch` samples of uint8 codes one after the other, the first layer's input
  /// quantisation skipped. The layers after it run as in forward_batch().
  void forward_codes_batch(const std::uint8_t* in, float* out, std::size_t batch, std::byte* workspace) const noexcept {
    if constexpr (require_input_codes())
      run_from_codes(in, out, workspace, batch, std::make_index_sequence<layer_count>{});
  }

  template <std::size_t I>
  auto& layer() noexcept { return std::get<I>(layers_); }
  template <std::size_t I>
  const auto& layer() const noexcept { return std::get<I>(layers_); }

  /// Calls f(layer) for each layer in order.
  template <class F>
  void for_each_layer(F&& f) {
    std::apply([&](auto&... layers) { (f(layers), ...); }, layers_);
  }
  template <class F>
  void for_each_layer(F&& f) const {
    std::apply([&](const auto&... layers) { (f(layers), ...); }, layers_);
  }

  /// Calls f(index, layer) for each layer that quantises its input, `index` counting them from 0.
  template <class F>
  void for_each_quantizing_layer(F&& f) {
    std::size_t index = 0;
    for_each_layer([&](auto& layer) {
      if constexpr (detail::quantizes_input_v<std::remove_cvref_t<decltype(layer)>>) f(index++, layer);
    });
  }

  /// Folds every BatchNorm that directly follows an AffineFoldable layer into it, here and in
  /// nested bodies. Called after weights are set.
  void fold_batch_norms() noexcept { fold_from(std::make_index_sequence<layer_count>{}); }

  /// Integer hand-over: where an int8 layer (whose fused activation is none, ReLU or ReLU6) is
  /// followed, views aside, by another int8 layer, and both have a calibrated input quantisation,
  /// the first writes the second's input codes (requantisation, gemmlowp semantics,
  /// docs/quantization.md) instead of floats that the second would quantise again. This builds
  /// each such pair's requantisation (it allocates); a pair whose weights or quantisation change
  /// afterwards hands floats over until it is linked again. Sequential links after loading and
  /// calibrating. Only while enabled (set_integer_handover); otherwise it drops every pair's rows.
  void link_integer_handover() {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (link_at<I>(), ...); }(std::make_index_sequence<layer_count>{});
  }
  /// On or off (the default): off, every layer hands floats over (ONNX's QDQ semantics:
  /// DequantizeLinear, the float op, QuantizeLinear).
  void set_integer_handover(bool enabled) {
    handover_enabled_ = enabled;
    link_integer_handover();
  }
  bool integer_handover_enabled() const noexcept { return handover_enabled_; }
  /// Whether layer I hands codes to the next computing layer in the current state.
  template <std::size_t I>
  bool hands_over_codes() const noexcept {
    if constexpr (pairs_with_next<I>) {
      const auto* next = std::get<next_computing<I>>(layers_).codes_quantization();
      return next != nullptr && std::get<I>(layers_).output_linked_to(*next);
    } else {
      return false;
    }
  }

 private:
  template <std::size_t... I, class Hook>
  void run(const float* in, float* out, std::byte* workspace, std::size_t batch, std::index_sequence<I...>,
           const Hook& hook) const {
    (step<I>(in, out, workspace, batch, hook), ...);
  }
  /// The readable sentence of every codes-input entry point, once; its value for if constexpr.
  static constexpr bool require_input_codes() {
    static_assert(takes_input_codes,
                  "forward_codes: the network's first layer must take int8 codes (a Dense, Conv2D or "
                  "DepthwiseConv2D layer with int8 weights in dense storage).");
    return takes_input_codes;
  }
  /// Where layer I writes its output (the caller's `out` or its slot in the workspace) and its
  /// scratch, the plan's offsets scaled by `batch`.
  template <std::size_t I>
  static float* output_of(float* out, std::byte* workspace, std::size_t batch) noexcept {
    if constexpr (plan.steps[I].out_slot == detail::Slot::output) return out;
    else return reinterpret_cast<float*>(workspace + batch * plan.steps[I].out_offset);
  }
  template <std::size_t I>
  static std::byte* scratch_of(std::byte* workspace, std::size_t batch) noexcept {
    return workspace + batch * plan.steps[I].scratch_offset;
  }
  /// The first layer on codes, then the others as run() does (none of them reads the caller's
  /// input: the first layer computes, so theirs comes from the workspace).
  template <std::size_t... I>
  void run_from_codes(const std::uint8_t* in, float* out, std::byte* workspace, std::size_t batch,
                      std::index_sequence<0, I...>) const {
    std::get<0>(layers_).forward_integer(in, output_of<0>(out, workspace, batch), hands_over_codes<0>(), batch,
                                         scratch_of<0>(workspace, batch));
    (step<I>(nullptr, out, workspace, batch, detail::NoInputHook{}), ...);
  }
  /// How many layers before position I quantise their input.
  template <std::size_t I>
  static constexpr std::size_t quantizing_before = [] {
    std::size_t count = 0;
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      ((count += detail::quantizes_input_v<std::tuple_element_t<J, layers_type>> ? 1 : 0), ...);
    }(std::make_index_sequence<I>{});
    return count;
  }();
  /// The first layer after I that computes (views pass their input through); layer_count if none.
  template <std::size_t I>
  static constexpr std::size_t next_computing = [] {
    std::size_t next = layer_count;
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      ((next = (next == layer_count && J > I && !detail::is_view_v<std::tuple_element_t<J, layers_type>>) ? J : next),
       ...);
    }(std::make_index_sequence<layer_count>{});
    return next;
  }();
  /// The last layer before I that computes; layer_count if none.
  template <std::size_t I>
  static constexpr std::size_t previous_computing = [] {
    std::size_t previous = layer_count;
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      ((previous = (J < I && !detail::is_view_v<std::tuple_element_t<J, layers_type>>) ? J : previous), ...);
    }(std::make_index_sequence<layer_count>{});
    return previous;
  }();
  /// Layer I can hand codes to the next computing layer (the run-time conditions aside).
  template <std::size_t I>
  static constexpr bool pairs_with_next = [] {
    if constexpr (next_computing<I> < layer_count)
      return detail::layer_requantizes_output_v<std::tuple_element_t<I, layers_type>> &&
             detail::layer_accepts_codes_v<std::tuple_element_t<next_computing<I>, layers_type>>;
    else
      return false;
  }();
  template <std::size_t I>
  void link_at() {
    if constexpr (pairs_with_next<I>)
      std::get<I>(layers_).link_output(handover_enabled_ ? std::get<next_computing<I>>(layers_).codes_quantization()
                                                         : nullptr);
  }

  template <std::size_t I, class Hook>
  void step(const float* in, float* out, std::byte* workspace, std::size_t batch, const Hook& hook) const {
    constexpr detail::Slot out_slot = plan.steps[I].out_slot;
    if constexpr (out_slot == detail::Slot::input) return;  // a view of the caller's input
    const float* source = in;
    if constexpr (I > 0) {
      constexpr detail::Slot in_slot = plan.steps[I - 1].out_slot;
      if constexpr (in_slot == detail::Slot::output) return;  // a view of the caller's output
      if constexpr (in_slot != detail::Slot::input)
        source = reinterpret_cast<const float*>(workspace + batch * plan.steps[I - 1].out_offset);
    }
    float* destination = output_of<I>(out, workspace, batch);
    std::byte* scratch = scratch_of<I>(workspace, batch);
    const auto& layer = std::get<I>(layers_);
    using L = std::remove_cvref_t<decltype(layer)>;
    if constexpr (!std::is_same_v<Hook, detail::NoInputHook> && detail::quantizes_input_v<L>)
      hook(quantizing_before<I>, source);
    // Integer hand-over (link_integer_handover); never while a hook observes the float inputs.
    if constexpr (std::is_same_v<Hook, detail::NoInputHook> && detail::layer_accepts_codes_v<L>) {
      bool codes_in = false, codes_out = false;
      if constexpr (previous_computing<I> < layer_count) codes_in = hands_over_codes<previous_computing<I>>();
      codes_out = hands_over_codes<I>();
      if (codes_in) {
        return layer.forward_integer(reinterpret_cast<const std::uint8_t*>(source), destination, codes_out, batch,
                                     scratch);
      }
      if (codes_out) return layer.forward_integer(source, destination, true, batch, scratch);
    }
    if (batch == 1) {
      layer.forward(source, destination, scratch);
    } else if constexpr (requires { layer.forward_batch(source, destination, batch, scratch); }) {
      layer.forward_batch(source, destination, batch, scratch);
    } else {
      for (std::size_t b = 0; b < batch; ++b)
        layer.forward(source + b * L::in_shape::size, destination + b * L::out_shape::size, scratch);
    }
  }

  template <std::size_t... I>
  void fold_from(std::index_sequence<I...>) noexcept {
    (fold_at<I>(), ...);
  }
  template <std::size_t I>
  void fold_at() noexcept {
    auto& current = std::get<I>(layers_);
    if constexpr (detail::HasBody<std::remove_reference_t<decltype(current)>>) current.body().fold_batch_norms();
    if constexpr (I > 0) {
      auto& previous = std::get<I - 1>(layers_);
      if constexpr (detail::IsBatchNorm<std::remove_reference_t<decltype(current)>> &&
                    AffineFoldable<std::remove_reference_t<decltype(previous)>>) {
        previous.fold_channel_affine(current.scale(), current.shift());
        current.mark_folded();
      }
    }
  }

  layers_type layers_;
  // Off by default: on the AVX2 host the requantisation costs more than the float hand-over and
  // the next layer's quantisation together (docs/quantization.md, "Integer hand-over").
  bool handover_enabled_ = false;
};

}  // namespace mote
