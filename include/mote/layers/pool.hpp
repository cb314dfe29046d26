#pragma once
// Pooling over channels-last feature maps: MaxPool2D, AvgPool2D, MaxPool1D, AvgPool1D,
// GlobalAveragePool2D.

#include <cstddef>
#include <string>
#include <type_traits>

#include "mote/kernels/dispatch.hpp"
#include "mote/layers/layer.hpp"
#include "mote/layers/window.hpp"

namespace mote {

enum class PoolKind { max, average };

/// A bound MaxPool2D/AvgPool2D (Dims = 2, H x W x C input) or MaxPool1D/AvgPool1D (Dims = 1,
/// L x C input, run as a 1 x L image) layer.
template <class Path, ShapeType In, PoolKind Kind, std::size_t Dims, std::size_t Window, class... Options>
class PoolLayer {
  static constexpr bool one_d = Dims == 1;
  static constexpr bool is_max = Kind == PoolKind::max;
  using kernel = find_option_t<option_kind::kernel, Kernel<Window>, Options...>;
  using stride = find_option_t<option_kind::stride, Stride<kernel::h, kernel::w>, Options...>;
  using dilation = find_option_t<option_kind::dilation, Dilation<1>, Options...>;
  using padding = find_option_t<option_kind::padding, Pad::valid, Options...>;
  static constexpr bool ceil_mode = detail::count_kind_v<option_kind::rounding, Options...> != 0;
  static constexpr bool count_pad = detail::count_kind_v<option_kind::pad_counting, Options...> != 0;
  /// How many values an explicit Padding<...> has (0 for Pad::valid/Pad::same).
  static constexpr std::size_t padding_values() {
    if constexpr (requires { padding::values; }) return sizeof(padding::values) / sizeof(padding::values[0]);
    else return 0;
  }

  static_assert(In::rank == (one_d ? 2 : 3),
                "MaxPool2D/AvgPool2D need an H x W x C input and MaxPool1D/AvgPool1D an L x C input; this "
                "layer received a tensor of another rank (the input shape is the second template argument).");
  static_assert(options_accepted_v<void(option_kind::kernel, option_kind::stride, option_kind::dilation,
                                        option_kind::padding, option_kind::rounding, option_kind::pad_counting),
                                   Options...>,
                "Pooling options may only be Kernel, Stride, Dilation, Pad::valid/Pad::same/Padding, CeilMode "
                "and (AvgPool only) CountPad.");
  static_assert(options_unique_v<Options...>, "Pooling: the same kind of option is given twice.");
  static_assert(!(is_max && count_pad),
                "CountPad applies to AvgPool2D/AvgPool1D only: max pooling ignores padded taps.");
  static_assert(detail::count_kind_v<option_kind::kernel, Options...> == 0 || kernel::h == Window,
                "Pooling with a Kernel option: the first template argument must equal the kernel's first "
                "value (MaxPool2D<KH, Kernel<KH, KW>>, MaxPool1D<K, Kernel<K>>).");
  static_assert(!one_d || (kernel::h == kernel::w && stride::h == stride::w && dilation::h == dilation::w),
                "MaxPool1D/AvgPool1D: Kernel, Stride and Dilation take one value (Stride<2>, not Stride<2, 1>).");
  static_assert(!one_d || padding_values() <= 2,
                "MaxPool1D/AvgPool1D: padding is Padding<P> (both ends) or Padding<Left, Right>.");
  static_assert(Window > 0 && kernel::h > 0 && kernel::w > 0 && stride::h > 0 && stride::w > 0 &&
                    dilation::h > 0 && dilation::w > 0,
                "Pooling: the window, the stride and the dilation must be at least 1.");

  static constexpr std::size_t in_h = one_d ? 1 : In::rank == 3 ? In::dims[0] : 1;
  static constexpr std::size_t in_w = one_d ? (In::rank == 2 ? In::dims[0] : 1) : In::rank == 3 ? In::dims[1] : 1;
  static constexpr std::size_t channels = In::channels;
  static constexpr detail::AxisWindow vertical =
      one_d ? detail::AxisWindow{} : detail::resolve_axis<padding, 0, 2>(in_h, kernel::h, stride::h, dilation::h);
  static constexpr detail::AxisWindow horizontal =
      one_d ? detail::resolve_axis<padding, 0, 1>(in_w, kernel::w, stride::w, dilation::w)
            : detail::resolve_axis<padding, 1, 2>(in_w, kernel::w, stride::w, dilation::w);
  static constexpr std::size_t out_h = ceil_mode ? vertical.out_ceil() : vertical.out();
  static constexpr std::size_t out_w = ceil_mode ? horizontal.out_ceil() : horizontal.out();

