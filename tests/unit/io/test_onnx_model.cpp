// The ONNX model reader (mote/io/onnx_model.hpp): the node models of ONNX's own backend tests
// (Debian package libonnx-testdata), hand-encoded models for every validation rule, and damaged
// files (every prefix, bit flips, huge lengths) that must give an error, never a crash.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "io_test_helpers.hpp"

using namespace mote_io_test;
using mote::ErrorCode;
using mote::io::onnx::AttributeType;
using mote::io::onnx::DataType;
using mote::io::onnx::Graph;
using mote::io::onnx::Model;
using mote::io::onnx::Node;
using mote::io::onnx::try_read_model;
using mote::io::onnx::try_read_model_file;
using mote::io::protobuf::WireType;

namespace {

const std::string node_tests = "/usr/share/libonnx-testdata/data/node";

std::string node_model_path(std::string_view test) {
  return node_tests + "/" + std::string(test) + "/model.onnx";
}

Bytes node_model(std::string_view test) {
  auto bytes = mote::io::try_read_file_bytes(node_model_path(test));
  if (!bytes) FAIL(bytes.error().describe() + " (Debian package libonnx-testdata)");
  return std::move(*bytes);
}

Model read_ok(const Bytes& bytes, std::string where = "model.onnx") {
  auto model = try_read_model(bytes, std::move(where));
  if (!model) FAIL(model.error().describe());
  return std::move(*model);
}

// Writes protobuf fields, to build models field by field.
class Proto {
 public:
  Proto& varint(std::uint64_t value) {
    while (value >= 0x80) {
      bytes_.push_back(static_cast<std::byte>((value & 0x7F) | 0x80));
      value >>= 7;
    }
    bytes_.push_back(static_cast<std::byte>(value));
    return *this;
  }
  Proto& tag(std::uint32_t number, WireType wire) {
    return varint((std::uint64_t{number} << 3) | static_cast<std::uint64_t>(wire));
  }
  Proto& int_field(std::uint32_t number, std::int64_t value) {
    return tag(number, WireType::varint).varint(static_cast<std::uint64_t>(value));
  }
  Proto& float_field(std::uint32_t number, float value) {
    tag(number, WireType::fixed32);
    append_le(bytes_, std::bit_cast<std::uint32_t>(value), 4);
    return *this;
  }
  Proto& bytes_field(std::uint32_t number, const Bytes& payload) {
    tag(number, WireType::length_delimited).varint(payload.size());
    append(bytes_, payload);
    return *this;
  }
  Proto& message(std::uint32_t number, const Proto& inner) {
    return bytes_field(number, inner.bytes());
  }
  Proto& string_field(std::uint32_t number, std::string_view text) {
    return bytes_field(number, to_bytes(text));
  }
  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
};

// ValueInfoProto of a FLOAT tensor; a dimension is a number, a dim_param name, or "?" (unknown).
Proto value_info(std::string_view name, std::initializer_list<std::string_view> dims = {"1"},
                 int elem_type = 1) {
  Proto shape;
  for (std::string_view d : dims) {
    Proto dim;
    if (d == "?") {
    } else if ((d[0] >= '0' && d[0] <= '9') || d[0] == '-') {
      dim.int_field(1, std::stoll(std::string(d)));
    } else {
      dim.string_field(2, d);
    }
    shape.message(1, dim);
  }
  Proto tensor_type;
  tensor_type.int_field(1, elem_type).message(2, shape);
  return Proto().string_field(1, name).message(2, Proto().message(1, tensor_type));
}

Proto node(std::string_view op, std::initializer_list<std::string_view> inputs,
           std::initializer_list<std::string_view> outputs, std::string_view name = "",
           std::initializer_list<Proto> attributes = {}) {
  Proto n;
  for (std::string_view i : inputs) n.string_field(1, i);
  for (std::string_view o : outputs) n.string_field(2, o);
  if (!name.empty()) n.string_field(3, name);
  n.string_field(4, op);
  for (const Proto& a : attributes) n.message(5, a);
  return n;
}

Proto ints_attribute(std::string_view name, std::initializer_list<std::int64_t> values) {
  Proto a;
  a.string_field(1, name);
  for (std::int64_t v : values) a.int_field(8, v);
  return a.int_field(20, 7);
}

Proto float_tensor(std::string_view name, std::initializer_list<float> values) {
  Proto t;
  t.int_field(1, static_cast<std::int64_t>(values.size())).int_field(2, 1).string_field(8, name);
  Bytes raw;
  for (float v : values) append_le(raw, std::bit_cast<std::uint32_t>(v), 4);
  return t.bytes_field(9, raw);
}

// A ModelProto around `graph`: IR version 8, opset 13.
Bytes model_of(const Proto& graph, std::int64_t opset = 13) {
  Proto m;
  m.int_field(1, 8).string_field(2, "mote-test").message(7, graph);
  m.message(8, Proto().string_field(1, "").int_field(2, opset));
  return m.bytes();
}

// x -> Relu -> y, the smallest valid graph; more nodes can be appended by the caller.
Proto relu_graph() {
  Proto g;
  g.message(1, node("Relu", {"x"}, {"y"}, "relu")).string_field(2, "g");
  g.message(11, value_info("x", {"N", "3"})).message(12, value_info("y", {"N", "3"}));
  return g;
}

}  // namespace

