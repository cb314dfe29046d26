#pragma once
// Kernel entry points for isa::Dynamic: each forwards to the overload of the ISA selected at run
// time (arch::selected_isa()). One switch per layer call; the kernels themselves are compiled
// for every ISA in arch/targets.hpp.

#include <cstddef>

#include "mote/arch/targets.hpp"

namespace mote::kernels {

template <class... Args>
inline void dense(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { dense(tag, args...); });
}
template <class... Args>
inline void dense_batch(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { dense_batch(tag, args...); });
}
template <class... Args>
inline void dense_int8(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { dense_int8(tag, args...); });
}
template <class... Args>
inline void conv2d_int8(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { conv2d_int8(tag, args...); });
}
template <class... Args>
inline void depthwise_int8(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { depthwise_int8(tag, args...); });
}
template <class... Args>
inline void dense_xnor(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { dense_xnor(tag, args...); });
}
template <class... Args>
inline void dense_int4(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { dense_int4(tag, args...); });
}
template <class... Args>
inline void conv2d_int4(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { conv2d_int4(tag, args...); });
}
template <class... Args>
inline void conv2d(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { conv2d(tag, args...); });
}
template <class... Args>
inline void depthwise_conv2d(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { depthwise_conv2d(tag, args...); });
}
template <class Activation>
inline void activate(isa::Dynamic, Activation activation, const float* in, float* out, std::size_t count) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { activate(tag, activation, in, out, count); });
}
template <class... Args>
inline void channel_affine(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { channel_affine(tag, args...); });
}
template <class... Args>
inline void add(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { add(tag, args...); });
}
template <class... Args>
inline void softmax(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { softmax(tag, args...); });
}
template <class... Args>
inline void max_pool2d(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { max_pool2d(tag, args...); });
}
template <class... Args>
inline void avg_pool2d(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { avg_pool2d(tag, args...); });
}
template <class... Args>
inline void global_avg_pool(isa::Dynamic, const Args&... args) noexcept {
  arch::with_isa(arch::selected_isa(), [&](auto tag) { global_avg_pool(tag, args...); });
}

}  // namespace mote::kernels
