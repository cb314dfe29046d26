// The int8 kernels of one ISA. No include guard on purpose: arch/targets.hpp includes this file
// once per ISA that has integer dot-product primitives (arch/<family>/<isa>_int8.hpp), inside
// that ISA's target region, with MOTE_SIMD_NS and MOTE_SIMD_TAG defined as for simd-inl.hpp, and
// MOTE_SIMD_FLOAT_NS where the ISA's float kernels are its parent's (VNNI: AVX-512's).
// MOTE_SIMD_INT8_GEMM_ONLY: the ISA changes only the GEMM (AMX), so only the kernels built on it
// (Dense and Conv2D) are compiled again; the block-sparse and depthwise kernels stay its parent's
// through the tags, which saves their instantiation in every translation unit.

#if !defined(MOTE_UNROLL)
#define MOTE_UNROLL _Pragma("GCC unroll 32")
#endif

namespace mote::kernels::MOTE_SIMD_NS {

using Int8Ops = ::mote::simd::MOTE_SIMD_NS::Int8Ops;
using ::mote::align_up;
#if defined(MOTE_SIMD_FLOAT_NS)
namespace float_kernels = ::mote::kernels::MOTE_SIMD_FLOAT_NS;
#else
namespace float_kernels = ::mote::kernels::MOTE_SIMD_NS;
#endif

#include "mote/kernels/dense/int8-inl.hpp"
#if !defined(MOTE_SIMD_INT8_GEMM_ONLY)
#include "mote/kernels/dense/sparse_int8-inl.hpp"
#endif
#include "mote/kernels/conv2d/int8-inl.hpp"
#if !defined(MOTE_SIMD_INT8_GEMM_ONLY)
#include "mote/kernels/depthwise/int8-inl.hpp"
#endif
#if defined(MOTE_SIMD_HAS_INT4)
using Int4Ops = ::mote::simd::MOTE_SIMD_NS::Int4Ops;
#include "mote/kernels/dense/int4-inl.hpp"
#include "mote/kernels/conv2d/int4-inl.hpp"
#endif

}  // namespace mote::kernels::MOTE_SIMD_NS

namespace mote::kernels {

namespace MOTE_SIMD_NS {
/// Runs kernel(activation) with a piecewise-linear activation fused into the kernel's epilogue.
/// Transcendental activations run kernel(Identity) and then this ISA's vectorised function over
/// the `count` outputs (their stated bounds), instead of one libm call per output in the scalar
/// epilogue.
template <class Activation, class Kernel>
inline void with_activation(Activation activation, float* out, std::size_t count, Kernel&& kernel) noexcept {
  if constexpr (::mote::activation::is_piecewise_linear_v<Activation>) {
    kernel(activation);
  } else {
    kernel(::mote::activation::Identity{});
    ::mote::kernels::activate(isa::MOTE_SIMD_TAG{}, activation, out, out, count);
  }
}
}  // namespace MOTE_SIMD_NS

/// Every int8 weight storage this ISA has a kernel for: dense (kernels/dense/int8-inl.hpp) and
/// block-sparse (kernels/dense/sparse_int8-inl.hpp). The input is floats, or (dense storage) the
/// codes the previous layer handed over; the output floats, or (dense storage) the next layer's
/// codes (Int8CodesOut, whose requantisation holds the fused ReLU/ReLU6 as its code range).
template <class Matrix, class In, class Out, class Activation>
  requires requires(const Matrix& weights, const Int8InputQuant& input, std::byte* scratch) {
    MOTE_SIMD_NS::dense_int8(weights, nullptr, static_cast<const In*>(nullptr), std::declval<Out>(), std::size_t{},
                             input, ::mote::activation::Identity{}, scratch);
  }
MOTE_KERNEL_ENTRY void dense_int8(isa::MOTE_SIMD_TAG, const Matrix& weights, const float* bias, const In* in,
                                  Out out, std::size_t batch, const Int8InputQuant& input, Activation activation,
                                  std::byte* scratch) noexcept {
  if constexpr (is_codes_out_v<Out>) {
    MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, ::mote::activation::Identity{}, scratch);
  } else {
    MOTE_SIMD_NS::with_activation(activation, out, batch * weights.rows(), [&](auto fused) {
      MOTE_SIMD_NS::dense_int8(weights, bias, in, out, batch, input, fused, scratch);
    });
  }
}

