#pragma once
// Convolutions over channels-last input: Conv2D, Conv1D (a Conv2D of height 1) and
// DepthwiseConv2D. Weights are stored one row per output channel with the receptive field in
// (ky, kx, input channel) order; PyTorch's [out, in, kh, kw] is reordered when set.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "mote/kernels/dispatch.hpp"
#include "mote/layers/weighted.hpp"
#include "mote/layers/window.hpp"

namespace mote {

namespace detail {

template <class T>
inline constexpr bool is_kernel_option_v = false;
template <std::size_t H, std::size_t W>
inline constexpr bool is_kernel_option_v<Kernel<H, W>> = true;

/// Geometry of a convolution-like window over a channels-last input of rank 2 (L, C) or 3
/// (H, W, C); rank 2 is treated as height 1.
template <ShapeType In, std::size_t KernelH, std::size_t KernelW, std::size_t OutChannels,
          class... Options>
struct ConvGeometry {
  static constexpr bool is_1d = In::rank == 2;
  static constexpr std::size_t in_h = In::rank == 3 ? In::dims[0] : 1;
  static constexpr std::size_t in_w = In::rank == 3 ? In::dims[1] : (In::rank == 2 ? In::dims[0] : 1);
  static constexpr std::size_t in_c = In::rank >= 2 ? In::dims[In::rank - 1] : 1;
  using stride = find_option_t<option_kind::stride, Stride<1>, Options...>;
  using dilation = find_option_t<option_kind::dilation, Dilation<1>, Options...>;
  using padding = find_option_t<option_kind::padding, Pad::valid, Options...>;
  // For 1-D layers the single axis is the width; Stride<S>/Dilation<D> give it through `h`.
  static constexpr AxisWindow vertical =
      is_1d ? AxisWindow{} : resolve_axis<padding, 0, 2>(in_h, KernelH, stride::h, dilation::h);
  static constexpr AxisWindow horizontal =
      is_1d ? resolve_axis<padding, 0, 1>(in_w, KernelW, stride::h, dilation::h)
            : resolve_axis<padding, 1, 2>(in_w, KernelW, stride::w, dilation::w);
  static constexpr bool positive = stride::h > 0 && stride::w > 0 && dilation::h > 0 &&
                                   dilation::w > 0 && KernelH > 0 && KernelW > 0;
  static constexpr bool fits = vertical.fits() && horizontal.fits();
  static constexpr kernels::WindowGeometry window{
      in_h, in_w, in_c, vertical.out(), horizontal.out(), OutChannels,
      vertical.kernel, horizontal.kernel, vertical.stride, horizontal.stride,
      vertical.dilation, horizontal.dilation, vertical.pad_before, horizontal.pad_before};
  using out_shape = std::conditional_t<is_1d, Shape<window.out_w, OutChannels>,
                                       Shape<window.out_h, window.out_w, OutChannels>>;
};

inline std::string window_description(const kernels::WindowGeometry& g, bool one_d) {
  std::string text = one_d ? std::to_string(g.kernel_w)
                           : std::to_string(g.kernel_h) + "x" + std::to_string(g.kernel_w);
  if (g.stride_h != 1 || g.stride_w != 1) text += ", stride " + std::to_string(g.stride_w);
  if (g.dilation_h != 1 || g.dilation_w != 1) text += ", dilation " + std::to_string(g.dilation_w);
  return text;
}

}  // namespace detail

/// A bound Conv2D or Conv1D layer (see `Conv2D`, `Conv1D`).
template <class Path, ShapeType In, std::size_t Filters, std::size_t KernelH, std::size_t KernelW,
          class... Options>
class ConvLayer {
  using opts = detail::WeightOptions<Options...>;
  using geometry = detail::ConvGeometry<In, KernelH, KernelW, Filters, Options...>;
  static constexpr bool is_1d = geometry::is_1d;
  static_assert(In::rank == 3 || In::rank == 2,
                "Conv2D needs an H x W x C input and Conv1D an L x C input; this layer received "
                "a tensor of another rank (the input shape is the second template argument).");
  static_assert(options_accepted_v<void(option_kind::stride, option_kind::dilation,
                                        option_kind::padding, option_kind::weights, option_kind::bias,
                                        option_kind::isa, option_kind::fused_activation, option_kind::activations,
                                        option_kind::weight_scales),
                                   Options...>,
                "Conv2D/Conv1D options may only be Stride, Dilation, Pad::same/Pad::valid/Padding, "
                "Weights, Activations, WeightScales, Bias, FusedActivation and an ISA tag.");
  static_assert(opts::scale_fit_applies,
                "Conv2D/Conv1D: WeightScales<ScaleFit::mse> fits the ranges of integer weights (Int8, Int7, "
                "Int4); these weights have none to fit.");
  static_assert(options_unique_v<Options...>, "Conv2D/Conv1D: the same kind of option is given twice.");
  static_assert(Filters > 0, "Conv2D/Conv1D: the layer needs at least one filter.");
  static_assert(geometry::positive, "Conv2D/Conv1D: kernel size, stride and dilation must be at least 1.");
  static_assert(!(In::rank == 2 || In::rank == 3) || !geometry::positive || geometry::fits,
                "Conv2D/Conv1D: the (dilated) kernel is larger than the padded input. The layer "
                "position and the input shape are the first template arguments of this ConvLayer.");
  static_assert(opts::storage_exists || !is_sparse_layout_v<typename opts::layout>,
                "Conv2D/Conv1D: no storage for these sparse weights: Sparse<Unstructured>, Sparse<NM<N, M>> and "
                "Sparse<Block<R, C>> take Weights<F32, ...>; int8 takes Sparse<Block<R, C>> with R dividing 16 and C "
                "dividing 4, and symmetric weights (Weights<Int8<PerChannel, Symmetric>, Sparse<Block<16, 4>>>, or Int7<>).");
  static_assert(opts::storage_exists || is_sparse_layout_v<typename opts::layout>,
                "Conv2D: mote has no weight storage for this Weights<Format, Layout> combination.");
  static_assert(!HalfFloatFormat<typename opts::format>,
                "Conv2D/Conv1D: bf16 and f16 weights (Weights<BF16>, Weights<F16>) are supported by "
                "Dense only; use Weights<F32> for convolutions.");
  static_assert(!is_codebook_format_v<typename opts::format>,
                "Conv2D/Conv1D: codebook weights (Weights<Codebook<Bits>>) are supported by Dense only; use "
                "Weights<F32> for convolutions.");

