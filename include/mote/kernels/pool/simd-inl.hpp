// Pooling kernels for one ISA (PLACEHOLDER: the scalar reference until the vector forms land).
// Code only: included per ISA by kernels/simd-inl.hpp.

inline void max_pool2d(const WindowGeometry& g, const float* in, float* out) noexcept {
  ::mote::kernels::max_pool2d(isa::Scalar{}, g, in, out);
}
inline void avg_pool2d(const WindowGeometry& g, const float* in, float* out) noexcept {
  ::mote::kernels::avg_pool2d(isa::Scalar{}, g, in, out);
}
inline void global_avg_pool(std::size_t pixels, std::size_t channels, const float* in, float* out) noexcept {
  ::mote::kernels::global_avg_pool(isa::Scalar{}, pixels, channels, in, out);
}
