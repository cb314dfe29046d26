#pragma once
// Compiles mote's SIMD kernels once per ISA into one translation unit, whatever its compiler
// flags: each ISA's vector type (arch/<family>/<isa>.hpp) and the generic kernels
// (kernels/simd-inl.hpp, written once against that vector type) are included inside a region
// where every function gets that ISA's target attribute, and inside a namespace of its own.
// This is how a binary built for baseline x86-64 carries AVX2 and AVX-512 kernels and picks one
// at run time (isa::Dynamic, arch/cpu.hpp), without per-ISA translation units or a library.
//
// Define MOTE_NO_SIMD to keep only the scalar reference kernels.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "mote/arch/cpu.hpp"
#include "mote/arch/isa.hpp"
#include "mote/kernels/dense/reference.hpp"
#include "mote/kernels/dense/half_reference.hpp"
#include "mote/kernels/dense/binary_reference.hpp"
#include "mote/kernels/dense/codebook_reference.hpp"
#include "mote/kernels/conv2d/reference.hpp"
#include "mote/kernels/depthwise/reference.hpp"
#include "mote/kernels/elementwise/reference.hpp"
#include "mote/kernels/pool/reference.hpp"
#include "mote/kernels/dense/int8_reference.hpp"
#include "mote/kernels/conv2d/int8_reference.hpp"
#include "mote/kernels/depthwise/int8_reference.hpp"
#include "mote/kernels/dense/int4_reference.hpp"
#include "mote/kernels/conv2d/int4_reference.hpp"
#include "mote/kernels/dense/sparse_reference.hpp"

#if !defined(MOTE_NO_SIMD) && MOTE_ARCH_X86 && defined(__x86_64__)
#define MOTE_SIMD_X86 1
#include <immintrin.h>
#else
#define MOTE_SIMD_X86 0
#endif
#if !defined(MOTE_NO_SIMD) && defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define MOTE_SIMD_NEON 1
#include <arm_neon.h>
#else
#define MOTE_SIMD_NEON 0
#endif

#if defined(__clang__)
#define MOTE_TARGET_REGION_BEGIN(features) \
  _Pragma(MOTE_STRINGIFY(clang attribute push(__attribute__((target(features))), apply_to = function)))
#define MOTE_TARGET_REGION_END _Pragma("clang attribute pop")
#else
#define MOTE_TARGET_REGION_BEGIN(features) \
  _Pragma("GCC push_options") _Pragma(MOTE_STRINGIFY(GCC target(features)))
#define MOTE_TARGET_REGION_END _Pragma("GCC pop_options")
#endif
// The per-ISA kernel entry points (kernels/simd-inl.hpp and friends) stay out of line. Once the
// compile flags include a region's ISA (-march=native, -mavx2 -mfma -mbmi2 -mf16c), GCC may
// inline them into the run-time dispatcher, which then holds every ISA's kernels in one
// function, and it spilled the accumulators of the register tiles there (measured: W5's
// pointwise layer 165 -> 325 us with -march=native). One call per layer costs nothing.
#if defined(__GNUC__) || defined(__clang__)
#define MOTE_KERNEL_ENTRY [[gnu::noinline]] inline
#else
#define MOTE_KERNEL_ENTRY inline
#endif
// Helpers kept out of interprocedural optimisation: GCC 12 at -O3 constant-propagated a layer's
// geometry into small loops and reported -Waggressive-loop-optimizations on loops that cannot
// run (kernels/conv2d/int8-inl.hpp). Clang has no noipa (and no such warning): noinline there.
#if defined(__GNUC__) && !defined(__clang__)
#define MOTE_NO_IPA __attribute__((noipa))
#elif defined(__clang__)
#define MOTE_NO_IPA __attribute__((noinline))
#else
#define MOTE_NO_IPA
#endif
#define MOTE_STRINGIFY_(x) #x
#define MOTE_STRINGIFY(x) MOTE_STRINGIFY_(x)

