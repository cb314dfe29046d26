#pragma once
// Storage shared by the layers that multiply by a weight matrix (Dense, Conv2D, Conv1D,
// DepthwiseConv2D): the matrix in the chosen format/layout, an f32 bias, and BatchNorm folding.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "mote/core/aligned.hpp"
#include "mote/kernels/dispatch.hpp"
#include "mote/kernels/elementwise/activations.hpp"
#include "mote/layers/layer.hpp"
#include "mote/layers/options.hpp"
#include "mote/layout/layout.hpp"
#include "mote/numeric/quantization.hpp"

namespace mote::detail {

/// The weight-related options of a layer, resolved with their defaults.
template <class... Options>
struct WeightOptions {
  using weights = find_option_t<option_kind::weights, Weights<>, Options...>;
  using format = typename weights::format;
  using layout = typename weights::layout;
  using isa = find_option_t<option_kind::isa, isa::Default, Options...>;
  static constexpr bool has_bias = find_option_t<option_kind::bias, Bias<true>, Options...>::enabled;
  static constexpr bool storage_exists = has_weight_storage_v<format, layout>;
  using activation = typename find_option_t<option_kind::fused_activation,
                                            FusedActivation<::mote::activation::Identity>, Options...>::function;
  /// Integer weights multiply integer activations unless told otherwise.
  using default_activations =
      std::conditional_t<is_int8_format_v<format> || is_int4_format_v<format>, Int8<PerTensor, Asymmetric>, F32>;
  using activation_format = typename find_option_t<option_kind::activations, Activations<default_activations>,
                                                   Options...>::format;
  static constexpr bool integer_compute = is_int8_format_v<format> || is_int4_format_v<format>;
  static constexpr ScaleFit scale_fit =
      find_option_t<option_kind::weight_scales, WeightScales<ScaleFit::full_range>, Options...>::fit;
  /// WeightScales fits integer formats' ranges; the others have none to fit (a float format's
  /// values are stored as they are, a binary or ternary row's scale is its mean |w|, a codebook's
  /// table comes from k-means).
  static constexpr bool scale_fit_applies = scale_fit == ScaleFit::full_range || integer_compute;
  /// The (weights, activations) pairs mote has kernels for.
  static constexpr bool kernel_exists =
      (std::is_same_v<activation_format, F32> && !integer_compute) ||
      (integer_compute && (std::is_same_v<activation_format, UInt8> || is_int8_format_v<activation_format>)) ||
      ((std::is_same_v<format, Binary> || std::is_same_v<format, Ternary>) && std::is_same_v<activation_format, Binary>);
};

/// The code range and offset into the kernels' unsigned domain of an integer activation format.
template <class Format>
struct ActivationCodes {
  static constexpr std::int32_t offset = Format::is_signed ? 128 : 0;
  static constexpr std::int32_t min_code = Format::min_code, max_code = Format::max_code;
};

/// Stands in for state a layer configuration does not need.
struct Empty {};

/// The input quantisation of an integer layer: calibrated parameters, or (until calibrated, or
/// after clear()) each input's own min/max range, like ONNX DynamicQuantizeLinear. Parameters
/// are held in the kernels' unsigned code domain (codes + ActivationCodes::offset).
template <class Opts>
class InputQuantization {
  using codes = ActivationCodes<std::conditional_t<Opts::integer_compute, typename Opts::activation_format, UInt8>>;
  static constexpr bool symmetric = [] {
    if constexpr (Opts::integer_compute) return Opts::activation_format::symmetric;
    else return false;
  }();

 public:
  /// Validates and fixes the parameters (codes of the activation format); `what` names the layer.
  Status set(const QuantParams& params, const std::string& what) {
    Status status = validate_quant_params(params, codes::min_code, codes::max_code, what);
    if (!status) return status;
    quant_ = kernels::Int8InputQuant{{params.scale, params.zero_point + codes::offset}, codes::min_code + codes::offset,
                                     codes::max_code + codes::offset};
    calibrated_ = true;
    return Status::ok();
  }
  void clear() noexcept { calibrated_ = false; }
  std::optional<QuantParams> get() const {
    if (!calibrated_) return std::nullopt;
    return QuantParams{quant_.params.scale, quant_.params.zero_point - codes::offset};
  }
  bool calibrated() const noexcept { return calibrated_; }
  /// The calibrated parameters in the kernels' unsigned domain (meaningful when calibrated()).
  const kernels::Int8InputQuant& calibrated_quant() const noexcept { return quant_; }
  /// The calibrated parameters, or nullptr before calibration: the quantisation a previous layer's
  /// codes must be in to be handed over (model/chain.hpp).
  const kernels::Int8InputQuant* calibrated_or_null() const noexcept { return calibrated_ ? &quant_ : nullptr; }
  /// The parameters to quantise `count` input values with.
  kernels::Int8InputQuant current(const float* in, std::size_t count) const noexcept {
    if (calibrated_) return quant_;
    float low = 0.0f, high = 0.0f;
    for (std::size_t i = 0; i < count; ++i) {
      if (!std::isfinite(in[i])) continue;
      low = std::min(low, in[i]);
      high = std::max(high, in[i]);
    }
    const QuantParams params = choose_quant_params(low, high, codes::min_code, codes::max_code, symmetric);
    return kernels::Int8InputQuant{{params.scale, params.zero_point + codes::offset}, codes::min_code + codes::offset,
                                   codes::max_code + codes::offset};
  }

