#pragma once
// Loads an ONNX backend node test (Debian package libonnx-testdata): a one-operator model.onnx
// and, per data set, the serialized TensorProtos input_<i>.pb and output_<i>.pb. The model is
// read just far enough to know the operator (op_type, attributes, opset) and the graph's input
// and output names and types, with mote's protobuf reader; tensors with mote::io::onnx.
//
// How inputs are numbered: input_<i>.pb is the i-th *graph* input, and in a node test the graph
// inputs are the node's inputs in order, minus omitted optional ones (which appear as "" in
// OnnxNode::inputs). NodeTest::operator_input(position) maps an operator's input position to its
// tensor through the names, so callers can use the ONNX spec's positions directly (nullptr for an
// omitted optional input).
//
// Input positions of the quantised operators, from the ONNX operator specification (opset 10 for
// the integer ops, 13 for (De)QuantizeLinear). Activations and weights of the convolutions are
// NCHW and [M, C/group, kH, kW] (mote is channels-last: transpose before comparing).
//   QuantizeLinear         0 x (float), 1 y_scale (scalar, or 1-D of size x.dims[axis]),
//                          2 y_zero_point (optional, uint8/int8, same shape as y_scale; absent:
//                          uint8 0). Attribute axis (default 1). Output 0 y (zero point's type).
//   DequantizeLinear       0 x (uint8/int8/int32), 1 x_scale, 2 x_zero_point (optional, x's
//                          type). Attribute axis (default 1). Output 0 y (float).
//   DynamicQuantizeLinear  0 x (float). Outputs 0 y (uint8), 1 y_scale (scalar float),
//                          2 y_zero_point (scalar uint8).
//   MatMulInteger          0 A, 1 B (uint8/int8), 2 a_zero_point (optional; scalar or 1-D per
//                          row of A), 3 b_zero_point (optional; scalar or 1-D per column of B).
//                          Output 0 Y (int32) = (A - a_zero_point) x (B - b_zero_point).
//   QLinearMatMul          0 a, 1 a_scale, 2 a_zero_point, 3 b, 4 b_scale, 5 b_zero_point,
//                          6 y_scale, 7 y_zero_point (all required; scales/zero points scalar
//                          or 1-D per row of a / column of b). Output 0 y (y_zero_point's type).
//   ConvInteger            0 x, 1 w (uint8/int8), 2 x_zero_point (optional, scalar),
//                          3 w_zero_point (optional; scalar or 1-D per output channel).
//                          Attributes auto_pad, dilations, group, kernel_shape, pads, strides.
//                          Output 0 y (int32).
//   QLinearConv            0 x, 1 x_scale, 2 x_zero_point, 3 w, 4 w_scale (scalar or 1-D per
//                          output channel), 5 w_zero_point (likewise), 6 y_scale, 7 y_zero_point,
//                          8 B (optional int32 bias, 1-D per output channel, quantised with
//                          scale x_scale * w_scale and zero point 0). Attributes as ConvInteger.
//                          Output 0 y (y_zero_point's type).

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/onnx_tensor.hpp"
#include "mote/io/protobuf.hpp"

namespace mote_onnx_test {

#ifndef MOTE_ONNX_NODE_TEST_DIR
// Where Debian's libonnx-testdata installs the node tests; a definition may point elsewhere.
#define MOTE_ONNX_NODE_TEST_DIR "/usr/share/libonnx-testdata/data/node"
#endif

/// The directory holding one folder per node test.
inline constexpr const char* node_test_root = MOTE_ONNX_NODE_TEST_DIR;

/// One attribute of a node (AttributeProto); only the fields the tests need.
struct NodeAttribute {
  std::string name;
  std::int32_t type =
      0;  ///< AttributeProto.AttributeType: 1 FLOAT, 2 INT, 3 STRING, 6 FLOATS, 7 INTS
  float f = 0.0f;
  std::int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
};

/// One node of the graph (NodeProto).
struct OnnxNode {
  std::string op_type;
  std::string domain;               ///< "" for the default domain ai.onnx
  std::vector<std::string> inputs;  ///< "" marks an omitted optional input
  std::vector<std::string> outputs;
  std::vector<NodeAttribute> attributes;

