#pragma once
// ONNX models (onnx/onnx.proto, ModelProto): the graph, its nodes and their attributes, the
// initializers, and the declared element types and shapes of the graph's values, decoded with
// mote's own protobuf reader (no libprotobuf, no generated code).
//
// Read and kept: ModelProto's versions, producer and opset imports; GraphProto's nodes,
// initializers, inputs, outputs and value_info; every AttributeProto value except subgraphs
// (GRAPH/GRAPHS attributes are counted and skipped: mote imports no control flow), sparse
// tensors and type protos (recorded as the attribute's type, without a value).
// Skipped: doc strings, metadata_props, training_info, model-local functions, quantization
// annotations, and field numbers this reader does not know (as protobuf readers do).
// Rejected: sparse initializers (ErrorCode::unsupported), what the TensorProto reader rejects
// (external data, string tensors: onnx_tensor.hpp), and anything that contradicts the schema or
// the graph's own structure (ErrorCode::corrupt or truncated; see validate_graph).
//
// Every error names the input, the byte offset and the path of the message in the model
// ("model.onnx: graph.node[3].attribute[1] 'pads': byte 812: ..."). Counts are never trusted:
// each element kept comes from bytes actually present, so the memory used is linear in the input
// (about 30 bytes per input byte for the worst case, a file of tiny nodes).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/file.hpp"
#include "mote/io/onnx_tensor.hpp"
#include "mote/io/protobuf.hpp"

namespace mote::io::onnx {

/// AttributeProto.AttributeType, with ONNX's numbering.
enum class AttributeType : int {
  undefined = 0,
  float_ = 1,
  int_ = 2,
  string = 3,
  tensor = 4,
  graph = 5,
  floats = 6,
  ints = 7,
  strings = 8,
  tensors = 9,
  graphs = 10,
  sparse_tensor = 11,
  sparse_tensors = 12,
  type_proto = 13,
  type_protos = 14
};

/// ONNX's name of an attribute type ("FLOAT", "INT", "INTS", ...); "attribute type <n>" for
/// numbers outside the enum.
inline std::string to_string(AttributeType type) {
  switch (type) {
    case AttributeType::undefined: return "UNDEFINED";
    case AttributeType::float_: return "FLOAT";
    case AttributeType::int_: return "INT";
    case AttributeType::string: return "STRING";
    case AttributeType::tensor: return "TENSOR";
    case AttributeType::graph: return "GRAPH";
    case AttributeType::floats: return "FLOATS";
    case AttributeType::ints: return "INTS";
    case AttributeType::strings: return "STRINGS";
    case AttributeType::tensors: return "TENSORS";
    case AttributeType::graphs: return "GRAPHS";
    case AttributeType::sparse_tensor: return "SPARSE_TENSOR";
    case AttributeType::sparse_tensors: return "SPARSE_TENSORS";
    case AttributeType::type_proto: return "TYPE_PROTO";
    case AttributeType::type_protos: return "TYPE_PROTOS";
  }
  return "attribute type " + std::to_string(static_cast<int>(type));
}

namespace detail {

// Names as messages show them: control bytes escaped and huge names cut short, so that a hostile
// file cannot make a message unreadable or enormous. escape_name() for identifiers shown bare
// (op types), quote_name() for names shown in quotes.
struct EscapedName {
  std::string body;    // the shown part, escaped
  std::string suffix;  // "... (N bytes)" when cut short
};

inline EscapedName escape_parts(std::string_view text) {
  constexpr std::size_t limit = 200;
  static constexpr char hex[] = "0123456789abcdef";
  EscapedName out;
  const std::size_t shown = text.size() > limit ? limit : text.size();
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      out.body += "\\x";
      out.body += hex[c >> 4];
      out.body += hex[c & 15];
    } else {
      out.body += static_cast<char>(c);
    }
  }
  if (shown < text.size()) out.suffix = "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

inline std::string escape_name(std::string_view text) {
  EscapedName e = escape_parts(text);
  return e.body + e.suffix;
}

inline std::string quote_name(std::string_view text) {
  EscapedName e = escape_parts(text);
  return "'" + e.body + "'" + e.suffix;
}

}  // namespace detail

/// One AttributeProto. The member that holds the value depends on `type`: f (FLOAT), i (INT),
/// s (STRING, also binary), tensors (one for TENSOR, any number for TENSORS), floats, ints,
/// strings; subgraph_count for GRAPH and GRAPHS, whose bodies are skipped. SPARSE_TENSOR(S) and
/// TYPE_PROTO(S) attributes keep only their type.
struct Attribute {
  std::string name;
  AttributeType type = AttributeType::undefined;
  float f = 0;
  std::int64_t i = 0;
  std::string s;
  std::vector<TensorProto> tensors;  ///< `t` (one) or `tensors`
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  std::vector<std::string> strings;
  std::size_t subgraph_count =
      0;  ///< GRAPH/GRAPHS: counted and skipped (mote imports no control flow)
};

/// One NodeProto: an operator application.
struct Node {
  std::size_t index = 0;   ///< position in graph.node
  std::size_t offset = 0;  ///< byte offset of the NodeProto's contents in the file
  std::string name, op_type, domain;
  std::vector<std::string> inputs, outputs;  ///< "" = an omitted optional input or output
  std::vector<Attribute> attributes;

