#pragma once
// 8-bit integer number formats: weights (Int8) and activations (Int8, UInt8), with the scale
// granularity and symmetry as template parameters. The arithmetic (ONNX QuantizeLinear /
// DequantizeLinear, gemmlowp requantisation) is in numeric/quantization.hpp; docs/quantization.md
// states the exact semantics.

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace mote {

/// One scale (and zero point) for the whole tensor.
struct PerTensor {
  static constexpr const char* name = "per-tensor";
};
/// One scale (and zero point) per output channel (row of the weight matrix).
struct PerChannel {
  static constexpr const char* name = "per-channel";
};
/// One value per element of a tensor (constant element-wise layers; no quantisation format
/// takes it).
struct PerElement {
  static constexpr const char* name = "per-element";
};
/// Zero point fixed at 0: the integer range is [-127, 127] for weights, so that negation is exact.
struct Symmetric {
  static constexpr const char* name = "symmetric";
};
/// Zero point chosen from the observed range: all 256 codes are used.
struct Asymmetric {
  static constexpr const char* name = "asymmetric";
};
/// Zero point 0 and codes in [-63, 63]: 7 bits of weight, stored in int8. On CPUs without VNNI
/// (AVX2, SSE4, AVX-512 without VNNI) a 7-bit weight times an 8-bit activation code pairs
/// up in vpmaddubsw without saturating (2 x 255 x 63 < 32767), which saves the sign operation
/// that exact 8-bit weights need there (oneDNN quantises weights to 7 bits on such CPUs for the
/// same reason). Elsewhere these are int8 weights that use half the range. Spelled `Int7<>`.
struct Narrow {
  static constexpr const char* name = "symmetric 7-bit";
};

namespace detail {
template <class G>
inline constexpr bool is_granularity_v = std::is_same_v<G, PerTensor> || std::is_same_v<G, PerChannel>;
template <class S>
inline constexpr bool is_symmetry_v =
    std::is_same_v<S, Symmetric> || std::is_same_v<S, Asymmetric> || std::is_same_v<S, Narrow>;
}  // namespace detail

/// Signed 8-bit integers with a float scale and an integer zero point: real = scale * (q - zero_point).
/// As a weight format (`Weights<Int8<>>`): per-channel symmetric by default, 1 byte per weight plus
/// a float scale per channel; products accumulate in int32. As an activation format
/// (`Activations<Int8<PerTensor, Asymmetric>>`): one scale and zero point per tensor.
template <class Granularity = PerChannel, class Symmetry = Symmetric>
struct Int8 {
  static_assert(detail::is_granularity_v<Granularity>,
                "Int8<Granularity, Symmetry>: Granularity must be mote::PerTensor or mote::PerChannel.");
  static_assert(detail::is_symmetry_v<Symmetry>,
                "Int8<Granularity, Symmetry>: Symmetry must be mote::Symmetric, mote::Asymmetric or mote::Narrow.");
  using storage_type = std::int8_t;
  using accumulator_type = std::int32_t;
  using granularity = Granularity;
  using symmetry = Symmetry;
  /// 7-bit codes (Narrow, `Int7<>`).
  static constexpr bool narrow = std::is_same_v<Symmetry, Narrow>;
  static constexpr const char* name = narrow ? "int7" : "int8";
  static constexpr std::size_t bits_per_weight = 8;
  static constexpr bool is_signed = true;
  static constexpr bool per_channel = std::is_same_v<Granularity, PerChannel>;
  /// Zero point 0 (Symmetric or Narrow).
  static constexpr bool symmetric = !std::is_same_v<Symmetry, Asymmetric>;
  static constexpr std::int32_t min_code = narrow ? -63 : symmetric ? -127 : -128;
  static constexpr std::int32_t max_code = narrow ? 63 : 127;
};

/// 7-bit symmetric weights stored as int8 (`Int8<Granularity, Narrow>`): one edit from `Int8<>`,
/// trading one bit of weight precision for the faster multiply of CPUs without VNNI.
template <class Granularity = PerChannel>
using Int7 = Int8<Granularity, Narrow>;

/// Unsigned 8-bit activations with a zero point in [0, 255] (ONNX/TFLite uint8 tensors).
struct UInt8 {
  using storage_type = std::uint8_t;
  using accumulator_type = std::int32_t;
  using granularity = PerTensor;
  using symmetry = Asymmetric;
  static constexpr const char* name = "uint8";
  static constexpr std::size_t bits_per_weight = 8;
  static constexpr bool is_signed = false;
  static constexpr bool per_channel = false;
  static constexpr bool symmetric = false;
  static constexpr std::int32_t min_code = 0;
  static constexpr std::int32_t max_code = 255;
};

template <class F>
inline constexpr bool is_int8_format_v = false;
template <class G, class S>
inline constexpr bool is_int8_format_v<Int8<G, S>> = true;

}  // namespace mote