  static_assert(vertical.fits() && horizontal.fits(),
                "Pooling: the window is larger than the padded input. The layer position and the input "
                "shape are the first template arguments.");
  static_assert(vertical.every_window_reaches_input(out_h) && horizontal.every_window_reaches_input(out_w),
                "Pooling: a window lies entirely in the padding (the padding is too large for the window, "
                "its dilation or the input).");

  /// CountPad runs the average over a zero-padded copy of the input (in the scratch space), so
  /// that the kernels count padded taps; without padding there is nothing to count.
  static constexpr bool padded_copy =
      count_pad && (vertical.pad_before + vertical.pad_after + horizontal.pad_before + horizontal.pad_after) > 0;
  static constexpr std::size_t copy_h = in_h + (padded_copy ? vertical.pad_before + vertical.pad_after : 0);
  static constexpr std::size_t copy_w = in_w + (padded_copy ? horizontal.pad_before + horizontal.pad_after : 0);
  static constexpr kernels::WindowGeometry window{
      padded_copy ? copy_h : in_h, padded_copy ? copy_w : in_w, channels, out_h, out_w, channels,
      vertical.kernel, horizontal.kernel, vertical.stride, horizontal.stride, vertical.dilation,
      horizontal.dilation, padded_copy ? 0 : vertical.pad_before, padded_copy ? 0 : horizontal.pad_before};

  static std::string size_text(std::size_t h, std::size_t w) {
    return one_d || h == w ? std::to_string(w) : std::to_string(h) + "x" + std::to_string(w);
  }

 public:
  using in_shape = In;
  using out_shape = std::conditional_t<one_d, Shape<out_w, channels>, Shape<out_h, out_w, channels>>;
  using path = Path;
  static constexpr bool in_place = false;
  static constexpr std::size_t scratch_bytes = padded_copy ? copy_h * copy_w * channels * sizeof(float) : 0;
  /// The kernels' view of the layer (after CountPad's padding, if any).
  static constexpr const kernels::WindowGeometry& geometry() noexcept { return window; }

