#pragma once
// Shape-preserving layers: activations, Softmax, Flatten, BatchNorm and AddConstant/MulConstant.
// They run in place (input and output may be the same buffer), which lets the network plan reuse
// activations.

#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>

#include "mote/core/aligned.hpp"
#include "mote/kernels/dispatch.hpp"
#include "mote/layers/layer.hpp"
#include "mote/layers/weighted.hpp"
#include "mote/numeric/int8.hpp"

namespace mote {

namespace detail {
/// An activation's description: its describe() where it has one (parameters included, e.g.
/// "Clip<0, 6>"), else its name.
template <class Function>
std::string activation_description() {
  if constexpr (requires { Function::describe(); }) return Function::describe();
  else return Function::name;
}
}  // namespace detail

/// A bound activation layer applying `Function` element-wise.
template <class Path, ShapeType In, class Function>
class ActivationLayer {
  static_assert(!In::has_zero_dim, "An activation received an empty tensor.");

 public:
  using in_shape = In;
  using out_shape = In;
  using path = Path;
  using function = Function;
  static constexpr bool in_place = true;
  static constexpr std::size_t scratch_bytes = 0;
  static std::string describe() { return detail::activation_description<Function>(); }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    kernels::activate(isa::Default{}, Function{}, in, out, In::size);
  }
};

/// Wraps an activation functor from mote::activation as a layer spec.
template <class Function>
struct ActivationSpec {
  // Completes the functor here, so that its own checks (e.g. Clip's Lo <= Hi) fire where the
  // spec is used, even when the activation ends up fused into the previous layer.
  static_assert(std::is_empty_v<Function>, "An activation functor holds no state: its apply() is static.");
  using function = Function;
  template <ShapeType In, class Path>
  using bind = ActivationLayer<Path, In, Function>;
};

/// What an activation layer becomes once its function runs in the preceding layer's epilogue:
/// a view that passes the buffer through (and copies only when it is the network's last layer).
template <class Path, ShapeType In, class Function>
class FusedActivationLayer {
 public:
  using in_shape = In;
  using out_shape = In;
  using path = Path;
  static constexpr bool in_place = true;
  static constexpr bool is_view = true;
  static constexpr std::size_t scratch_bytes = 0;
  static std::string describe() {
    return detail::activation_description<Function>() + " (fused into the previous layer)";
  }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    if (in != out) std::memcpy(out, in, In::size * sizeof(float));
  }
};

/// max(x, 0).
struct ReLU : ActivationSpec<activation::Relu> {};
/// min(max(x, 0), 6).
struct ReLU6 : ActivationSpec<activation::Relu6> {};
/// x for x >= 0, slope * x otherwise, slope = Numerator / Denominator.
template <int Numerator, int Denominator>
struct LeakyReLUSlope : ActivationSpec<activation::LeakyRelu<Numerator, Denominator>> {};
/// LeakyReLU with PyTorch's default slope 0.01.
struct LeakyReLU : LeakyReLUSlope<1, 100> {};
/// ONNX LeakyRelu(alpha): x for x >= 0, Alpha * x otherwise, Alpha converted to float
/// (`LeakyReLUAlpha<0.1f>`; any arithmetic value, e.g. `LeakyReLUAlpha<0>`).
template <auto Alpha>
struct LeakyReLUAlpha : ActivationSpec<activation::LeakyReluAlpha<Alpha>> {};
/// ONNX Clip(min, max): min(max(x, Lo), Hi), the bounds converted to float. `Clip<0, 6>` works
/// on every C++20 compiler; `Clip<-0.5f, 1.5f>` where floating-point template arguments are
/// accepted (GCC 11 and later; not Clang 14). An infinite bound leaves that side open. NaN
/// propagates.
template <auto Lo, auto Hi>
struct Clip : ActivationSpec<activation::Clip<Lo, Hi>> {};
/// ONNX HardSigmoid(alpha, beta): max(0, min(1, alpha * x + beta)) with alpha and beta converted
/// to float and the product and sum rounded separately, as ONNX's reference does. PyTorch's
/// nn.Hardsigmoid exports as alpha = 1/6, beta = 0.5: `HardSigmoidWith<1.0f / 6, 0.5f>`.
template <auto Alpha, auto Beta>
struct HardSigmoidWith : ActivationSpec<activation::HardSigmoid<activation::HardSigmoidValues<Alpha, Beta>>> {};
/// HardSigmoid with ONNX's default attributes alpha = 0.2, beta = 0.5 (no floating-point
/// template argument needed).
struct HardSigmoid : ActivationSpec<activation::HardSigmoid<activation::OnnxHardSigmoidDefaults>> {};
/// 1 / (1 + exp(-x)).
struct Sigmoid : ActivationSpec<activation::Sigmoid> {};
/// tanh(x).
struct Tanh : ActivationSpec<activation::Tanh> {};
/// x * ReLU6(x + 3) / 6.
struct HardSwish : ActivationSpec<activation::HardSwish> {};
/// x * Phi(x), the exact erf form.
struct GELU : ActivationSpec<activation::Gelu> {};