TEST_CASE("onnx model: Conv with strides and padding", "[io][onnx_model]") {
  const std::string path = node_model_path("test_conv_with_strides_padding");
  auto model = try_read_model_file(path);
  if (!model) FAIL(model.error().describe());
  CHECK(model->source == path);
  CHECK(model->ir_version == 6);
  CHECK(model->producer_name == "backend-test");
  CHECK(model->opset_version() == 11);
  CHECK(model->opset_version("ai.onnx") == 11);
  CHECK(model->opset_version("ai.onnx.ml") == 0);
  const Graph& g = model->graph;
  CHECK(g.name == "test_conv_with_strides_padding");
  REQUIRE(g.nodes.size() == 1);
  const Node& conv = g.nodes[0];
  CHECK(conv.op_type == "Conv");
  CHECK(conv.domain.empty());
  CHECK(conv.index == 0);
  CHECK(conv.offset > 0);
  CHECK(conv.label() == "Conv node #0");
  CHECK(conv.inputs == std::vector<std::string>{"x", "W"});
  CHECK(conv.outputs == std::vector<std::string>{"y"});
  REQUIRE(conv.attributes.size() == 3);
  CHECK(conv.find("kernel_shape")->type == AttributeType::ints);
  CHECK(*conv.ints_attr("kernel_shape") == std::vector<std::int64_t>{3, 3});
  CHECK(*conv.ints_attr("pads") == std::vector<std::int64_t>{1, 1, 1, 1});
  CHECK(*conv.ints_attr("strides") == std::vector<std::int64_t>{2, 2});
  CHECK(*conv.ints_attr("dilations", {1, 1}) == std::vector<std::int64_t>{1, 1});
  CHECK(*conv.int_attr("group", 1) == 1);
  CHECK(*conv.string_attr("auto_pad", "NOTSET") == "NOTSET");
  CHECK(conv.find("group") == nullptr);

  REQUIRE(g.inputs.size() == 2);
  CHECK(g.inputs[0].name == "x");
  CHECK(g.inputs[0].elem_type == DataType::float32);
  CHECK(g.inputs[0].has_shape);
  CHECK(g.inputs[0].shape_string() == "[1, 1, 7, 5]");
  CHECK(g.find_value_info("W")->shape_string() == "[1, 1, 3, 3]");
  REQUIRE(g.outputs.size() == 1);
  CHECK(g.outputs[0].shape_string() == "[1, 1, 4, 3]");
  CHECK(g.find_value_info("nothing") == nullptr);
  CHECK(g.runtime_inputs().size() == 2);
  CHECK(g.producer("y") == &conv);
  CHECK(g.producer("x") == nullptr);
  CHECK(g.consumers("W") == std::vector<const Node*>{&conv});
  CHECK(g.consumers("y").empty());
}