 private:
  kernels::Int8InputQuant quant_{};
  bool calibrated_ = false;
};

/// The integer kernel of the weight format (int8 or int4) of a layer with options `Opts`.
template <class Opts, class Matrix, class Activation>
void integer_dense_kernel(const Matrix& matrix, const float* bias, const float* in, float* out, std::size_t batch,
                          const kernels::Int8InputQuant& quant, Activation activation, std::byte* scratch) noexcept {
  if constexpr (is_int4_format_v<typename Opts::format>)
    kernels::dense_int4(typename Opts::isa{}, matrix, bias, in, out, batch, quant, activation, scratch);
  else
    kernels::dense_int8(typename Opts::isa{}, matrix, bias, in, out, batch, quant, activation, scratch);
}

/// Scratch bytes per sample of the integer kernels for a Rows x Cols matrix (any ISA).
constexpr std::size_t integer_dense_scratch_bytes(std::size_t rows, std::size_t cols) noexcept {
  const std::size_t padded_rows = (rows + 15) / 16 * 16;
  return std::max({kernels::int8_dense_scratch_bytes(padded_rows, (cols + 3) / 4 * 4),
                   kernels::int8_dense_reference_scratch_bytes(padded_rows, (cols + 3) / 4 * 4),
                   kernels::int4_dense_scratch_bytes(padded_rows, (cols + 31) / 32 * 32)});
}

/// A weight matrix of `Rows` output channels by `Cols` inputs, plus a bias (always stored: a
/// layer declared without bias gets one when a BatchNorm is folded into it; padded with zeros
/// to the matrix's padded rows so that kernels may load whole panels of it).
template <class Format, class Layout, std::size_t Rows, std::size_t Cols, ScaleFit Fit = ScaleFit::full_range>
class MatrixWithBias {
 public:
  MatrixWithBias() : matrix_(Rows, Cols), bias_(matrix_.padded_rows()) {}

  static constexpr bool sparse = is_sparse_layout_v<Layout>;

  const WeightMatrix<Format, Layout>& matrix() const noexcept { return matrix_; }
  const float* bias() const noexcept { return bias_.data(); }
  /// Counts the changes of weights or bias: what a requantisation built from them checks.
  std::uint64_t version() const noexcept { return version_; }
  /// Sets the weights from a row-major Rows x Cols f32 array. Sparse layouts prune them first
  /// (set_pruning) and must then hold their pattern: check_matrix says so beforehand; a matrix
  /// that fails it anyway is an error thrown (or, without exceptions, reported before abort).
  void set_matrix(const float* row_major) {
    if constexpr (sparse) {
      std::vector<float> pruned(row_major, row_major + Rows * Cols);
      detail::apply_pruning<typename Layout::pattern>(pruned, Rows, Cols, pruning_);
      const Status status = check_pattern<typename Layout::pattern>(pruned, Rows, Cols, "weights");
      if (!status) fail(status);
      assign(pruned.data());
    } else {
      assign(row_major);
    }
    ++version_;
  }
  /// Whether set_matrix(row_major) would succeed; `where` names the layer in the message.
  Status check_matrix(const float* row_major, const std::string& where) const {
    if constexpr (sparse) {
      std::vector<float> pruned(row_major, row_major + Rows * Cols);
      detail::apply_pruning<typename Layout::pattern>(pruned, Rows, Cols, pruning_);
      return check_pattern<typename Layout::pattern>(pruned, Rows, Cols, where + ": weight");
    } else {
      (void)row_major;
      (void)where;
      return Status::ok();
    }
  }
  /// How dense weights are pruned when set (sparse layouts; see Pruning).
  Status set_pruning(const Pruning& rule, const std::string& where) requires(sparse) {
    Status status = rule.validate(where);
    if (status) pruning_ = rule;
    return status;
  }
  const Pruning& pruning() const noexcept requires(sparse) { return pruning_; }
  void set_bias(const float* values) noexcept {
    for (std::size_t r = 0; r < Rows; ++r) bias_[r] = values[r];
    ++version_;
  }
  /// y' = y * scale + shift per output channel, absorbed into weights and bias.
  void fold_channel_affine(const float* scale, const float* shift) noexcept {
    for (std::size_t r = 0; r < Rows; ++r) {
      matrix_.scale_row(r, scale[r]);
      bias_[r] = bias_[r] * scale[r] + shift[r];
    }
    ++version_;
  }
  /// Bytes of weights and bias in memory.
  std::size_t bytes() const noexcept { return matrix_.bytes() + bias_.size() * sizeof(float); }

