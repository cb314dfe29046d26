#pragma once
// Layer options: small tag templates passed after a layer's required parameters, in any order,
// e.g. `Conv2D<16, Kernel<3>, Stride<2>, Pad::same, Weights<F32>, isa::Scalar>`.
// Each option names its kind; a layer looks options up by kind and rejects kinds it does not
// understand or that are given twice, with a sentence.

#include <cstddef>
#include <type_traits>

#include "mote/arch/isa.hpp"
#include "mote/layout/layout.hpp"
#include "mote/numeric/format.hpp"
#include "mote/numeric/weight_scales.hpp"

namespace mote {

namespace option_kind {
struct kernel {};
struct stride {};
struct dilation {};
struct padding {};
struct weights {};
struct bias {};
struct multiplier {};
struct isa {};
struct fused_activation {};
struct activations {};
struct rounding {};
struct pad_counting {};
struct weight_scales {};
}  // namespace option_kind

/// Kernel (window) size: `Kernel<3>` is 3x3, `Kernel<3, 1>` is 3 high and 1 wide.
template <std::size_t H, std::size_t W = H>
struct Kernel {
  using kind = option_kind::kernel;
  static constexpr std::size_t h = H, w = W;
};

/// Stride: `Stride<2>` in both directions, `Stride<2, 1>` as (vertical, horizontal).
template <std::size_t H, std::size_t W = H>
struct Stride {
  using kind = option_kind::stride;
  static constexpr std::size_t h = H, w = W;
};

/// Dilation of the kernel taps, like Stride.
template <std::size_t H, std::size_t W = H>
struct Dilation {
  using kind = option_kind::dilation;
  static constexpr std::size_t h = H, w = W;
};

/// Padding modes: `Pad::valid` (none, the default) and `Pad::same` (output = ceil(input /
/// stride), the extra row/column going to the bottom/right, as in TensorFlow and ONNX SAME_UPPER).
struct Pad {
  struct valid {
    using kind = option_kind::padding;
  };
  struct same {
    using kind = option_kind::padding;
  };
};

/// Explicit zero padding: `Padding<P>` on every side, `Padding<PH, PW>` (top/bottom, left/right),
/// `Padding<Top, Left, Bottom, Right>`. For Conv1D: `Padding<P>` or `Padding<Left, Right>`.
template <std::size_t... P>
struct Padding {
  static_assert(sizeof...(P) == 1 || sizeof...(P) == 2 || sizeof...(P) == 4,
                "Padding takes 1 value (all sides), 2 (vertical, horizontal) or 4 (top, left, "
                "bottom, right).");
  using kind = option_kind::padding;
  static constexpr std::size_t values[] = {P...};
};

/// Pooling: the output size rounds up (ONNX ceil_mode=1, PyTorch ceil_mode=True), so a last
/// window that starts inside the input (or its leading padding) but runs past the end of the
/// padded input is kept, clipped to the taps that exist. As in PyTorch, a window that would
/// start in the trailing padding is dropped.
struct CeilMode {
  using kind = option_kind::rounding;
};

/// Average pooling: padded taps count in the divisor (ONNX count_include_pad=1, PyTorch
/// count_include_pad=True), i.e. the padding is zeros that take part in the mean. Taps past the
/// padded input (the overhang of CeilMode) are not counted, as in PyTorch and ONNX Runtime.
struct CountPad {
  using kind = option_kind::pad_counting;
};

/// The number format and storage layout of a layer's weights.
/// `Weights<>` is f32 dense; later formats and layouts plug in here.
template <class Format = F32, class Layout = DenseStorage>
struct Weights {
  static_assert(NumberFormat<Format>,
                "Weights<Format, Layout>: Format must be a mote number format such as mote::F32.");
  static_assert(WeightLayout<Layout>,
                "Weights<Format, Layout>: Layout must be a mote weight layout such as "
                "mote::DenseStorage.");
  using kind = option_kind::weights;
  using format = Format;
  using layout = Layout;
};

/// The number format a layer multiplies its input activations in. `Activations<F32>` (the default
/// for float weights) computes in float; `Activations<Int8<PerTensor, Asymmetric>>` (the default
/// for int8 weights) or `Activations<UInt8>` quantise the layer's input (scale and zero point from
/// calibration, or from each input's own range until calibrated) and multiply in integers.
template <class Format>
struct Activations {
  static_assert(NumberFormat<Format>,
                "Activations<Format>: Format must be a mote number format such as mote::F32, "
                "mote::Int8<mote::PerTensor, mote::Asymmetric> or mote::UInt8.");
  using kind = option_kind::activations;
  using format = Format;
};

/// How an integer-weight layer (Int8, Int7, Int4) fits each scale group's range when its float
/// weights are set: `WeightScales<ScaleFit::full_range>` (the default: max |w|, nothing clipped)
/// or `WeightScales<ScaleFit::mse>` (the shrunk range with the least squared error; see
/// ScaleFit). Only the conversion changes: storage, kernels and speed are the format's.
template <ScaleFit Fit>
struct WeightScales {
  using kind = option_kind::weight_scales;
  static constexpr ScaleFit fit = Fit;
};

/// Whether a Dense/Conv layer has a bias (PyTorch `bias=False` is `Bias<false>`).
template <bool Enabled>
struct Bias {
  using kind = option_kind::bias;
  static constexpr bool enabled = Enabled;
};
using NoBias = Bias<false>;

/// Depthwise channel multiplier: each input channel yields M output channels.
template <std::size_t M>
struct Multiplier {
  using kind = option_kind::multiplier;
  static constexpr std::size_t value = M;
};

/// Applies `Function` (a functor from mote::activation) to every output in the layer's own
/// epilogue, saving a pass over memory. A network adds it by itself when an activation layer
/// directly follows a Dense/Conv/Depthwise layer; writing it by hand is equivalent.
template <class Function>
struct FusedActivation {
  using kind = option_kind::fused_activation;
  using function = Function;
};

namespace detail {

template <class Option>
struct OptionKind {
  using type = void;
};
template <class Option>
  requires requires { typename Option::kind; }
struct OptionKind<Option> {
  using type = typename Option::kind;
};
template <IsaTag Option>
struct OptionKind<Option> {
  using type = option_kind::isa;
};

template <class Option>
using option_kind_t = typename OptionKind<Option>::type;

template <class Kind, class Default, class... Options>
struct FindOption {
  using type = Default;
};
template <class Kind, class Default, class First, class... Rest>
struct FindOption<Kind, Default, First, Rest...> {
  using type = std::conditional_t<std::is_same_v<option_kind_t<First>, Kind>, First,
                                  typename FindOption<Kind, Default, Rest...>::type>;
};

template <class Kind, class... Options>
inline constexpr std::size_t count_kind_v = (std::size_t{0} + ... + std::is_same_v<option_kind_t<Options>, Kind>);

}  // namespace detail

/// The option of kind `Kind` among `Options`, or `Default`.
template <class Kind, class Default, class... Options>
using find_option_t = typename detail::FindOption<Kind, Default, Options...>::type;

namespace detail {
template <class AcceptedList>
struct AcceptsKinds;
template <class... Accepted>
struct AcceptsKinds<void(Accepted...)> {
  template <class Option>
  static constexpr bool one = (std::is_same_v<option_kind_t<Option>, Accepted> || ...);
  template <class... Options>
  static constexpr bool all = (one<Options> && ...);
};
}  // namespace detail

/// True when every option's kind is one of the kinds listed as `void(Kinds...)`.
template <class AcceptedList, class... Options>
inline constexpr bool options_accepted_v =
    detail::AcceptsKinds<AcceptedList>::template all<Options...>;

/// True when no kind appears twice among `Options`.
template <class... Options>
inline constexpr bool options_unique_v =
    ((detail::count_kind_v<detail::option_kind_t<Options>, Options...> == 1) && ...);

}  // namespace mote