  const NodeAttribute* find_attribute(std::string_view name) const {
    for (const NodeAttribute& a : attributes) {
      if (a.name == name) return &a;
    }
    return nullptr;
  }
  /// An INT attribute, or `fallback` (the spec's default) when the node does not set it.
  std::int64_t int_attribute(std::string_view name, std::int64_t fallback) const {
    const NodeAttribute* a = find_attribute(name);
    return a != nullptr ? a->i : fallback;
  }
  /// An INTS attribute; empty when the node does not set it.
  std::vector<std::int64_t> ints_attribute(std::string_view name) const {
    const NodeAttribute* a = find_attribute(name);
    return a != nullptr ? a->ints : std::vector<std::int64_t>{};
  }
};

/// A graph input or output (ValueInfoProto) with its declared tensor type, if it is a tensor.
struct ValueInfo {
  std::string name;
  bool is_tensor = false;      ///< false for sequences, maps, optionals
  std::int32_t elem_type = 0;  ///< TensorProto.DataType
  bool has_shape = false;
  std::vector<std::int64_t> dims;  ///< -1 for a symbolic or unknown dimension
};

/// A loaded node test: the model's operator and one data set of tensors.
struct NodeTest {
  std::string name;
  std::string directory;
  std::int64_t opset_version = 0;  ///< of the default domain
  std::vector<OnnxNode> nodes;     ///< one for plain node tests, more for "_expanded" ones
  std::vector<ValueInfo> graph_inputs;
  std::vector<ValueInfo> graph_outputs;
  std::vector<mote::io::onnx::TensorProto> inputs;   ///< inputs[i]: input_<i>.pb, graph input i
  std::vector<mote::io::onnx::TensorProto> outputs;  ///< outputs[i]: output_<i>.pb

  /// The operator of a single-node test.
  const OnnxNode& node() const {
    REQUIRE(nodes.size() == 1);
    return nodes.front();
  }

  /// The tensor fed to the operator's input `position` (its index in the ONNX spec), or nullptr
  /// when that optional input is omitted.
  const mote::io::onnx::TensorProto* operator_input(std::size_t position) const {
    const OnnxNode& op = node();
    if (position >= op.inputs.size() || op.inputs[position].empty()) return nullptr;
    for (std::size_t i = 0; i < graph_inputs.size() && i < inputs.size(); ++i) {
      if (graph_inputs[i].name == op.inputs[position]) return &inputs[i];
    }
    FAIL(name << ": operator input " << position << " '" << op.inputs[position]
              << "' is not a graph input with a data file");
    return nullptr;
  }

