#pragma once
// Dense (fully connected): y = W x + b on a 1-D input.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "mote/kernels/dense/ternary.hpp"
#include "mote/kernels/dispatch.hpp"
#include "mote/layers/weighted.hpp"
#include "mote/numeric/quantization.hpp"

namespace mote {

/// A bound Dense layer (see `Dense`). Weights are one row per output unit, as in PyTorch.
template <class Path, ShapeType In, std::size_t Units, class... Options>
class DenseLayer {
  using opts = detail::WeightOptions<Options...>;
  static_assert(options_accepted_v<void(option_kind::weights, option_kind::bias, option_kind::isa,
                                        option_kind::fused_activation, option_kind::activations,
                                        option_kind::weight_scales),
                                   Options...>,
                "Dense<Units, Options...>: the options may only be Weights<...>, Activations<...>, "
                "WeightScales<...>, Bias<...>, FusedActivation<...> and an ISA tag.");
  static_assert(opts::scale_fit_applies,
                "Dense: WeightScales<ScaleFit::mse> fits the ranges of integer weights (Int8, Int7, Int4); "
                "these weights have none to fit (float weights are stored as they are, binary and ternary "
                "rows take their mean |w|, a codebook its k-means table).");
  static_assert(options_unique_v<Options...>, "Dense: the same kind of option is given twice.");
  static_assert(Units > 0, "Dense<Units>: a layer needs at least one unit.");
  static_assert(In::rank == 1,
                "Dense needs a 1-D input: put Flatten (or GlobalAveragePool2D) before it. The "
                "layer position and the input shape are the first template arguments of this "
                "DenseLayer.");
  static_assert(opts::storage_exists || !is_sparse_layout_v<typename opts::layout>,
                "Dense: no storage for these sparse weights: Sparse<Unstructured>, Sparse<NM<N, M>> and "
                "Sparse<Block<R, C>> take Weights<F32, ...>; int8 takes Sparse<Block<R, C>> with R dividing 16 and C "
                "dividing 4, and symmetric weights (Weights<Int8<PerChannel, Symmetric>, Sparse<Block<16, 4>>>, or Int7<>).");
  static_assert(opts::storage_exists || is_sparse_layout_v<typename opts::layout>,
                "Dense: mote has no weight storage for this Weights<Format, Layout> combination.");
  static_assert(!opts::storage_exists || opts::kernel_exists,
                "Dense: mote has no kernel multiplying these Weights<...> by these Activations<...>: "
                "f32 weights take Activations<F32>; int8 weights take Activations<Int8<...>> or "
                "Activations<UInt8> (weight-only int8 with float activations is not implemented); binary "
                "and ternary weights take Activations<F32> or Activations<Binary>.");
  static_assert(!opts::integer_compute || In::size <= kernels::int8_max_cols,
                "Dense: an int8 layer's input is limited to 33025 values, the length for which every "
                "int32 accumulator provably cannot overflow.");
  /// Binary weights and activations: XNOR-popcount kernels (kernels/dense/binary-inl.hpp).
  static constexpr bool binary_activations = std::is_same_v<typename opts::activation_format, Binary>;
  /// Ternary weights: Binary's kernels on two sign planes (kernels/dense/ternary.hpp).
  static constexpr bool ternary_weights = std::is_same_v<typename opts::format, Ternary>;

 public:
  using in_shape = In;
  using out_shape = Shape<Units>;
  using path = Path;
  static constexpr bool in_place = false;
  /// Integer layers quantise their input and accumulate in scratch (the larger of what the SIMD
  /// kernels and the scalar reference need).
  /// Sparse f32 layers: forward_batch's GEMM transposes 8 samples at a time, within what the
  /// workspace reserves per sample (the chain multiplies scratch by the batch).
  static constexpr std::size_t scratch_bytes =
      opts::integer_compute ? detail::integer_dense_scratch_bytes(Units, In::size)
      : ternary_weights     ? kernels::ternary_dense_scratch_bytes(Units, In::size, binary_activations)
      : binary_activations  ? kernels::binary_xnor_scratch_bytes(In::size)
      : is_sparse_layout_v<typename opts::layout> ? kernels::sparse_batch_scratch_bytes_per_sample(In::size)
                            : 0;
  /// True when the layer quantises its input: calibration (Sequential::calibrate) sets its range.
  static constexpr bool quantizes_input = opts::integer_compute;
  using activation_format = typename opts::activation_format;
  static constexpr std::size_t param_count = opts::has_bias ? 2 : 1;
  /// True after Flatten of a feature map: PyTorch's columns are then in (C, H, W) order.
  static constexpr bool columns_from_feature_map = [] {
    if constexpr (std::is_void_v<flat_origin_t<In>>) return false;
    else return flat_origin_t<In>::rank >= 2;
  }();