/// int8 Conv2D over channels-last input (kernels/conv2d/int8-inl.hpp); In and Out as for
/// dense_int8.
template <class G, class S, class In, class Out, class Activation>
MOTE_KERNEL_ENTRY void conv2d_int8(isa::MOTE_SIMD_TAG, const WindowGeometry& window,
                                   const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                                   const In* in, Out out, const Int8InputQuant& input, Activation activation,
                                   std::byte* scratch) noexcept {
  if constexpr (is_codes_out_v<Out>) {
    MOTE_SIMD_NS::conv2d_int8(window, weights, bias, in, out, input, ::mote::activation::Identity{}, scratch);
  } else {
    MOTE_SIMD_NS::with_activation(activation, out, window.out_h * window.out_w * weights.rows(), [&](auto fused) {
      MOTE_SIMD_NS::conv2d_int8(window, weights, bias, in, out, input, fused, scratch);
    });
  }
}

#if !defined(MOTE_SIMD_INT8_GEMM_ONLY)
/// int8 depthwise Conv2D over channels-last input (kernels/depthwise/int8-inl.hpp); In and Out as
/// for dense_int8.
template <class G, class S, class In, class Out, class Activation>
MOTE_KERNEL_ENTRY void depthwise_int8(isa::MOTE_SIMD_TAG, const WindowGeometry& window,
                                      const WeightMatrix<Int8<G, S>, DenseStorage>& weights, const float* bias,
                                      const In* in, Out out, const Int8InputQuant& input, Activation activation,
                                      std::byte* scratch) noexcept {
  if constexpr (is_codes_out_v<Out>) {
    MOTE_SIMD_NS::depthwise_int8(window, weights, bias, in, out, input, ::mote::activation::Identity{}, scratch);
  } else {
    MOTE_SIMD_NS::with_activation(activation, out, window.out_h * window.out_w * window.out_c, [&](auto fused) {
      MOTE_SIMD_NS::depthwise_int8(window, weights, bias, in, out, input, fused, scratch);
    });
  }
}
#endif

#if defined(MOTE_SIMD_HAS_INT4)
template <std::size_t G, class Activation>
MOTE_KERNEL_ENTRY void dense_int4(isa::MOTE_SIMD_TAG, const WeightMatrix<Int4<G>, DenseStorage>& weights,
                                  const float* bias, const float* in, float* out, std::size_t batch,
                                  const Int8InputQuant& input, Activation activation, std::byte* scratch) noexcept {
  MOTE_SIMD_NS::with_activation(activation, out, batch * weights.rows(), [&](auto fused) {
    MOTE_SIMD_NS::dense_int4(weights, bias, in, out, batch, input, fused, scratch);
  });
}

/// int4 Conv2D over channels-last input (kernels/conv2d/int4-inl.hpp).
template <std::size_t G, class Activation>
MOTE_KERNEL_ENTRY void conv2d_int4(isa::MOTE_SIMD_TAG, const WindowGeometry& window,
                                   const WeightMatrix<Int4<G>, DenseStorage>& weights, const float* bias,
                                   const float* in, float* out, const Int8InputQuant& input, Activation activation,
                                   std::byte* scratch) noexcept {
  MOTE_SIMD_NS::with_activation(activation, out, window.out_h * window.out_w * weights.rows(), [&](auto fused) {
    MOTE_SIMD_NS::conv2d_int4(window, weights, bias, in, out, input, fused, scratch);
  });
}
#endif

}  // namespace mote::kernels