  /// The expected tensor of the operator's output `position`.
  const mote::io::onnx::TensorProto& operator_output(std::size_t position) const {
    const OnnxNode& op = node();
    REQUIRE(position < op.outputs.size());
    for (std::size_t i = 0; i < graph_outputs.size() && i < outputs.size(); ++i) {
      if (graph_outputs[i].name == op.outputs[position]) return outputs[i];
    }
    FAIL(name << ": operator output " << position << " '" << op.outputs[position]
              << "' has no data file");
    return outputs.front();  // not reached: FAIL throws
  }
};

namespace detail {

using mote::Status;
using mote::io::protobuf::FieldTag;
using mote::io::protobuf::Reader;
using mote::io::protobuf::WireType;

inline Status read_string_field(Reader& r, FieldTag tag, std::string_view field, std::string& out) {
  if (Status s = r.expect_wire_type(tag, WireType::length_delimited, field); !s) return s;
  auto value = r.read_string();
  if (!value) return value.error();
  out = std::move(*value);
  return {};
}

inline Status read_int_field(Reader& r, FieldTag tag, std::string_view field, std::int64_t& out) {
  if (Status s = r.expect_wire_type(tag, WireType::varint, field); !s) return s;
  auto value = r.read_int64();
  if (!value) return value.error();
  out = *value;
  return {};
}

// Reads an embedded message with `parse(Reader&) -> Status`, after checking the wire type.
template <class Parse>
Status read_message_field(Reader& r, FieldTag tag, std::string_view field, Parse&& parse) {
  if (Status s = r.expect_wire_type(tag, WireType::length_delimited, field); !s) return s;
  auto message = r.read_message();
  if (!message) return message.error();
  return parse(*message);
}

// Runs `on_field(FieldTag) -> Status` for each field of a message; it returns the status of
// skip_field for fields it does not know.
template <class OnField>
Status for_each_field(Reader& r, OnField&& on_field) {
  while (!r.at_end()) {
    auto tag = r.read_tag();
    if (!tag) return tag.error();
    if (Status s = on_field(*tag); !s) return s;
  }
  return {};
}

inline Status read_attribute(Reader& r, NodeAttribute& a) {
  return for_each_field(r, [&](FieldTag tag) -> Status {
    switch (tag.number) {
      case 1: return read_string_field(r, tag, "AttributeProto.name", a.name);
      case 2: {
        if (Status s = r.expect_wire_type(tag, WireType::fixed32, "AttributeProto.f"); !s) return s;
        auto value = r.read_float();
        if (!value) return value.error();
        a.f = *value;
        return {};
      }
      case 3: return read_int_field(r, tag, "AttributeProto.i", a.i);
      case 4: return read_string_field(r, tag, "AttributeProto.s", a.s);
      case 7: return r.read_repeated_float(tag, "AttributeProto.floats", a.floats);
      case 8: return r.read_repeated_int64(tag, "AttributeProto.ints", a.ints);
      case 20: {
        std::int64_t type = 0;
        if (Status s = read_int_field(r, tag, "AttributeProto.type", type); !s) return s;
        a.type = static_cast<std::int32_t>(type);
        return {};
      }
      default: return r.skip_field(tag);
    }
  });
}

inline Status read_node(Reader& r, OnnxNode& node) {
  return for_each_field(r, [&](FieldTag tag) -> Status {
    switch (tag.number) {
      case 1: return read_string_field(r, tag, "NodeProto.input", node.inputs.emplace_back());
      case 2: return read_string_field(r, tag, "NodeProto.output", node.outputs.emplace_back());
      case 4: return read_string_field(r, tag, "NodeProto.op_type", node.op_type);
      case 5:
        return read_message_field(r, tag, "NodeProto.attribute", [&](Reader& m) {
          return read_attribute(m, node.attributes.emplace_back());
        });
      case 7: return read_string_field(r, tag, "NodeProto.domain", node.domain);
      default: return r.skip_field(tag);
    }
  });
}

// TypeProto -> is_tensor, elem_type, shape (TypeProto.Tensor, TensorShapeProto, Dimension).
inline Status read_type(Reader& r, ValueInfo& info) {
  return for_each_field(r, [&](FieldTag tag) -> Status {
    if (tag.number != 1) return r.skip_field(tag);  // sequence, map, optional, sparse types
    info.is_tensor = true;
    return read_message_field(r, tag, "TypeProto.tensor_type", [&](Reader& tensor) {
      return for_each_field(tensor, [&](FieldTag t) -> Status {
        if (t.number == 1) {
          std::int64_t elem_type = 0;
          if (Status s = read_int_field(tensor, t, "TypeProto.Tensor.elem_type", elem_type); !s) {
            return s;
          }
          info.elem_type = static_cast<std::int32_t>(elem_type);
          return {};
        }
        if (t.number != 2) return tensor.skip_field(t);
        info.has_shape = true;
        return read_message_field(tensor, t, "TypeProto.Tensor.shape", [&](Reader& shape) {
          return for_each_field(shape, [&](FieldTag d) -> Status {
            if (d.number != 1) return shape.skip_field(d);
            std::int64_t& extent = info.dims.emplace_back(-1);
            return read_message_field(shape, d, "TensorShapeProto.dim", [&](Reader& dim) {
              return for_each_field(dim, [&](FieldTag v) -> Status {
                if (v.number == 1) return read_int_field(dim, v, "Dimension.dim_value", extent);
                return dim.skip_field(v);
              });
            });
          });
        });
      });
    });
  });
}

inline Status read_value_info(Reader& r, ValueInfo& info) {
  return for_each_field(r, [&](FieldTag tag) -> Status {
    if (tag.number == 1) return read_string_field(r, tag, "ValueInfoProto.name", info.name);
    if (tag.number == 2) {
      return read_message_field(r, tag, "ValueInfoProto.type",
                                [&](Reader& type) { return read_type(type, info); });
    }
    return r.skip_field(tag);
  });
}

inline Status read_graph(Reader& r, NodeTest& test) {
  return for_each_field(r, [&](FieldTag tag) -> Status {
    switch (tag.number) {
      case 1:
        return read_message_field(r, tag, "GraphProto.node", [&](Reader& m) {
          return read_node(m, test.nodes.emplace_back());
        });
      case 11:
        return read_message_field(r, tag, "GraphProto.input", [&](Reader& m) {
          return read_value_info(m, test.graph_inputs.emplace_back());
        });
      case 12:
        return read_message_field(r, tag, "GraphProto.output", [&](Reader& m) {
          return read_value_info(m, test.graph_outputs.emplace_back());
        });
      default: return r.skip_field(tag);
    }
  });
}

inline Status read_model(Reader& r, NodeTest& test) {
  return for_each_field(r, [&](FieldTag tag) -> Status {
    switch (tag.number) {
      case 7:
        return read_message_field(r, tag, "ModelProto.graph",
                                  [&](Reader& m) { return read_graph(m, test); });
      case 8:  // OperatorSetIdProto: domain = 1, version = 2
        return read_message_field(r, tag, "ModelProto.opset_import", [&](Reader& m) {
          std::string domain;
          std::int64_t version = 0;
          Status s = for_each_field(m, [&](FieldTag t) -> Status {
            if (t.number == 1) return read_string_field(m, t, "OperatorSetIdProto.domain", domain);
            if (t.number == 2) return read_int_field(m, t, "OperatorSetIdProto.version", version);
            return m.skip_field(t);
          });
          if (s && (domain.empty() || domain == "ai.onnx")) test.opset_version = version;
          return s;
        });
      default: return r.skip_field(tag);
    }
  });
}

}  // namespace detail

/// Fails the current test, with the command that installs the data, when libonnx-testdata is
/// not installed: a conformance test must not pass by skipping.
inline void require_node_test_data() {
  if (!std::filesystem::is_directory(node_test_root)) {
    FAIL("the ONNX backend node tests are not installed (expected in "
         << node_test_root << "): run `apt-get install libonnx-testdata` (tools/test.sh does)");
  }
}

/// Reads only the model of node test `test_name` (no data set).
inline NodeTest load_node_test_model(const std::string& test_name) {
  require_node_test_data();
  NodeTest test;
  test.name = test_name;
  test.directory = std::string(node_test_root) + "/" + test_name;
  if (!std::filesystem::is_directory(test.directory)) {
    FAIL("ONNX node test '" << test_name << "' is not in " << node_test_root
                            << " (a libonnx-testdata older than the test expects?)");
  }
  const std::string model_path = test.directory + "/model.onnx";
  auto model_bytes = mote::io::try_read_file_bytes(model_path);
  if (!model_bytes) FAIL(model_bytes.error().describe());
  mote::io::protobuf::Reader model(*model_bytes, model_path);
  if (mote::Status s = detail::read_model(model, test); !s) FAIL(s.message());
  return test;
}

/// Loads node test `test_name`: its model and every input_<i>.pb and output_<i>.pb of
/// test_data_set_<data_set>, in order of i (stopping at the first missing number). Checks that
/// the files match the graph's inputs and outputs in number and names.
inline NodeTest load_node_test(const std::string& test_name, int data_set = 0) {
  NodeTest test = load_node_test_model(test_name);
  const std::string set_dir = test.directory + "/test_data_set_" + std::to_string(data_set);
  REQUIRE(std::filesystem::is_directory(set_dir));
  auto load_all = [&](const char* stem, std::vector<mote::io::onnx::TensorProto>& out) {
    for (std::size_t i = 0;; ++i) {
      const std::string path = set_dir + "/" + stem + std::to_string(i) + ".pb";
      if (!std::filesystem::exists(path)) break;
      auto tensor = mote::io::onnx::try_read_tensor_proto_file(path);
      if (!tensor) FAIL(tensor.error().describe());
      out.push_back(std::move(*tensor));
    }
  };
  load_all("input_", test.inputs);
  load_all("output_", test.outputs);
  INFO(test_name << " data set " << data_set);
  REQUIRE(test.inputs.size() == test.graph_inputs.size());
  REQUIRE(test.outputs.size() == test.graph_outputs.size());
  for (std::size_t i = 0; i < test.inputs.size(); ++i) {
    CHECK(test.inputs[i].name == test.graph_inputs[i].name);
  }
  for (std::size_t i = 0; i < test.outputs.size(); ++i) {
    CHECK(test.outputs[i].name == test.graph_outputs[i].name);
  }
  return test;
}

}  // namespace mote_onnx_test