  static_assert(!opts::storage_exists || opts::integer_compute || std::is_same_v<typename opts::format, F32>,
                "Conv2D/Conv1D: convolutions take f32, int8 or int4 weights (Weights<F32>, "
                "Weights<Int8<...>>, Weights<Int4<G>>); other formats are supported by Dense only.");
  static_assert(!opts::storage_exists || opts::kernel_exists,
                "Conv2D/Conv1D: mote has no kernel multiplying these Weights<...> by these Activations<...>: "
                "f32 weights take Activations<F32>; int8/int4 weights take Activations<Int8<...>> or "
                "Activations<UInt8>.");

  static constexpr kernels::WindowGeometry window = geometry::window;
  static constexpr std::size_t receptive_field = KernelH * KernelW * geometry::in_c;
  static_assert(!opts::integer_compute || receptive_field <= kernels::int8_max_cols,
                "Conv2D/Conv1D: an integer layer's receptive field (kernel area x input channels) is limited "
                "to 33025 values, the length for which every int32 accumulator provably cannot overflow.");
  static constexpr std::size_t out_pixels = window.out_h * window.out_w;
  /// Integer convolution: output pixels run in chunks of this many as one integer GEMM over their
  /// receptive fields (gathered in scratch unless the kernel is 1x1, stride 1, unpadded).
  static constexpr std::size_t pixel_chunk = out_pixels < 64 ? out_pixels : 64;
  static constexpr bool pointwise = KernelH == 1 && KernelW == 1 && window.stride_h == 1 && window.stride_w == 1 &&
                                    window.pad_top == 0 && window.pad_left == 0 && window.out_h == window.in_h &&
                                    window.out_w == window.in_w;
  static constexpr std::size_t patch_bytes = pointwise ? 0 : align_up(pixel_chunk * receptive_field * sizeof(float));
  /// Dense int8 weights with a window: the integer convolution kernel, which quantises the
  /// input once and gathers codes (kernels/conv2d/int8-inl.hpp).
  static constexpr bool int8_window = opts::integer_compute && is_int8_format_v<typename opts::format> &&
                                      !is_sparse_layout_v<typename opts::layout> && !pointwise;
  /// int4 weights with a window: the same quantise-once, gather-codes scheme with the int4 GEMM
  /// (kernels/conv2d/int4-inl.hpp).
  static constexpr bool int4_window = is_int4_format_v<typename opts::format> && !pointwise;

