#pragma once
// ISA tags. An ISA is an empty type that inherits from the ISA it extends, so a kernel
// overload taking the parent tag serves every descendant that has no overload of its own
// (`kernels::dense(isa::Avx512{}, ...)` resolves to the AVX2 kernel until an AVX-512 one
// exists, and to the scalar reference at the root). Adding an ISA: docs/design.md.

#include <type_traits>

namespace mote::isa {

/// Portable C++: the reference every other kernel is tested against.
struct Scalar {
  static constexpr const char* name = "scalar";
};
/// x86 SSE4.1 + SSE4.2.
struct Sse4 : Scalar {
  static constexpr const char* name = "sse4";
};
/// x86 AVX2 + FMA3.
struct Avx2 : Sse4 {
  static constexpr const char* name = "avx2";
};
/// x86 AVX2 + FMA3 with AVX-VNNI (the VEX-encoded vpdpbusd, without AVX-512).
struct AvxVnni : Avx2 {
  static constexpr const char* name = "avx_vnni";
};
/// x86 AVX-512 F/BW/DQ/VL.
struct Avx512 : Avx2 {
  static constexpr const char* name = "avx512";
};
/// AVX-512 with VNNI (vpdpbusd).
struct Avx512Vnni : Avx512 {
  static constexpr const char* name = "avx512_vnni";
};
/// AVX-512 with VNNI and BF16 (vdpbf16ps).
struct Avx512Bf16 : Avx512Vnni {
  static constexpr const char* name = "avx512_bf16";
};
/// AVX-512 with AMX-INT8 tiles (Sapphire Rapids and later Xeons). Reached through isa::Dynamic
/// only, never as isa::Native: a process must ask Linux for the tile state before its first tile
/// instruction, which run-time detection does (arch/cpu.hpp).
struct Avx512Amx : Avx512Bf16 {
  static constexpr const char* name = "avx512_amx";
};
/// Arm NEON (AArch64 Advanced SIMD).
struct Neon : Scalar {
  static constexpr const char* name = "neon";
};
/// NEON with the dot-product extension (sdot/udot).
struct NeonDotprod : Neon {
  static constexpr const char* name = "neon_dotprod";
};

/// Chooses at run time, once per process, the best ISA the CPU supports among those mote has
/// kernels for (arch/cpu.hpp; capped by the environment variable MOTE_FORCE_ISA). A binary
/// built for baseline x86-64 thus runs AVX2 or AVX-512 kernels where the CPU has them.
struct Dynamic {
  static constexpr const char* name = "dynamic";
};

/// The best ISA the compiler flags of this translation unit enable.
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__) && defined(__AVX512VNNI__) && defined(__AVX512BF16__)
using Native = Avx512Bf16;
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__) && defined(__AVX512VNNI__)
using Native = Avx512Vnni;
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__)
using Native = Avx512;
#elif defined(__AVX2__) && defined(__FMA__) && defined(__AVXVNNI__)
using Native = AvxVnni;
#elif defined(__AVX2__) && defined(__FMA__)
using Native = Avx2;
#elif defined(__SSE4_2__)
using Native = Sse4;
#elif defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD)
using Native = NeonDotprod;
#elif defined(__ARM_NEON)
using Native = Neon;
#else
using Native = Scalar;
#endif

}  // namespace mote::isa

namespace mote {

/// An ISA tag: a type derived from isa::Scalar, or isa::Dynamic.
template <class T>
concept IsaTag = requires { T::name; } && (std::is_base_of_v<isa::Scalar, T> || std::is_same_v<T, isa::Dynamic>);

namespace isa {
/// The ISA of layers that name none: run-time dispatch where mote has SIMD kernels for the
/// architecture (x86-64, AArch64), else the compiler flags' best. Define
/// MOTE_DEFAULT_ISA_NATIVE to use the compiler flags' best everywhere (no dispatch).
#if !defined(MOTE_DEFAULT_ISA_NATIVE) && !defined(MOTE_NO_SIMD) && \
    (defined(__x86_64__) || defined(__aarch64__)) && (defined(__GNUC__) || defined(__clang__))
using Default = Dynamic;
#else
using Default = Native;
#endif
}  // namespace isa

}  // namespace mote