TEST_CASE("onnx model: Gemm float and int attributes, Clip opset, Constant tensor",
          "[io][onnx_model]") {
  const Model gemm = read_ok(node_model("test_gemm_all_attributes"));
  REQUIRE(gemm.graph.nodes.size() == 1);
  const Node& n = gemm.graph.nodes[0];
  CHECK(n.op_type == "Gemm");
  CHECK(*n.float_attr("alpha", 1.0f) == 0.25f);
  CHECK(*n.float_attr("beta", 1.0f) == 0.35f);
  CHECK(*n.int_attr("transA", 0) == 1);
  CHECK(*n.int_attr("transB", 0) == 1);
  CHECK(n.inputs.size() == 3);

  const Model clip = read_ok(node_model("test_clip"));
  CHECK(clip.opset_version() >= 11);
  CHECK(clip.graph.nodes.at(0).op_type == "Clip");
  CHECK(clip.graph.inputs.at(1).shape_string() == "[]");  // a scalar

  const Model constant = read_ok(node_model("test_constant"));
  const auto* value = constant.graph.nodes.at(0).find("value");
  REQUIRE(value != nullptr);
  CHECK(value->type == AttributeType::tensor);
  REQUIRE(value->tensors.size() == 1);
  CHECK(value->tensors[0].data_type == DataType::float32);
  CHECK(value->tensors[0].dims == std::vector<std::int64_t>{5, 5});
  CHECK(value->tensors[0].bytes.size() == 100);

  // If's branches are subgraphs: counted, not decoded.
  const Model branch = read_ok(node_model("test_if"));
  const Node& if_node = branch.graph.nodes.at(0);
  CHECK(if_node.find("then_branch")->type == AttributeType::graph);
  CHECK(if_node.find("then_branch")->subgraph_count == 1);
  mote::io::onnx::Attribute attribute;
  CHECK(attribute.type == AttributeType::undefined);
  CHECK(to_string(AttributeType::ints) == "INTS");
  CHECK(to_string(AttributeType::float_) == "FLOAT");
  CHECK(to_string(static_cast<AttributeType>(99)) == "attribute type 99");
}

TEST_CASE("onnx model: every node model of ONNX's backend tests parses and validates",
          "[io][onnx_model]") {
  namespace fs = std::filesystem;
  if (!fs::is_directory(node_tests)) FAIL(node_tests + " is missing (package libonnx-testdata)");
  std::size_t models = 0;
  std::size_t nodes = 0;
  std::size_t failures = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(node_tests)) {
    const std::string path = entry.path().string() + "/model.onnx";
    if (!fs::exists(path)) continue;
    ++models;
    auto model = try_read_model_file(path);
    if (!model) {
      ++failures;
      FAIL_CHECK(model.error().describe());
      continue;
    }
    nodes += model->graph.nodes.size();
    CHECK(!model->graph.nodes.empty());
    CHECK(!model->opset_import.empty());  // a few import only ai.onnx.ml or training
  }
  WARN("read " << models << " ONNX node-test models (" << nodes << " nodes), " << failures
               << " failed");
  CHECK(models == 932);  // libonnx-testdata 1.12 (Debian 12)
  CHECK(failures == 0);
}

TEST_CASE("onnx model: the PyTorch-exported and simple models of ONNX's tests",
          "[io][onnx_model]") {
  // IR version 3 exports: initializers listed as graph inputs too.
  namespace fs = std::filesystem;
  std::size_t models = 0;
  std::size_t with_initializers = 0;
  for (const char* group : {"pytorch-converted", "pytorch-operator", "simple"}) {
    const fs::path dir = fs::path(node_tests).parent_path() / group;
    if (!fs::is_directory(dir)) FAIL(dir.string() + " is missing (package libonnx-testdata)");
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      const fs::path path = entry.path() / "model.onnx";
      if (!fs::exists(path)) continue;
      ++models;
      auto model = try_read_model_file(path.string());
      if (!model) {
        FAIL_CHECK(model.error().describe());
        continue;
      }
      if (model->graph.initializers.empty()) continue;
      ++with_initializers;
      for (const auto* input : model->graph.runtime_inputs()) {
        CHECK(model->graph.find_initializer(input->name) == nullptr);
      }
    }
  }
  WARN("read " << models << " other ONNX test models, " << with_initializers
               << " with initializers");
  CHECK(models == 140);
  CHECK(with_initializers > 20);
}

