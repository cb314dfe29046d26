#pragma once
// 4-bit integer weights with one scale per group of input columns: two weights per byte.

#include <cstddef>
#include <cstdint>

namespace mote {

/// Signed 4-bit weights, symmetric (codes [-7, 7], zero point 0), with one float scale per
/// `GroupSize` consecutive input columns of each output channel; `Int4<0>` has one scale per
/// output channel (the whole row is one group). GroupSize must be a multiple of 32, the block
/// the kernels accumulate in 16-bit integers before widening. 0.5 byte per weight plus 4 bytes
/// per group of each row. Activations are int8 or uint8 (as with Int8 weights); products
/// accumulate exactly in integers within a group and in f32 across groups.
template <std::size_t GroupSize = 32>
struct Int4 {
  static_assert(GroupSize % 32 == 0,
                "Int4<GroupSize>: the group size must be a multiple of 32 (or 0 for one scale per "
                "output channel).");
  using storage_type = std::uint8_t;
  using accumulator_type = std::int32_t;
  static constexpr const char* name = "int4";
  static constexpr std::size_t bits_per_weight = 4;
  static constexpr std::size_t group_size = GroupSize;
  static constexpr bool per_channel = GroupSize == 0;
  static constexpr bool symmetric = true;
  static constexpr std::int32_t min_code = -7;
  static constexpr std::int32_t max_code = 7;
};

template <class F>
inline constexpr bool is_int4_format_v = false;
template <std::size_t G>
inline constexpr bool is_int4_format_v<Int4<G>> = true;

}  // namespace mote