  static std::string describe() {
    return "Dense<" + std::to_string(Units) + "> (" + detail::weight_description<opts>() + ")";
  }
  static ParamSpec param_spec(std::size_t index) {
    return index == 0 ? detail::param("weight", Units, In::size) : detail::param("bias", Units);
  }
  /// Sets parameter `index` from PyTorch-layout values. After a Flatten of a feature map, the
  /// columns arrive in PyTorch's (C, H, W) order and are reordered to mote's (H, W, C).
  /// Sparse layouts prune the weights first (set_pruning); check_param says beforehand whether
  /// they then hold the layout's pattern (the loaders call it before changing anything).
  void set_param(std::size_t index, const float* values) {
    if (index == 1) return weights_.set_bias(values);
    if constexpr (!columns_from_feature_map) {
      weights_.set_matrix(values);
    } else {
      weights_.set_matrix(mote_order(values).data());
    }
  }
  Status check_param(std::size_t index, const float* values) const {
    if (index == 1) return Status::ok();
    const std::string where = "layer " + Path::to_string() + " (" + describe() + ")";
    if constexpr (!columns_from_feature_map) return weights_.check_matrix(values, where);
    else return weights_.check_matrix(mote_order(values).data(), where + " (columns in mote's (H, W, C) order)");
  }
  /// How dense weights set into this sparse layer are pruned (default: not at all; they must then
  /// hold the pattern). Takes effect at the next load.
  Status set_pruning(const Pruning& rule) requires(is_sparse_layout_v<typename opts::layout>) {
    return weights_.set_pruning(rule, "layer " + Path::to_string() + " (" + describe() + ")");
  }
  const Pruning& pruning() const noexcept requires(is_sparse_layout_v<typename opts::layout>) {
    return weights_.pruning();
  }
  void fold_channel_affine(const float* scale, const float* shift) noexcept {
    weights_.fold_channel_affine(scale, shift);
  }
  std::size_t weight_bytes() const noexcept { return weights_.bytes(); }
  const auto& weights() const noexcept { return weights_; }

  void forward(const float* in, float* out, std::byte* scratch) const noexcept {
    if constexpr (opts::integer_compute) {
      detail::integer_dense_kernel<opts>(weights_.matrix(), weights_.bias(), in, out, std::size_t{1},
                                         input_quant_.current(in, In::size), typename opts::activation{}, scratch);
    } else if constexpr (ternary_weights) {
      forward_ternary(in, out, 1, scratch);
    } else if constexpr (binary_activations) {
      kernels::dense_xnor(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, std::size_t{1},
                          typename opts::activation{}, scratch);
    } else {
      kernels::dense(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, typename opts::activation{});
    }
  }
  /// `batch` samples at once: one GEMM instead of `batch` GEMVs.
  void forward_batch(const float* in, float* out, std::size_t batch, std::byte* scratch) const noexcept {
    if constexpr (opts::integer_compute) {
      if (input_quant_.calibrated()) {
        detail::integer_dense_kernel<opts>(weights_.matrix(), weights_.bias(), in, out, batch,
                                           input_quant_.current(in, In::size), typename opts::activation{}, scratch);
      } else {
        for (std::size_t b = 0; b < batch; ++b) forward(in + b * In::size, out + b * Units, scratch);
      }
    } else if constexpr (ternary_weights) {
      forward_ternary(in, out, batch, scratch);
    } else if constexpr (binary_activations) {
      kernels::dense_xnor(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, batch,
                          typename opts::activation{}, scratch);
    } else {
      if constexpr (is_sparse_layout_v<typename opts::layout>)
        kernels::dense_batch(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, batch,
                             typename opts::activation{}, scratch);
      else
        kernels::dense_batch(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, batch,
                             typename opts::activation{});
    }
  }