TEST_CASE("onnx model: symbolic shapes, initializers and opsets", "[io][onnx_model]") {
  Proto g;
  g.message(1, node("MatMul", {"x", "w"}, {"h"}, "mm"));
  g.message(1, node("Add", {"h", "b"}, {"y"}));
  g.message(5, float_tensor("w", {1, 2, 3, 4, 5, 6}));
  g.message(5, float_tensor("b", {0.5f}));
  // IR < 4 style: initializers listed as inputs too.
  g.message(11, value_info("x", {"batch", "?", "6"}));
  g.message(11, value_info("w", {"6"}));
  g.message(12, value_info("y", {"batch", "-1"}));
  g.message(13, value_info("h", {}));
  Proto m;
  m.int_field(1, 3).message(7, g);
  m.message(8, Proto().string_field(1, "ai.onnx").int_field(2, 9));
  m.message(8, Proto().string_field(1, "com.microsoft").int_field(2, 1));
  const Model model = read_ok(m.bytes());
  CHECK(model.opset_version("") == 9);
  CHECK(model.opset_version("com.microsoft") == 1);
  const Graph& graph = model.graph;
  CHECK(graph.find_value_info("x")->shape_string() == "[batch, ?, 6]");
  CHECK(graph.find_value_info("x")->dims[0].param == "batch");
  CHECK_FALSE(graph.find_value_info("x")->dims[0].known());
  CHECK(graph.find_value_info("y")->shape_string() == "[batch, ?]");  // -1: unknown
  CHECK(graph.find_value_info("h")->shape_string() == "[]");
  REQUIRE(graph.find_initializer("w") != nullptr);
  CHECK(graph.find_initializer("w")->dims == std::vector<std::int64_t>{6});
  CHECK(graph.find_initializer("nothing") == nullptr);
  const auto runtime = graph.runtime_inputs();
  REQUIRE(runtime.size() == 1);
  CHECK(runtime[0]->name == "x");
  CHECK(graph.producer("h")->label() == "MatMul node 'mm' (#0)");
  CHECK(graph.consumers("h").at(0)->label() == "Add node #1");

  // A value with no tensor type: no element type, no shape.
  Proto seq;
  seq.string_field(1, "s").message(2, Proto().message(4, Proto().message(1, Proto())));
  Proto g2 = relu_graph();
  g2.message(13, seq);
  const Model with_sequence = read_ok(model_of(g2));
  const auto* s = with_sequence.graph.find_value_info("s");
  REQUIRE(s != nullptr);
  CHECK(s->elem_type == DataType::undefined);
  CHECK_FALSE(s->has_shape);
  CHECK(s->shape_string() == "(unknown rank)");
}