 public:
  using in_shape = In;
  using out_shape = typename geometry::out_shape;
  using path = Path;
  static constexpr bool in_place = false;
  static constexpr bool sparse = is_sparse_layout_v<typename opts::layout>;
  /// Integer and sparse convolutions run as matrix products over gathered receptive fields.
  static constexpr std::size_t scratch_bytes =
      int8_window ? kernels::conv_int8_scratch_bytes(window, (Filters + 15) / 16 * 16, (receptive_field + 3) / 4 * 4)
      : int4_window ? kernels::conv_int4_scratch_bytes(window, (Filters + 15) / 16 * 16, (receptive_field + 31) / 32 * 32)
      : opts::integer_compute ? patch_bytes + pixel_chunk * detail::integer_dense_scratch_bytes(Filters, receptive_field)
      : sparse              ? patch_bytes + kernels::sparse_batch_scratch_bytes(receptive_field, pixel_chunk)
                            : 0;
  static constexpr std::size_t param_count = opts::has_bias ? 2 : 1;
  /// True when the layer quantises its input: calibration (Sequential::calibrate) sets its range.
  static constexpr bool quantizes_input = opts::integer_compute;
  using activation_format = typename opts::activation_format;

  static std::string describe() {
    return std::string(is_1d ? "Conv1D<" : "Conv2D<") + std::to_string(Filters) + ", " +
           detail::window_description(window, is_1d) + "> (" +
           detail::weight_description<opts>() + ")";
  }
  static ParamSpec param_spec(std::size_t index) {
    if (index == 1) return detail::param("bias", Filters);
    if constexpr (is_1d) return detail::param("weight", Filters, geometry::in_c, KernelW);
    else return detail::param("weight", Filters, geometry::in_c, KernelH, KernelW);
  }
  /// PyTorch [out, in, kh, kw] (or [out, in, k]) becomes rows of (ky, kx, in).
  void set_param(std::size_t index, const float* values) {
    if (index == 1) return weights_.set_bias(values);
    weights_.set_matrix(to_rows(values).data());
  }
  /// Sparse layouts: whether the weights (pruned by set_pruning's rule) hold the pattern.
  Status check_param(std::size_t index, const float* values) const {
    if (index == 1 || !sparse) return Status::ok();
    return weights_.check_matrix(to_rows(values).data(), "layer " + Path::to_string() + " (" + describe() +
                                                              ") (rows of (ky, kx, in) as mote stores them)");
  }
  Status set_pruning(const Pruning& rule) requires(sparse) {
    return weights_.set_pruning(rule, "layer " + Path::to_string() + " (" + describe() + ")");
  }
  const Pruning& pruning() const noexcept requires(sparse) { return weights_.pruning(); }

  void fold_channel_affine(const float* scale, const float* shift) noexcept {
    weights_.fold_channel_affine(scale, shift);
  }
  std::size_t weight_bytes() const noexcept { return weights_.bytes(); }
  const auto& weights() const noexcept { return weights_; }

  void forward(const float* in, float* out, std::byte* scratch) const noexcept {
    if constexpr (opts::integer_compute) {
      const kernels::Int8InputQuant quant = input_quant_.current(in, In::size);
      if constexpr (int8_window) {
        kernels::conv2d_int8(typename opts::isa{}, window, weights_.matrix(), weights_.bias(), in, out, quant,
                             typename opts::activation{}, scratch);
        return;
      } else if constexpr (int4_window) {
        kernels::conv2d_int4(typename opts::isa{}, window, weights_.matrix(), weights_.bias(), in, out, quant,
                             typename opts::activation{}, scratch);
        return;
      }
      for_each_pixel_chunk(in, scratch, [&](const float* rows, std::size_t first, std::size_t count) {
        detail::integer_dense_kernel<opts>(weights_.matrix(), weights_.bias(), rows, out + first * Filters, count, quant,
                                           typename opts::activation{}, scratch + patch_bytes);
      });
    } else if constexpr (sparse) {
      for_each_pixel_chunk(in, scratch, [&](const float* rows, std::size_t first, std::size_t count) {
        kernels::dense_batch(typename opts::isa{}, weights_.matrix(), weights_.bias(), rows, out + first * Filters,
                             count, typename opts::activation{}, scratch + patch_bytes);
      });
    } else {
      kernels::conv2d(typename opts::isa{}, window, weights_.matrix(), weights_.bias(), in, out,
                      typename opts::activation{});
    }
  }

