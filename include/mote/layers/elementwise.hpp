#pragma once
// Shape-preserving layers: activations, Softmax, Flatten and BatchNorm. They run in place
// (input and output may be the same buffer), which lets the network plan reuse activations.

#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>

#include "mote/core/aligned.hpp"
#include "mote/kernels/dispatch.hpp"
#include "mote/layers/layer.hpp"
#include "mote/layers/weighted.hpp"

namespace mote {

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
  static std::string describe() { return Function::name; }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    kernels::activate(isa::Default{}, Function{}, in, out, In::size);
  }
};

/// Wraps an activation functor from mote::activation as a layer spec.
template <class Function>
struct ActivationSpec {
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
  static std::string describe() { return std::string(Function::name) + " (fused into the previous layer)"; }
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

}  // namespace mote
