// Conformance of mote's quantisation arithmetic (mote/numeric/quantization.hpp) with the ONNX
// backend node tests of QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear, read from
// Debian's libonnx-testdata with mote's own TensorProto reader.
//
// Bounds: every comparison is exact. Quantised codes must be equal. Dequantised values must be
// bit-identical (0 ULP): ONNX computes (x - zero_point) * scale in float32, and x - zero_point is
// an integer of at most 9 bits, so both sides round the same exact product once. The
// DynamicQuantizeLinear scale is (max - min) / 255: the subtraction and the division each round
// once in float32 on mote's side; ONNX's reference (numpy) may divide in double and round to
// float32 after, and the data shows whether the two agree (they do here; a double rounding can
// only differ when the quotient lies within 2^-29 relative of a float32 tie).

#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "mote/io/onnx_tensor.hpp"
#include "mote/numeric/quantization.hpp"
#include "onnx_node_test.hpp"

using mote::io::onnx::DataType;
using mote::io::onnx::TensorProto;
using mote_onnx_test::load_node_test;
using mote_onnx_test::NodeTest;

namespace {

// Codes of an 8-bit tensor widened to int32, and the code range of its type.
struct Codes {
  std::vector<std::int32_t> values;
  std::int32_t min_code = 0;
  std::int32_t max_code = 255;
};

Codes read_codes(const TensorProto& tensor) {
  INFO("tensor " << tensor.describe());
  Codes codes;
  if (tensor.data_type == DataType::uint8) {
    for (std::uint8_t v : tensor.as<std::uint8_t>()) codes.values.push_back(v);
  } else if (tensor.data_type == DataType::int8) {
    for (std::int8_t v : tensor.as<std::int8_t>()) codes.values.push_back(v);
    codes.min_code = -128;
    codes.max_code = 127;
  } else {
    FAIL("quantised tensors of the tests are UINT8 or INT8");
  }
  return codes;
}

// Which entry of a scale / zero-point tensor applies to each element of a tensor of `dims`:
// per tensor (a scalar or a 1-element tensor) or per slice along `axis` (ONNX's per-axis form,
// a 1-D tensor of dims[axis] entries).
std::vector<std::size_t> parameter_index(const std::vector<std::int64_t>& dims, std::int64_t axis,
                                         const TensorProto& scale) {
  std::size_t numel = 1;
  for (std::int64_t d : dims) numel *= static_cast<std::size_t>(d);
  std::vector<std::size_t> index(numel, 0);
  if (scale.numel() == 1 && scale.dims.size() <= 1) return index;
  const auto rank = static_cast<std::int64_t>(dims.size());
  if (axis < 0) axis += rank;
  REQUIRE(axis >= 0);
  REQUIRE(axis < rank);
  REQUIRE(scale.dims.size() == 1);
  REQUIRE(scale.dims[0] == dims[static_cast<std::size_t>(axis)]);
  std::size_t inner = 1;
  for (auto d = static_cast<std::size_t>(axis) + 1; d < dims.size(); ++d) {
    inner *= static_cast<std::size_t>(dims[d]);
  }
  const auto channels = static_cast<std::size_t>(dims[static_cast<std::size_t>(axis)]);
  for (std::size_t i = 0; i < numel; ++i) index[i] = (i / inner) % channels;
  return index;
}

void check_quantize_linear(const std::string& test_name) {
  const NodeTest test = load_node_test(test_name);
  REQUIRE(test.node().op_type == "QuantizeLinear");
  const TensorProto* x = test.operator_input(0);
  const TensorProto* scale = test.operator_input(1);
  const TensorProto* zero_point = test.operator_input(2);
  REQUIRE(x != nullptr);
  REQUIRE(scale != nullptr);
  const TensorProto& y = test.operator_output(0);

  const std::vector<float> xs = x->as<float>();
  const std::vector<float> scales = scale->as<float>();
  Codes zero_points{std::vector<std::int32_t>(scales.size(), 0), 0, 255};  // spec: uint8, 0
  if (zero_point != nullptr) zero_points = read_codes(*zero_point);
  REQUIRE(zero_points.values.size() == scales.size());
  const Codes expected = read_codes(y);
  REQUIRE(y.data_type == (zero_point != nullptr ? zero_point->data_type : DataType::uint8));
  REQUIRE(y.dims == x->dims);

  const std::vector<std::size_t> channel =
      parameter_index(x->dims, test.node().int_attribute("axis", 1), *scale);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const mote::QuantParams params{scales[channel[i]], zero_points.values[channel[i]]};
    REQUIRE(mote::validate_quant_params(params, expected.min_code, expected.max_code, "y").is_ok());
    INFO(test_name << " element " << i << ": x " << xs[i] << ", scale " << params.scale
                   << ", zero point " << params.zero_point);
    CHECK(mote::quantize(xs[i], params, expected.min_code, expected.max_code) ==
          expected.values[i]);
  }
}