  /// "MaxPool2D<3>", "AvgPool2D<3x2, stride 2, padding 1/0/1/0, ceil mode, count pad>".
  static std::string describe() {
    std::string text = std::string(is_max ? "MaxPool" : "AvgPool") + (one_d ? "1D<" : "2D<") +
                       size_text(vertical.kernel, horizontal.kernel);
    if (vertical.stride != vertical.kernel || horizontal.stride != horizontal.kernel)
      text += ", stride " + size_text(vertical.stride, horizontal.stride);
    if (vertical.dilation != 1 || horizontal.dilation != 1)
      text += ", dilation " + size_text(vertical.dilation, horizontal.dilation);
    const auto pad = [](std::size_t p) { return std::to_string(p); };
    if (vertical.pad_before + vertical.pad_after + horizontal.pad_before + horizontal.pad_after > 0)
      text += ", padding " + (one_d ? pad(horizontal.pad_before) + "/" + pad(horizontal.pad_after)
                                    : pad(vertical.pad_before) + "/" + pad(horizontal.pad_before) + "/" +
                                          pad(vertical.pad_after) + "/" + pad(horizontal.pad_after));
    if (ceil_mode) text += ", ceil mode";
    if (count_pad) text += ", count pad";
    return text + ">";
  }
  void forward(const float* in, float* out, std::byte* scratch) const noexcept {
    if constexpr (is_max) {
      kernels::max_pool2d(isa::Default{}, window, in, out);
    } else if constexpr (padded_copy) {
      float* padded = reinterpret_cast<float*>(scratch);
      kernels::pad_with_zeros(isa::Scalar{}, in, in_h, in_w, channels, vertical.pad_before, horizontal.pad_before,
                              vertical.pad_after, horizontal.pad_after, padded);
      kernels::avg_pool2d(isa::Default{}, window, padded, out);
    } else {
      kernels::avg_pool2d(isa::Default{}, window, in, out);
    }
  }
};

/// The bound layer of MaxPool2D/AvgPool2D (kept for code naming it).
template <class Path, ShapeType In, PoolKind Kind, std::size_t Window, class... Options>
using Pool2DLayer = PoolLayer<Path, In, Kind, 2, Window, Options...>;

/// Max over Window x Window windows of an H x W x C input. NaN propagates; padded taps are
/// ignored (as if -inf). Options, in any order:
///   Kernel<KH, KW>  a rectangular window instead (then Window must be KH):
///                   MaxPool2D<3, Kernel<3, 2>> is 3 high, 2 wide;
///   Stride<S> / Stride<SH, SW>  default: the window (PyTorch's default; ONNX's is 1);
///   Dilation<D> / Dilation<DH, DW>  spacing of the taps (ONNX dilations), default 1;
///   Pad::valid (default), Pad::same, Padding<P>, Padding<PH, PW>, Padding<Top, Left, Bottom, Right>;
///   CeilMode  output size rounded up (ONNX ceil_mode=1).
/// Every window must have a tap inside the input (checked at compile time).
/// E.g. ONNX MaxPool(kernel_shape=[3, 2], strides=[2, 2], pads=[1, 0, 1, 0], ceil_mode=1):
/// MaxPool2D<3, Kernel<3, 2>, Stride<2>, Padding<1, 0, 1, 0>, CeilMode>.
template <std::size_t Window, class... Options>
struct MaxPool2D {
  template <ShapeType In, class Path>
  using bind = PoolLayer<Path, In, PoolKind::max, 2, Window, Options...>;
};

/// Mean over Window x Window windows of an H x W x C input; the options of MaxPool2D, plus
/// CountPad: padded taps count in the divisor (ONNX count_include_pad=1; the default divides by
/// the taps inside the input, count_include_pad=0). The sum runs over the taps in row-major
/// order and is multiplied by 1.0f / taps.
template <std::size_t Window, class... Options>
struct AvgPool2D {
  template <ShapeType In, class Path>
  using bind = PoolLayer<Path, In, PoolKind::average, 2, Window, Options...>;
};

/// Max over windows of Window samples of an L x C input (ONNX MaxPool on N x C x L). Options:
/// Kernel<K> (must equal Window), Stride<S> (default: Window), Dilation<D>, Pad::valid,
/// Pad::same, Padding<P> or Padding<Left, Right>, CeilMode. Output: L' x C.
template <std::size_t Window, class... Options>
struct MaxPool1D {
  template <ShapeType In, class Path>
  using bind = PoolLayer<Path, In, PoolKind::max, 1, Window, Options...>;
};

/// Mean over windows of Window samples of an L x C input; MaxPool1D's options plus CountPad.
template <std::size_t Window, class... Options>
struct AvgPool1D {
  template <ShapeType In, class Path>
  using bind = PoolLayer<Path, In, PoolKind::average, 1, Window, Options...>;
};

/// A bound GlobalAveragePool2D layer.
template <class Path, ShapeType In>
class GlobalAveragePool2DLayer {
  static_assert(In::rank == 3 || In::rank == 2,
                "GlobalAveragePool2D needs an H x W x C (or L x C) input; the input shape is the "
                "second template argument.");
  static constexpr std::size_t channels = In::rank >= 2 ? In::dims[In::rank - 1] : 1;

 public:
  using in_shape = In;
  using out_shape = Shape<channels>;
  using path = Path;
  static constexpr bool in_place = false;
  static constexpr std::size_t scratch_bytes = 0;
  static std::string describe() { return "GlobalAveragePool2D"; }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    kernels::global_avg_pool(isa::Default{}, In::size / channels, channels, in, out);
  }
};

/// Mean over all pixels: H x W x C becomes C (ready for Dense without Flatten).
struct GlobalAveragePool2D {
  template <ShapeType In, class Path>
  using bind = GlobalAveragePool2DLayer<Path, In>;
};

}  // namespace mote