TEST_CASE("onnx model: attributes of every type and the typed getters", "[io][onnx_model]") {
  Proto strings;
  strings.string_field(1, "names").string_field(9, "a").string_field(9, "b").int_field(20, 8);
  Proto floats;
  floats.string_field(1, "scales").float_field(7, 0.5f).float_field(7, 2.0f).int_field(20, 6);
  Proto tensors;
  tensors.string_field(1, "ts")
      .message(10, float_tensor("", {1}))
      .message(10, float_tensor("", {2}));
  tensors.int_field(20, 9);
  Proto graphs;
  graphs.string_field(1, "bodies").message(11, relu_graph()).message(11, relu_graph());
  graphs.int_field(20, 10);
  Proto untyped;  // IR version 1: no type field, the value tells
  untyped.string_field(1, "axis").int_field(3, -1);
  Proto text;
  text.string_field(1, "mode").string_field(4, "constant").int_field(20, 3);
  Proto sparse;
  sparse.string_field(1, "sparse_value").message(22, Proto().message(1, float_tensor("v", {1})));
  sparse.int_field(20, 11);
  Proto g;
  g.message(1, node("Custom", {"x"}, {"y"}, "c1",
                    {strings, floats, tensors, graphs, untyped, text, sparse,
                     ints_attribute("pads", {0, 1})}));
  g.message(11, value_info("x")).message(12, value_info("y"));
  const Model model = read_ok(model_of(g));
  const Node& n = model.graph.nodes.at(0);
  CHECK(n.find("names")->strings == std::vector<std::string>{"a", "b"});
  CHECK(*n.floats_attr("scales") == std::vector<float>{0.5f, 2.0f});
  CHECK(n.find("ts")->type == AttributeType::tensors);
  CHECK(n.find("ts")->tensors.size() == 2);
  CHECK(n.find("bodies")->subgraph_count == 2);
  CHECK(n.find("axis")->type == AttributeType::int_);
  CHECK(*n.int_attr("axis", 0) == -1);
  CHECK(*n.string_attr("mode", "") == "constant");
  CHECK(n.find("sparse_value")->type == AttributeType::sparse_tensor);
  CHECK(n.find("sparse_value")->tensors.empty());

  // Another type than the getter's: the node, the attribute and both types are named.
  require_error(n.ints_attr("scales"), ErrorCode::invalid_value,
                {"Custom node 'c1' (#0)", "'scales'", "FLOATS", "expected INTS"});
  require_error(n.int_attr("pads", 0), ErrorCode::invalid_value,
                {"'pads'", "INTS", "expected INT"});
  require_error(n.float_attr("axis", 0), ErrorCode::invalid_value, {"INT", "expected FLOAT"});
  require_error(n.string_attr("names", ""), ErrorCode::invalid_value,
                {"STRINGS", "expected STRING"});
  require_error(n.floats_attr("mode"), ErrorCode::invalid_value, {"STRING", "expected FLOATS"});
  CHECK(*n.floats_attr("absent", {1.0f}) == std::vector<float>{1.0f});
}

TEST_CASE("onnx model: malformed attributes name their path", "[io][onnx_model]") {
  struct Case {
    const char* what;
    Proto attribute;
    ErrorCode code;
    std::vector<std::string_view> fragments;
  };
  std::vector<Case> cases;
  cases.push_back({"two values",
                   Proto().string_field(1, "k").int_field(3, 1).float_field(2, 1.0f),
                   ErrorCode::corrupt,
                   {"attribute[0] 'k'", "two types"}});
  cases.push_back({"type and value disagree",
                   Proto().string_field(1, "pads").float_field(2, 1.0f).int_field(20, 7),
                   ErrorCode::corrupt,
                   {"attribute[0] 'pads'", "declared INTS", "FLOAT value"}});
  cases.push_back({"no type, no value",
                   Proto().string_field(1, "k"),
                   ErrorCode::corrupt,
                   {"neither a type nor a value"}});
  cases.push_back({"no name",
                   Proto().int_field(3, 1).int_field(20, 2),
                   ErrorCode::corrupt,
                   {"attribute[0]", "no name"}});
  cases.push_back({"unknown type",
                   Proto().string_field(1, "k").int_field(20, 99),
                   ErrorCode::corrupt,
                   {"type 99"}});
  cases.push_back({"wrong wire type",
                   Proto().string_field(1, "alpha").int_field(2, 1),
                   ErrorCode::corrupt,
                   {"attribute[0] 'alpha'", "field 'f'", "expected I32"}});
  cases.push_back(
      {"bad tensor",
       Proto().string_field(1, "value").message(5, Proto().int_field(1, 3).int_field(2, 1)),
       ErrorCode::corrupt,
       {"attribute[0] 'value'.t", "no data field"}});
  cases.push_back({"packed floats of 3 bytes",
                   Proto().string_field(1, "f").bytes_field(7, to_bytes("abc")),
                   ErrorCode::corrupt,
                   {"attribute[0] 'f'", "not a multiple of 4"}});
  for (const Case& c : cases) {
    INFO(c.what);
    Proto g;
    g.message(1, node("Op", {"x"}, {"y"}, "", {c.attribute}));
    g.message(11, value_info("x")).message(12, value_info("y"));
    auto result = try_read_model(model_of(g), "m.onnx");
    std::vector<std::string_view> fragments = c.fragments;
    fragments.push_back("m.onnx: graph.node[0].attribute[0]");
    fragments.push_back("byte ");
    REQUIRE_FALSE(result);
    INFO(result.error().describe());
    CHECK(result.error().code == c.code);
    for (std::string_view f : fragments) CHECK(result.error().message.find(f) != std::string::npos);
  }
}

