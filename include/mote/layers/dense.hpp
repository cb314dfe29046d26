#pragma once
// Dense (fully connected): y = W x + b on a 1-D input.

#include <cstddef>
#include <string>
#include <vector>

#include "mote/kernels/dispatch.hpp"
#include "mote/layers/weighted.hpp"

namespace mote {

/// A bound Dense layer (see `Dense`). Weights are one row per output unit, as in PyTorch.
template <class Path, ShapeType In, std::size_t Units, class... Options>
class DenseLayer {
  using opts = detail::WeightOptions<Options...>;
  static_assert(options_accepted_v<void(option_kind::weights, option_kind::bias, option_kind::isa,
                                        option_kind::fused_activation),
                                   Options...>,
                "Dense<Units, Options...>: the options may only be Weights<...>, Bias<...>, "
                "FusedActivation<...> and an ISA tag.");
  static_assert(options_unique_v<Options...>, "Dense: the same kind of option is given twice.");
  static_assert(Units > 0, "Dense<Units>: a layer needs at least one unit.");
  static_assert(In::rank == 1,
                "Dense needs a 1-D input: put Flatten (or GlobalAveragePool2D) before it. The "
                "layer position and the input shape are the first template arguments of this "
                "DenseLayer.");
  static_assert(opts::storage_exists,
                "Dense: mote has no weight storage for this Weights<Format, Layout> combination.");

 public:
  using in_shape = In;
  using out_shape = Shape<Units>;
  using path = Path;
  static constexpr bool in_place = false;
  static constexpr std::size_t scratch_bytes = 0;
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
  void set_param(std::size_t index, const float* values) {
    if (index == 1) return weights_.set_bias(values);
    if constexpr (!columns_from_feature_map) {
      weights_.set_matrix(values);
    } else {
      using Origin = flat_origin_t<In>;
      constexpr std::size_t channels = Origin::channels;
      constexpr std::size_t pixels = Origin::size / channels;
      std::vector<float> reordered(Units * In::size);
      for (std::size_t u = 0; u < Units; ++u)
        for (std::size_t c = 0; c < channels; ++c)
          for (std::size_t p = 0; p < pixels; ++p)
            reordered[u * In::size + p * channels + c] = values[u * In::size + c * pixels + p];
      weights_.set_matrix(reordered.data());
    }
  }
  void fold_channel_affine(const float* scale, const float* shift) noexcept {
    weights_.fold_channel_affine(scale, shift);
  }
  std::size_t weight_bytes() const noexcept { return weights_.bytes(); }
  const auto& weights() const noexcept { return weights_; }

  void forward(const float* in, float* out, std::byte*) const noexcept {
    kernels::dense(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, typename opts::activation{});
  }
  /// `batch` samples at once: one GEMM instead of `batch` GEMVs.
  void forward_batch(const float* in, float* out, std::size_t batch, std::byte*) const noexcept {
    kernels::dense_batch(typename opts::isa{}, weights_.matrix(), weights_.bias(), in, out, batch,
                         typename opts::activation{});
  }

 private:
  detail::MatrixWithBias<typename opts::format, typename opts::layout, Units, In::size> weights_;
};

/// Fully connected layer with `Units` outputs. Options: `Weights<Format, Layout>` (default
/// f32 dense), `Bias<false>`, an ISA tag (default: isa::Default, run-time dispatch).
/// Input must be 1-D. Cost: Units x inputs multiply-adds; Units x (inputs + 1) weights.
template <std::size_t Units, class... Options>
struct Dense {
  template <ShapeType In, class Path>
  using bind = DenseLayer<Path, In, Units, Options...>;
  template <class Function>
  using with_activation = Dense<Units, Options..., FusedActivation<Function>>;
};

}  // namespace mote