  /// Integer hand-over (model/chain.hpp), as for Dense.
  static constexpr bool requantizes_output = detail::requantizes_output_v<opts, receptive_field>;
  static constexpr bool accepts_codes = detail::accepts_codes_v<opts>;
  void link_output(const kernels::Int8InputQuant* next) requires(requantizes_output) {
    handover_.link(input_quant_, weights_, next);
  }
  bool output_linked_to(const kernels::Int8InputQuant& next) const noexcept requires(requantizes_output) {
    return handover_.linked_to(input_quant_, weights_, next);
  }
  const kernels::Int8InputQuant* codes_quantization() const noexcept requires(accepts_codes) {
    return input_quant_.calibrated_or_null();
  }
  /// `batch` samples with the calibrated quantisation, the input floats or codes, the output
  /// floats or (codes_out) the next layer's codes (detail::for_each_integer_sample).
  template <class InValue>
  void forward_integer(const InValue* in, float* out, bool codes_out, std::size_t batch,
                       std::byte* scratch) const noexcept requires(accepts_codes) {
    detail::for_each_integer_sample<In::size, out_shape::size>(
        handover_, in, out, codes_out, batch, typename opts::activation{},
        [&](const InValue* sample, auto sample_out, auto activation) {
          run_int8(sample, sample_out, input_quant_.calibrated_quant(), activation, scratch);
        });
  }

  /// Fixes the input's quantisation (codes of the activation format): what calibration does.
  Status set_input_quantization(const QuantParams& params) requires(opts::integer_compute) {
    return input_quant_.set(params, "Conv2D input quantisation at layer " + Path::to_string());
  }
  void clear_input_quantization() noexcept requires(opts::integer_compute) { input_quant_.clear(); }
  std::optional<QuantParams> input_quantization() const requires(opts::integer_compute) { return input_quant_.get(); }

 private:
  /// Integer and sparse convolutions as matrix products: f(rows, first, count) for the output
  /// pixels [first, first + count), `rows` their receptive fields (gathered into scratch; the
  /// input itself when the kernel is 1x1, stride 1, unpadded).
  template <class F>
  static void for_each_pixel_chunk(const float* in, std::byte* scratch, F&& f) noexcept {
    auto* patches = reinterpret_cast<float*>(scratch);
    for (std::size_t first = 0; first < out_pixels; first += pixel_chunk) {
      const std::size_t count = std::min(pixel_chunk, out_pixels - first);
      const float* rows = in + first * geometry::in_c;
      if constexpr (!pointwise) {
        gather_patches(in, first, count, patches);
        rows = patches;
      }
      f(rows, first, count);
    }
  }

  /// The int8 kernel of one sample: the convolution kernel, or (1x1) the Dense one over chunks
  /// of pixels.
  template <class InValue, class Out, class Activation>
  void run_int8(const InValue* in, Out out, const kernels::Int8InputQuant& quant, Activation activation,
                std::byte* scratch) const noexcept {
    if constexpr (int8_window) {
      kernels::conv2d_int8(typename opts::isa{}, window, weights_.matrix(), weights_.bias(), in, out, quant, activation,
                           scratch);
    } else {
      for (std::size_t first = 0; first < out_pixels; first += pixel_chunk)
        kernels::dense_int8(typename opts::isa{}, weights_.matrix(), weights_.bias(), in + first * geometry::in_c,
                            kernels::conv_output_at(out, first * Filters), std::min(pixel_chunk, out_pixels - first),
                            quant, activation, scratch + patch_bytes);
    }
  }