TEST_CASE("onnx model: graph validation", "[io][onnx_model]") {
  auto check = [](const Proto& graph, ErrorCode code,
                  std::initializer_list<std::string_view> fragments) {
    require_error(try_read_model(model_of(graph), "bad.onnx"), code, fragments);
  };
  SECTION("cycle") {
    Proto g;
    g.message(1, node("Add", {"x", "c"}, {"a"}, "add"));
    g.message(1, node("Relu", {"a"}, {"c"}, "relu"));
    g.message(11, value_info("x")).message(12, value_info("c"));
    check(g, ErrorCode::corrupt,
          {"bad.onnx: graph.node[0] at byte ", "Add node 'add' (#0) reads 'c'",
           "Relu node 'relu' (#1) produces after it", "cycle or is not topologically sorted"});
  }
  SECTION("a node reading its own output") {
    Proto g;
    g.message(1, node("Relu", {"a"}, {"a"}));
    g.message(11, value_info("x")).message(12, value_info("a"));
    check(g, ErrorCode::corrupt, {"graph.node[0]", "Relu node #0 reads its own output 'a'"});
  }
  SECTION("undefined value") {
    Proto g = relu_graph();
    g.message(1, node("Add", {"y", "ghost"}, {"z"}, "add"));
    check(g, ErrorCode::corrupt,
          {"graph.node[1] at byte", "Add node 'add' (#1) reads 'ghost'",
           "no graph input, initializer or node produces"});
  }
  SECTION("a value produced twice") {
    Proto g = relu_graph();
    g.message(1, node("Sigmoid", {"x"}, {"y"}, "sig"));
    check(g, ErrorCode::corrupt,
          {"graph.node[1]", "Sigmoid node 'sig' (#1) produces 'y'", "Relu node 'relu' (#0)",
           "produced once"});
  }
  SECTION("a node output named like a graph input") {
    Proto g = relu_graph();
    g.message(1, node("Sigmoid", {"y"}, {"x"}));
    check(g, ErrorCode::corrupt, {"produces 'x'", "graph.input[0] already defines"});
  }
  SECTION("duplicate initializers") {
    Proto g = relu_graph();
    g.message(5, float_tensor("w", {1})).message(5, float_tensor("w", {2}));
    check(g, ErrorCode::corrupt,
          {"graph.initializer[1] at byte", "'w' repeats the name of graph.initializer[0]"});
  }
  SECTION("duplicate inputs") {
    Proto g = relu_graph();
    g.message(11, value_info("x"));
    check(g, ErrorCode::corrupt, {"graph.input[1] at byte", "repeats the name of graph.input[0]"});
  }
  SECTION("an output nobody produces") {
    Proto g = relu_graph();
    g.message(12, value_info("nowhere"));
    check(g, ErrorCode::corrupt, {"graph.output[1] at byte", "'nowhere' is produced by no node"});
  }
  SECTION("an output listed twice") {
    Proto g = relu_graph();
    g.message(12, value_info("y"));
    check(g, ErrorCode::corrupt, {"graph.output[1]", "repeats graph.output[0]"});
  }
  SECTION("a node without op_type") {
    Proto g = relu_graph();
    g.message(1, Proto().string_field(1, "y").string_field(2, "z"));
    check(g, ErrorCode::corrupt, {"bad.onnx: graph.node[1]: byte", "no op_type"});
  }
  SECTION("a node without outputs") {
    Proto g = relu_graph();
    g.message(1, node("Print", {"y"}, {""}, "print"));
    check(g, ErrorCode::corrupt,
          {"bad.onnx: graph.node[1]: byte", "Print node 'print' (#1) produces no output"});
  }
  SECTION("a graph without outputs") {
    Proto g;
    g.message(1, node("Relu", {"x"}, {"y"})).message(11, value_info("x"));
    check(g, ErrorCode::corrupt, {"bad.onnx: graph at byte 15: the graph declares no outputs"});
  }
  SECTION("duplicate attributes") {
    Proto g;
    g.message(1, node("Conv", {"x"}, {"y"}, "c",
                      {ints_attribute("pads", {0}), ints_attribute("pads", {1})}));
    g.message(11, value_info("x")).message(12, value_info("y"));
    check(g, ErrorCode::corrupt, {"Conv node 'c' (#0) has two attributes called 'pads'"});
  }
  SECTION("unnamed input") {
    Proto g = relu_graph();
    g.message(11, Proto());
    check(g, ErrorCode::corrupt, {"graph.input[1]", "no name"});
  }
  SECTION("sparse initializer") {
    Proto g = relu_graph();
    g.message(15, Proto().message(1, float_tensor("v", {1})));
    check(g, ErrorCode::unsupported, {"bad.onnx: graph: byte", "sparse initializers"});
  }
  SECTION("external data") {
    Proto t;
    t.int_field(1, 1).int_field(2, 1).string_field(8, "w");
    t.message(13, Proto().string_field(1, "location").string_field(2, "w.bin")).int_field(14, 1);
    Proto g = relu_graph();
    g.message(5, t);
    check(g, ErrorCode::unsupported, {"graph.initializer[0]", "'w.bin'"});
  }
  SECTION("nodes reading nothing are fine") {
    Proto g;
    g.message(1, node("Constant", {}, {"c"}, "", {}));
    g.message(1, node("Relu", {"c", ""}, {"y", ""}));
    g.message(12, value_info("y"));
    const Model m = read_ok(model_of(g));
    CHECK(m.graph.nodes.size() == 2);
    CHECK(m.graph.producer("") == nullptr);
    CHECK(m.graph.consumers("").empty());
    CHECK(m.graph.runtime_inputs().empty());
  }
}