 private:
  /// The layout's conversion, with the layer's ScaleFit where it is not the default (only the
  /// integer layouts take one).
  void assign(const float* row_major) {
    if constexpr (Fit == ScaleFit::full_range) matrix_.assign(row_major);
    else matrix_.assign(row_major, Fit);
  }

  [[noreturn]] static void fail(const Status& status) {
#if MOTE_HAS_EXCEPTIONS
    throw_if_failed(status);
#endif
    std::fprintf(stderr, "mote: %s\n", status.message().c_str());
    std::abort();
  }

  WeightMatrix<Format, Layout> matrix_;
  AlignedBuffer<float> bias_;
  std::uint64_t version_ = 0;
  [[no_unique_address]] std::conditional_t<sparse, Pruning, Empty> pruning_{};
};

/// Whether an int8 layer with options `Opts` and `Cols` inputs per output can write the next
/// layer's codes instead of floats (integer hand-over, model/chain.hpp): int8 weights in dense
/// storage, a fused activation that is a clamp of the code range (none, ReLU or ReLU6), and
/// sums short enough for an int32 bias (int8_requantize_max_cols).
template <class Opts, std::size_t Cols>
inline constexpr bool requantizes_output_v =
    Opts::integer_compute && is_int8_format_v<typename Opts::format> &&
    std::is_same_v<typename Opts::layout, DenseStorage> && Cols <= kernels::int8_requantize_max_cols &&
    (std::is_same_v<typename Opts::activation, ::mote::activation::Identity> ||
     std::is_same_v<typename Opts::activation, ::mote::activation::Relu> ||
     std::is_same_v<typename Opts::activation, ::mote::activation::Relu6>);
/// Whether an int8 layer can take the codes the previous layer hands over.
template <class Opts>
inline constexpr bool accepts_codes_v = Opts::integer_compute && is_int8_format_v<typename Opts::format> &&
                                        std::is_same_v<typename Opts::layout, DenseStorage>;

/// The requantisation an int8 layer with options `Opts` and `Rows` outputs builds for the layer
/// after it (RequantizationRows), with what it was built from: the layer's input scale, the next
/// layer's input quantisation and the weights' version. forward() hands codes over only while all
/// three still hold, so a change made after linking (new weights, a new calibration) falls back
/// to floats, never to stale codes. Built once (it allocates); forward() only reads it.
template <class Opts, std::size_t Rows>
class IntegerHandover {
 public:
  IntegerHandover() : bias_(Rows), mantissa_(Rows), left_(Rows), right_(Rows) {}

  /// Builds the rows for the layer's `weights` and calibrated input quantisation `own` into the
  /// next layer's `next` quantisation, the code range narrowed by the fused activation (ReLU:
  /// codes of 0 and up; ReLU6: up to the code of 6); drops them when `next` is null or `own` is
  /// not calibrated.
  template <class Weights>
  void link(const InputQuantization<Opts>& own, const Weights& weights, const kernels::Int8InputQuant* next) {
    built_ = false;
    if (!own.calibrated() || next == nullptr) return;
    const float input_scale = own.calibrated_quant().params.scale;
    const float* scales = weights.matrix().scales();
    for (std::size_t r = 0; r < Rows; ++r) {
      const double sum_scale = static_cast<double>(input_scale) * static_cast<double>(scales[r]);
      const FixedPointMultiplier m = make_fixed_point_multiplier(sum_scale / static_cast<double>(next->params.scale));
      mantissa_[r] = m.mantissa;
      left_[r] = std::max(m.exponent, 0);
      right_[r] = std::max(-m.exponent, 0);
      const double units = std::nearbyint(static_cast<double>(weights.bias()[r]) / sum_scale);
      const double bound = static_cast<double>(requantize_max_bias);
      bias_[r] = std::isfinite(units) ? static_cast<std::int32_t>(std::clamp(units, -bound, bound))
                                      : (units > 0 ? requantize_max_bias : -requantize_max_bias);
    }
    any_left_shift_ = std::any_of(left_.begin(), left_.end(), [](std::int32_t shift) { return shift > 0; });
    using Activation = typename Opts::activation;
    low_ = next->low;
    high_ = next->high;
    if constexpr (std::is_same_v<Activation, ::mote::activation::Relu> ||
                  std::is_same_v<Activation, ::mote::activation::Relu6>)
      low_ = std::max(low_, std::clamp(next->params.zero_point, next->low, next->high));
    if constexpr (std::is_same_v<Activation, ::mote::activation::Relu6>)
      high_ = std::min(high_, quantize(6.0f, next->params, next->low, next->high));
    input_scale_ = input_scale;
    next_ = *next;
    version_ = weights.version();
    built_ = true;
  }
  /// Whether the rows were built from exactly these.
  template <class Weights>
  bool linked_to(const InputQuantization<Opts>& own, const Weights& weights,
                 const kernels::Int8InputQuant& next) const noexcept {
    return built_ && own.calibrated() && own.calibrated_quant().params.scale == input_scale_ &&
           next.params.scale == next_.params.scale && next.params.zero_point == next_.params.zero_point &&
           next.low == next_.low && next.high == next_.high && weights.version() == version_;
  }
  kernels::Int8CodesOut codes_out(std::uint8_t* codes) const noexcept {
    return {codes, RequantizationRows{bias_.data(), mantissa_.data(), left_.data(), right_.data(),
                                      next_.params.zero_point, low_, high_, any_left_shift_}};
  }

