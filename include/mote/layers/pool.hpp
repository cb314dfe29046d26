#pragma once
// Pooling over channels-last feature maps: MaxPool2D, AvgPool2D, GlobalAveragePool2D.

#include <cstddef>
#include <string>

#include "mote/kernels/dispatch.hpp"
#include "mote/layers/layer.hpp"
#include "mote/layers/window.hpp"

namespace mote {

enum class PoolKind { max, average };

/// A bound MaxPool2D/AvgPool2D layer.
template <class Path, ShapeType In, PoolKind Kind, std::size_t Window, class... Options>
class Pool2DLayer {
  using stride = find_option_t<option_kind::stride, Stride<Window>, Options...>;
  using padding = find_option_t<option_kind::padding, Pad::valid, Options...>;
  static constexpr std::size_t in_h = In::rank == 3 ? In::dims[0] : 1;
  static constexpr std::size_t in_w = In::rank == 3 ? In::dims[1] : 1;
  static constexpr std::size_t channels = In::rank == 3 ? In::dims[2] : 1;
  static constexpr detail::AxisWindow vertical = detail::resolve_axis<padding, 0, 2>(in_h, Window, stride::h, 1);
  static constexpr detail::AxisWindow horizontal = detail::resolve_axis<padding, 1, 2>(in_w, Window, stride::w, 1);
  static_assert(In::rank == 3,
                "MaxPool2D/AvgPool2D need an H x W x C input; this layer received a tensor of "
                "another rank (the input shape is the second template argument).");
  static_assert(options_accepted_v<void(option_kind::stride, option_kind::padding), Options...>,
                "MaxPool2D/AvgPool2D options may only be Stride and Pad::valid/Pad::same/Padding.");
  static_assert(options_unique_v<Options...>, "MaxPool2D/AvgPool2D: the same kind of option is given twice.");
  static_assert(Window > 0 && stride::h > 0 && stride::w > 0,
                "MaxPool2D/AvgPool2D: the window and the stride must be at least 1.");
  static_assert(vertical.fits() && horizontal.fits(),
                "MaxPool2D/AvgPool2D: the window is larger than the padded input. The layer "
                "position and the input shape are the first template arguments.");
  static_assert(vertical.pad_before < Window && vertical.pad_after < Window &&
                    horizontal.pad_before < Window && horizontal.pad_after < Window,
                "MaxPool2D/AvgPool2D: padding must be smaller than the window, or a window could "
                "lie entirely in the padding.");
  static constexpr kernels::WindowGeometry window{
      in_h, in_w, channels, vertical.out(), horizontal.out(), channels, Window, Window,
      stride::h, stride::w, 1, 1, vertical.pad_before, horizontal.pad_before};

 public:
  using in_shape = In;
  using out_shape = Shape<window.out_h, window.out_w, channels>;
  using path = Path;
  static constexpr bool in_place = false;
  static constexpr std::size_t scratch_bytes = 0;

  static std::string describe() {
    return std::string(Kind == PoolKind::max ? "MaxPool2D<" : "AvgPool2D<") + std::to_string(Window) +
           (stride::h != Window || stride::w != Window ? ", stride " + std::to_string(stride::h) : std::string()) + ">";
  }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    if constexpr (Kind == PoolKind::max) kernels::max_pool2d(isa::Default{}, window, in, out);
    else kernels::avg_pool2d(isa::Default{}, window, in, out);
  }
};

/// Max over `Window` x `Window` windows; options `Stride<>` (default: the window), padding
/// (padded taps are ignored). NaN propagates.
template <std::size_t Window, class... Options>
struct MaxPool2D {
  template <ShapeType In, class Path>
  using bind = Pool2DLayer<Path, In, PoolKind::max, Window, Options...>;
};

/// Mean over `Window` x `Window` windows; padded taps are not counted (count_include_pad=False).
template <std::size_t Window, class... Options>
struct AvgPool2D {
  template <ShapeType In, class Path>
  using bind = Pool2DLayer<Path, In, PoolKind::average, Window, Options...>;
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
