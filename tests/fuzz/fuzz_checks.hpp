#pragma once
// What the fuzz targets (tests/fuzz/fuzz_*.cpp, tools/fuzz.sh) and the corpus replay test
// (tests/unit/io/test_fuzz_corpus.cpp) do with one input: run a reader on it, then use the
// result the way an importer would, so that a bug in an accessor is reached too. Each check
// returns "" when the reader behaved, or what it did wrong; the fuzz targets trap on the latter
// (the sanitizers catch crashes, overflows and leaks by themselves).
//
// Behaving means: a value whose invariants hold, or an error whose message is non-empty and
// starts with the name of the input.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "mote/io.hpp"

namespace mote_fuzz {

inline std::string check_error(const mote::ErrorInfo& error, std::string_view where) {
  if (error.message.empty()) return "an error without a message";
  if (error.message.compare(0, where.size(), where) != 0) {
    return "an error message that does not start with the input's name: " + error.describe();
  }
  return {};
}

inline std::string check_tensor(const mote::io::onnx::TensorProto& t) {
  using mote::io::onnx::DataType;
  for (std::int64_t d : t.dims) {
    if (d < 0) return "tensor " + t.describe() + " has a negative dimension";
  }
  if (t.element_size() == 0) return "tensor " + t.describe() + " has no element size";
  if (t.bytes.size() != t.numel() * t.element_size()) {
    return "tensor " + t.describe() + " holds " + std::to_string(t.bytes.size()) + " bytes";
  }
  const bool floats = t.data_type == DataType::float32 || t.data_type == DataType::float16 ||
                      t.data_type == DataType::bfloat16;
  auto converted = t.try_to_floats();
  if (floats != converted.has_value()) return "try_to_floats of " + t.describe() + " misbehaves";
  if (converted && converted->size() != t.numel()) return "try_to_floats lost elements";
  if (t.data_type == DataType::int64) {
    auto ints = t.try_as<std::int64_t>();
    if (!ints || ints->size() != t.numel()) return "try_as<int64_t> misbehaves";
  }
  if (t.try_as<std::uint8_t>().has_value() != (t.data_type == DataType::uint8)) {
    return "try_as<uint8_t> accepts or refuses the wrong type";
  }
  return {};
}

inline std::string check_tensor_proto(std::span<const std::byte> bytes, const std::string& where) {
  auto tensor = mote::io::onnx::try_read_tensor_proto(bytes, where);
  if (!tensor) return check_error(tensor.error(), where);
  return check_tensor(*tensor);
}

inline std::string check_onnx_model(std::span<const std::byte> bytes, const std::string& where) {
  using namespace mote::io::onnx;
  auto model = try_read_model(bytes, where);
  if (!model) return check_error(model.error(), where);
  const Graph& g = model->graph;
  if (model->source != where) return "Model::source differs from the name given";
  if (mote::Status again = validate_graph(g, "again"); !again) {
    return "a graph that validated once fails again: " + again.message();
  }
  // The accessors below are linear scans; bound the work per input so that the fuzzer stays fast.
  constexpr std::size_t max_nodes = 64;
  constexpr std::size_t max_items = 256;
  for (std::size_t k = 0; k < g.nodes.size() && k < max_nodes; ++k) {
    const Node& n = g.nodes[k];
    if (n.index != k) return "node " + std::to_string(k) + " has index " + std::to_string(n.index);
    const std::string label = n.label();
    if (label.empty() || n.op_type.empty()) return "a node without op_type or label";
    for (std::size_t ai = 0; ai < n.attributes.size() && ai < max_items; ++ai) {
      const Attribute& a = n.attributes[ai];
      if (n.find(a.name) != &a) return "find() misses attribute " + a.name;
      // Exactly the getter of the attribute's type succeeds; the others name node and attribute.
      const bool results[] = {n.int_attr(a.name, 0).has_value(),
                              n.float_attr(a.name, 0).has_value(),
                              n.string_attr(a.name, "").has_value(),
                              n.ints_attr(a.name).has_value(), n.floats_attr(a.name).has_value()};
      const AttributeType types[] = {AttributeType::int_, AttributeType::float_,
                                     AttributeType::string, AttributeType::ints,
                                     AttributeType::floats};
      for (int i = 0; i < 5; ++i) {
        if (results[i] != (a.type == types[i])) {
          return "a getter disagrees with attribute " + a.name + " of type " + to_string(a.type);
        }
      }
      if (a.type != AttributeType::int_) {
        auto wrong = n.int_attr(a.name, 0);
        if (wrong.error().code != mote::ErrorCode::invalid_value ||
            wrong.error().message.find(label) == std::string::npos) {
          return "a getter's error does not name the node: " + wrong.error().describe();
        }
      }
      if (to_string(a.type).empty()) return "an attribute type without a name";
      for (const TensorProto& t : a.tensors) {
        if (std::string bad = check_tensor(t); !bad.empty()) return bad;
      }
    }
    for (std::size_t i = 0; i < n.inputs.size() && i < max_items; ++i) {
      const std::string& value = n.inputs[i];
      const Node* p = g.producer(value);
      if (p != nullptr && p->index >= n.index) return "node " + label + " reads a later output";
    }
    for (std::size_t i = 0; i < n.outputs.size() && i < max_items; ++i) {
      const std::string& value = n.outputs[i];
      if (!value.empty() && g.producer(value) != &n) return "producer() misses " + value;
      for (const Node* c : g.consumers(value)) {
        if (c->index <= n.index) return "consumers() returns an earlier node for " + value;
      }
    }
  }
  for (std::size_t i = 0; i < g.initializers.size(); ++i) {
    const TensorProto& t = g.initializers[i];
    if (std::string bad = check_tensor(t); !bad.empty()) return bad;
    if (i < max_items && g.find_initializer(t.name) != &t) {
      return "find_initializer() misses " + t.name;
    }
  }
  for (const auto* list : {&g.inputs, &g.outputs, &g.value_info}) {
    for (std::size_t i = 0; i < list->size() && i < max_items; ++i) {
      const ValueInfo& v = (*list)[i];
      if (v.shape_string().empty()) return "an empty shape string";
      if (!v.has_shape && !v.dims.empty()) return "dimensions without a shape";
      if (g.find_value_info(v.name) == nullptr) return "find_value_info() misses " + v.name;
    }
  }
  if (g.runtime_inputs().size() > g.inputs.size()) return "more runtime inputs than inputs";
  for (std::size_t i = 0; i < model->opset_import.size() && i < max_items; ++i) {
    const OperatorSetId& o = model->opset_import[i];
    if (model->opset_version(o.domain) != o.version) return "opset_version() disagrees";
  }
  return {};
}

inline std::string check_npy_tensor(const mote::io::TensorData& t) {
  if (t.bytes.size() != t.numel() * t.itemsize) {
    return "npy tensor '" + t.name + "' " + t.shape_string() + " holds " +
           std::to_string(t.bytes.size()) + " bytes";
  }
  auto floats = t.try_to_floats();
  if (floats.has_value() != (t.dtype == mote::io::DType::f32)) return "try_to_floats misbehaves";
  if (floats && floats->size() != t.numel()) return "try_to_floats lost elements";
  return {};
}

// The .npz reader and the parsers under it, each on the whole input: a fuzzer rarely produces a
// valid CRC-32, so the .npy and DEFLATE parsers also get the bytes directly.
inline std::string check_npz(std::span<const std::byte> bytes, const std::string& where) {
  if (auto archive = mote::io::try_read_npz(bytes, where); !archive) {
    if (std::string bad = check_error(archive.error(), where); !bad.empty()) return bad;
  } else {
    for (const mote::io::TensorData& t : *archive) {
      if (archive->find(t.name) != &t) return "find() misses " + t.name;
      if (std::string bad = check_npy_tensor(t); !bad.empty()) return bad;
    }
  }
  if (auto npy = mote::io::try_parse_npy(bytes, "x", where); !npy) {
    if (std::string bad = check_error(npy.error(), where); !bad.empty()) return bad;
  } else if (std::string bad = check_npy_tensor(*npy); !bad.empty()) {
    return bad;
  }
  constexpr std::size_t max_inflated = std::size_t{1} << 20;
  if (auto inflated = mote::io::try_inflate(bytes, max_inflated, where); !inflated) {
    if (std::string bad = check_error(inflated.error(), where); !bad.empty()) return bad;
  } else if (inflated->size() > max_inflated) {
    return "try_inflate went past its limit";
  }
  return {};
}

}  // namespace mote_fuzz