/// A bound Softmax layer: softmax over the last axis (the classes of a vector, the channels of
/// each pixel of a feature map).
template <class Path, ShapeType In>
class SoftmaxLayer {
  static_assert(!In::has_zero_dim, "Softmax received an empty tensor.");

 public:
  using in_shape = In;
  using out_shape = In;
  using path = Path;
  static constexpr bool in_place = true;
  static constexpr std::size_t scratch_bytes = 0;
  static std::string describe() { return "Softmax"; }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    kernels::softmax(isa::Default{}, in, out, In::size / In::channels, In::channels);
  }
};

/// Softmax over the last axis.
struct Softmax {
  template <ShapeType In, class Path>
  using bind = SoftmaxLayer<Path, In>;
};

/// A bound Flatten layer: channels-last data is already contiguous, so this only renames the
/// shape (and copies when it must write to a different buffer).
template <class Path, ShapeType In>
class FlattenLayer {
 public:
  using in_shape = In;
  using out_shape = FlatShape<In>;
  using path = Path;
  static constexpr bool in_place = true;
  /// Passes its input buffer through (even the caller's): nothing runs unless it is last.
  static constexpr bool is_view = true;
  static constexpr std::size_t scratch_bytes = 0;
  static std::string describe() { return "Flatten"; }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    if (in != out) std::memcpy(out, in, In::size * sizeof(float));
  }
};

/// Flattens to 1-D in mote's (H, W, C) order. A following Dense loading PyTorch weights
/// reorders its columns from PyTorch's (C, H, W) flatten order automatically.
struct Flatten {
  template <ShapeType In, class Path>
  using bind = FlattenLayer<Path, In>;
};

/// A bound BatchNorm layer (inference form, per channel = last axis).
template <class Path, ShapeType In, int EpsilonExponent>
class BatchNormLayer {
  static constexpr std::size_t channels = In::channels;
  static_assert(!In::has_zero_dim, "BatchNorm received an empty tensor.");

 public:
  using in_shape = In;
  using out_shape = In;
  using path = Path;
  static constexpr bool in_place = true;
  static constexpr std::size_t scratch_bytes = 0;
  static constexpr std::size_t param_count = 4;
  static constexpr double epsilon = [] {
    double e = 1.0;
    for (int i = 0; i < -EpsilonExponent; ++i) e /= 10.0;
    return e;
  }();

