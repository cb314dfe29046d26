// Element-wise kernels for one ISA (PLACEHOLDER: scalar loops until the vector forms land).
// Code only: included per ISA by kernels/simd-inl.hpp.

template <class Activation>
inline void activate(Activation, const float* in, float* out, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) out[i] = Activation::apply(in[i]);
}
inline void channel_affine(const float* scale, const float* shift, const float* in, float* out, std::size_t pixels,
                           std::size_t channels) noexcept {
  ::mote::kernels::channel_affine(isa::Scalar{}, scale, shift, in, out, pixels, channels);
}
inline void add(const float* a, const float* b, float* out, std::size_t count) noexcept {
  ::mote::kernels::add(isa::Scalar{}, a, b, out, count);
}
inline void softmax(const float* in, float* out, std::size_t rows, std::size_t channels) noexcept {
  ::mote::kernels::softmax(isa::Scalar{}, in, out, rows, channels);
}
