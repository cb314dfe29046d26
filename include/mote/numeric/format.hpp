#pragma once
// What a number format is. A format is an empty tag type with traits; the storage that holds
// weights in that format lives with the weight layouts (layout/), the arithmetic in kernels/.
// Adding a format: docs/design.md, "Adding a number format".

#include <concepts>
#include <cstddef>

#include "mote/numeric/f32.hpp"
#include "mote/numeric/half.hpp"
#include "mote/numeric/int8.hpp"
#include "mote/numeric/int4.hpp"
#include "mote/numeric/binary.hpp"
#include "mote/numeric/ternary.hpp"
#include "mote/numeric/codebook.hpp"

namespace mote {

/// A weight or activation number format: names its storage and accumulator types.
template <class F>
concept NumberFormat = requires {
  typename F::storage_type;
  typename F::accumulator_type;
  { F::name } -> std::convertible_to<const char*>;
  { F::bits_per_weight } -> std::convertible_to<std::size_t>;
};

}  // namespace mote