void check_dequantize_linear(const std::string& test_name) {
  const NodeTest test = load_node_test(test_name);
  REQUIRE(test.node().op_type == "DequantizeLinear");
  const TensorProto* x = test.operator_input(0);
  const TensorProto* scale = test.operator_input(1);
  const TensorProto* zero_point = test.operator_input(2);
  REQUIRE(x != nullptr);
  REQUIRE(scale != nullptr);
  const TensorProto& y = test.operator_output(0);

  const Codes codes = read_codes(*x);
  const std::vector<float> scales = scale->as<float>();
  std::vector<std::int32_t> zero_points(scales.size(), 0);
  if (zero_point != nullptr) {
    REQUIRE(zero_point->data_type == x->data_type);
    zero_points = read_codes(*zero_point).values;
  }
  REQUIRE(zero_points.size() == scales.size());
  const std::vector<float> expected = y.as<float>();
  REQUIRE(y.dims == x->dims);

  const std::vector<std::size_t> channel =
      parameter_index(x->dims, test.node().int_attribute("axis", 1), *scale);
  for (std::size_t i = 0; i < codes.values.size(); ++i) {
    const mote::QuantParams params{scales[channel[i]], zero_points[channel[i]]};
    const float actual = mote::dequantize(codes.values[i], params);
    INFO(test_name << " element " << i << ": code " << codes.values[i] << ", scale " << params.scale
                   << ", zero point " << params.zero_point << ": mote " << actual << ", ONNX "
                   << expected[i]);
    CHECK(std::bit_cast<std::uint32_t>(actual) == std::bit_cast<std::uint32_t>(expected[i]));
  }
}

void check_dynamic_quantize_linear(const std::string& test_name) {
  const NodeTest test = load_node_test(test_name);
  REQUIRE(test.node().op_type == "DynamicQuantizeLinear");
  const TensorProto* x = test.operator_input(0);
  REQUIRE(x != nullptr);
  const std::vector<float> xs = x->as<float>();
  REQUIRE_FALSE(xs.empty());
  const TensorProto& y = test.operator_output(0);
  const TensorProto& y_scale = test.operator_output(1);
  const TensorProto& y_zero_point = test.operator_output(2);
  REQUIRE(y.data_type == DataType::uint8);
  REQUIRE(y.dims == x->dims);
  REQUIRE(y_scale.numel() == 1);
  REQUIRE(y_zero_point.numel() == 1);
  const float expected_scale = y_scale.as<float>()[0];
  const std::int32_t expected_zero_point = y_zero_point.as<std::uint8_t>()[0];

  // The spec widens [min x, max x] to include 0; choose_quant_params does that itself.
  const auto [min_it, max_it] = std::minmax_element(xs.begin(), xs.end());
  const mote::QuantParams params = mote::choose_quant_params(*min_it, *max_it, 0, 255, false);
  INFO(test_name << ": min " << *min_it << ", max " << *max_it << ": mote scale " << params.scale
                 << " zero point " << params.zero_point << ", ONNX scale " << expected_scale
                 << " zero point " << expected_zero_point);
  CHECK(std::bit_cast<std::uint32_t>(params.scale) == std::bit_cast<std::uint32_t>(expected_scale));
  CHECK(params.zero_point == expected_zero_point);

  // y from the expected parameters, so that a parameter mismatch above is not counted twice.
  const mote::QuantParams onnx_params{expected_scale, expected_zero_point};
  const std::vector<std::uint8_t> expected = y.as<std::uint8_t>();
  for (std::size_t i = 0; i < xs.size(); ++i) {
    INFO("element " << i << ": x " << xs[i]);
    CHECK(mote::quantize(xs[i], onnx_params, 0, 255) == expected[i]);
  }
}

}  // namespace