  /// The attribute called `attribute`, or nullptr.
  const Attribute* find(std::string_view attribute) const noexcept {
    for (const Attribute& a : attributes) {
      if (a.name == attribute) return &a;
    }
    return nullptr;
  }

  /// How messages name the node: "Conv node 'conv1' (#3)"; unnamed: "Conv node #3".
  std::string label() const {
    std::string text = op_type.empty() ? "node" : detail::escape_name(op_type) + " node";
    if (name.empty()) return text + " #" + std::to_string(index);
    return text + " " + detail::quote_name(name) + " (#" + std::to_string(index) + ")";
  }

  /// Typed getters: an absent attribute gives `fallback`; one of another type (exact types only:
  /// INT is not INTS) fails with ErrorCode::invalid_value naming the node, the attribute, the
  /// expected and the found type.
  Expected<std::int64_t> int_attr(std::string_view attribute, std::int64_t fallback) const {
    const Attribute* a = find(attribute);
    if (a == nullptr) return fallback;
    if (a->type != AttributeType::int_) return type_error(*a, AttributeType::int_);
    return a->i;
  }
  Expected<float> float_attr(std::string_view attribute, float fallback) const {
    const Attribute* a = find(attribute);
    if (a == nullptr) return fallback;
    if (a->type != AttributeType::float_) return type_error(*a, AttributeType::float_);
    return a->f;
  }
  Expected<std::string> string_attr(std::string_view attribute, std::string fallback) const {
    const Attribute* a = find(attribute);
    if (a == nullptr) return fallback;
    if (a->type != AttributeType::string) return type_error(*a, AttributeType::string);
    return a->s;
  }
  Expected<std::vector<std::int64_t>> ints_attr(std::string_view attribute,
                                                std::vector<std::int64_t> fallback = {}) const {
    const Attribute* a = find(attribute);
    if (a == nullptr) return fallback;
    if (a->type != AttributeType::ints) return type_error(*a, AttributeType::ints);
    return a->ints;
  }
  Expected<std::vector<float>> floats_attr(std::string_view attribute,
                                           std::vector<float> fallback = {}) const {
    const Attribute* a = find(attribute);
    if (a == nullptr) return fallback;
    if (a->type != AttributeType::floats) return type_error(*a, AttributeType::floats);
    return a->floats;
  }

 private:
  ErrorInfo type_error(const Attribute& a, AttributeType expected) const {
    return make_error(ErrorCode::invalid_value, label() + " at byte " + std::to_string(offset) +
                                                    ": attribute " + detail::quote_name(a.name) +
                                                    " is " + to_string(a.type) + ", expected " +
                                                    to_string(expected));
  }
};

/// One dimension of a declared shape: a size, a symbolic name (dim_param), or neither.
struct Dimension {
  std::int64_t value = -1;  ///< -1 when not a number (symbolic or unknown)
  std::string param;        ///< the symbolic name, when there is one
  bool known() const noexcept { return value >= 0; }
};

/// One ValueInfoProto: a named value with its declared type. Values that are not tensors
/// (sequences, maps, optionals) have elem_type undefined and no shape.
struct ValueInfo {
  std::string name;
  DataType elem_type = DataType::undefined;
  bool has_shape = false;  ///< false: the rank is unknown
  std::vector<Dimension> dims;

  /// "[N, 3, 224, 224]": numbers, param names for symbolic dimensions, "?" for unknown ones;
  /// "[]" for a scalar and "(unknown rank)" without a shape.
  std::string shape_string() const {
    if (!has_shape) return "(unknown rank)";
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) {
      if (i != 0) s += ", ";
      if (dims[i].known()) {
        s += std::to_string(dims[i].value);
      } else if (!dims[i].param.empty()) {
        s += detail::escape_name(dims[i].param);
      } else {
        s += "?";
      }
    }
    return s + "]";
  }
};

/// One GraphProto: nodes in file order (topologically sorted, as validate_graph checks).
struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<TensorProto> initializers;
  std::vector<ValueInfo> inputs, outputs, value_info;

  /// The initializer called `name`, or nullptr.
  const TensorProto* find_initializer(std::string_view value) const noexcept {
    for (const TensorProto& t : initializers) {
      if (t.name == value) return &t;
    }
    return nullptr;
  }

  /// The declared type of `value`, searched in inputs, outputs and value_info; nullptr if none.
  const ValueInfo* find_value_info(std::string_view value) const noexcept {
    for (const auto* list : {&inputs, &outputs, &value_info}) {
      for (const ValueInfo& v : *list) {
        if (v.name == value) return &v;
      }
    }
    return nullptr;
  }

  /// The inputs the caller must feed: graph inputs that are not initializers (models of IR
  /// version < 4 list every initializer as an input too).
  std::vector<const ValueInfo*> runtime_inputs() const {
    std::unordered_set<std::string_view> initialized;
    for (const TensorProto& t : initializers) initialized.insert(t.name);
    std::vector<const ValueInfo*> out;
    for (const ValueInfo& v : inputs) {
      if (initialized.find(v.name) == initialized.end()) out.push_back(&v);
    }
    return out;
  }

  /// The node whose outputs contain `value`, or nullptr (also for "", an omitted value).
  const Node* producer(std::string_view value) const noexcept {
    if (value.empty()) return nullptr;
    for (const Node& n : nodes) {
      for (const std::string& o : n.outputs) {
        if (o == value) return &n;
      }
    }
    return nullptr;
  }

  /// The nodes that read `value`, in graph order, each once; empty for "".
  std::vector<const Node*> consumers(std::string_view value) const {
    std::vector<const Node*> out;
    if (value.empty()) return out;
    for (const Node& n : nodes) {
      for (const std::string& i : n.inputs) {
        if (i == value) {
          out.push_back(&n);
          break;
        }
      }
    }
    return out;
  }
};

