#pragma once
// Run-time CPU detection and the ISA chosen for isa::Dynamic kernels.
// The choice is made once per process: the best ISA that both the CPU supports and mote has
// kernels for, capped by the environment variable MOTE_FORCE_ISA (scalar, sse4, avx2, avx_vnni,
// avx512, avx512_vnni, avx512_bf16, avx512_amx, neon, neon_dotprod) for testing. Forcing an ISA the CPU lacks is an
// error: try_select_isa() reports it, selected_isa() prints it and aborts, because running on
// would either ignore the request or execute an illegal instruction.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mote/core/error.hpp"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define MOTE_ARCH_X86 1
#include <cpuid.h>
#else
#define MOTE_ARCH_X86 0
#endif
// MOTE_NO_AMX: never ask for (or use) the AMX tile state. Asking changes the whole process
// (Linux then saves 8 KiB more per thread at context switches and in signal frames), which a
// host may want to decide itself.
#if MOTE_ARCH_X86 && defined(__linux__) && defined(__x86_64__) && !defined(MOTE_NO_AMX)
#define MOTE_AMX_REQUEST 1
#include <sys/syscall.h>
#include <unistd.h>
#else
#define MOTE_AMX_REQUEST 0
#endif
#if defined(__aarch64__) && defined(__linux__)
#define MOTE_ARCH_ARM64_LINUX 1
#include <sys/auxv.h>
#else
#define MOTE_ARCH_ARM64_LINUX 0
#endif

namespace mote::arch {

/// ISA levels in the order mote prefers them within one architecture family.
enum class IsaLevel { scalar, sse4, avx2, avx_vnni, avx512, avx512_vnni, avx512_bf16, avx512_amx, neon, neon_dotprod };

inline const char* to_string(IsaLevel level) noexcept {
  switch (level) {
    case IsaLevel::scalar: return "scalar";
    case IsaLevel::sse4: return "sse4";
    case IsaLevel::avx2: return "avx2";
    case IsaLevel::avx_vnni: return "avx_vnni";
    case IsaLevel::avx512: return "avx512";
    case IsaLevel::avx512_vnni: return "avx512_vnni";
    case IsaLevel::avx512_bf16: return "avx512_bf16";
    case IsaLevel::avx512_amx: return "avx512_amx";
    case IsaLevel::neon: return "neon";
    case IsaLevel::neon_dotprod: return "neon_dotprod";
  }
  return "unknown";
}

/// What the CPU and the operating system support (register state enabled via XCR0 included).
struct CpuFeatures {
  bool sse4_2 = false, avx2 = false, fma = false, avx_vnni = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;
  bool avx512_vnni = false, avx512_bf16 = false;
  bool amx_int8 = false;  // AMX-TILE + AMX-INT8, the tile state enabled and this process allowed to use it
  bool avx512_vpopcntdq = false;  // not an IsaLevel: the AVX-512 binary kernels check it themselves
  bool neon = false, dotprod = false;

  bool supports(IsaLevel level) const noexcept {
    switch (level) {
      case IsaLevel::scalar: return true;
      case IsaLevel::sse4: return sse4_2;
      case IsaLevel::avx2: return avx2 && fma;
      case IsaLevel::avx_vnni: return supports(IsaLevel::avx2) && avx_vnni;
      case IsaLevel::avx512: return supports(IsaLevel::avx2) && avx512f && avx512bw && avx512dq && avx512vl;
      case IsaLevel::avx512_vnni: return supports(IsaLevel::avx512) && avx512_vnni;
      case IsaLevel::avx512_bf16: return supports(IsaLevel::avx512_vnni) && avx512_bf16;
      case IsaLevel::avx512_amx: return supports(IsaLevel::avx512_bf16) && amx_int8;
      case IsaLevel::neon: return neon;
      case IsaLevel::neon_dotprod: return neon && dotprod;
    }
    return false;
  }
};

inline CpuFeatures detect_cpu() noexcept {
  CpuFeatures f;
#if MOTE_ARCH_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.sse4_2 = (c >> 20) & 1;
  const bool fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  unsigned long long xcr0 = 0;
  if (osxsave) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  // The OS must save the vector state: XMM|YMM for AVX, plus opmask|ZMM_Hi256|Hi16_ZMM for AVX-512.
  const bool ymm_state = (xcr0 & 0x6) == 0x6;
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = avx && ymm_state && ((b >> 5) & 1);
  f.fma = fma && ymm_state;
  f.avx512f = zmm_state && ((b >> 16) & 1);
  f.avx512dq = zmm_state && ((b >> 17) & 1);
  f.avx512bw = zmm_state && ((b >> 30) & 1);
  f.avx512vl = zmm_state && ((b >> 31) & 1);
  f.avx512_vnni = zmm_state && ((c >> 11) & 1);
  f.avx512_vpopcntdq = zmm_state && ((c >> 14) & 1);
  // AMX: the CPU has the tiles (CPUID.7.0:EDX bits 24, 25), the OS saves them (XCR0 bits 17, 18),
  // and Linux, which hands the 8 KiB tile state out per process, has granted it to this one
  // (arch_prctl ARCH_REQ_XCOMP_PERM for XTILEDATA; asking again is harmless). Without the grant
  // a tile instruction kills the process, so no grant (or MOTE_NO_AMX, or another OS) means no
  // AMX.
  const bool amx_cpu = ((d >> 24) & 1) && ((d >> 25) & 1) && (xcr0 & 0x60000) == 0x60000;
#if MOTE_AMX_REQUEST
  constexpr long request_permission = 0x1023, tile_data = 18;
  f.amx_int8 = amx_cpu && syscall(SYS_arch_prctl, request_permission, tile_data) == 0;
#else
  (void)amx_cpu;
#endif
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avx_vnni = ymm_state && ((a >> 4) & 1);
    f.avx512_bf16 = zmm_state && ((a >> 5) & 1);
  }
#if defined(MOTE_EMULATE_AVX_VNNI)
  f.avx_vnni = f.avx2;  // tests only: the AVX-VNNI kernels' vpdpbusd is emulated (arch/x86/avx_vnni_int8.hpp)
#endif
#elif defined(__aarch64__)
  f.neon = true;  // Advanced SIMD is mandatory on AArch64
#if MOTE_ARCH_ARM64_LINUX && defined(HWCAP_ASIMDDP)
  f.dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
#endif
  return f;
}