  /// Integer hand-over (model/chain.hpp): whether this layer can write the next layer's codes,
  /// and take the previous layer's.
  static constexpr bool requantizes_output = detail::requantizes_output_v<opts, In::size>;
  static constexpr bool accepts_codes = detail::accepts_codes_v<opts>;
  /// Builds (or, with nullptr, drops) the requantisation into the next layer's input quantisation.
  void link_output(const kernels::Int8InputQuant* next) requires(requantizes_output) {
    handover_.link(input_quant_, weights_, next);
  }
  bool output_linked_to(const kernels::Int8InputQuant& next) const noexcept requires(requantizes_output) {
    return handover_.linked_to(input_quant_, weights_, next);
  }
  /// The calibrated input quantisation the previous layer's codes must be in; nullptr if none.
  const kernels::Int8InputQuant* codes_quantization() const noexcept requires(accepts_codes) {
    return input_quant_.calibrated_or_null();
  }
  /// forward_batch with the calibrated quantisation, the input floats or codes (InValue), the
  /// output floats or (codes_out) the next layer's codes written at the start of `out`.
  template <class InValue>
  void forward_integer(const InValue* in, float* out, bool codes_out, std::size_t batch,
                       std::byte* scratch) const noexcept requires(accepts_codes) {
    const kernels::Int8InputQuant& quant = input_quant_.calibrated_quant();
    if constexpr (requantizes_output) {
      if (codes_out)
        return kernels::dense_int8(typename opts::isa{}, weights_.matrix(), weights_.bias(), in,
                                   handover_.codes_out(reinterpret_cast<std::uint8_t*>(out)), batch, quant,
                                   ::mote::activation::Identity{}, scratch);
    }
    kernels::dense_int8(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, batch, quant,
                        typename opts::activation{}, scratch);
  }

  /// Fixes the input's quantisation (codes of the activation format): what calibration does.
  /// Until then (or after clear_input_quantization) each input is quantised with its own
  /// min/max range, like ONNX DynamicQuantizeLinear.
  Status set_input_quantization(const QuantParams& params) requires(opts::integer_compute) {
    return input_quant_.set(params, "Dense input quantisation at layer " + Path::to_string());
  }
  void clear_input_quantization() noexcept requires(opts::integer_compute) { input_quant_.clear(); }
  /// The calibrated input quantisation (codes of the activation format), if set.
  std::optional<QuantParams> input_quantization() const requires(opts::integer_compute) { return input_quant_.get(); }

 private:
  void forward_ternary(const float* in, float* out, std::size_t batch, std::byte* scratch) const noexcept
      requires(ternary_weights) {
    if constexpr (binary_activations)
      kernels::dense_ternary_xnor(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, batch,
                                  typename opts::activation{}, scratch);
    else
      kernels::dense_ternary(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, batch,
                             typename opts::activation{}, scratch);
  }
  /// PyTorch's (C, H, W) columns after a Flatten of a feature map, in mote's (H, W, C) order.
  static std::vector<float> mote_order(const float* values) {
    using Origin = flat_origin_t<In>;
    constexpr std::size_t channels = Origin::channels;
    constexpr std::size_t pixels = Origin::size / channels;
    std::vector<float> reordered(Units * In::size);
    for (std::size_t u = 0; u < Units; ++u)
      for (std::size_t c = 0; c < channels; ++c)
        for (std::size_t p = 0; p < pixels; ++p)
          reordered[u * In::size + p * channels + c] = values[u * In::size + c * pixels + p];
    return reordered;
  }

  [[no_unique_address]] std::conditional_t<opts::integer_compute, detail::InputQuantization<opts>, detail::Empty>
      input_quant_;
  detail::MatrixWithBias<typename opts::format, typename opts::layout, Units, In::size, opts::scale_fit> weights_;
  [[no_unique_address]] std::conditional_t<requantizes_output, detail::IntegerHandover<opts, Units>,
                                           detail::Empty> handover_;
};

/// Fully connected layer with `Units` outputs. Options: `Weights<Format, Layout>` (default
/// f32 dense; `Weights<Int8<>>` for int8 per-channel weights), `Activations<Format>` (see
/// Activations), `Bias<false>`, an ISA tag (default: isa::Default, run-time dispatch).
/// Input must be 1-D. Cost: Units x inputs multiply-adds; Units x (inputs + 1) weights.
template <std::size_t Units, class... Options>
struct Dense {
  template <ShapeType In, class Path>
  using bind = DenseLayer<Path, In, Units, Options...>;
  template <class Function>
  using with_activation = Dense<Units, Options..., FusedActivation<Function>>;
};

}  // namespace mote