  static std::vector<float> to_rows(const float* values) {
    std::vector<float> rows(Filters * receptive_field);
    const std::size_t taps = KernelH * KernelW;
    for (std::size_t o = 0; o < Filters; ++o)
      for (std::size_t i = 0; i < geometry::in_c; ++i)
        for (std::size_t t = 0; t < taps; ++t)
          rows[o * receptive_field + t * geometry::in_c + i] = values[(o * geometry::in_c + i) * taps + t];
    return rows;
  }

  /// Receptive fields of output pixels [first, first + count) as rows of (ky, kx, c), zeros where
  /// the window covers padding (zero quantises exactly to the zero point).
  static void gather_patches(const float* in, std::size_t first, std::size_t count, float* patches) noexcept {
    constexpr std::size_t c = geometry::in_c;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t oy = (first + i) / window.out_w, ox = (first + i) % window.out_w;
      float* row = patches + i * receptive_field;
      for (std::size_t ky = 0; ky < KernelH; ++ky) {
        const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * window.stride_h + ky * window.dilation_h) -
                                  static_cast<std::ptrdiff_t>(window.pad_top);
        for (std::size_t kx = 0; kx < KernelW; ++kx, row += c) {
          const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * window.stride_w + kx * window.dilation_w) -
                                    static_cast<std::ptrdiff_t>(window.pad_left);
          if (iy < 0 || ix < 0 || iy >= static_cast<std::ptrdiff_t>(window.in_h) ||
              ix >= static_cast<std::ptrdiff_t>(window.in_w)) {
            std::fill(row, row + c, 0.0f);
          } else {
            const float* source = in + (static_cast<std::size_t>(iy) * window.in_w + static_cast<std::size_t>(ix)) * c;
            std::copy(source, source + c, row);
          }
        }
      }
    }
  }

  detail::MatrixWithBias<typename opts::format, typename opts::layout, Filters, receptive_field, opts::scale_fit> weights_;
  [[no_unique_address]] std::conditional_t<opts::integer_compute, detail::InputQuantization<opts>, detail::Empty>
      input_quant_;
  [[no_unique_address]] std::conditional_t<requantizes_output, detail::IntegerHandover<opts, Filters>,
                                           detail::Empty> handover_;
};

/// 2-D convolution with `Filters` output channels and kernel `KernelSize` (a `Kernel<H, W>`).
/// Options: `Stride<>`, `Dilation<>`, `Pad::valid` (default) / `Pad::same` / `Padding<...>`,
/// `Weights<>`, `Bias<false>`, an ISA tag. Input H x W x C.
/// Cost: out_h x out_w x Filters x kh x kw x C multiply-adds.
template <std::size_t Filters, class KernelSize, class... Options>
struct Conv2D {
  static_assert(detail::is_kernel_option_v<KernelSize>,
                "Conv2D<Filters, Kernel<H, W>, Options...>: the second argument must be a "
                "Kernel<H, W>.");
  template <ShapeType In, class Path>
  using bind = ConvLayer<Path, In, Filters, KernelSize::h, KernelSize::w, Options...>;
  template <class Function>
  using with_activation = Conv2D<Filters, KernelSize, Options..., FusedActivation<Function>>;
};

/// 1-D convolution over an L x C input with `Filters` outputs and a kernel of `KernelSize` taps.
/// Options as Conv2D; `Stride<S>`, `Dilation<D>`, `Padding<P>` or `Padding<Left, Right>`.
template <std::size_t Filters, std::size_t KernelSize, class... Options>
struct Conv1D {
  template <ShapeType In, class Path>
  using bind = ConvLayer<Path, In, Filters, 1, KernelSize, Options...>;
  template <class Function>
  using with_activation = Conv1D<Filters, KernelSize, Options..., FusedActivation<Function>>;
};