/// The ISA levels mote has kernels for on this architecture, best first.
inline constexpr IsaLevel dispatch_order[] = {
#if MOTE_ARCH_X86
    IsaLevel::avx512_amx, IsaLevel::avx512_bf16, IsaLevel::avx512_vnni, IsaLevel::avx512, IsaLevel::avx_vnni,
    IsaLevel::avx2, IsaLevel::sse4,
#elif defined(__aarch64__)
    IsaLevel::neon_dotprod, IsaLevel::neon,
#endif
    IsaLevel::scalar};

/// Parses an ISA name as accepted by MOTE_FORCE_ISA.
inline Expected<IsaLevel> parse_isa(std::string_view name) {
  for (IsaLevel level : {IsaLevel::scalar, IsaLevel::sse4, IsaLevel::avx2, IsaLevel::avx_vnni, IsaLevel::avx512,
                         IsaLevel::avx512_vnni, IsaLevel::avx512_bf16, IsaLevel::avx512_amx, IsaLevel::neon,
                         IsaLevel::neon_dotprod})
    if (name == to_string(level)) return level;
  return make_error(ErrorCode::invalid_value,
                    "MOTE_FORCE_ISA='" + std::string(name) +
                        "' is not an ISA name (scalar, sse4, avx2, avx_vnni, avx512, avx512_vnni, avx512_bf16, "
                        "avx512_amx, neon, neon_dotprod)");
}

/// The best level in dispatch_order that `cpu` supports and is not above `cap` (when given).
inline Expected<IsaLevel> try_select_isa(const CpuFeatures& cpu, const char* forced) {
  if (forced != nullptr && *forced != '\0') {
    auto level = parse_isa(forced);
    if (!level) return level.error();
    if (!cpu.supports(*level))
      return make_error(ErrorCode::unsupported, std::string("MOTE_FORCE_ISA=") + forced +
                                                    ": this CPU does not support " + forced);
    bool known = false;
    for (IsaLevel candidate : dispatch_order) known = known || candidate == *level;
    if (!known)
      return make_error(ErrorCode::unsupported, std::string("MOTE_FORCE_ISA=") + forced +
                                                    ": mote has no kernels for that ISA on this architecture");
    return *level;
  }
  for (IsaLevel level : dispatch_order)
    if (cpu.supports(level)) return level;
  return IsaLevel::scalar;
}

/// The selection for this process (CPU + MOTE_FORCE_ISA), or why it failed.
inline Expected<IsaLevel> try_select_isa() { return try_select_isa(detect_cpu(), std::getenv("MOTE_FORCE_ISA")); }

/// The ISA isa::Dynamic kernels run with; decided once. An invalid MOTE_FORCE_ISA aborts with
/// a message (see the top of this file).
inline IsaLevel selected_isa() noexcept {
  static const IsaLevel level = [] {
    auto selection = try_select_isa();
    if (!selection) {
      std::fprintf(stderr, "mote: %s\n", selection.error().describe().c_str());
      std::abort();
    }
    return *selection;
  }();
  return level;
}

}  // namespace mote::arch
