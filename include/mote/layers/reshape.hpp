#pragma once
// Reshape: a view that gives the same values another compile-time shape (ONNX Reshape of a
// tensor whose memory order mote keeps, e.g. a vector or a channels-last map read as rows).

#include <cstddef>
#include <cstring>
#include <string>

#include "mote/layers/layer.hpp"

namespace mote {

/// A bound Reshape layer.
template <class Path, ShapeType In, std::size_t... Dims>
class ReshapeLayer {
  static_assert(sizeof...(Dims) >= 1 && sizeof...(Dims) <= 3,
                "Reshape<Dims...> takes 1, 2 or 3 dimensions (mote shapes have rank 1 to 3).");
  static_assert((std::size_t{1} * ... * Dims) == In::size,
                "Reshape<Dims...>: the new shape must hold exactly as many values as the input "
                "(the input shape is the second template argument of this ReshapeLayer).");

 public:
  using in_shape = In;
  using out_shape = Shape<Dims...>;
  using path = Path;
  static constexpr bool in_place = true;
  /// Passes its input buffer through: nothing runs unless it is the last layer.
  static constexpr bool is_view = true;
  static constexpr std::size_t scratch_bytes = 0;
  static std::string describe() { return "Reshape " + out_shape::to_string(); }
  void forward(const float* in, float* out, std::byte*) const noexcept {
    if (in != out) std::memcpy(out, in, In::size * sizeof(float));
  }
};

/// The same values as a tensor of shape `Dims...` (row-major, mote's memory order).
template <std::size_t... Dims>
struct Reshape {
  template <ShapeType In, class Path>
  using bind = ReshapeLayer<Path, In, Dims...>;
};

}  // namespace mote