 private:
  AlignedBuffer<std::int32_t> bias_, mantissa_, left_, right_;
  std::int32_t low_ = 0, high_ = 255;
  bool any_left_shift_ = true;
  float input_scale_ = 0.0f;
  kernels::Int8InputQuant next_{};
  std::uint64_t version_ = 0;
  bool built_ = false;
};

/// The integer hand-over's forward for layers that run one sample at a time (Conv2D,
/// DepthwiseConv2D): run(sample, out, activation) for each of `batch` samples, `out` the sample's
/// floats, or with codes_out its codes at byte b x OutSize of `out` (its float sums, where the
/// kernel makes them, in the floats from there: they reach only the codes of samples to come),
/// the fused activation then being the codes' range.
template <std::size_t InSize, std::size_t OutSize, class Handover, class InValue, class Activation, class Run>
void for_each_integer_sample(const Handover& handover, const InValue* in, float* out, bool codes_out,
                             std::size_t batch, Activation activation, Run&& run) noexcept {
  for (std::size_t b = 0; b < batch; ++b) {
    const InValue* sample = in + b * InSize;
    if constexpr (!std::is_same_v<Handover, Empty>) {
      if (codes_out) {
        run(sample, handover.codes_out(reinterpret_cast<std::uint8_t*>(out) + b * OutSize),
            ::mote::activation::Identity{});
        continue;
      }
    }
    run(sample, out + b * OutSize, activation);
  }
}

inline ParamSpec param(const char* name, std::size_t d0) { return ParamSpec{name, {d0, 0, 0, 0}, 1}; }
inline ParamSpec param(const char* name, std::size_t d0, std::size_t d1) {
  return ParamSpec{name, {d0, d1, 0, 0}, 2};
}
inline ParamSpec param(const char* name, std::size_t d0, std::size_t d1, std::size_t d2) {
  return ParamSpec{name, {d0, d1, d2, 0}, 3};
}
inline ParamSpec param(const char* name, std::size_t d0, std::size_t d1, std::size_t d2,
                       std::size_t d3) {
  return ParamSpec{name, {d0, d1, d2, d3}, 4};
}

/// "f32", or "f32, bias-free" etc. for layer descriptions.
template <class Opts>
std::string weight_description() {
  std::string text = Opts::format::name;
  if constexpr (is_int4_format_v<typename Opts::format>) {
    text += Opts::format::group_size == 0 ? std::string(" per-channel")
                                          : " groups of " + std::to_string(Opts::format::group_size);
    text += std::string(", ") + Opts::activation_format::name + " activations";
  } else if constexpr (Opts::integer_compute) {
    using Granularity = typename Opts::format::granularity;
    text += std::string(" ") + Granularity::name + (Opts::format::symmetric ? " symmetric" : " asymmetric");
    text += std::string(", ") + Opts::activation_format::name + " activations";
  }
  if constexpr (std::is_same_v<typename Opts::activation_format, Binary>) text += ", binary activations";
  if constexpr (Opts::scale_fit == ScaleFit::mse) text += ", mse-fitted scales";
  if (std::string(Opts::layout::name) != "dense") text += std::string("-") + Opts::layout::name;
  if (!Opts::has_bias) text += ", no bias";
  if (!std::is_same_v<typename Opts::activation, ::mote::activation::Identity>)
    text += std::string(", fused ") + Opts::activation::name;
  return text;
}

}  // namespace mote::detail