#if MOTE_SIMD_X86
MOTE_TARGET_REGION_BEGIN("sse4.2")
#include "mote/arch/x86/sse4.hpp"
#include "mote/arch/x86/sse4_int8.hpp"
#include "mote/arch/x86/sse4_int4.hpp"
#include "mote/arch/x86/sse4_binary.hpp"
#include "mote/arch/x86/sse4_codebook.hpp"
#define MOTE_SIMD_NS sse4
#define MOTE_SIMD_TAG Sse4
#define MOTE_SIMD_HAS_INT4
#include "mote/kernels/simd-inl.hpp"
#include "mote/kernels/simd_int8-inl.hpp"
#undef MOTE_SIMD_HAS_INT4
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END

MOTE_TARGET_REGION_BEGIN("avx2,fma,bmi2,f16c")
#include "mote/arch/x86/avx2.hpp"
#include "mote/arch/x86/avx2_int8.hpp"
#include "mote/arch/x86/avx2_int4.hpp"
#include "mote/arch/x86/avx2_binary.hpp"
#include "mote/arch/x86/avx2_codebook.hpp"
#include "mote/arch/x86/avx2_sparse.hpp"
#define MOTE_SIMD_NS avx2
#define MOTE_SIMD_TAG Avx2
#define MOTE_SIMD_HAS_INT4
#include "mote/kernels/simd-inl.hpp"
#include "mote/kernels/simd_int8-inl.hpp"
#include "mote/kernels/simd_sparse-inl.hpp"
#undef MOTE_SIMD_HAS_INT4
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END

// AVX-VNNI adds only integer kernels (int8 and int4); its float kernels are AVX2's (tag inheritance).
// Emulated for tests (MOTE_EMULATE_AVX_VNNI, arch/x86/avx_vnni_int8.hpp), the region stays
// AVX2-only, so that the compiler cannot emit vpdpbusd/vpdpwssd for other code either.
#if defined(MOTE_EMULATE_AVX_VNNI)
MOTE_TARGET_REGION_BEGIN("avx2,fma,bmi2,f16c")
#else
MOTE_TARGET_REGION_BEGIN("avx2,fma,bmi2,f16c,avxvnni")
#endif
#include "mote/arch/x86/avx_vnni_int8.hpp"
#include "mote/arch/x86/avx_vnni_int4.hpp"
#define MOTE_SIMD_NS avx_vnni
#define MOTE_SIMD_TAG AvxVnni
#define MOTE_SIMD_FLOAT_NS avx2
#define MOTE_SIMD_HAS_INT4
#include "mote/kernels/simd_int8-inl.hpp"
#undef MOTE_SIMD_HAS_INT4
#undef MOTE_SIMD_FLOAT_NS
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END

// GCC 12 builds many AVX-512 intrinsics on _mm512_undefined_*() and then reports its own
// header as (maybe-)uninitialized wherever they are inlined; the warning is about GCC's code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
// VPOPCNTDQ adds only the XNOR-popcount kernel of binary Dense layers, which the AVX-512 one
// hands over to where the CPU has it (arch/x86/avx512_binary.hpp); not an ISA level of its own.
MOTE_TARGET_REGION_BEGIN("avx512f,avx512bw,avx512dq,avx512vl,avx512vpopcntdq,avx2,fma,bmi2,f16c")
#include "mote/arch/x86/avx512_vpopcntdq_binary.hpp"
#define MOTE_SIMD_NS avx512_vpopcntdq
#define MOTE_BINARY_XNOR_ONLY
namespace mote::kernels::avx512_vpopcntdq {
#include "mote/kernels/dense/binary-inl.hpp"
}  // namespace mote::kernels::avx512_vpopcntdq
#undef MOTE_BINARY_XNOR_ONLY
#undef MOTE_SIMD_NS
MOTE_TARGET_REGION_END
MOTE_TARGET_REGION_BEGIN("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi2,f16c")
#include "mote/arch/x86/avx512.hpp"
#include "mote/arch/x86/avx512_int8.hpp"
#include "mote/arch/x86/avx512_binary.hpp"
#include "mote/arch/x86/avx512_codebook.hpp"
#include "mote/arch/x86/avx512_int4.hpp"
#define MOTE_SIMD_NS avx512
#define MOTE_SIMD_TAG Avx512
#define MOTE_SIMD_HAS_INT4
#include "mote/kernels/simd-inl.hpp"
#include "mote/kernels/simd_int8-inl.hpp"
#undef MOTE_SIMD_HAS_INT4
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END

