// The sparse f32 kernels of one ISA that has `Tile8` primitives (AVX2, NEON). No include guard
// on purpose: arch/targets.hpp includes this file inside those ISAs' target regions, with
// MOTE_SIMD_NS and MOTE_SIMD_TAG defined. ISAs without their own overloads use their parent's
// through the tags' inheritance: AVX-512 runs the AVX2 kernels (the tiles are 8 rows), SSE4 the
// scalar ones.

namespace mote::kernels::MOTE_SIMD_NS {

#include "mote/kernels/dense/sparse-inl.hpp"

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

template <class Pattern, class Activation = activation::Identity>
MOTE_KERNEL_ENTRY void dense(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, Sparse<Pattern>>& weights, const float* bias,
                  const float* in, float* out, Activation activation = {}) noexcept {
  MOTE_SIMD_NS::dense_sparse(weights, bias, in, out);
  if constexpr (!std::is_same_v<Activation, ::mote::activation::Identity>)
    MOTE_SIMD_NS::activate(activation, out, out, weights.rows());
}
/// Groups of 8 samples as a GEMM with the samples in the vector lanes, the rest 4 at a time
/// sharing every weight load (kernels/dense/sparse-inl.hpp). `scratch`: at least
/// sparse_batch_scratch_bytes(weights.cols(), batch) bytes, 32-byte aligned.
template <class Pattern, class Activation>
MOTE_KERNEL_ENTRY void dense_batch(isa::MOTE_SIMD_TAG, const WeightMatrix<F32, Sparse<Pattern>>& weights, const float* bias,
                        const float* in, float* out, std::size_t batch, Activation activation, std::byte* scratch) noexcept {
  MOTE_SIMD_NS::dense_sparse_batch(weights, bias, in, out, batch, reinterpret_cast<float*>(scratch));
  if constexpr (!std::is_same_v<Activation, ::mote::activation::Identity>)
    MOTE_SIMD_NS::activate(activation, out, out, batch * weights.rows());
}

}  // namespace mote::kernels
