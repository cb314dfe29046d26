#pragma once
// 8-bit operands and scales of the ONNX integer operators (MatMulInteger, QLinearMatMul, ConvInteger,
// QLinearConv) as int32 codes, shared by their conformance tests.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "mote/io/onnx_tensor.hpp"

namespace mote_onnx_test {

/// float(acc) is exact for |acc| below this: the kernels' float outputs hold the accumulators.
inline constexpr std::int64_t exact_float_limit = std::int64_t{1} << 24;

/// Codes of an 8-bit tensor widened to int32.
struct Codes {
  std::vector<std::int32_t> values;
  bool is_signed = false;  ///< INT8 (else UINT8)
};

inline Codes read_codes(const mote::io::onnx::TensorProto& tensor) {
  INFO("tensor " << tensor.describe());
  Codes codes;
  if (tensor.data_type == mote::io::onnx::DataType::uint8) {
    for (std::uint8_t v : tensor.as<std::uint8_t>()) codes.values.push_back(v);
  } else if (tensor.data_type == mote::io::onnx::DataType::int8) {
    for (std::int8_t v : tensor.as<std::int8_t>()) codes.values.push_back(v);
    codes.is_signed = true;
  } else {
    FAIL("the integer operands of the ONNX integer operators are UINT8 or INT8");
  }
  return codes;
}

/// An omitted optional zero point: 0 of the operand's type.
inline Codes zero_codes(const Codes& like) { return Codes{{0}, like.is_signed}; }

/// A scale tensor: a scalar or 1-D of `per` entries (per output channel, or per row of a /
/// column of b), every one positive and finite.
inline std::vector<float> read_scales(const mote::io::onnx::TensorProto& tensor, std::size_t per) {
  INFO("scale " << tensor.describe());
  std::vector<float> scales = tensor.as<float>();
  REQUIRE(tensor.dims.size() <= 1);
  REQUIRE((scales.size() == 1 || scales.size() == per));
  for (float s : scales) REQUIRE((s > 0.0f && std::isfinite(s)));
  return scales;
}

}  // namespace mote_onnx_test