TEST_CASE("onnx model: validate_graph on a graph built in memory", "[io][onnx_model]") {
  Graph g;
  g.inputs.push_back({"x", DataType::float32, true, {}});
  Node relu;
  relu.op_type = "Relu";
  relu.inputs = {"x"};
  relu.outputs = {"y"};
  g.nodes.push_back(relu);
  g.outputs.push_back({"y", DataType::float32, false, {}});
  CHECK(mote::io::onnx::validate_graph(g, "built").is_ok());
  g.nodes[0].inputs = {"z"};
  auto status = mote::io::onnx::validate_graph(g, "built");
  require_error(status, ErrorCode::corrupt, {"built: graph.node[0]: Relu node #0 reads 'z'"});
  CHECK(status.error().message.find("byte") == std::string::npos);
  g.nodes[0].inputs = {"x"};
  g.nodes[0].op_type.clear();
  require_error(mote::io::onnx::validate_graph(g, "built"), ErrorCode::corrupt,
                {"built: graph.node[0]: the node has no op_type"});
  g.nodes[0].op_type = "Relu";
  g.inputs.push_back({"", DataType::float32, false, {}});
  require_error(mote::io::onnx::validate_graph(g, "built"), ErrorCode::corrupt,
                {"built: graph.input[1]: the input has no name"});
}