  BatchNormLayer() : params_(4 * channels), scale_(channels), shift_(channels) {
    for (std::size_t c = 0; c < channels; ++c) scale_[c] = 1.0f;
  }
  static std::string describe() { return "BatchNorm"; }
  static ParamSpec param_spec(std::size_t index) {
    constexpr const char* names[] = {"weight", "bias", "running_mean", "running_var"};
    return detail::param(names[index], channels);
  }
  /// Parameters arrive as gamma, beta, mean, variance; scale/shift are recomputed each time,
  /// which also undoes an earlier folding (weights are always set as a whole).
  void set_param(std::size_t index, const float* values) {
    for (std::size_t c = 0; c < channels; ++c) params_[index * channels + c] = values[c];
    folded_ = false;
    for (std::size_t c = 0; c < channels; ++c) {
      const double gamma = params_[c], beta = params_[channels + c];
      const double mean = params_[2 * channels + c], variance = params_[3 * channels + c];
      const double scale = gamma / std::sqrt(variance + epsilon);
      scale_[c] = static_cast<float>(scale);
      shift_[c] = static_cast<float>(beta - mean * scale);
    }
  }
  const float* scale() const noexcept { return scale_.data(); }
  const float* shift() const noexcept { return shift_.data(); }
  /// Called by the network after the preceding layer absorbed scale and shift.
  void mark_folded() noexcept { folded_ = true; }
  bool folded() const noexcept { return folded_; }
  std::size_t weight_bytes() const noexcept { return folded_ ? 0 : 2 * channels * sizeof(float); }

  void forward(const float* in, float* out, std::byte*) const noexcept {
    if (folded_) {
      if (in != out) std::memcpy(out, in, In::size * sizeof(float));
      return;
    }
    kernels::channel_affine(isa::Default{}, scale_.data(), shift_.data(), in, out,
                            In::size / channels, channels);
  }

 private:
  AlignedBuffer<float> params_;
  AlignedBuffer<float> scale_;
  AlignedBuffer<float> shift_;
  bool folded_ = false;
};

/// Inference BatchNorm with epsilon = 10^EpsilonExponent (PyTorch BatchNorm1d/2d in eval
/// mode). Folded into a directly preceding Dense/Conv/Depthwise layer when weights are set, so
/// it then costs nothing.
template <int EpsilonExponent>
struct BatchNormEpsilon {
  static_assert(EpsilonExponent < 0, "BatchNormEpsilon<E>: epsilon is 10^E and must be below 1.");
  template <ShapeType In, class Path>
  using bind = BatchNormLayer<Path, In, EpsilonExponent>;
};
/// BatchNorm with PyTorch's default epsilon 1e-5.
struct BatchNorm : BatchNormEpsilon<-5> {};

enum class ConstantOp { add, multiply };

namespace detail {
template <class Broadcast>
inline constexpr bool is_constant_broadcast_v = std::is_same_v<Broadcast, PerTensor> ||
                                                std::is_same_v<Broadcast, PerChannel> ||
                                                std::is_same_v<Broadcast, PerElement>;
}  // namespace detail

/// A bound AddConstant/MulConstant layer. Both run as the per-channel affine kernel
/// out = in * scale + shift over rows of `row` elements: add as in * 1 + value, multiply as
/// in * value + (-0), which are exactly in + value and in * value (x * 1 == x and y + -0 == y
/// for every float, -0 and NaN included, with or without FMA contraction), so both are
/// bit-exact with a plain loop on every ISA. The values are repeated to fill a row (a multiple
/// of their period that divides the tensor, up to 1024 floats), which keeps the kernel on full
/// vectors for PerTensor and few channels. A per-element addition uses the addition kernel.
template <class Path, ShapeType In, ConstantOp Op, class Broadcast>
class ConstantLayer {
  static_assert(detail::is_constant_broadcast_v<Broadcast>,
                "AddConstant/MulConstant<Broadcast>: Broadcast must be mote::PerTensor (one value), "
                "mote::PerChannel (one per channel, the last axis) or mote::PerElement (one per element).");
  static_assert(!In::has_zero_dim, "AddConstant/MulConstant received an empty tensor.");
  static constexpr bool per_element_add = Op == ConstantOp::add && std::is_same_v<Broadcast, PerElement>;