// VNNI adds only integer kernels; its float kernels are the AVX-512 ones (tag inheritance).
MOTE_TARGET_REGION_BEGIN("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma,bmi2,f16c")
#include "mote/arch/x86/avx512_vnni_int8.hpp"
#include "mote/arch/x86/avx512_vnni_int4.hpp"
#define MOTE_SIMD_NS avx512_vnni
#define MOTE_SIMD_TAG Avx512Vnni
#define MOTE_SIMD_FLOAT_NS avx512
#define MOTE_SIMD_HAS_INT4
#include "mote/kernels/simd_int8-inl.hpp"
#undef MOTE_SIMD_HAS_INT4
#undef MOTE_SIMD_FLOAT_NS
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END

// AMX adds only the int8 GEMM on tiles (batches of 16 samples and more), so only Dense and Conv2D
// are compiled for it; the rest is VNNI's (tag inheritance).
MOTE_TARGET_REGION_BEGIN("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,amx-tile,amx-int8,avx2,fma,bmi2,f16c")
#include "mote/arch/x86/avx512_amx_int8.hpp"
#define MOTE_SIMD_NS avx512_amx
#define MOTE_SIMD_TAG Avx512Amx
#define MOTE_SIMD_FLOAT_NS avx512
#define MOTE_SIMD_INT8_GEMM_ONLY
#include "mote/kernels/simd_int8-inl.hpp"
#undef MOTE_SIMD_INT8_GEMM_ONLY
#undef MOTE_SIMD_FLOAT_NS
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

#if MOTE_SIMD_NEON
#include "mote/arch/arm/neon.hpp"
#include "mote/arch/arm/neon_int8.hpp"
#include "mote/arch/arm/neon_int4.hpp"
#include "mote/arch/arm/neon_binary.hpp"
#include "mote/arch/arm/neon_codebook.hpp"
#include "mote/arch/arm/neon_sparse.hpp"
#define MOTE_SIMD_NS neon
#define MOTE_SIMD_TAG Neon
#define MOTE_SIMD_HAS_INT4
#include "mote/kernels/simd-inl.hpp"
#include "mote/kernels/simd_int8-inl.hpp"
#include "mote/kernels/simd_sparse-inl.hpp"
#undef MOTE_SIMD_HAS_INT4
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG

// The dot-product extension adds only integer kernels (sdot); float kernels are NEON's. GCC 12
// needs the architecture spelled out: with target("+dotprod") alone vdotq_s32 fails to inline.
#if defined(__clang__)
MOTE_TARGET_REGION_BEGIN("dotprod")
#else
MOTE_TARGET_REGION_BEGIN("arch=armv8.2-a+dotprod")
#endif
#include "mote/arch/arm/neon_dotprod_int8.hpp"
#define MOTE_SIMD_NS neon_dotprod
#define MOTE_SIMD_TAG NeonDotprod
#define MOTE_SIMD_FLOAT_NS neon
#include "mote/kernels/simd_int8-inl.hpp"
#undef MOTE_SIMD_FLOAT_NS
#undef MOTE_SIMD_NS
#undef MOTE_SIMD_TAG
MOTE_TARGET_REGION_END
#endif

namespace mote::arch {

/// Calls `f(tag)` with the ISA tag of `level`; levels without kernels of their own resolve to
/// their parent's through the tags' inheritance.
template <class F>
decltype(auto) with_isa(IsaLevel level, F&& f) {
  switch (level) {
#if MOTE_SIMD_X86
    case IsaLevel::avx512_amx: return f(isa::Avx512Amx{});
    case IsaLevel::avx512_bf16: return f(isa::Avx512Bf16{});
    case IsaLevel::avx512_vnni: return f(isa::Avx512Vnni{});
    case IsaLevel::avx512: return f(isa::Avx512{});
    case IsaLevel::avx_vnni: return f(isa::AvxVnni{});
    case IsaLevel::avx2: return f(isa::Avx2{});
    case IsaLevel::sse4: return f(isa::Sse4{});
#endif
#if MOTE_SIMD_NEON
    case IsaLevel::neon_dotprod: return f(isa::NeonDotprod{});
    case IsaLevel::neon: return f(isa::Neon{});
#endif
    default: return f(isa::Scalar{});
  }
}

}  // namespace mote::arch
