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

namespace detail {
template <class G>
inline constexpr bool is_granularity_v = std::is_same_v<G, PerTensor> || std::is_same_v<G, PerChannel>;
template <class S>
inline constexpr bool is_symmetry_v = std::is_same_v<S, Symmetric> || std::is_same_v<S, Asymmetric>;
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
                "Int8<Granularity, Symmetry>: Symmetry must be mote::Symmetric or mote::Asymmetric.");
  using storage_type = std::int8_t;
  using accumulator_type = std::int32_t;
  using granularity = Granularity;
  using symmetry = Symmetry;
  static constexpr const char* name = "int8";
  static constexpr std::size_t bits_per_weight = 8;
  static constexpr bool is_signed = true;
  static constexpr bool per_channel = std::is_same_v<Granularity, PerChannel>;
  static constexpr bool symmetric = std::is_same_v<Symmetry, Symmetric>;
  static constexpr std::int32_t min_code = symmetric ? -127 : -128;
  static constexpr std::int32_t max_code = 127;
};

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