TEST_CASE("onnx model: model-level errors", "[io][onnx_model]") {
  require_error(try_read_model(Bytes{}, "empty.onnx"), ErrorCode::truncated,
                {"empty.onnx", "empty"});
  // A TensorProto file is a protobuf message too, but not a model.
  const Bytes tensor = Proto().int_field(1, 2).int_field(2, 1).bytes();
  require_error(try_read_model(tensor, "t.pb"), ErrorCode::corrupt,
                {"t.pb", "field 'producer_name' (number 2) has wire type VARINT"});
  require_error(try_read_model(Proto().int_field(1, 8).bytes(), "m.onnx"), ErrorCode::corrupt,
                {"m.onnx: byte 2", "no graph"});
  require_error(try_read_model(Proto().message(7, relu_graph()).bytes(), "m.onnx"),
                ErrorCode::corrupt, {"ir_version is 0"});
  {
    Proto m;
    m.int_field(1, 8).message(7, relu_graph()).message(7, relu_graph());
    require_error(try_read_model(m.bytes(), "m.onnx"), ErrorCode::corrupt,
                  {"second graph field", "first is at byte 4"});
  }
  {
    Proto m;
    m.int_field(1, 8).message(7, relu_graph());
    m.message(8, Proto().int_field(2, 13))
        .message(8, Proto().string_field(1, "ai.onnx").int_field(2, 12));
    require_error(
        try_read_model(m.bytes(), "m.onnx"), ErrorCode::corrupt,
        {"m.onnx: opset_import[1]: byte", "'ai.onnx' is imported twice", "opset_import[0]"});
  }
  {
    Proto m;
    m.int_field(1, 8).message(7, relu_graph()).message(8, Proto().int_field(2, 0));
    require_error(try_read_model(m.bytes(), "m.onnx"), ErrorCode::corrupt,
                  {"opset_import[0]", "version 0"});
  }
  {
    // A length prefix far beyond the input, at the graph and deep inside a node.
    Proto m;
    m.int_field(1, 8).tag(7, WireType::length_delimited).varint(std::uint64_t{1} << 62);
    require_error(try_read_model(m.bytes(), "huge.onnx"), ErrorCode::truncated,
                  {"huge.onnx: byte 3", "announces 4611686018427387904 bytes, only 0 remain"});
    Proto n;
    n.string_field(4, "Relu").tag(1, WireType::length_delimited).varint(0xFFFFFFFFFFFFFFFFull);
    Proto g;
    g.message(1, n);
    require_error(try_read_model(model_of(g), "huge.onnx"), ErrorCode::truncated,
                  {"huge.onnx: graph.node[0]: byte", "announces 18446744073709551615 bytes"});
  }
  {
    // A name with control bytes is escaped in messages.
    Proto g = relu_graph();
    g.message(1, node("Add", {std::string_view("a\nb\x01", 4)}, {"z"}));
    require_error(try_read_model(model_of(g), "m.onnx"), ErrorCode::corrupt, {"'a\\x0ab\\x01'"});
  }
  CHECK(try_read_model_file("/nonexistent/model.onnx").error().code == ErrorCode::io);
#if MOTE_HAS_EXCEPTIONS
  CHECK_THROWS_AS(mote::io::onnx::read_model(Bytes{}, "x"), mote::Error);
  CHECK_THROWS_AS(mote::io::onnx::read_model_file("/nonexistent/model.onnx"), mote::Error);
  CHECK(mote::io::onnx::read_model(model_of(relu_graph()), "ok").graph.nodes.size() == 1);
#endif
}

TEST_CASE("onnx model: every prefix of a real model is a value or an error", "[io][onnx_model]") {
  for (const char* test : {"test_conv_with_strides_padding", "test_if", "test_constant"}) {
    const Bytes full = node_model(test);
    std::size_t errors = 0;
    for (std::size_t n = 0; n < full.size(); ++n) {
      const Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      auto model = try_read_model(prefix, "cut.onnx");
      if (model) continue;  // cut at a field boundary after everything required
      ++errors;
      INFO(test << " cut at " << n << ": " << model.error().describe());
      CHECK(model.error().message.rfind("cut.onnx", 0) == 0);
      CHECK(
          (model.error().code == ErrorCode::truncated || model.error().code == ErrorCode::corrupt));
    }
    INFO(test);
    CHECK(errors > full.size() / 2);
  }
}

TEST_CASE("onnx model: bit flips give a value or a clear error", "[io][onnx_model]") {
  std::size_t errors = 0;
  std::size_t runs = 0;
  for (const char* test : {"test_conv_with_strides_padding", "test_gemm_all_attributes",
                           "test_loop11", "test_constant"}) {
    const Bytes full = node_model(test);
    for (std::size_t i = 0; i < full.size(); ++i) {
      for (unsigned mask : {0x01u, 0x80u, 0xFFu}) {
        Bytes damaged = full;
        damaged[i] ^= static_cast<std::byte>(mask);
        auto model = try_read_model(damaged, "flip.onnx");
        ++runs;
        if (model) continue;
        ++errors;
        INFO(test << " byte " << i << " ^ " << mask << ": " << model.error().describe());
        CHECK(model.error().message.rfind("flip.onnx", 0) == 0);
        CHECK(model.error().message.find("byte") != std::string::npos);
      }
    }
  }
  CHECK(errors > runs / 10);
}