/// A bound DepthwiseConv2D layer (see `DepthwiseConv2D`).
template <class Path, ShapeType In, std::size_t KernelH, std::size_t KernelW, class... Options>
class DepthwiseConvLayer {
  using opts = detail::WeightOptions<Options...>;
  static constexpr std::size_t multiplier = find_option_t<option_kind::multiplier, Multiplier<1>, Options...>::value;
  static constexpr std::size_t in_channels = In::rank == 3 ? In::dims[2] : 1;
  static constexpr std::size_t out_channels = in_channels * multiplier;
  using geometry = detail::ConvGeometry<In, KernelH, KernelW, (out_channels > 0 ? out_channels : 1), Options...>;
  static_assert(In::rank == 3,
                "DepthwiseConv2D needs an H x W x C input; this layer received a tensor of "
                "another rank (the input shape is the second template argument).");
  static_assert(options_accepted_v<void(option_kind::multiplier, option_kind::stride,
                                        option_kind::dilation, option_kind::padding,
                                        option_kind::weights, option_kind::bias, option_kind::isa,
                                        option_kind::fused_activation, option_kind::activations,
                                        option_kind::weight_scales),
                                   Options...>,
                "DepthwiseConv2D options may only be Multiplier, Stride, Dilation, "
                "Pad::same/Pad::valid/Padding, Weights, Activations, WeightScales, Bias, FusedActivation and an "
                "ISA tag.");
  static_assert(opts::scale_fit_applies,
                "DepthwiseConv2D: WeightScales<ScaleFit::mse> fits the ranges of integer weights (Int8, Int7); "
                "these weights have none to fit.");
  static_assert(options_unique_v<Options...>, "DepthwiseConv2D: the same kind of option is given twice.");
  static_assert(multiplier > 0, "DepthwiseConv2D: Multiplier<M> needs M >= 1.");
  static_assert(geometry::positive, "DepthwiseConv2D: kernel size, stride and dilation must be at least 1.");
  static_assert(In::rank != 3 || !geometry::positive || geometry::fits,
                "DepthwiseConv2D: the (dilated) kernel is larger than the padded input. The layer "
                "position and the input shape are the first template arguments.");
  static_assert(!is_sparse_layout_v<typename opts::layout>,
                "DepthwiseConv2D: sparse weights (Sparse<...>) are supported by Dense and Conv2D/Conv1D only (a "
                "depthwise filter has 9 or 25 weights per channel: too few to skip); use the dense default.");
  static_assert(opts::storage_exists || is_sparse_layout_v<typename opts::layout>,
                "DepthwiseConv2D: mote has no weight storage for this Weights<Format, Layout> "
                "combination.");
  static_assert(!HalfFloatFormat<typename opts::format>,
                "DepthwiseConv2D: bf16 and f16 weights (Weights<BF16>, Weights<F16>) are supported "
                "by Dense only; use Weights<F32> for convolutions.");
  static_assert(!is_codebook_format_v<typename opts::format>,
                "DepthwiseConv2D: codebook weights (Weights<Codebook<Bits>>) are supported by Dense only; "
                "use Weights<F32> for convolutions.");
  static_assert(!is_int4_format_v<typename opts::format>,
                "DepthwiseConv2D: int4 weights are not implemented for depthwise convolutions (a filter of 9 "
                "taps per channel saves a few bytes); use Weights<Int8<...>> or Weights<F32> here.");
  static_assert(!opts::storage_exists || opts::kernel_exists,
                "DepthwiseConv2D: mote has no kernel multiplying these Weights<...> by these Activations<...>: "
                "f32 weights take Activations<F32>; int8 weights take Activations<Int8<...>> or Activations<UInt8>.");
  static_assert(!opts::integer_compute || KernelH * KernelW <= kernels::int8_max_cols,
                "DepthwiseConv2D: an integer layer's kernel area is limited to 33025 taps, for which the int32 "
                "accumulators provably cannot overflow.");
  static constexpr kernels::WindowGeometry window = geometry::window;

 public:
  using in_shape = In;
  using out_shape = typename geometry::out_shape;
  using path = Path;
  static constexpr bool in_place = false;
  /// Integer depthwise: the input's codes in a bordered image, the weights tap-major.
  static constexpr std::size_t scratch_bytes =
      opts::integer_compute ? kernels::depthwise_int8_scratch_bytes(window) : 0;
  static constexpr std::size_t param_count = opts::has_bias ? 2 : 1;
  /// True when the layer quantises its input: calibration (Sequential::calibrate) sets its range.
  static constexpr bool quantizes_input = opts::integer_compute;
  using activation_format = typename opts::activation_format;

