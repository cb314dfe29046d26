#pragma once
// What a weight layout is. A layout is a tag type; `WeightMatrix<Format, Layout>` is the
// storage specialised for each supported (format, layout) pair and is the only thing kernels
// see. Adding a layout: docs/design.md, "Adding a weight layout".

#include <concepts>

#include "mote/layout/dense.hpp"
#include "mote/layout/dense_half.hpp"
#include "mote/layout/dense_int8.hpp"
#include "mote/layout/dense_int4.hpp"
#include "mote/layout/dense_binary.hpp"
#include "mote/layout/dense_ternary.hpp"
#include "mote/layout/dense_codebook.hpp"
#include "mote/layout/sparse.hpp"
#include "mote/layout/sparse_int8.hpp"

namespace mote {

/// A weight storage layout tag.
template <class L>
concept WeightLayout = requires {
  { L::name } -> std::convertible_to<const char*>;
};

namespace detail {
template <class Format, class Layout>
concept HasWeightMatrix = requires { sizeof(WeightMatrix<Format, Layout>); };
}  // namespace detail

/// True when mote can store weights of `Format` in `Layout`.
template <class Format, class Layout>
inline constexpr bool has_weight_storage_v = detail::HasWeightMatrix<Format, Layout>;

}  // namespace mote
