// The SIMD kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA, inside that ISA's target region, with MOTE_SIMD_NS (namespace and vector type
// name, e.g. avx2) and MOTE_SIMD_TAG (ISA tag, e.g. Avx2) defined. The op files included here
// hold code only (no #include): they are written once against `Vec`, the ISA's vector of floats.

// Register tiles are arrays indexed by loops of compile-time length; they must be unrolled for
// the arrays to live in registers, which GCC does at -O3 but not at -O2 (measured: pointwise
// conv 3.4x slower at -O2 without this).
#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Vec = ::mote::simd::MOTE_SIMD_NS::VecF32;
using ::mote::kernels::WindowGeometry;
using DenseF32 = ::mote::WeightMatrix<::mote::F32, ::mote::DenseStorage>;

/// Calls f(std::integral_constant<std::size_t, n>{}, i) for every block [i, i + n) of
/// [first, end): blocks of `Block`, then the remainder in smaller blocks (halving, and 2 before
/// 1), since a lone row or pixel has too few accumulators to hide FMA latency. Defined per ISA
/// (inside the target region) so that the kernels' lambdas inline into it.
template <std::size_t Block, class F>
[[gnu::always_inline]] inline void in_halving_blocks(std::size_t first, std::size_t end, F&& f) {
  for (; first + Block <= end; first += Block) f(std::integral_constant<std::size_t, Block>{}, first);
  if constexpr (Block > 1) in_halving_blocks<Block == 3 ? 2 : Block / 2>(first, end, f);
}

#include "mote/kernels/elementwise/simd-inl.hpp"
#include "mote/kernels/dense/simd-inl.hpp"
#include "mote/kernels/dense/half-inl.hpp"
#include "mote/kernels/dense/binary-inl.hpp"
#include "mote/kernels/dense/codebook-inl.hpp"
#include "mote/kernels/conv2d/simd-inl.hpp"
#include "mote/kernels/depthwise/simd-inl.hpp"
#include "mote/kernels/pool/simd-inl.hpp"

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}
template <class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void conv2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const WeightMatrix<F32, DenseStorage>& weights,
                   const float* bias, const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::conv2d(g, weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void depthwise_conv2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g,
                             const WeightMatrix<F32, DenseStorage>& weights, const float* bias, const float* in,
                             float* out, Activation activation = {}) noexcept {
  // A channel multiplier above 1 reads input channel o / M for output o: no contiguous vector.
  if (g.out_c != g.in_c) return depthwise_conv2d(isa::Scalar{}, g, weights, bias, in, out, activation);
  MOTE_SIMD_NS::depthwise_conv2d(g, weights, bias, in, out, activation);
}
template <class Activation>
MOTE_KERNEL_ENTRY void activate(isa::MOTE_SIMD_TAG, Activation activation, const float* in, float* out,
                     std::size_t count) noexcept {
  MOTE_SIMD_NS::activate(activation, in, out, count);
}
MOTE_KERNEL_ENTRY void channel_affine(isa::MOTE_SIMD_TAG, const float* scale, const float* shift, const float* in, float* out,
                           std::size_t pixels, std::size_t channels) noexcept {
  MOTE_SIMD_NS::channel_affine(scale, shift, in, out, pixels, channels);
}
MOTE_KERNEL_ENTRY void add(isa::MOTE_SIMD_TAG, const float* a, const float* b, float* out, std::size_t count) noexcept {
  MOTE_SIMD_NS::add(a, b, out, count);
}
MOTE_KERNEL_ENTRY void softmax(isa::MOTE_SIMD_TAG, const float* in, float* out, std::size_t rows,
                    std::size_t channels) noexcept {
  MOTE_SIMD_NS::softmax(in, out, rows, channels);
}
MOTE_KERNEL_ENTRY void max_pool2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const float* in, float* out) noexcept {
  MOTE_SIMD_NS::max_pool2d(g, in, out);
}
MOTE_KERNEL_ENTRY void avg_pool2d(isa::MOTE_SIMD_TAG, const WindowGeometry& g, const float* in, float* out) noexcept {
  MOTE_SIMD_NS::avg_pool2d(g, in, out);
}
MOTE_KERNEL_ENTRY void global_avg_pool(isa::MOTE_SIMD_TAG, std::size_t pixels, std::size_t channels, const float* in,
                            float* out) noexcept {
  MOTE_SIMD_NS::global_avg_pool(pixels, channels, in, out);
}

// bf16 / f16 weights (kernels/dense/half-inl.hpp).
template <HalfFloatFormat Format, class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <HalfFloatFormat Format, class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Format, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}

// Codebook weights (kernels/dense/codebook-inl.hpp).
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                  const float* bias, const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <std::size_t Bits, class Granularity, class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Codebook<Bits, Granularity>, DenseStorage>& weights,
                        const float* bias, const float* in, float* out, std::size_t batch,
                        Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}

// Binary weights (kernels/dense/binary-inl.hpp): f32 activations, and XNOR-popcount with binary
// activations (bit-exact on every ISA; transcendental activations then run as a vector pass).
template <class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
}
template <class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation = {}) noexcept {
  if (batch == 1) return MOTE_SIMD_NS::dense(weights, bias, in, out, activation);
  MOTE_SIMD_NS::dense_batch(weights, bias, in, out, batch, activation);
}
template <class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void dense_xnor(isa::MOTE_SIMD_TAG, const WeightMatrix<Binary, DenseStorage>& weights, const float* bias,
                       const float* in, float* out, std::size_t batch, Activation activation,
                       std::byte* scratch) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    MOTE_SIMD_NS::dense_xnor(weights, bias, in, out, batch, activation, scratch);
  } else {
    MOTE_SIMD_NS::dense_xnor(weights, bias, in, out, batch, ::mote::activation::Identity{}, scratch);
    activate(isa::MOTE_SIMD_TAG{}, activation, out, out, batch * weights.rows());
  }
}

}  // namespace mote::kernels