  static std::string describe() {
    return "DepthwiseConv2D<" + detail::window_description(window, false) +
           (multiplier != 1 ? ", multiplier " + std::to_string(multiplier) : std::string()) +
           "> (" + detail::weight_description<opts>() + ")";
  }
  static ParamSpec param_spec(std::size_t index) {
    return index == 1 ? detail::param("bias", out_channels)
                      : detail::param("weight", out_channels, 1, KernelH, KernelW);
  }
  /// PyTorch [C*M, 1, kh, kw] is already one row of taps per output channel.
  void set_param(std::size_t index, const float* values) {
    if (index == 1) return weights_.set_bias(values);
    weights_.set_matrix(values);
  }
  void fold_channel_affine(const float* scale, const float* shift) noexcept {
    weights_.fold_channel_affine(scale, shift);
  }
  std::size_t weight_bytes() const noexcept { return weights_.bytes(); }

  const auto& weights() const noexcept { return weights_; }

  void forward(const float* in, float* out, std::byte* scratch) const noexcept {
    if constexpr (opts::integer_compute) {
      kernels::depthwise_int8(typename opts::isa{}, window, weights_.matrix(), weights_.bias(), in, out,
                              input_quant_.current(in, In::size), typename opts::activation{}, scratch);
    } else {
      kernels::depthwise_conv2d(typename opts::isa{}, window, weights_.matrix(), weights_.bias(), in, out,
                                typename opts::activation{});
    }
  }

  /// Integer hand-over (model/chain.hpp), as for Dense and Conv2D.
  static constexpr bool requantizes_output = detail::requantizes_output_v<opts, KernelH * KernelW>;
  static constexpr bool accepts_codes = detail::accepts_codes_v<opts>;
  void link_output(const kernels::Int8InputQuant* next) requires(requantizes_output) {
    handover_.link(input_quant_, weights_, next);
  }
  bool output_linked_to(const kernels::Int8InputQuant& next) const noexcept requires(requantizes_output) {
    return handover_.linked_to(input_quant_, weights_, next);
  }
  const kernels::Int8InputQuant* codes_quantization() const noexcept requires(accepts_codes) {
    return input_quant_.calibrated_or_null();
  }
  /// As Conv2D's forward_integer.
  template <class InValue>
  void forward_integer(const InValue* in, float* out, bool codes_out, std::size_t batch,
                       std::byte* scratch) const noexcept requires(accepts_codes) {
    detail::for_each_integer_sample<In::size, out_shape::size>(
        handover_, in, out, codes_out, batch, typename opts::activation{},
        [&](const InValue* sample, auto sample_out, auto activation) {
          kernels::depthwise_int8(typename opts::isa{}, window, weights_.matrix(), weights_.bias(), sample, sample_out,
                                  input_quant_.calibrated_quant(), activation, scratch);
        });
  }

  /// Fixes the input's quantisation (codes of the activation format): what calibration does.
  Status set_input_quantization(const QuantParams& params) requires(opts::integer_compute) {
    return input_quant_.set(params, "DepthwiseConv2D input quantisation at layer " + Path::to_string());
  }
  void clear_input_quantization() noexcept requires(opts::integer_compute) { input_quant_.clear(); }
  std::optional<QuantParams> input_quantization() const requires(opts::integer_compute) { return input_quant_.get(); }

 private:
  detail::MatrixWithBias<typename opts::format, typename opts::layout, out_channels, KernelH * KernelW, opts::scale_fit>
      weights_;
  [[no_unique_address]] std::conditional_t<opts::integer_compute, detail::InputQuantization<opts>, detail::Empty>
      input_quant_;
  [[no_unique_address]] std::conditional_t<requantizes_output,
                                           detail::IntegerHandover<opts, out_channels>,
                                           detail::Empty> handover_;
};

/// Depthwise 2-D convolution: each input channel is filtered on its own by `KernelSize`
/// (a `Kernel<H, W>`); `Multiplier<M>` gives M output channels per input channel, channel
/// c * M + m (PyTorch's groups = in_channels order). Other options as Conv2D.
template <class KernelSize, class... Options>
struct DepthwiseConv2D {
  static_assert(detail::is_kernel_option_v<KernelSize>,
                "DepthwiseConv2D<Kernel<H, W>, Options...>: the first argument must be a "
                "Kernel<H, W>.");
  template <ShapeType In, class Path>
  using bind = DepthwiseConvLayer<Path, In, KernelSize::h, KernelSize::w, Options...>;
  template <class Function>
  using with_activation = DepthwiseConv2D<KernelSize, Options..., FusedActivation<Function>>;
};

}  // namespace mote