TEST_CASE("ONNX QuantizeLinear node tests", "[onnx][quantization]") {
  SECTION("test_quantizelinear") { check_quantize_linear("test_quantizelinear"); }
  SECTION("test_quantizelinear_axis") { check_quantize_linear("test_quantizelinear_axis"); }
}

TEST_CASE("ONNX DequantizeLinear node tests", "[onnx][quantization]") {
  SECTION("test_dequantizelinear") { check_dequantize_linear("test_dequantizelinear"); }
  SECTION("test_dequantizelinear_axis") { check_dequantize_linear("test_dequantizelinear_axis"); }
}

TEST_CASE("ONNX DynamicQuantizeLinear node tests", "[onnx][quantization]") {
  SECTION("test_dynamicquantizelinear") {
    check_dynamic_quantize_linear("test_dynamicquantizelinear");
  }
  SECTION("test_dynamicquantizelinear_max_adjusted") {
    check_dynamic_quantize_linear("test_dynamicquantizelinear_max_adjusted");
  }
  SECTION("test_dynamicquantizelinear_min_adjusted") {
    check_dynamic_quantize_linear("test_dynamicquantizelinear_min_adjusted");
  }
}

TEST_CASE("ONNX node test loader maps operator inputs through the graph", "[onnx][protobuf]") {
  // test_convinteger_with_padding: ConvInteger with x, w, x_zero_point (w_zero_point omitted)
  // and an INTS attribute written unpacked.
  const NodeTest conv = load_node_test("test_convinteger_with_padding");
  CHECK(conv.opset_version == 10);
  CHECK(conv.node().op_type == "ConvInteger");
  REQUIRE(conv.operator_input(0) != nullptr);
  CHECK(conv.operator_input(0)->name == "x");
  CHECK(conv.operator_input(2)->name == "x_zero_point");
  CHECK(conv.operator_input(3) == nullptr);
  CHECK(conv.node().ints_attribute("pads") == std::vector<std::int64_t>{1, 1, 1, 1});
  CHECK(conv.operator_output(0).data_type == DataType::int32);
  const NodeTest qlinear = load_node_test("test_qlinearmatmul_2D");
  CHECK(qlinear.inputs.size() == 8);
  CHECK(qlinear.operator_input(7)->name == "y_zero_point");
}