 public:
  using in_shape = In;
  using out_shape = In;
  using path = Path;
  using broadcast = Broadcast;
  static constexpr bool in_place = true;
  static constexpr std::size_t scratch_bytes = 0;
  static constexpr std::size_t param_count = 1;
  /// Number of values: 1, the channels (last axis) or every element (in mote's channels-last order).
  static constexpr std::size_t value_count = std::is_same_v<Broadcast, PerTensor>    ? 1
                                             : std::is_same_v<Broadcast, PerChannel> ? In::channels
                                                                                     : In::size;
  /// Length of the rows the kernel runs over: value_count * k for the largest k dividing
  /// In::size / value_count with value_count * k <= max(value_count, 1024).
  static constexpr std::size_t row = [] {
    const std::size_t repeats = In::size / value_count;
    std::size_t best = 1;
    for (std::size_t k = 1; k <= repeats && value_count * k <= 1024; ++k)
      if (repeats % k == 0) best = k;
    return value_count * best;
  }();

  /// Starts as the exact identity (adds -0, multiplies by 1) until the value is set.
  ConstantLayer() : scale_(per_element_add ? 0 : row), shift_(row) {
    for (std::size_t i = 0; i < row; ++i) {
      if constexpr (!per_element_add) scale_[i] = 1.0f;
      shift_[i] = -0.0f;
    }
  }
  static std::string describe() {
    const char* broadcast = std::is_same_v<Broadcast, PerTensor>    ? "per tensor"
                            : std::is_same_v<Broadcast, PerChannel> ? "per channel"
                                                                    : "per element";
    return std::string(Op == ConstantOp::add ? "AddConstant<" : "MulConstant<") + broadcast + ">";
  }
  /// One parameter, "value": shape [1] (PerTensor), [C] (PerChannel) or [In::size] (PerElement,
  /// in mote's channels-last order: an ONNX NCHW constant must be transposed to HWC first).
  static ParamSpec param_spec(std::size_t) { return detail::param("value", value_count); }
  void set_param(std::size_t, const float* values) {
    float* target = Op == ConstantOp::add ? shift_.data() : scale_.data();
    for (std::size_t i = 0; i < row; ++i) target[i] = values[i % value_count];
  }
  /// The constant as set (value_count floats).
  const float* value() const noexcept { return Op == ConstantOp::add ? shift_.data() : scale_.data(); }
  /// Bytes held for the kernel: the values repeated to a row, plus the row of ones (add) or of
  /// -0 (multiply) that completes the affine map, except for a per-element addition.
  std::size_t weight_bytes() const noexcept { return (scale_.size() + shift_.size()) * sizeof(float); }

  void forward(const float* in, float* out, std::byte*) const noexcept {
    if constexpr (per_element_add)
      kernels::add(isa::Default{}, in, shift_.data(), out, In::size);
    else
      kernels::channel_affine(isa::Default{}, scale_.data(), shift_.data(), in, out, In::size / row, row);
  }

 private:
  AlignedBuffer<float> scale_;
  AlignedBuffer<float> shift_;
};

/// ONNX Add with a constant operand that could not be folded into a preceding layer:
/// out = in + value, `Broadcast` = mote::PerTensor (value shape [1]), mote::PerChannel ([C], C
/// the last axis) or mote::PerElement ([In::size], channels-last order). One parameter named
/// "value"; runs in place; bit-exact with a plain loop.
template <class Broadcast>
struct AddConstant {
  static_assert(detail::is_constant_broadcast_v<Broadcast>,
                "AddConstant<Broadcast>: Broadcast must be mote::PerTensor (one value), mote::PerChannel "
                "(one per channel, the last axis) or mote::PerElement (one per element).");
  template <ShapeType In, class Path>
  using bind = ConstantLayer<Path, In, ConstantOp::add, Broadcast>;
};

/// ONNX Mul by a constant that could not be folded into a preceding layer: out = in * value,
/// with the same `Broadcast` choices and parameter as AddConstant.
template <class Broadcast>
struct MulConstant {
  static_assert(detail::is_constant_broadcast_v<Broadcast>,
                "MulConstant<Broadcast>: Broadcast must be mote::PerTensor (one value), mote::PerChannel "
                "(one per channel, the last axis) or mote::PerElement (one per element).");
  template <ShapeType In, class Path>
  using bind = ConstantLayer<Path, In, ConstantOp::multiply, Broadcast>;
};

}  // namespace mote