/// One OperatorSetIdProto: the opset version of a domain ("" is the default ONNX domain).
struct OperatorSetId {
  std::string domain;
  std::int64_t version = 0;
};

/// A decoded ONNX ModelProto.
struct Model {
  std::string source;  ///< file path or the `where` given
  std::int64_t ir_version = 0, model_version = 0;
  std::vector<OperatorSetId> opset_import;
  std::string producer_name, producer_version, domain;
  Graph graph;

  /// The imported version of `domain`'s operator set; "" and "ai.onnx" are the same domain.
  /// 0 when the model does not import it.
  std::int64_t opset_version(std::string_view op_domain = "") const noexcept {
    auto canonical = [](std::string_view d) { return d == "ai.onnx" ? std::string_view() : d; };
    for (const OperatorSetId& o : opset_import) {
      if (canonical(o.domain) == canonical(op_domain)) return o.version;
    }
    return 0;
  }
};

namespace detail {

// Field numbers (onnx/onnx.proto).
namespace model_field {
inline constexpr std::uint32_t ir_version = 1, producer_name = 2, producer_version = 3, domain = 4,
                               model_version = 5, graph = 7, opset_import = 8;
}
namespace graph_field {
inline constexpr std::uint32_t node = 1, name = 2, initializer = 5, input = 11, output = 12,
                               value_info = 13, sparse_initializer = 15;
}
namespace node_field {
inline constexpr std::uint32_t input = 1, output = 2, name = 3, op_type = 4, attribute = 5,
                               domain = 7;
}
namespace attribute_field {
inline constexpr std::uint32_t name = 1, f = 2, i = 3, s = 4, t = 5, g = 6, floats = 7, ints = 8,
                               strings = 9, tensors = 10, graphs = 11, tp = 14, type_protos = 15,
                               type = 20, ref_attr_name = 21, sparse_tensor = 22,
                               sparse_tensors = 23;
}
namespace opset_field {
inline constexpr std::uint32_t domain = 1, version = 2;
}
namespace value_info_field {
inline constexpr std::uint32_t name = 1, type = 2;
}
namespace type_field {  // TypeProto, TypeProto.Tensor, TensorShapeProto(.Dimension)
inline constexpr std::uint32_t tensor_type = 1, elem_type = 1, shape = 2, dim = 1, dim_value = 1,
                               dim_param = 2;
}

inline ErrorInfo model_error(ErrorCode code, std::string_view where, std::size_t offset,
                             const std::string& why) {
  return make_error(code, std::string(where) + ": byte " + std::to_string(offset) + ": " + why);
}

// A reader of the next length-delimited payload (an embedded message) whose messages name the
// input as `where`: the file plus the message path. Subgraphs are skipped, so the schema bounds
// the nesting (model, graph, node, attribute, tensor, external_data entry).
inline Expected<protobuf::Reader> open_message(protobuf::Reader& parent, std::string where) {
  auto payload = parent.read_bytes();
  if (!payload) return payload.error();
  return protobuf::Reader(*payload, std::move(where), parent.offset() - payload->size(),
                          parent.depth() + 1);
}

inline Status read_string_field(protobuf::Reader& r, protobuf::FieldTag tag, std::string_view field,
                                std::string& out) {
  if (Status s = r.expect_wire_type(tag, protobuf::WireType::length_delimited, field); !s) {
    return s;
  }
  auto text = r.read_string();
  if (!text) return text.error();
  out = std::move(*text);
  return {};
}

inline Status read_int64_field(protobuf::Reader& r, protobuf::FieldTag tag, std::string_view field,
                               std::int64_t& out) {
  if (Status s = r.expect_wire_type(tag, protobuf::WireType::varint, field); !s) return s;
  auto value = r.read_int64();
  if (!value) return value.error();
  out = *value;
  return {};
}

inline Status read_int32_field(protobuf::Reader& r, protobuf::FieldTag tag, std::string_view field,
                               std::int32_t& out) {
  if (Status s = r.expect_wire_type(tag, protobuf::WireType::varint, field); !s) return s;
  auto value = r.read_int32();
  if (!value) return value.error();
  out = *value;
  return {};
}

// The last `name` field of an attribute, found before it is decoded so that every message about
// the attribute can name it. Malformed bytes stop the scan; the decoding pass reports them.
inline std::string peek_attribute_name(protobuf::Reader r) {
  std::string name;
  while (!r.at_end()) {
    auto tag = r.read_tag();
    if (!tag) break;
    if (tag->number == attribute_field::name &&
        tag->wire_type == protobuf::WireType::length_delimited) {
      auto text = r.read_string();
      if (!text) break;
      name = std::move(*text);
    } else if (!r.skip_field(*tag)) {
      break;
    }
  }
  return name;
}

inline Expected<Attribute> read_attribute(protobuf::Reader r) {
  using protobuf::WireType;
  namespace F = attribute_field;
  const std::size_t start = r.offset();
  Attribute a;
  std::int32_t declared_type = 0;
  std::optional<TensorProto> t;
  // Which value fields are present, as the attribute type each implies (proto2 presence: a
  // repeated field is present when it holds an element).
  std::vector<AttributeType> present;
  auto mark = [&present](AttributeType kind) {
    for (AttributeType p : present) {
      if (p == kind) return;
    }
    present.push_back(kind);
  };
  std::size_t tensor_count = 0;

  while (!r.at_end()) {
    auto tag = r.read_tag();
    if (!tag) return tag.error();
    Status status;
    switch (tag->number) {
      case F::name: status = read_string_field(r, *tag, "name", a.name); break;
      case F::type: status = read_int32_field(r, *tag, "type", declared_type); break;
      case F::f:
        status = r.expect_wire_type(*tag, WireType::fixed32, "f");
        if (status) {
          auto v = r.read_float();
          if (!v) return v.error();
          a.f = *v;
          mark(AttributeType::float_);
        }
        break;
      case F::i:
        status = read_int64_field(r, *tag, "i", a.i);
        if (status) mark(AttributeType::int_);
        break;
      case F::s:
        status = read_string_field(r, *tag, "s", a.s);
        if (status) mark(AttributeType::string);
        break;
      case F::t:
      case F::tensors: {
        const bool single = tag->number == F::t;
        status = r.expect_wire_type(*tag, WireType::length_delimited, single ? "t" : "tensors");
        if (!status) break;
        auto message = open_message(
            r, r.where() + (single ? ".t" : ".tensors[" + std::to_string(tensor_count) + "]"));
        if (!message) return message.error();
        auto tensor = try_read_tensor_proto(std::move(*message));
        if (!tensor) return tensor.error();
        if (single) {
          t = std::move(*tensor);  // a repeated singular field: the last one counts
          mark(AttributeType::tensor);
        } else {
          a.tensors.push_back(std::move(*tensor));
          ++tensor_count;
          mark(AttributeType::tensors);
        }
        break;
      }
      case F::g:
      case F::graphs:
        status = r.expect_wire_type(*tag, WireType::length_delimited,
                                    tag->number == F::g ? "g" : "graphs");
        if (!status) break;
        status = r.skip_field(*tag);
        if (!status) break;
        if (tag->number == F::g) {
          a.subgraph_count = 1;
          mark(AttributeType::graph);
        } else {
          ++a.subgraph_count;
          mark(AttributeType::graphs);
        }
        break;
      case F::floats: {
        const std::size_t before = a.floats.size();
        status = r.read_repeated_float(*tag, "floats", a.floats);
        if (status && a.floats.size() != before) mark(AttributeType::floats);
        break;
      }
      case F::ints: {
        const std::size_t before = a.ints.size();
        status = r.read_repeated_int64(*tag, "ints", a.ints);
        if (status && a.ints.size() != before) mark(AttributeType::ints);
        break;
      }
      case F::strings: {
        std::string text;
        status = read_string_field(r, *tag, "strings", text);
        if (status) {
          a.strings.push_back(std::move(text));
          mark(AttributeType::strings);
        }
        break;
      }
      case F::sparse_tensor:
      case F::sparse_tensors:
      case F::tp:
      case F::type_protos: {
        const bool sparse = tag->number == F::sparse_tensor || tag->number == F::sparse_tensors;
        const bool one = tag->number == F::sparse_tensor || tag->number == F::tp;
        const AttributeType kind =
            sparse ? (one ? AttributeType::sparse_tensor : AttributeType::sparse_tensors)
                   : (one ? AttributeType::type_proto : AttributeType::type_protos);
        const char* field =
            sparse ? (one ? "sparse_tensor" : "sparse_tensors") : (one ? "tp" : "type_protos");
        status = r.expect_wire_type(*tag, WireType::length_delimited, field);
        if (status) status = r.skip_field(*tag);
        if (status) mark(kind);
        break;
      }
      default: status = r.skip_field(*tag);  // doc_string, ref_attr_name, later additions
    }
    if (!status) return status.error();
  }

  auto fail = [&](const std::string& why) {
    return model_error(ErrorCode::corrupt, r.where(), start, why);
  };
  if (a.name.empty()) return fail("the attribute has no name");
  if (declared_type < 0 || declared_type > static_cast<int>(AttributeType::type_protos)) {
    return fail("type " + std::to_string(declared_type) +
                " is not an AttributeProto.AttributeType (0 to 14)");
  }
  if (present.size() > 1) {
    return fail("holds values of two types, " + to_string(present[0]) + " and " +
                to_string(present[1]) + " (an attribute has one value)");
  }
  a.type = static_cast<AttributeType>(declared_type);
  if (a.type == AttributeType::undefined) {
    // Files of IR version 1 have no type field: the value's field tells it.
    if (present.empty()) return fail("has neither a type nor a value");
    a.type = present[0];
  } else if (!present.empty() && present[0] != a.type) {
    return fail("is declared " + to_string(a.type) + " but holds a " + to_string(present[0]) +
                " value");
  }
  if (t) a.tensors.insert(a.tensors.begin(), std::move(*t));
  return a;
}

inline bool produces_something(const Node& node) noexcept {
  for (const std::string& o : node.outputs) {
    if (!o.empty()) return true;
  }
  return false;
}

inline Expected<Node> read_node(protobuf::Reader r, std::size_t index) {
  namespace F = node_field;
  Node node;
  node.index = index;
  node.offset = r.offset();
  while (!r.at_end()) {
    auto tag = r.read_tag();
    if (!tag) return tag.error();
    Status status;
    switch (tag->number) {
      case F::input:
      case F::output: {
        std::string value;
        status = read_string_field(r, *tag, tag->number == F::input ? "input" : "output", value);
        if (status)
          (tag->number == F::input ? node.inputs : node.outputs).push_back(std::move(value));
        break;
      }
      case F::name: status = read_string_field(r, *tag, "name", node.name); break;
      case F::op_type: status = read_string_field(r, *tag, "op_type", node.op_type); break;
      case F::domain: status = read_string_field(r, *tag, "domain", node.domain); break;
      case F::attribute: {
        status = r.expect_wire_type(*tag, protobuf::WireType::length_delimited, "attribute");
        if (!status) break;
        auto payload = r.read_bytes();
        if (!payload) return payload.error();
        const std::size_t at = r.offset() - payload->size();
        std::string path = r.where() + ".attribute[" + std::to_string(node.attributes.size()) + "]";
        const std::string name =
            peek_attribute_name(protobuf::Reader(*payload, std::string(), at, r.depth() + 1));
        if (!name.empty()) path += " " + quote_name(name);
        auto attribute =
            read_attribute(protobuf::Reader(*payload, std::move(path), at, r.depth() + 1));
        if (!attribute) return attribute.error();
        node.attributes.push_back(std::move(*attribute));
        break;
      }
      default: status = r.skip_field(*tag);  // doc_string, later additions
    }
    if (!status) return status.error();
  }
  // validate_graph checks these too; failing here keeps a file of empty nodes from costing far
  // more memory than its size.
  if (node.op_type.empty()) {
    return model_error(ErrorCode::corrupt, r.where(), node.offset, "the node has no op_type");
  }
  if (!produces_something(node)) {
    return model_error(ErrorCode::corrupt, r.where(), node.offset,
                       node.label() + " produces no output (a node has at least one)");
  }
  return node;
}

inline Status read_shape(protobuf::Reader r, ValueInfo& info) {
  while (!r.at_end()) {
    auto tag = r.read_tag();
    if (!tag) return tag.error();
    if (tag->number != type_field::dim) {
      if (Status s = r.skip_field(*tag); !s) return s;
      continue;
    }
    if (Status s = r.expect_wire_type(*tag, protobuf::WireType::length_delimited, "dim"); !s) {
      return s;
    }
    auto dim_message =
        open_message(r, r.where() + ".dim[" + std::to_string(info.dims.size()) + "]");
    if (!dim_message) return dim_message.error();
    protobuf::Reader& d = *dim_message;
    Dimension dim;
    while (!d.at_end()) {
      auto dtag = d.read_tag();
      if (!dtag) return dtag.error();
      Status status;
      if (dtag->number == type_field::dim_value) {
        std::int64_t value = 0;
        status = read_int64_field(d, *dtag, "dim_value", value);
        // A oneof: the last of dim_value and dim_param counts. Some exporters write -1 for an
        // unknown size; it means the same as no value.
        dim.value = value < 0 ? -1 : value;
        dim.param.clear();
      } else if (dtag->number == type_field::dim_param) {
        status = read_string_field(d, *dtag, "dim_param", dim.param);
        dim.value = -1;
      } else {
        status = d.skip_field(*dtag);  // denotation
      }
      if (!status) return status;
    }
    info.dims.push_back(std::move(dim));
  }
  return {};
}

inline Status read_type(protobuf::Reader r, ValueInfo& info) {
  while (!r.at_end()) {
    auto tag = r.read_tag();
    if (!tag) return tag.error();
    if (tag->number != type_field::tensor_type) {
      // Sequences, maps, optionals, sparse tensors, opaque types: no element type or shape that
      // mote could use.
      if (Status s = r.skip_field(*tag); !s) return s;
      continue;
    }
    if (Status s = r.expect_wire_type(*tag, protobuf::WireType::length_delimited, "tensor_type");
        !s) {
      return s;
    }
    auto tensor = open_message(r, r.where() + ".tensor_type");
    if (!tensor) return tensor.error();
    protobuf::Reader& t = *tensor;
    while (!t.at_end()) {
      auto ttag = t.read_tag();
      if (!ttag) return ttag.error();
      Status status;
      if (ttag->number == type_field::elem_type) {
        std::int32_t elem = 0;
        status = read_int32_field(t, *ttag, "elem_type", elem);
        info.elem_type = static_cast<DataType>(elem);
      } else if (ttag->number == type_field::shape) {
        status = t.expect_wire_type(*ttag, protobuf::WireType::length_delimited, "shape");
        if (!status) return status;
        auto shape = open_message(t, t.where() + ".shape");
        if (!shape) return shape.error();
        info.has_shape = true;
        info.dims.clear();  // a repeated singular message: the last one counts
        status = read_shape(std::move(*shape), info);
      } else {
        status = t.skip_field(*ttag);
      }
      if (!status) return status;
    }
  }
  return {};
}

inline Expected<ValueInfo> read_value_info(protobuf::Reader r) {
  const std::size_t start = r.offset();
  ValueInfo info;
  while (!r.at_end()) {
    auto tag = r.read_tag();
    if (!tag) return tag.error();
    Status status;
    if (tag->number == value_info_field::name) {
      status = read_string_field(r, *tag, "name", info.name);
    } else if (tag->number == value_info_field::type) {
      status = r.expect_wire_type(*tag, protobuf::WireType::length_delimited, "type");
      if (!status) return status.error();
      auto type = open_message(r, r.where() + ".type");
      if (!type) return type.error();
      status = read_type(std::move(*type), info);
    } else {
      status = r.skip_field(*tag);  // doc_string, metadata_props
    }
    if (!status) return status.error();
  }
  if (info.name.empty()) {
    return model_error(ErrorCode::corrupt, r.where(), start, "the value has no name");
  }
  return info;
}

// Byte offsets of the graph's messages, known when the graph was read from a file, so that
// validate_graph can point at them.
struct GraphOffsets {
  std::size_t graph = 0;
  std::vector<std::size_t> initializers, inputs, outputs;
};

inline Status read_graph(protobuf::Reader r, Graph& graph, GraphOffsets& offsets) {
  using protobuf::WireType;
  namespace F = graph_field;
  offsets.graph = r.offset();
  const std::string& where = r.where();
  {
    // Count the repeated fields first and reserve exactly: a graph of many small nodes would
    // otherwise hold up to twice the memory it needs while its vectors grow.
    std::size_t counts[16] = {};
    protobuf::Reader scan = r;
    while (!scan.at_end()) {
      auto tag = scan.read_tag();
      if (!tag || !scan.skip_field(*tag)) break;  // the decoding pass reports it
      if (tag->number < 16) ++counts[tag->number];
    }
    graph.nodes.reserve(counts[F::node]);
    graph.initializers.reserve(counts[F::initializer]);
    graph.inputs.reserve(counts[F::input]);
    graph.outputs.reserve(counts[F::output]);
    graph.value_info.reserve(counts[F::value_info]);
  }
  while (!r.at_end()) {
    auto tag = r.read_tag();
    if (!tag) return tag.error();
    Status status;
    switch (tag->number) {
      case F::name: status = read_string_field(r, *tag, "name", graph.name); break;
      case F::node: {
        status = r.expect_wire_type(*tag, WireType::length_delimited, "node");
        if (!status) break;
        const std::size_t index = graph.nodes.size();
        auto message = open_message(r, where + ".node[" + std::to_string(index) + "]");
        if (!message) return message.error();
        auto node = read_node(std::move(*message), index);
        if (!node) return node.error();
        graph.nodes.push_back(std::move(*node));
        break;
      }
      case F::initializer: {
        status = r.expect_wire_type(*tag, WireType::length_delimited, "initializer");
        if (!status) break;
        auto message = open_message(
            r, where + ".initializer[" + std::to_string(graph.initializers.size()) + "]");
        if (!message) return message.error();
        offsets.initializers.push_back(message->offset());
        auto tensor = try_read_tensor_proto(std::move(*message));
        if (!tensor) return tensor.error();
        graph.initializers.push_back(std::move(*tensor));
        break;
      }
      case F::input:
      case F::output:
      case F::value_info: {
        const char* field = tag->number == F::input    ? "input"
                            : tag->number == F::output ? "output"
                                                       : "value_info";
        std::vector<ValueInfo>& list = tag->number == F::input    ? graph.inputs
                                       : tag->number == F::output ? graph.outputs
                                                                  : graph.value_info;
        status = r.expect_wire_type(*tag, WireType::length_delimited, field);
        if (!status) break;
        auto message =
            open_message(r, where + "." + field + "[" + std::to_string(list.size()) + "]");
        if (!message) return message.error();
        const std::size_t at = message->offset();
        auto info = read_value_info(std::move(*message));
        if (!info) return info.error();
        if (tag->number == F::input) offsets.inputs.push_back(at);
        if (tag->number == F::output) offsets.outputs.push_back(at);
        list.push_back(std::move(*info));
        break;
      }
      case F::sparse_initializer:
        return model_error(ErrorCode::unsupported, where, r.offset(),
                           "sparse initializers (graph.sparse_initializer) are not supported; "
                           "store the tensor densely");
      default: status = r.skip_field(*tag);  // doc_string, quantization_annotation, ...
    }
    if (!status) return status.error();
  }
  return {};
}

inline Status read_opset(protobuf::Reader r, OperatorSetId& opset) {
  while (!r.at_end()) {
    auto tag = r.read_tag();
    if (!tag) return tag.error();
    Status status;
    if (tag->number == opset_field::domain) {
      status = read_string_field(r, *tag, "domain", opset.domain);
    } else if (tag->number == opset_field::version) {
      status = read_int64_field(r, *tag, "version", opset.version);
    } else {
      status = r.skip_field(*tag);
    }
    if (!status) return status;
  }
  return {};
}

// validate_graph with the offsets of a graph read from a file (null otherwise).
inline Status validate_graph(const Graph& graph, std::string_view where,
                             const GraphOffsets* offsets) {
  auto at = [&](const std::vector<std::size_t> GraphOffsets::*list, std::size_t i) {
    if (offsets == nullptr || i >= (offsets->*list).size()) return std::string();
    return " at byte " + std::to_string((offsets->*list)[i]);
  };
  auto fail = [&](const std::string& path, const std::string& why) {
    return make_error(ErrorCode::corrupt, std::string(where) + ": graph." + path + ": " + why);
  };
  auto node_path = [&](const Node& n) {
    std::string path = "node[" + std::to_string(n.index) + "]";
    // A graph built in memory has no offsets; don't point at byte 0 for it.
    if (offsets != nullptr || n.offset != 0) path += " at byte " + std::to_string(n.offset);
    return path;
  };

  // What defines each value: a graph input, an initializer or a node output.
  enum class Kind { input, initializer, node };
  struct Definition {
    Kind kind;
    std::size_t index;
  };
  auto describe = [&](const Definition& d) {
    switch (d.kind) {
      case Kind::input: return "graph.input[" + std::to_string(d.index) + "]";
      case Kind::initializer: return "graph.initializer[" + std::to_string(d.index) + "]";
      case Kind::node: break;
    }
    return graph.nodes[d.index].label();
  };
  std::unordered_map<std::string_view, Definition> defined;
  defined.reserve(graph.initializers.size() + graph.inputs.size() + graph.nodes.size());

  for (std::size_t i = 0; i < graph.initializers.size(); ++i) {
    const std::string& name = graph.initializers[i].name;
    const std::string path =
        "initializer[" + std::to_string(i) + "]" + at(&GraphOffsets::initializers, i);
    if (name.empty()) return fail(path, "the initializer has no name");
    auto [it, added] = defined.emplace(name, Definition{Kind::initializer, i});
    if (!added) {
      return fail(
          path, "initializer " + quote_name(name) + " repeats the name of " + describe(it->second));
    }
  }
  std::unordered_map<std::string_view, std::size_t> seen;  // names of one list: inputs, ...
  for (std::size_t i = 0; i < graph.inputs.size(); ++i) {
    const std::string& name = graph.inputs[i].name;
    const std::string path = "input[" + std::to_string(i) + "]" + at(&GraphOffsets::inputs, i);
    if (name.empty()) return fail(path, "the input has no name");
    if (auto [it, added] = seen.emplace(name, i); !added) {
      return fail(path, "input " + quote_name(name) + " repeats the name of graph.input[" +
                            std::to_string(it->second) + "]");
    }
    // An input may name an initializer (its default value; IR < 4 lists every initializer).
    defined.emplace(name, Definition{Kind::input, i});
  }
  // Every node output first, so that a read of a later node's output can be told from a read of
  // a value nobody produces.
  for (const Node& n : graph.nodes) {
    for (const std::string& value : n.outputs) {
      if (value.empty()) continue;  // an omitted optional output
      auto [it, added] = defined.emplace(value, Definition{Kind::node, n.index});
      if (!added) {
        return fail(node_path(n), n.label() + " produces " + quote_name(value) + ", which " +
                                      describe(it->second) +
                                      " already defines (a value is produced once)");
      }
    }
  }
  for (const Node& n : graph.nodes) {
    if (n.op_type.empty()) return fail(node_path(n), "the node has no op_type");
    if (!produces_something(n)) {
      return fail(node_path(n), n.label() + " produces no output (a node has at least one)");
    }
    seen.clear();
    for (std::size_t a = 0; a < n.attributes.size(); ++a) {
      if (!seen.emplace(n.attributes[a].name, a).second) {
        return fail(node_path(n),
                    n.label() + " has two attributes called " + quote_name(n.attributes[a].name));
      }
    }
    for (const std::string& value : n.inputs) {
      if (value.empty()) continue;  // an omitted optional input
      auto it = defined.find(value);
      if (it == defined.end()) {
        return fail(node_path(n), n.label() + " reads " + quote_name(value) +
                                      ", which no graph input, initializer or node produces");
      }
      if (it->second.kind != Kind::node || it->second.index < n.index) continue;
      if (it->second.index == n.index) {
        return fail(node_path(n),
                    n.label() + " reads its own output " + quote_name(value) + " (a cycle)");
      }
      return fail(node_path(n),
                  n.label() + " reads " + quote_name(value) + ", which " + describe(it->second) +
                      " produces after it: the graph has a cycle or is not topologically sorted");
    }
  }
  if (graph.outputs.empty()) {
    return make_error(ErrorCode::corrupt,
                      std::string(where) + ": graph" +
                          (offsets ? " at byte " + std::to_string(offsets->graph) : std::string()) +
                          ": the graph declares no outputs");
  }
  seen.clear();
  for (std::size_t i = 0; i < graph.outputs.size(); ++i) {
    const std::string& name = graph.outputs[i].name;
    const std::string path = "output[" + std::to_string(i) + "]" + at(&GraphOffsets::outputs, i);
    if (name.empty()) return fail(path, "the output has no name");
    if (defined.find(name) == defined.end()) {
      return fail(path, "graph output " + quote_name(name) +
                            " is produced by no node, graph input or initializer");
    }
    if (auto [it, added] = seen.emplace(name, i); !added) {
      return fail(path, "graph output " + quote_name(name) + " repeats graph.output[" +
                            std::to_string(it->second) + "]");
    }
  }
  return {};
}

}  // namespace detail