// Every TensorProto file of every node test must decode and agree with the type and shape the
// model declares for it: a sweep of the reader over real writers' output (about 2,800 files,
// raw_data and typed fields). Files of sequence and optional inputs are other messages and are
// skipped; STRING tensors must fail as unsupported. The data of libonnx-testdata 1.12 itself
// disagrees with its models in a few files (BFLOAT16 data written as UINT16, as numpy has no
// bfloat16; CastLike's "like" input stored with shape [1]); those are listed, so that any other
// disagreement fails.
TEST_CASE("every ONNX node test tensor decodes as its model declares", "[onnx][protobuf]") {
  mote_onnx_test::require_node_test_data();
  const std::vector<std::string> known_disagreements{
      "test_cast_BFLOAT16_to_FLOAT/test_data_set_0/input_0.pb: type",
      "test_cast_FLOAT_to_BFLOAT16/test_data_set_0/output_0.pb: type",
      "test_castlike_BFLOAT16_to_FLOAT/test_data_set_0/input_0.pb: type",
      "test_castlike_BFLOAT16_to_FLOAT/test_data_set_0/input_1.pb: shape",
      "test_castlike_BFLOAT16_to_FLOAT_expanded/test_data_set_0/input_0.pb: type",
      "test_castlike_BFLOAT16_to_FLOAT_expanded/test_data_set_0/input_1.pb: shape",
      "test_castlike_FLOAT_to_BFLOAT16/test_data_set_0/input_1.pb: shape",
      "test_castlike_FLOAT_to_BFLOAT16/test_data_set_0/input_1.pb: type",
      "test_castlike_FLOAT_to_BFLOAT16/test_data_set_0/output_0.pb: type",
      "test_castlike_FLOAT_to_BFLOAT16_expanded/test_data_set_0/input_1.pb: shape",
      "test_castlike_FLOAT_to_BFLOAT16_expanded/test_data_set_0/input_1.pb: type",
      "test_castlike_FLOAT_to_BFLOAT16_expanded/test_data_set_0/output_0.pb: type",
  };
  std::vector<std::string> disagreements;
  std::size_t decoded = 0;
  std::vector<std::filesystem::path> test_dirs;
  for (const auto& entry : std::filesystem::directory_iterator(mote_onnx_test::node_test_root)) {
    if (entry.is_directory()) test_dirs.push_back(entry.path());
  }
  std::sort(test_dirs.begin(), test_dirs.end());
  for (const std::filesystem::path& dir : test_dirs) {
    const NodeTest test = mote_onnx_test::load_node_test_model(dir.filename().string());
    for (const auto& set : std::filesystem::directory_iterator(dir)) {
      if (!set.is_directory()) continue;
      for (const auto& [stem, infos] :
           {std::pair{"input_", &test.graph_inputs}, std::pair{"output_", &test.graph_outputs}}) {
        for (std::size_t i = 0; i < infos->size(); ++i) {
          const std::filesystem::path path = set.path() / (stem + std::to_string(i) + ".pb");
          const mote_onnx_test::ValueInfo& info = (*infos)[i];
          if (!std::filesystem::exists(path) || !info.is_tensor) continue;
          const std::string relative =
              (dir.filename() / set.path().filename() / path.filename()).string();
          INFO(relative);
          auto tensor = mote::io::onnx::try_read_tensor_proto_file(path.string());
          if (info.elem_type == static_cast<std::int32_t>(DataType::string)) {
            REQUIRE_FALSE(tensor.has_value());
            CHECK(tensor.error().code == mote::ErrorCode::unsupported);
            continue;
          }
          if (!tensor) FAIL(tensor.error().describe());
          CHECK(tensor->bytes.size() == tensor->numel() * tensor->element_size());
          if (static_cast<std::int32_t>(tensor->data_type) != info.elem_type) {
            disagreements.push_back(relative + ": type");
          }
          bool same_shape = !info.has_shape || tensor->dims.size() == info.dims.size();
          for (std::size_t d = 0; same_shape && info.has_shape && d < info.dims.size(); ++d) {
            same_shape = info.dims[d] < 0 || tensor->dims[d] == info.dims[d];
          }
          if (!same_shape) disagreements.push_back(relative + ": shape");
          ++decoded;
        }
      }
    }
  }
  std::sort(disagreements.begin(), disagreements.end());
  CHECK(disagreements == known_disagreements);
  CHECK(decoded > 2000);
}

TEST_CASE("every proper prefix of a real TensorProto file is an error", "[onnx][protobuf]") {
  mote_onnx_test::require_node_test_data();
  const std::string path = std::string(mote_onnx_test::node_test_root) +
                           "/test_quantizelinear_axis/test_data_set_0/input_0.pb";
  auto bytes = mote::io::try_read_file_bytes(path);
  if (!bytes) FAIL(bytes.error().describe());
  REQUIRE(mote::io::onnx::try_read_tensor_proto(*bytes, path).has_value());
  for (std::size_t n = 0; n < bytes->size(); ++n) {
    // A copy of exactly n bytes, so that a read past the end is a sanitizer error.
    const std::vector<std::byte> prefix(bytes->begin(), bytes->begin() + static_cast<long>(n));
    auto tensor = mote::io::onnx::try_read_tensor_proto(prefix, "prefix");
    INFO("prefix of " << n << " bytes");
    CHECK_FALSE(tensor.has_value());
  }
}