/// Checks that a graph is well formed: every initializer, input and output named and unique; at
/// least one output; every node with an op_type, at least one output and distinct attribute
/// names; every non-empty node input produced by a graph input, an initializer or an earlier node
/// (a later one means a cycle or an unsorted graph: the message names both nodes and the value);
/// every value produced once; every graph output produced. Nodes that read nothing are fine.
/// Fails with ErrorCode::corrupt; messages start with `where`.
inline Status validate_graph(const Graph& graph, std::string_view where) {
  return detail::validate_graph(graph, where, nullptr);
}

/// Decodes an ONNX model (a serialized ModelProto) held in `bytes` and validates its graph;
/// `where` names it in messages and becomes Model::source. See the file comment for what is
/// read and what fails.
inline Expected<Model> try_read_model(std::span<const std::byte> bytes, std::string where) {
  using protobuf::WireType;
  namespace F = detail::model_field;
  Model model;
  model.source = std::move(where);
  const std::string& source = model.source;
  if (bytes.empty()) {
    return make_error(ErrorCode::truncated, source + ": the file is empty, not an ONNX model");
  }
  protobuf::Reader r(bytes, source);
  bool has_graph = false;
  std::size_t graph_at = 0;
  detail::GraphOffsets offsets;
  std::vector<std::size_t> opset_offsets;
  while (!r.at_end()) {
    auto tag = r.read_tag();
    if (!tag) return tag.error();
    Status status;
    switch (tag->number) {
      case F::ir_version:
        status = detail::read_int64_field(r, *tag, "ir_version", model.ir_version);
        break;
      case F::model_version:
        status = detail::read_int64_field(r, *tag, "model_version", model.model_version);
        break;
      case F::producer_name:
        status = detail::read_string_field(r, *tag, "producer_name", model.producer_name);
        break;
      case F::producer_version:
        status = detail::read_string_field(r, *tag, "producer_version", model.producer_version);
        break;
      case F::domain: status = detail::read_string_field(r, *tag, "domain", model.domain); break;
      case F::graph: {
        status = r.expect_wire_type(*tag, WireType::length_delimited, "graph");
        if (!status) break;
        if (has_graph) {
          // Protobuf would merge the two; no ONNX writer splits a graph, so this is damage.
          return detail::model_error(
              ErrorCode::corrupt, source, r.offset(),
              "a second graph field (the first is at byte " + std::to_string(graph_at) + ")");
        }
        auto message = detail::open_message(r, source + ": graph");
        if (!message) return message.error();
        has_graph = true;
        graph_at = message->offset();
        status = detail::read_graph(std::move(*message), model.graph, offsets);
        break;
      }
      case F::opset_import: {
        status = r.expect_wire_type(*tag, WireType::length_delimited, "opset_import");
        if (!status) break;
        auto message = detail::open_message(
            r, source + ": opset_import[" + std::to_string(model.opset_import.size()) + "]");
        if (!message) return message.error();
        opset_offsets.push_back(message->offset());
        OperatorSetId opset;
        status = detail::read_opset(std::move(*message), opset);
        if (status) model.opset_import.push_back(std::move(opset));
        break;
      }
      default: status = r.skip_field(*tag);  // doc_string, metadata_props, training_info, functions
    }
    if (!status) return status.error();
  }

  if (!has_graph) {
    return detail::model_error(ErrorCode::corrupt, source, bytes.size(),
                               "the ModelProto has no graph (field 7): not an ONNX model");
  }
  if (model.ir_version <= 0) {
    return detail::model_error(ErrorCode::corrupt, source, 0,
                               "ir_version is " + std::to_string(model.ir_version) +
                                   " (missing or not positive): not an ONNX model");
  }
  std::unordered_map<std::string_view, std::size_t> domains;
  for (std::size_t i = 0; i < model.opset_import.size(); ++i) {
    const OperatorSetId& o = model.opset_import[i];
    const std::string path = source + ": opset_import[" + std::to_string(i) + "]";
    if (o.version <= 0) {
      return detail::model_error(ErrorCode::corrupt, path, opset_offsets[i],
                                 "domain " + detail::quote_name(o.domain) + " has version " +
                                     std::to_string(o.version) + " (opset versions start at 1)");
    }
    const std::string_view domain = o.domain == "ai.onnx" ? std::string_view() : o.domain;
    if (auto [it, added] = domains.emplace(domain, i); !added) {
      return detail::model_error(ErrorCode::corrupt, path, opset_offsets[i],
                                 "domain " + detail::quote_name(o.domain) +
                                     " is imported twice (also opset_import[" +
                                     std::to_string(it->second) + "])");
    }
  }
  if (Status valid = detail::validate_graph(model.graph, source, &offsets); !valid) {
    return valid.error();
  }
  return model;
}

/// Reads and decodes an ONNX model file; see the in-memory overload.
inline Expected<Model> try_read_model_file(const std::string& path) {
  auto bytes = try_read_file_bytes(path);
  if (!bytes) return bytes.error();
  return try_read_model(*bytes, path);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_read_model.
inline Model read_model(std::span<const std::byte> bytes, std::string where) {
  return value_or_throw(try_read_model(bytes, std::move(where)));
}

/// Throwing form of try_read_model_file.
inline Model read_model_file(const std::string& path) {
  return value_or_throw(try_read_model_file(path));
}
#endif

}  // namespace mote::io::onnx
