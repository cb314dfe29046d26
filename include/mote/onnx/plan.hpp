#pragma once
// From an ONNX graph to a chain of mote layers: the "plan" that both the loader
// (mote/onnx/load.hpp, which binds a file to a network type written by hand) and the generator
// (tools/mote-onnx, which writes the network type) work from.
//
// What the lowering does, and why:
// - The graph must be a chain: one runtime input, each node reading the previous node's output
//   (plus constants). mote networks are Sequential; a branch is reported, not guessed.
// - ONNX stores feature maps channels-first (N, C, H, W), mote channels-last (H, W, C). When the
//   graph has a spatial op the plan maps every per-sample tensor [C, spatial...] to mote's
//   [spatial..., C] and records the transposition the caller applies at the boundary
//   (Plan::channels_first). Without spatial ops the memory order is kept as is.
// - Constants are folded where mote would compute the same thing anyway: Gemm's alpha/beta and
//   transB, MatMul + Add into Dense with bias, Add/Mul by a per-channel constant into the
//   preceding Conv/Dense, DequantizeLinear of constant weights into values (the consumer becomes an
//   int8 layer), Q -> DQ pairs on activations into the next layer's input quantisation.
//   BatchNormalization becomes a mote BatchNorm, which mote folds into a preceding Conv/Dense when
//   the weights are set.
// - Idioms: Clip(0, 6) is ReLU6, Clip(0, +inf) is ReLU; Identity and Dropout vanish.
// Every refusal names the node (op, name, index), what was found and what mote needs.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/onnx_model.hpp"
#include "mote/numeric/quantization.hpp"

namespace mote::onnx {

using io::onnx::DataType;
using io::onnx::Graph;
using io::onnx::Model;
using io::onnx::Node;
using io::onnx::TensorProto;

/// A weight tensor of a planned layer, in the PyTorch convention mote layers load.
struct PlannedTensor {
  std::string name;                 ///< the layer's parameter: "weight", "bias", "running_mean", "value"
  std::string source;               ///< the ONNX initializers it was computed from
  std::vector<std::size_t> shape;
  std::vector<float> values;
  std::string shape_string() const {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
  }
};

/// One mote layer the graph becomes.
struct PlannedLayer {
  std::string kind;    ///< the first word of the mote layer's describe(): "Dense", "Conv2D", "ReLU", ...
  std::string spec;    ///< the C++ layer spec, e.g. "mote::Conv2D<16, mote::Kernel<3, 3>, mote::Padding<1>>"
  std::string origin;  ///< the ONNX node(s) it comes from, as messages name them
  std::vector<PlannedTensor> params;       ///< in the layer's load order; empty for unweighted layers
  std::vector<std::size_t> out_shape;      ///< mote shape of one output sample
  std::optional<QuantParams> input_quantization;  ///< integer layers: from a Q -> DQ pair before them
  bool weighted() const noexcept { return !params.empty(); }
};

/// A graph lowered to mote layers.
struct Plan {
  std::string source;
  std::string input_name, output_name;
  std::vector<std::int64_t> input_dims, output_dims;  ///< ONNX dims; -1 where symbolic (a batch)
  bool batch_axis = true;       ///< dims[0] is the batch: mote runs dims[0] samples
  bool channels_first = false;  ///< input and output samples are [C, spatial...] in ONNX, [spatial..., C] in mote
  std::vector<std::size_t> input_shape;   ///< mote shape of one input sample
  std::vector<std::size_t> output_shape;  ///< mote shape of one output sample
  /// When the output is a flattened feature map: its ONNX order is (C, spatial), mote's
  /// (spatial, C); output_flat_channels is C then (0 otherwise).
  std::size_t output_flat_channels = 0;
  std::vector<PlannedLayer> layers;
  std::vector<std::string> notes;  ///< what was folded or dropped, for the generated header's comment

  static std::string shape_list(const std::vector<std::size_t>& shape) {
    std::string text;
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text;
  }
  /// "mote::Sequential<mote::Input<28, 28, 1>, mote::Flatten, ...>", one layer per line after `indent`.
  std::string network_type(const std::string& indent = "    ") const {
    std::string text = "mote::Sequential<mote::Input<" + shape_list(input_shape) + ">";
    for (const PlannedLayer& layer : layers) text += ",\n" + indent + layer.spec;
    return text + ">";
  }
  /// Weighted layers, in load order.
  std::size_t weighted_layer_count() const noexcept {
    return static_cast<std::size_t>(std::count_if(layers.begin(), layers.end(), [](const PlannedLayer& l) { return l.weighted(); }));
  }
};

/// Choices the graph does not make.
struct PlanOptions {
  /// Graph inputs to treat as constants, with their values (the ONNX node tests feed weights as
  /// inputs). Keyed by input name.
  std::map<std::string, TensorProto> constant_inputs;
  /// Weight format of every Dense / every Conv, as a mote format spec ("mote::Int8<>") or one of
  /// the short names f32, int8, int4, bf16, f16. Empty: f32 (or int8 where the graph is QDQ).
  std::string dense_format, conv_format;
  /// Per weighted layer (0-based, in graph order), overriding the two above.
  std::map<std::size_t, std::string> layer_format;
  /// How layers with an integer format quantise the graph's float weights: "full_range" (or
  /// empty, mote's default) or "mse" (WeightScales<ScaleFit::mse>, docs/quantization.md). Weights
  /// the graph holds quantised keep their own scales.
  std::string weight_scales;
};

namespace detail {

inline std::string dims_string(const std::vector<std::int64_t>& dims) {
  std::string text = "[";
  for (std::size_t i = 0; i < dims.size(); ++i)
    text += (i ? ", " : "") + (dims[i] < 0 ? std::string("N") : std::to_string(dims[i]));
  return text + "]";
}

inline std::int64_t product(const std::vector<std::int64_t>& dims, std::size_t from = 0,
                            std::size_t to = std::numeric_limits<std::size_t>::max()) {
  std::int64_t n = 1;
  for (std::size_t i = from; i < dims.size() && i < to; ++i) n *= dims[i];
  return n;
}

/// Shortest C++ literal that reads back as exactly `value` (an integer when it is one).
inline std::string float_literal(float value) {
  if (std::isinf(value))
    return value > 0 ? "std::numeric_limits<float>::infinity()" : "-std::numeric_limits<float>::infinity()";
  if (value == std::nearbyint(value) && std::fabs(value) < 1e9f) return std::to_string(static_cast<long long>(value));
  char buffer[64];
  for (int digits = 6; digits <= 9; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, static_cast<double>(value));
    if (std::strtof(buffer, nullptr) == value) break;
  }
  std::string text = buffer;
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text + "f";
}

/// `value` as Numerator/Denominator with Denominator a power of ten up to 10^6, when the float
/// quotient is exactly `value` (so integer template arguments can carry it).
inline std::optional<std::pair<long long, long long>> as_decimal_fraction(float value) {
  long long denominator = 1;
  for (int k = 0; k <= 6; ++k, denominator *= 10) {
    const double scaled = static_cast<double>(value) * static_cast<double>(denominator);
    const long long numerator = std::llround(scaled);
    if (static_cast<float>(numerator) / static_cast<float>(denominator) == value) return std::pair{numerator, denominator};
  }
  return std::nullopt;
}

/// A tensor's elements as floats, whatever its numeric type.
inline Expected<std::vector<float>> to_floats(const TensorProto& tensor) {
  switch (tensor.data_type) {
    case DataType::float32:
    case DataType::float16:
    case DataType::bfloat16: return tensor.try_to_floats();
    case DataType::int8: {
      auto v = tensor.try_as<std::int8_t>();
      if (!v) return v.error();
      return std::vector<float>(v->begin(), v->end());
    }
    case DataType::uint8: {
      auto v = tensor.try_as<std::uint8_t>();
      if (!v) return v.error();
      return std::vector<float>(v->begin(), v->end());
    }
    case DataType::int32: {
      auto v = tensor.try_as<std::int32_t>();
      if (!v) return v.error();
      return std::vector<float>(v->begin(), v->end());
    }
    case DataType::int64: {
      auto v = tensor.try_as<std::int64_t>();
      if (!v) return v.error();
      return std::vector<float>(v->begin(), v->end());
    }
    case DataType::float64: {
      auto v = tensor.try_as<double>();
      if (!v) return v.error();
      return std::vector<float>(v->begin(), v->end());
    }
    default:
      return make_error(ErrorCode::unsupported, "tensor " + tensor.describe() + " is not of a numeric type mote reads");
  }
}

inline Expected<std::vector<std::int64_t>> to_ints(const TensorProto& tensor) {
  if (tensor.data_type == DataType::int64) return tensor.try_as<std::int64_t>();
  if (tensor.data_type == DataType::int32) {
    auto v = tensor.try_as<std::int32_t>();
    if (!v) return v.error();
    return std::vector<std::int64_t>(v->begin(), v->end());
  }
  return make_error(ErrorCode::unsupported, "tensor " + tensor.describe() + " should hold INT64 values");
}

/// A constant: an initializer, a Constant node's value, a graph input bound by the options, or
/// a folded DequantizeLinear.
struct Constant {
  std::string name;
  std::vector<std::int64_t> dims;
  std::vector<float> values;
  const TensorProto* tensor = nullptr;  ///< the original, when not computed
  /// When it came from DequantizeLinear: the quantisation of the codes.
  bool dequantized = false;
  std::int64_t quant_axis = -1;  ///< -1: per tensor
  std::vector<float> quant_scales;
};

/// The running activation.
struct Value {
  std::string name;
  std::vector<std::int64_t> dims;  ///< ONNX dims (including the batch when batch_axis)
  /// A channels-first map flattened by mote: the vector is in (spatial, C) order, ONNX's in
  /// (C, spatial). flat_channels is C (0: orders agree).
  std::size_t flat_channels = 0;
  /// QOperator graphs: the ONNX value is 8-bit codes with these parameters; mote carries the
  /// values they stand for, in float.
  std::optional<QuantParams> codes;
  bool codes_uint8 = true;
};

class Lowering {
 public:
  Lowering(const Model& model, const PlanOptions& options) : model_(model), graph_(model.graph), options_(options) {}

  Expected<Plan> run() {
    plan_.source = model_.source;
    opset_ = model_.opset_version("");
    if (opset_ == 0) opset_ = 1;
    if (Status s = collect_constants(); !s) return s.error();
    if (Status s = check_ops(); !s) return s.error();
    if (Status s = choose_mapping(); !s) return s.error();
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (consumed_[i]) continue;
      if (Status s = lower(graph_.nodes[i]); !s) return s.error();
    }
    if (Status s = finish(); !s) return s.error();
    return std::move(plan_);
  }

 private:
  // ---- setup -----------------------------------------------------------------------------------
  Status collect_constants() {
    consumed_.assign(graph_.nodes.size(), false);
    for (const TensorProto& t : graph_.initializers) {
      Status s = add_constant(t.name, t);
      if (!s) return s;
    }
    for (const auto& [name, tensor] : options_.constant_inputs) {
      Status s = add_constant(name, tensor);
      if (!s) return s;
    }
    for (const Node& node : graph_.nodes) {
      if (node.op_type != "Constant") continue;
      const io::onnx::Attribute* value = node.find("value");
      if (value == nullptr || value->type != io::onnx::AttributeType::tensor || value->tensors.size() != 1)
        return fail(node, "only Constant nodes with a tensor 'value' attribute are supported");
      if (node.outputs.size() != 1) return fail(node, "a Constant node needs exactly one output");
      Status s = add_constant(node.outputs[0], value->tensors[0]);
      if (!s) return s;
      consumed_[node.index] = true;
    }
    return Status::ok();
  }

  Status add_constant(const std::string& name, const TensorProto& tensor) {
    Constant c;
    c.name = name;
    c.dims = tensor.dims;
    c.tensor = &tensor;
    if (tensor.data_type != DataType::string && tensor.data_type != DataType::boolean) {
      auto values = to_floats(tensor);
      if (!values)
        return make_error(values.error().code, plan_.source + ": constant '" + name + "': " + values.error().message);
      c.values = std::move(*values);
    }
    constants_[name] = std::move(c);
    return Status::ok();
  }

  static bool supported_op(std::string_view op) {
    static constexpr std::string_view ops[] = {
        "Conv",      "Gemm",         "MatMul",      "Add",          "Mul",           "Relu",
        "Clip",      "LeakyRelu",    "Sigmoid",     "Tanh",         "HardSigmoid",   "HardSwish",
        "Softmax",   "MaxPool",      "AveragePool", "GlobalAveragePool", "Flatten",  "Reshape",
        "BatchNormalization", "QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul",
        "Identity", "Dropout", "Constant"};
    return std::find(std::begin(ops), std::end(ops), op) != std::end(ops);
  }

  Status check_ops() {
    std::string list;
    std::size_t count = 0;
    for (const Node& node : graph_.nodes) {
      const bool standard = node.domain.empty() || node.domain == "ai.onnx";
      if (standard && supported_op(node.op_type)) continue;
      if (node.domain == "com.microsoft" && node.op_type == "QGemm") continue;  // onnxruntime's QOperator Gemm
      ++count;
      list += "\n  " + node.label() + (standard ? "" : " in domain '" + node.domain + "'");
    }
    if (count == 0) return Status::ok();
    return make_error(ErrorCode::unsupported, plan_.source + ": " + std::to_string(count) +
                                                  " node(s) use ops mote does not import:" + list);
  }

  static bool is_spatial(const Node& node) {
    return node.op_type == "Conv" || node.op_type == "MaxPool" || node.op_type == "AveragePool" ||
           node.op_type == "GlobalAveragePool" || node.op_type == "BatchNormalization";
  }

  Status choose_mapping() {
    std::vector<const io::onnx::ValueInfo*> inputs;
    for (const io::onnx::ValueInfo* input : graph_.runtime_inputs())
      if (!constants_.count(input->name)) inputs.push_back(input);
    if (inputs.size() != 1) {
      std::string names;
      for (const auto* input : inputs) names += (names.empty() ? "'" : ", '") + input->name + "'";
      return make_error(ErrorCode::unsupported,
                        plan_.source + ": mote networks take one input; the graph has " + std::to_string(inputs.size()) +
                            (inputs.empty() ? "" : " (" + names + ")") +
                            (inputs.size() > 1 ? "; bind the weights among them as constants" : ""));
    }
    const io::onnx::ValueInfo& input = *inputs[0];
    if (input.elem_type != DataType::float32)
      return make_error(ErrorCode::unsupported, plan_.source + ": input '" + input.name + "' is " +
                                                    io::onnx::to_string(input.elem_type) +
                                                    "; mote networks take FLOAT input");
    if (!input.has_shape || input.dims.empty())
      return make_error(ErrorCode::unsupported,
                        plan_.source + ": input '" + input.name + "' has no static shape; mote needs one");
    std::vector<std::int64_t> dims;
    for (std::size_t i = 0; i < input.dims.size(); ++i) {
      if (!input.dims[i].known() && i != 0)
        return make_error(ErrorCode::unsupported, plan_.source + ": input '" + input.name + "' " + input.shape_string() +
                                                      ": dimension " + std::to_string(i) +
                                                      " is symbolic; only the batch (the first) may be");
      dims.push_back(input.dims[i].known() ? input.dims[i].value : -1);
    }
    bool spatial = false, matrix = false;
    for (const Node& node : graph_.nodes) {
      spatial = spatial || is_spatial(node);
      matrix = matrix || node.op_type == "Gemm" || node.op_type == "MatMul";
    }
    // A 4-D input with a batch is an image batch (N, C, H, W) even when only Flatten + Gemm
    // read it: mote's type then has the image's (H, W, C) input, as a hand-written one would.
    const bool image_batch = dims.size() == 4 && (matrix || dims[0] < 0);
    plan_.channels_first = spatial || image_batch;
    plan_.batch_axis = dims.size() >= 2 && (plan_.channels_first || matrix || dims[0] < 0);
    plan_.input_name = input.name;
    plan_.input_dims = dims;
    current_.name = input.name;
    current_.dims = dims;
    plan_.input_shape = mote_shape(sample(dims));
    if (plan_.input_shape.size() > 3)
      return make_error(ErrorCode::unsupported, plan_.source + ": input '" + input.name + "' " + dims_string(dims) +
                                                    ": mote tensors have at most 3 dimensions per sample");
    for (std::size_t d : plan_.input_shape)
      if (d == 0)
        return make_error(ErrorCode::unsupported, plan_.source + ": input '" + input.name + "' " + dims_string(dims) +
                                                      " is empty");
    return Status::ok();
  }

  // ---- shapes --------------------------------------------------------------------------------------
  std::vector<std::int64_t> sample(const std::vector<std::int64_t>& dims) const {
    if (!plan_.batch_axis) return dims;
    return {dims.begin() + (dims.empty() ? 0 : 1), dims.end()};
  }
  std::vector<std::size_t> mote_shape(const std::vector<std::int64_t>& sample_dims) const {
    std::vector<std::size_t> shape;
    for (std::int64_t d : sample_dims) shape.push_back(static_cast<std::size_t>(d));
    if (plan_.channels_first && shape.size() >= 2) std::rotate(shape.begin(), shape.begin() + 1, shape.end());
    // Without a channels-first map only the last axis has a meaning for mote (channels): merge
    // the leading ones into mote's at most 3.
    while (!plan_.channels_first && shape.size() > 3) {
      shape[1] *= shape[0];
      shape.erase(shape.begin());
    }
    if (shape.empty()) shape.push_back(1);
    return shape;
  }
  std::vector<std::int64_t> with_batch(std::vector<std::int64_t> sample_dims) const {
    if (plan_.batch_axis) sample_dims.insert(sample_dims.begin(), current_.dims.empty() ? 1 : current_.dims[0]);
    return sample_dims;
  }

  // ---- errors -----------------------------------------------------------------------------------
  Status fail(const Node& node, const std::string& why, ErrorCode code = ErrorCode::unsupported) const {
    return make_error(code, plan_.source + ": " + node.label() + ": " + why);
  }
  template <class T>
  static Status status_of(const Expected<T>& e) {
    return e ? Status::ok() : Status(e.error());
  }

  const Constant* constant(const std::string& name) const {
    auto it = constants_.find(name);
    return it == constants_.end() ? nullptr : &it->second;
  }

  /// The node's input `index` as a constant, or an error saying why it must be one.
  Expected<const Constant*> constant_input(const Node& node, std::size_t index, const char* role) const {
    if (index >= node.inputs.size() || node.inputs[index].empty())
      return fail(node, std::string("has no ") + role + " input").error();
    const Constant* c = constant(node.inputs[index]);
    if (c == nullptr)
      return fail(node, std::string("its ") + role + " '" + node.inputs[index] +
                            "' is computed at run time; mote needs it to be a constant (an initializer)")
          .error();
    return c;
  }

  /// Checks that the node reads the running activation as input `index` and is not branching.
  Status expect_chain(const Node& node, std::size_t index = 0) const {
    if (index >= node.inputs.size() || node.inputs[index] != current_.name)
      return fail(node, "reads '" + (index < node.inputs.size() ? node.inputs[index] : std::string()) +
                            "', but the running value is '" + current_.name +
                            "': mote imports chains (each node reads the previous node's output)");
    return Status::ok();
  }

  /// Moves the running value to the node's first output. Codes (QOperator) stay codes only
  /// through the ops that pass them on unchanged in meaning (pools, reshapes).
  void advance(const Node& node, std::vector<std::int64_t> dims, std::size_t flat_channels = 0) {
    current_.name = node.outputs.empty() ? std::string() : node.outputs[0];
    current_.dims = std::move(dims);
    current_.flat_channels = flat_channels;
    const std::string& op = node.op_type;
    if (op != "MaxPool" && op != "Flatten" && op != "Reshape" && op != "Identity" && op != "Dropout" && op != "QuantizeLinear")
      current_.codes.reset();
  }

  /// The single node reading `value`, if exactly one does (for folding).
  const Node* sole_consumer(const std::string& value) const {
    const Node* found = nullptr;
    for (const Node& node : graph_.nodes)
      for (const std::string& in : node.inputs)
        if (in == value) {
          if (found != nullptr && found != &node) return nullptr;
          found = &node;
        }
    for (const auto& out : graph_.outputs)
      if (out.name == value) return nullptr;
    return found;
  }

  // ---- layers -----------------------------------------------------------------------------------
  PlannedLayer& add_layer(std::string kind, std::string spec, const Node& node) {
    PlannedLayer layer;
    layer.kind = std::move(kind);
    layer.spec = std::move(spec);
    layer.origin = node.label();
    plan_.layers.push_back(std::move(layer));
    return plan_.layers.back();
  }

  std::string format_spec(bool is_conv, const Constant* weight_source) {
    const std::size_t ordinal = weighted_seen_++;
    std::string format = is_conv ? options_.conv_format : options_.dense_format;
    if (auto it = options_.layer_format.find(ordinal); it != options_.layer_format.end()) format = it->second;
    if (format.empty() && weight_source != nullptr && weight_source->dequantized)
      format = weight_source->quant_axis < 0 ? "mote::Int8<mote::PerTensor, mote::Symmetric>"
                                             : "mote::Int8<mote::PerChannel, mote::Symmetric>";
    if (format == "f32" || format == "F32") format = "";
    else if (format == "int8") format = "mote::Int8<>";
    else if (format == "int4") format = "mote::Int4<32>";
    else if (format == "bf16") format = "mote::BF16";
    else if (format == "f16") format = "mote::F16";
    std::string spec;
    if (!format.empty()) spec += ", mote::Weights<" + format + ">";
    const bool quantized_in_graph = weight_source != nullptr && weight_source->dequantized;
    if (options_.weight_scales == "mse" && format.find("Int") != std::string::npos && !quantized_in_graph)
      spec += ", mote::WeightScales<mote::ScaleFit::mse>";
    if (pending_quant_ && !format.empty() && format.find("Int") != std::string::npos)
      spec += pending_quant_uint8_ ? ", mote::Activations<mote::UInt8>"
                                   : ", mote::Activations<mote::Int8<mote::PerTensor, mote::Asymmetric>>";
    return spec;
  }

  /// The format inside the first "Weights<...>" of a layer's option spec.
  static std::string weights_named(const std::string& spec) {
    const std::size_t begin = spec.find("Weights<") + 8;
    std::size_t end = begin;
    for (int depth = 0; end < spec.size() && (depth > 0 || spec[end] != '>'); ++end)
      depth += spec[end] == '<' ? 1 : spec[end] == '>' ? -1 : 0;
    return spec.substr(begin, end - begin);
  }

  void attach_input_quantization(PlannedLayer& layer) {
    if (pending_quant_ && layer.spec.find("Activations<") != std::string::npos) layer.input_quantization = pending_quant_;
    pending_quant_.reset();
  }

  // ---- ops --------------------------------------------------------------------------------------
  Status lower(const Node& node) {
    const std::string& op = node.op_type;
    if (op == "Identity" || op == "Dropout") return lower_identity(node);
    if (op == "DequantizeLinear") return lower_dequantize(node);
    if (op == "QuantizeLinear") return lower_quantize(node);
    if (op == "QLinearConv" || op == "QLinearMatMul" || op == "QGemm") return lower_qlinear(node);
    if (current_.codes && op != "MaxPool" && op != "Flatten" && op != "Reshape" && op != "Identity" && op != "Dropout")
      return fail(node, "reads 8-bit codes ('" + current_.name + "' from a QuantizeLinear or QLinear op); mote imports "
                        "QOperator graphs whose codes flow only through QLinearConv/QLinearMatMul/QGemm, MaxPool, Flatten "
                        "and Reshape up to a DequantizeLinear");
    if (op == "Conv") return lower_conv(node);
    if (op == "Gemm") return lower_gemm(node);
    if (op == "MatMul") return lower_matmul(node);
    if (op == "Add" || op == "Mul") return lower_constant_op(node);
    if (op == "BatchNormalization") return lower_batch_norm(node);
    if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "HardSwish" || op == "Clip" ||
        op == "LeakyRelu" || op == "HardSigmoid")
      return lower_activation(node);
    if (op == "Softmax") return lower_softmax(node);
    if (op == "MaxPool" || op == "AveragePool") return lower_pool(node);
    if (op == "GlobalAveragePool") return lower_global_pool(node);
    if (op == "Flatten" || op == "Reshape") return lower_reshape(node);
    return fail(node, "op not supported");
  }

  Status lower_identity(const Node& node) {
    if (all_inputs_constant(node)) return fail(node, "computes a constant; mote folds only Constant and DequantizeLinear");
    if (Status s = expect_chain(node); !s) return s;
    if (node.op_type == "Dropout" && node.outputs.size() > 1 && !node.outputs[1].empty())
      return fail(node, "its mask output is used; mote runs inference only");
    if (node.op_type == "Dropout" && node.inputs.size() > 2 && !node.inputs[2].empty()) {
      const Constant* training = constant(node.inputs[2]);
      const bool off = training != nullptr && training->tensor != nullptr && !training->tensor->bytes.empty() &&
                       training->tensor->bytes[0] == std::byte{0};
      // Training-mode dropout with ratio 0 keeps every value (and scales by 1 / (1 - 0)).
      const Constant* ratio = node.inputs.size() > 1 && !node.inputs[1].empty() ? constant(node.inputs[1]) : nullptr;
      const bool no_drop = ratio != nullptr && ratio->values.size() == 1 && ratio->values[0] == 0.0f;
      if (!off && !no_drop)
        return fail(node, "training_mode is (or may be) true with a non-zero ratio: random dropout; mote imports "
                          "inference graphs");
    }
    advance(node, current_.dims, current_.flat_channels);
    return Status::ok();
  }

  bool all_inputs_constant(const Node& node) const {
    for (const std::string& in : node.inputs)
      if (!in.empty() && constant(in) == nullptr) return false;
    return true;
  }

  /// Quantisation parameters of a Q/DQ node: scale (1 or per axis) and zero point.
  struct QdqParams {
    std::vector<float> scales;
    std::vector<float> zero_points;
    DataType code_type = DataType::uint8;
    std::int64_t axis = -1;
  };
  Expected<QdqParams> qdq_params(const Node& node, std::size_t rank) const {
    QdqParams q;
    auto scale = constant_input(node, 1, "scale");
    if (!scale) return scale.error();
    q.scales = (*scale)->values;
    if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
      auto zp = constant_input(node, 2, "zero point");
      if (!zp) return zp.error();
      q.zero_points = (*zp)->values;
      if ((*zp)->tensor != nullptr) q.code_type = (*zp)->tensor->data_type;
    } else {
      q.zero_points.assign(q.scales.size(), 0.0f);
    }
    if (q.code_type != DataType::uint8 && q.code_type != DataType::int8 && q.code_type != DataType::int32)
      return fail(node, "zero point of type " + io::onnx::to_string(q.code_type) + "; mote reads UINT8, INT8 and INT32").error();
    if (q.scales.size() != q.zero_points.size())
      return fail(node, "scale and zero point differ in size", ErrorCode::invalid_value).error();
    if (q.scales.size() > 1) {
      auto axis = node.int_attr("axis", 1);
      if (!axis) return axis.error();
      q.axis = *axis < 0 ? *axis + static_cast<std::int64_t>(rank) : *axis;
    }
    for (float s : q.scales)
      if (!(s > 0.0f) || !std::isfinite(s))
        return fail(node, "scale " + std::to_string(s) + " is not a finite positive number", ErrorCode::invalid_value).error();
    return q;
  }

  Status lower_dequantize(const Node& node) {
    if (node.inputs.empty()) return fail(node, "has no input");
    const Constant* codes = constant(node.inputs[0]);
    if (codes == nullptr && current_.codes && node.inputs[0] == current_.name) {
      // The end of a QOperator run: mote already carries the dequantised values.
      auto params = qdq_params(node, current_.dims.size());
      if (!params) return params.error();
      if (params->scales.size() != 1 || params->scales[0] != current_.codes->scale ||
          static_cast<std::int32_t>(params->zero_points[0]) != current_.codes->zero_point)
        return fail(node, "dequantizes with other parameters than the codes were made with");
      advance(node, current_.dims, current_.flat_channels);
      return Status::ok();
    }
    if (codes == nullptr) {
      // DQ of the running activation: only as the second half of a Q -> DQ pair (handled there).
      return fail(node, "dequantizes the run-time value '" + node.inputs[0] +
                            "' without a QuantizeLinear before it; mote folds Q -> DQ pairs and DQ of constants");
    }
    auto params = qdq_params(node, codes->dims.size());
    if (!params) return params.error();
    Constant c;
    c.name = node.outputs.at(0);
    c.dims = codes->dims;
    c.values.resize(codes->values.size());
    const QdqParams& q = *params;
    std::size_t inner = 1, axis_size = 1;
    if (q.axis >= 0) {
      if (q.axis >= static_cast<std::int64_t>(codes->dims.size()) ||
          codes->dims[static_cast<std::size_t>(q.axis)] != static_cast<std::int64_t>(q.scales.size()))
        return fail(node, "per-axis scales of size " + std::to_string(q.scales.size()) + " do not match axis " +
                              std::to_string(q.axis) + " of " + dims_string(codes->dims), ErrorCode::shape_mismatch);
      axis_size = q.scales.size();
      inner = static_cast<std::size_t>(product(codes->dims, static_cast<std::size_t>(q.axis) + 1));
    }
    for (std::size_t i = 0; i < c.values.size(); ++i) {
      const std::size_t channel = q.axis < 0 ? 0 : (i / inner) % axis_size;
      c.values[i] = (codes->values[i] - q.zero_points[channel]) * q.scales[channel];
    }
    const bool weight_codes = codes->tensor != nullptr && (codes->tensor->data_type == DataType::int8 ||
                                                           codes->tensor->data_type == DataType::uint8);
    c.dequantized = weight_codes;
    c.quant_axis = q.axis;
    c.quant_scales = q.scales;
    constants_[c.name] = std::move(c);
    consumed_[node.index] = true;
    return Status::ok();
  }

  Status lower_quantize(const Node& node) {
    if (Status s = expect_chain(node); !s) return s;
    auto params = qdq_params(node, current_.dims.size());
    if (!params) return params.error();
    if (params->scales.size() != 1)
      return fail(node, "per-axis quantisation of activations; mote quantises activations per tensor");
    if (params->code_type == DataType::int32) return fail(node, "INT32 activation codes are not supported");
    // The pair Q -> DQ: find the DequantizeLinear reading this output.
    const Node* dq = node.outputs.empty() ? nullptr : sole_consumer(node.outputs[0]);
    if (dq == nullptr || dq->op_type != "DequantizeLinear") {
      // QOperator: codes flow on to QLinear ops; mote carries their values in float.
      settle_pending_quant(node);
      advance(node, current_.dims, current_.flat_channels);
      current_.codes = QuantParams{params->scales[0], static_cast<std::int32_t>(params->zero_points[0])};
      current_.codes_uint8 = params->code_type == DataType::uint8;
      return Status::ok();
    }
    auto dq_params = qdq_params(*dq, current_.dims.size());
    if (!dq_params) return dq_params.error();
    if (dq_params->scales != params->scales || dq_params->zero_points != params->zero_points)
      return fail(*dq, "its scale/zero point differ from the QuantizeLinear before it (" + node.label() +
                           "); mote imports matching pairs only");
    pending_quant_ = QuantParams{params->scales[0], static_cast<std::int32_t>(params->zero_points[0])};
    pending_quant_uint8_ = params->code_type == DataType::uint8;
    pending_quant_origin_ = node.label();
    consumed_[dq->index] = true;
    advance(*dq, current_.dims, current_.flat_channels);
    return Status::ok();
  }

  /// Drops a Q -> DQ pair that no integer layer consumes (mote computes that value in float).
  void settle_pending_quant(const Node& node) {
    if (!pending_quant_) return;
    plan_.notes.push_back("the Q -> DQ pair " + pending_quant_origin_ + " before " + node.label() +
                          " is computed in float (mote quantises only the inputs of integer layers)");
    pending_quant_.reset();
  }

  struct ConvGeometry {
    std::vector<std::int64_t> kernel, strides, dilations, pads;  // pads: begins then ends
    std::vector<std::int64_t> out;
  };
  /// Window geometry of Conv/MaxPool/AveragePool over spatial dims `in`.
  Expected<ConvGeometry> window_geometry(const Node& node, const std::vector<std::int64_t>& in,
                                         std::vector<std::int64_t> kernel, bool ceil_mode) const {
    const std::size_t n = in.size();
    ConvGeometry g;
    auto kernel_attr = node.ints_attr("kernel_shape", kernel);
    if (!kernel_attr) return kernel_attr.error();
    g.kernel = *kernel_attr;
    auto strides = node.ints_attr("strides", std::vector<std::int64_t>(n, 1));
    auto dilations = node.ints_attr("dilations", std::vector<std::int64_t>(n, 1));
    auto pads = node.ints_attr("pads", std::vector<std::int64_t>(2 * n, 0));
    auto auto_pad = node.string_attr("auto_pad", "NOTSET");
    if (!strides) return strides.error();
    if (!dilations) return dilations.error();
    if (!pads) return pads.error();
    if (!auto_pad) return auto_pad.error();
    g.strides = *strides;
    g.dilations = *dilations;
    g.pads = *pads;
    if (g.kernel.size() != n || g.strides.size() != n || g.dilations.size() != n || g.pads.size() != 2 * n)
      return fail(node, "kernel_shape/strides/dilations/pads do not match the " + std::to_string(n) +
                            " spatial dimensions of its input", ErrorCode::invalid_value).error();
    for (std::size_t i = 0; i < n; ++i)
      if (g.kernel[i] < 1 || g.strides[i] < 1 || g.dilations[i] < 1 || g.pads[i] < 0 || g.pads[n + i] < 0)
        return fail(node, "kernel, strides and dilations must be positive and pads non-negative",
                    ErrorCode::invalid_value).error();
    const std::string& mode = *auto_pad;
    if (mode == "SAME_UPPER" || mode == "SAME_LOWER") {
      for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t out = (in[i] + g.strides[i] - 1) / g.strides[i];
        const std::int64_t extent = (g.kernel[i] - 1) * g.dilations[i] + 1;
        const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * g.strides[i] + extent - in[i]);
        const std::int64_t small = total / 2, large = total - total / 2;
        g.pads[i] = mode == "SAME_UPPER" ? small : large;
        g.pads[n + i] = mode == "SAME_UPPER" ? large : small;
      }
    } else if (mode == "VALID") {
      std::fill(g.pads.begin(), g.pads.end(), 0);
    } else if (mode != "NOTSET") {
      return fail(node, "auto_pad '" + mode + "' is not an ONNX value", ErrorCode::invalid_value).error();
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t extent = (g.kernel[i] - 1) * g.dilations[i] + 1;
      const std::int64_t span = in[i] + g.pads[i] + g.pads[n + i] - extent;
      if (span < 0)
        return fail(node, "the window (" + std::to_string(extent) + ") is larger than the padded input (" +
                              std::to_string(in[i] + g.pads[i] + g.pads[n + i]) + ")", ErrorCode::shape_mismatch).error();
      std::int64_t out = span / g.strides[i] + 1;
      if (ceil_mode && span % g.strides[i] != 0) {
        ++out;
        // A last window starting in the end padding is dropped (as ONNX and PyTorch do).
        if ((out - 1) * g.strides[i] >= in[i] + g.pads[i]) --out;
      }
      g.out.push_back(out);
    }
    return g;
  }

  static std::string window_options(const ConvGeometry& g) {
    std::string text;
    const std::size_t n = g.kernel.size();
    auto pair = [&](const std::vector<std::int64_t>& v) {
      return n == 1 ? std::to_string(v[0]) : std::to_string(v[0]) + ", " + std::to_string(v[1]);
    };
    if (std::any_of(g.strides.begin(), g.strides.end(), [](std::int64_t s) { return s != 1; }))
      text += ", mote::Stride<" + pair(g.strides) + ">";
    if (std::any_of(g.dilations.begin(), g.dilations.end(), [](std::int64_t s) { return s != 1; }))
      text += ", mote::Dilation<" + pair(g.dilations) + ">";
    if (std::any_of(g.pads.begin(), g.pads.end(), [](std::int64_t p) { return p != 0; })) {
      if (n == 1) text += ", mote::Padding<" + std::to_string(g.pads[0]) + ", " + std::to_string(g.pads[1]) + ">";
      else
        text += ", mote::Padding<" + std::to_string(g.pads[0]) + ", " + std::to_string(g.pads[1]) + ", " +
                std::to_string(g.pads[2]) + ", " + std::to_string(g.pads[3]) + ">";
    }
    return text;
  }

  /// A scalar quantisation parameter pair of a QLinear op: inputs `scale_index` and the next.
  Expected<QuantParams> qlinear_scalar(const Node& node, std::size_t scale_index, const char* role) const {
    auto scale = constant_input(node, scale_index, role);
    if (!scale) return scale.error();
    if ((*scale)->values.size() != 1) return fail(node, std::string(role) + " must be one value (per tensor)").error();
    float zero = 0.0f;
    if (scale_index + 1 < node.inputs.size() && !node.inputs[scale_index + 1].empty()) {
      auto zp = constant_input(node, scale_index + 1, role);
      if (!zp) return zp.error();
      if ((*zp)->values.size() != 1) return fail(node, std::string(role) + " zero point must be one value").error();
      zero = (*zp)->values[0];
    }
    const float s = (*scale)->values[0];
    if (!(s > 0.0f) || !std::isfinite(s))
      return fail(node, std::string(role) + " " + std::to_string(s) + " is not a finite positive number", ErrorCode::invalid_value).error();
    return QuantParams{s, static_cast<std::int32_t>(zero)};
  }

  /// Weights of a QLinear op as a dequantised constant (codes - zero point) * scale, per tensor or
  /// per output channel (`axis` of the weight).
  Expected<Constant> qlinear_weight(const Node& node, std::size_t index, std::size_t axis) const {
    auto codes = constant_input(node, index, "weight");
    if (!codes) return codes.error();
    auto scales = constant_input(node, index + 1, "weight scale");
    if (!scales) return scales.error();
    std::vector<float> zero((*scales)->values.size(), 0.0f);
    if (index + 2 < node.inputs.size() && !node.inputs[index + 2].empty()) {
      auto zp = constant_input(node, index + 2, "weight zero point");
      if (!zp) return zp.error();
      zero = (*zp)->values;
    }
    const Constant& w = **codes;
    const std::vector<float>& s = (*scales)->values;
    if (zero.size() != s.size()) return fail(node, "weight scale and zero point differ in size", ErrorCode::invalid_value).error();
    if (axis >= w.dims.size()) return fail(node, "weight " + dims_string(w.dims) + " has no output axis", ErrorCode::shape_mismatch).error();
    const std::size_t channels = static_cast<std::size_t>(w.dims[axis]);
    if (s.size() != 1 && s.size() != channels)
      return fail(node, "weight scale of " + std::to_string(s.size()) + " values for " + std::to_string(channels) + " output channels",
                  ErrorCode::shape_mismatch).error();
    Constant c;
    c.name = w.name;
    c.dims = w.dims;
    c.values.resize(w.values.size());
    const std::size_t inner = static_cast<std::size_t>(product(w.dims, axis + 1));
    for (std::size_t i = 0; i < c.values.size(); ++i) {
      const std::size_t ch = s.size() == 1 ? 0 : (i / inner) % channels;
      if (!(s[ch] > 0.0f) || !std::isfinite(s[ch]))
        return fail(node, "weight scale " + std::to_string(s[ch]) + " is not a finite positive number", ErrorCode::invalid_value).error();
      c.values[i] = (w.values[i] - zero[ch]) * s[ch];
    }
    c.dequantized = true;
    c.quant_axis = s.size() == 1 ? -1 : static_cast<std::int64_t>(axis);
    c.quant_scales = s;
    return c;
  }

  /// QLinearConv, QLinearMatMul and onnxruntime's QGemm: an int8 Conv2D/Dense whose input
  /// quantisation is the op's x/a parameters. mote's output is the float value the op's y codes
  /// stand for, before rounding to them.
  Status lower_qlinear(const Node& node) {
    if (Status s = expect_chain(node); !s) return s;
    if (!current_.codes)
      return fail(node, "its input '" + current_.name + "' does not come from a QuantizeLinear or another QLinear op");
    auto x = qlinear_scalar(node, 1, "input scale");
    if (!x) return x.error();
    if (x->scale != current_.codes->scale || x->zero_point != current_.codes->zero_point)
      return fail(node, "its input scale/zero point differ from those the codes were made with");
    const bool uint8 = current_.codes_uint8;
    const bool qgemm = node.op_type == "QGemm";
    std::optional<QuantParams> y;
    const std::size_t y_index = node.op_type == "QLinearConv" ? 6 : qgemm ? 7 : 6;
    if (y_index < node.inputs.size() && !node.inputs[y_index].empty()) {
      auto out = qlinear_scalar(node, y_index, "output scale");
      if (!out) return out.error();
      y = *out;
    } else if (!qgemm) {
      return fail(node, "has no output scale", ErrorCode::invalid_value);
    }
    pending_quant_ = *x;
    pending_quant_uint8_ = uint8;
    pending_quant_origin_ = node.label();
    const bool conv = node.op_type == "QLinearConv";
    auto trans_b = node.int_attr("transB", 0);
    if (!trans_b) return trans_b.error();
    const bool transposed = qgemm && *trans_b != 0;
    // The output channels: axis 0 of a Conv weight or of a transposed B, axis 1 of B [K, N].
    auto weight = qlinear_weight(node, 3, conv || transposed ? 0 : 1);
    if (!weight) return weight.error();
    Constant w = std::move(*weight);
    Status status = Status::ok();
    if (conv) {
      // Reuse the float Conv lowering on a synthetic node: weight and bias as constants.
      Node synthetic = node;
      synthetic.inputs = {node.inputs[0], node.name + "#weight"};
      constants_[synthetic.inputs[1]] = w;
      if (node.inputs.size() > 8 && !node.inputs[8].empty()) {
        auto bias = constant_input(node, 8, "bias");
        if (!bias) return bias.error();
        Constant b = **bias;
        // The int32 bias is in units of input scale x weight scale (per output channel).
        const std::size_t filters = static_cast<std::size_t>(w.dims[0]);
        if (b.values.size() != filters) return fail(node, "bias " + dims_string(b.dims) + " does not have one value per filter", ErrorCode::shape_mismatch);
        for (std::size_t f = 0; f < filters; ++f) b.values[f] *= x->scale * w.quant_scales[w.quant_scales.size() == 1 ? 0 : f];
        synthetic.inputs.push_back(node.name + "#bias");
        constants_[synthetic.inputs[2]] = std::move(b);
      }
      status = lower_conv(synthetic);
    } else {
      // QLinearMatMul: b is [K, N] (output channels on axis 1); QGemm: transB decides.
      auto alpha = node.float_attr("alpha", 1.0f);
      if (!alpha) return alpha.error();
      if (qgemm) {
        auto trans_a = node.int_attr("transA", 0);
        if (!trans_a) return trans_a.error();
        if (*trans_a != 0) return fail(node, "transA = 1 transposes the activations; mote's Dense reads rows of A");
      }
      if (w.dims.size() != 2) return fail(node, "weight " + dims_string(w.dims) + " is not a matrix");
      const std::size_t outputs = static_cast<std::size_t>(transposed ? w.dims[0] : w.dims[1]);
      const std::size_t inputs = static_cast<std::size_t>(transposed ? w.dims[1] : w.dims[0]);
      std::vector<float> weight_values(outputs * inputs);
      for (std::size_t o = 0; o < outputs; ++o)
        for (std::size_t i = 0; i < inputs; ++i)
          weight_values[o * inputs + i] = *alpha * (transposed ? w.values[o * inputs + i] : w.values[i * outputs + o]);
      std::vector<float> bias(outputs, 0.0f);
      std::string bias_source = "(no bias: zeros)";
      if (qgemm && node.inputs.size() > 6 && !node.inputs[6].empty()) {
        auto c = constant_input(node, 6, "C");
        if (!c) return c.error();
        auto broadcast = broadcast_bias(node, **c, outputs);
        if (!broadcast) return broadcast.error();
        bias = std::move(*broadcast);
        // The int32 C is in units of a_scale x b_scale x alpha.
        for (std::size_t o = 0; o < outputs; ++o)
          bias[o] *= *alpha * x->scale * w.quant_scales[w.quant_scales.size() == 1 ? 0 : o];
        bias_source = (*c)->name;
      }
      status = add_dense(node, std::move(weight_values), outputs, inputs, std::move(bias), w.name, bias_source, &w);
    }
    if (!status) return status;
    if (y) {
      current_.codes = y;
      current_.codes_uint8 = uint8;
    }
    return Status::ok();
  }

  Status lower_conv(const Node& node) {
    if (Status s = expect_chain(node); !s) return s;
    const std::vector<std::int64_t> in = sample(current_.dims);
    if (in.size() != 2 && in.size() != 3)
      return fail(node, "input " + dims_string(current_.dims) + ": mote convolves 1-D (N, C, L) and 2-D (N, C, H, W) maps");
    auto weight = constant_input(node, 1, "weight");
    if (!weight) return weight.error();
    const Constant& w = **weight;
    if (w.dims.size() != in.size() + 1)
      return fail(node, "weight " + dims_string(w.dims) + " does not match its " + std::to_string(in.size() - 1) + "-D input",
                  ErrorCode::shape_mismatch);
    auto group_attr = node.int_attr("group", 1);
    if (!group_attr) return group_attr.error();
    const std::int64_t channels = in[0], filters = w.dims[0], group = *group_attr;
    if (group < 1 || channels % group != 0 || filters % group != 0 || w.dims[1] * group != channels)
      return fail(node, "group " + std::to_string(group) + " with input channels " + std::to_string(channels) +
                            " and weight " + dims_string(w.dims) + " is inconsistent", ErrorCode::shape_mismatch);
    const bool depthwise = group > 1;
    if (depthwise && (group != channels || in.size() != 3))
      return fail(node, "grouped convolution with group " + std::to_string(group) +
                            "; mote has standard (group 1) and 2-D depthwise (group = channels) convolutions");
    std::vector<std::int64_t> kernel(w.dims.begin() + 2, w.dims.end());
    const std::vector<std::int64_t> spatial(in.begin() + 1, in.end());
    auto geometry = window_geometry(node, spatial, kernel, false);
    if (!geometry) return geometry.error();
    if (geometry->kernel != kernel)
      return fail(node, "kernel_shape " + dims_string(geometry->kernel) + " differs from the weight's " + dims_string(kernel),
                  ErrorCode::shape_mismatch);
    std::vector<float> bias(static_cast<std::size_t>(filters), 0.0f);
    std::string bias_source = "(no bias: zeros)";
    if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
      auto b = constant_input(node, 2, "bias");
      if (!b) return b.error();
      if ((*b)->values.size() != bias.size())
        return fail(node, "bias " + dims_string((*b)->dims) + " does not have " + std::to_string(filters) + " values",
                    ErrorCode::shape_mismatch);
      bias = (*b)->values;
      bias_source = (*b)->name;
    }
    settle_pending_quant_unless_integer(node, &w);
    std::string spec;
    const std::string options = window_options(*geometry);
    const std::string format = format_spec(true, &w);
    std::string kind;
    if (depthwise) {
      const bool int8_codes = format.find("Weights<mote::Int8<") != std::string::npos ||
                              format.find("Weights<mote::Int7<") != std::string::npos;
      if (format.find("Weights<") != std::string::npos && !int8_codes)
        return fail(node, "depthwise convolution (weighted layer " + std::to_string(weighted_seen_ - 1) +
                              ") given weights " + weights_named(format) +
                              "; mote's DepthwiseConv2D takes f32, int8 or int7 weights (--layer N=FORMAT sets "
                              "this layer's alone)");
      const std::int64_t multiplier = filters / channels;
      kind = "DepthwiseConv2D";
      spec = "mote::DepthwiseConv2D<mote::Kernel<" + std::to_string(kernel[0]) + ", " + std::to_string(kernel[1]) + ">" +
             (multiplier != 1 ? ", mote::Multiplier<" + std::to_string(multiplier) + ">" : std::string()) + options +
             format + ">";
    } else if (in.size() == 2) {
      kind = "Conv1D";
      spec = "mote::Conv1D<" + std::to_string(filters) + ", " + std::to_string(kernel[0]) + options + format + ">";
    } else {
      kind = "Conv2D";
      spec = "mote::Conv2D<" + std::to_string(filters) + ", mote::Kernel<" + std::to_string(kernel[0]) + ", " +
             std::to_string(kernel[1]) + ">" + options + format + ">";
    }
    PlannedLayer& layer = add_layer(kind, spec, node);
    std::vector<std::size_t> wshape;
    for (std::int64_t d : w.dims) wshape.push_back(static_cast<std::size_t>(d));
    layer.params.push_back({"weight", w.name, wshape, w.values});
    layer.params.push_back({"bias", bias_source, {static_cast<std::size_t>(filters)}, bias});
    attach_input_quantization(layer);
    std::vector<std::int64_t> out{filters};
    out.insert(out.end(), geometry->out.begin(), geometry->out.end());
    advance(node, with_batch(out));
    layer.out_shape = mote_shape(out);
    last_output_ = current_.name;
    return Status::ok();
  }

  void settle_pending_quant_unless_integer(const Node& node, const Constant* weight) {
    const bool integer = weight != nullptr && weight->dequantized;
    const bool overridden = !(node.op_type == "Conv" ? options_.conv_format : options_.dense_format).empty() ||
                            options_.layer_format.count(weighted_seen_) != 0;
    if (!integer && !overridden) settle_pending_quant(node);
  }

  /// A Dense layer from weight [out, in] (PyTorch Linear convention) and bias [out].
  Status add_dense(const Node& node, std::vector<float> weight, std::size_t outputs, std::size_t inputs,
                   std::vector<float> bias, std::string weight_source, std::string bias_source, const Constant* w) {
    const std::vector<std::int64_t> in = sample(current_.dims);
    if (in.size() != 1 || static_cast<std::size_t>(in[0]) != inputs)
      return fail(node, "input " + dims_string(current_.dims) + " is not a batch of vectors of " + std::to_string(inputs) +
                            " values (mote's Dense multiplies vectors; Flatten first)", ErrorCode::shape_mismatch);
    settle_pending_quant_unless_integer(node, w);
    PlannedLayer& layer = add_layer("Dense", "mote::Dense<" + std::to_string(outputs) + format_spec(false, w) + ">", node);
    layer.params.push_back({"weight", std::move(weight_source), {outputs, inputs}, std::move(weight)});
    layer.params.push_back({"bias", std::move(bias_source), {outputs}, std::move(bias)});
    attach_input_quantization(layer);
    // A flattened channels-first map feeds Dense in mote's (spatial, C) order; mote's Dense
    // reorders PyTorch/ONNX (C, spatial) columns itself when it follows Flatten.
    advance(node, with_batch({static_cast<std::int64_t>(outputs)}));
    layer.out_shape = {outputs};
    last_output_ = current_.name;
    return Status::ok();
  }

  /// A bias vector of `outputs` values from a constant that broadcasts to [outputs].
  Expected<std::vector<float>> broadcast_bias(const Node& node, const Constant& c, std::size_t outputs) const {
    const std::size_t n = c.values.size();
    bool vector_like = n == outputs;
    for (std::size_t i = 0; i + 1 < c.dims.size(); ++i) vector_like = vector_like && c.dims[i] == 1;
    if (n == 1) return std::vector<float>(outputs, c.values[0]);
    if (vector_like) return c.values;
    return fail(node, "constant '" + c.name + "' " + dims_string(c.dims) + " does not broadcast to one value per output (" +
                          std::to_string(outputs) + "); mote's Dense bias is per output",
                ErrorCode::unsupported)
        .error();
  }

  Status lower_gemm(const Node& node) {
    if (Status s = expect_chain(node); !s) return s;
    auto trans_a = node.int_attr("transA", 0);
    auto trans_b = node.int_attr("transB", 0);
    auto alpha = node.float_attr("alpha", 1.0f);
    auto beta = node.float_attr("beta", 1.0f);
    if (!trans_a) return trans_a.error();
    if (!trans_b) return trans_b.error();
    if (!alpha) return alpha.error();
    if (!beta) return beta.error();
    if (*trans_a != 0) return fail(node, "transA = 1 transposes the activations; mote's Dense reads rows of A");
    auto b = constant_input(node, 1, "B");
    if (!b) return b.error();
    const Constant& bc = **b;
    if (bc.dims.size() != 2) return fail(node, "B " + dims_string(bc.dims) + " is not a matrix", ErrorCode::shape_mismatch);
    const std::size_t rows = static_cast<std::size_t>(bc.dims[0]), cols = static_cast<std::size_t>(bc.dims[1]);
    const std::size_t outputs = *trans_b ? rows : cols, inputs = *trans_b ? cols : rows;
    std::vector<float> weight(outputs * inputs);
    for (std::size_t o = 0; o < outputs; ++o)
      for (std::size_t i = 0; i < inputs; ++i)
        weight[o * inputs + i] = *alpha * (*trans_b ? bc.values[o * inputs + i] : bc.values[i * outputs + o]);
    std::vector<float> bias(outputs, 0.0f);
    std::string bias_source = "(no C: zeros)";
    if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
      auto c = constant_input(node, 2, "C");
      if (!c) return c.error();
      auto broadcast = broadcast_bias(node, **c, outputs);
      if (!broadcast) return broadcast.error();
      bias = std::move(*broadcast);
      for (float& v : bias) v *= *beta;
      bias_source = (*c)->name;
    }
    return add_dense(node, std::move(weight), outputs, inputs, std::move(bias), bc.name, bias_source, &bc);
  }

  Status lower_matmul(const Node& node) {
    if (Status s = expect_chain(node); !s) return s;
    auto b = constant_input(node, 1, "B");
    if (!b) return b.error();
    const Constant& bc = **b;
    if (bc.dims.size() != 2)
      return fail(node, "B " + dims_string(bc.dims) + " is not a matrix; mote's Dense multiplies by one constant matrix");
    const std::size_t inputs = static_cast<std::size_t>(bc.dims[0]), outputs = static_cast<std::size_t>(bc.dims[1]);
    std::vector<float> weight(outputs * inputs);
    for (std::size_t o = 0; o < outputs; ++o)
      for (std::size_t i = 0; i < inputs; ++i) weight[o * inputs + i] = bc.values[i * outputs + o];
    return add_dense(node, std::move(weight), outputs, inputs, std::vector<float>(outputs, 0.0f), bc.name,
                     "(MatMul: zeros)", &bc);
  }

  /// Which input of a binary Add/Mul is the constant, or none.
  Expected<std::pair<std::size_t, const Constant*>> binary_operands(const Node& node) const {
    if (node.inputs.size() != 2) return fail(node, "needs two inputs", ErrorCode::invalid_value).error();
    for (std::size_t k = 0; k < 2; ++k)
      if (node.inputs[k] == current_.name) {
        const Constant* c = constant(node.inputs[1 - k]);
        if (c == nullptr)
          return fail(node, "both operands are computed at run time ('" + node.inputs[0] + "', '" + node.inputs[1] +
                                "'); mote adds/multiplies by constants (a residual Add needs mote::Residual, "
                                "which the importer does not build yet)")
              .error();
        return std::pair{1 - k, c};
      }
    if (Status s = expect_chain(node); !s) return s.error();
    return fail(node, "does not read the running value").error();
  }

  enum class Broadcast { per_tensor, per_channel, per_element };

  /// How constant `c` broadcasts against the running value, in mote's terms, and its values in
  /// mote's order (per_element: channels-last).
  Expected<std::pair<Broadcast, std::vector<float>>> classify_broadcast(const Node& node, const Constant& c) const {
    const std::vector<std::int64_t>& dims = current_.dims;
    if (c.dims.size() > dims.size())
      return fail(node, "constant '" + c.name + "' " + dims_string(c.dims) + " has more dimensions than its input " +
                            dims_string(dims), ErrorCode::shape_mismatch).error();
    std::vector<std::int64_t> full(dims.size() - c.dims.size(), 1);
    full.insert(full.end(), c.dims.begin(), c.dims.end());
    for (std::size_t i = 0; i < dims.size(); ++i)
      if (full[i] != 1 && full[i] != dims[i])
        return fail(node, "constant '" + c.name + "' " + dims_string(c.dims) + " does not broadcast to " + dims_string(dims),
                    ErrorCode::shape_mismatch).error();
    if (c.values.size() == 1) return std::pair{Broadcast::per_tensor, c.values};
    if (plan_.batch_axis && !dims.empty() && full[0] != 1)
      return fail(node, "constant '" + c.name + "' " + dims_string(c.dims) + " differs along the batch axis").error();
    const std::size_t first = plan_.batch_axis ? 1 : 0;
    const std::vector<std::int64_t> cs(full.begin() + static_cast<std::ptrdiff_t>(first), full.end());
    const std::vector<std::int64_t> xs(dims.begin() + static_cast<std::ptrdiff_t>(first), dims.end());
    // The axis mote calls channels: ONNX axis 1 channels-first, the last axis otherwise.
    const std::size_t channel_axis = plan_.channels_first && current_.flat_channels == 0 ? 0 : xs.size() - 1;
    bool per_channel = !xs.empty();
    for (std::size_t i = 0; i < cs.size(); ++i) per_channel = per_channel && (i == channel_axis || cs[i] == 1);
    per_channel = per_channel && current_.flat_channels == 0;  // a flattened map's single axis is (C, spatial) in ONNX
    if (per_channel) return std::pair{Broadcast::per_channel, c.values};
    // Per element: materialise the broadcast over one sample, then reorder to mote's layout.
    const std::size_t count = static_cast<std::size_t>(product(xs));
    std::vector<float> values(count);
    std::vector<std::size_t> index(xs.size(), 0);
    for (std::size_t flat = 0; flat < count; ++flat) {
      std::size_t source = 0;
      for (std::size_t i = 0; i < xs.size(); ++i) source = source * static_cast<std::size_t>(cs[i]) + (cs[i] == 1 ? 0 : index[i]);
      values[flat] = c.values[source];
      for (std::size_t i = xs.size(); i-- > 0;) {
        if (++index[i] < static_cast<std::size_t>(xs[i])) break;
        index[i] = 0;
      }
    }
    // ONNX's (C, spatial) order to mote's (spatial, C): a channels-first map, or one mote flattened.
    const std::size_t channels = current_.flat_channels != 0                      ? current_.flat_channels
                                 : plan_.channels_first && xs.size() >= 2 ? static_cast<std::size_t>(xs[0])
                                                                                  : 1;
    if (channels > 1) {
      const std::size_t spatial = count / channels;
      std::vector<float> hwc(count);
      for (std::size_t ch = 0; ch < channels; ++ch)
        for (std::size_t s = 0; s < spatial; ++s) hwc[s * channels + ch] = values[ch * spatial + s];
      values = std::move(hwc);
    }
    return std::pair{Broadcast::per_element, std::move(values)};
  }

  Status lower_constant_op(const Node& node) {
    auto operands = binary_operands(node);
    if (!operands) return operands.error();
    const Constant& c = *operands->second;
    auto broadcast = classify_broadcast(node, c);
    if (!broadcast) return broadcast.error();
    const bool add = node.op_type == "Add";
    auto& [kind, values] = *broadcast;
    // Fold into the Dense/Conv that produced this value, when nothing else reads it.
    if (kind != Broadcast::per_element && !plan_.layers.empty() && last_output_ == current_.name &&
        (plan_.layers.back().kind == "Dense" || plan_.layers.back().kind == "Conv2D" ||
         plan_.layers.back().kind == "Conv1D" || plan_.layers.back().kind == "DepthwiseConv2D") &&
        sole_consumer(current_.name) == &node && !plan_.layers.back().input_quantization) {
      PlannedLayer& layer = plan_.layers.back();
      std::vector<float>& weight = layer.params[0].values;
      std::vector<float>& bias = layer.params[1].values;
      const std::size_t outputs = bias.size(), per_output = weight.size() / outputs;
      for (std::size_t o = 0; o < outputs; ++o) {
        const float v = kind == Broadcast::per_tensor ? values[0] : values[o];
        if (add) {
          bias[o] += v;
        } else {
          bias[o] *= v;
          for (std::size_t i = 0; i < per_output; ++i) weight[o * per_output + i] *= v;
        }
      }
      layer.origin += " + " + node.label();
      layer.params[add ? 1 : 0].source += " " + std::string(add ? "+ " : "* ") + c.name;
      if (!add) layer.params[1].source += " * " + c.name;
      plan_.notes.push_back(node.label() + " folded into " + layer.kind + " (" + layer.origin + ")");
      advance(node, current_.dims, current_.flat_channels);
      last_output_ = current_.name;
      return Status::ok();
    }
    settle_pending_quant(node);
    const char* broadcast_tag = kind == Broadcast::per_tensor ? "mote::PerTensor"
                                : kind == Broadcast::per_channel ? "mote::PerChannel"
                                                                 : "mote::PerElement";
    const std::string layer_kind = add ? "AddConstant" : "MulConstant";
    PlannedLayer& layer = add_layer(layer_kind, "mote::" + layer_kind + "<" + broadcast_tag + ">", node);
    std::vector<std::size_t> shape{values.size()};
    if (kind == Broadcast::per_channel) {
      const std::vector<std::size_t> ms = mote_shape(sample(current_.dims));
      const std::size_t channels = ms.back();
      if (values.size() != channels)
        return fail(node, "per-channel constant of " + std::to_string(values.size()) + " values for " +
                              std::to_string(channels) + " channels", ErrorCode::shape_mismatch);
    }
    layer.params.push_back({"value", c.name, shape, values});
    advance(node, current_.dims, current_.flat_channels);
    layer.out_shape = mote_shape(sample(current_.dims));
    return Status::ok();
  }

  Status lower_batch_norm(const Node& node) {
    if (Status s = expect_chain(node); !s) return s;
    if (node.outputs.size() > 1)
      return fail(node, "has " + std::to_string(node.outputs.size()) + " outputs (training mode); mote imports inference BatchNormalization");
    auto training = node.int_attr("training_mode", 0);
    if (!training) return training.error();
    if (*training != 0) return fail(node, "training_mode = 1; mote imports inference BatchNormalization");
    auto epsilon = node.float_attr("epsilon", 1e-5f);
    if (!epsilon) return epsilon.error();
    const std::vector<std::int64_t> in = sample(current_.dims);
    if (in.empty()) return fail(node, "input " + dims_string(current_.dims) + " has no channel axis");
    const std::size_t channels = static_cast<std::size_t>(in[0]);
    const char* roles[] = {"scale", "B", "mean", "var"};
    std::vector<PlannedTensor> params;
    const char* names[] = {"weight", "bias", "running_mean", "running_var"};
    for (std::size_t k = 0; k < 4; ++k) {
      auto c = constant_input(node, k + 1, roles[k]);
      if (!c) return c.error();
      if ((*c)->values.size() != channels)
        return fail(node, std::string(roles[k]) + " '" + (*c)->name + "' " + dims_string((*c)->dims) + " does not have " +
                              std::to_string(channels) + " values (one per channel)", ErrorCode::shape_mismatch);
      params.push_back({names[k], (*c)->name, {channels}, (*c)->values});
    }
    // mote's BatchNorm takes epsilon as a power of ten; another epsilon moves into the variance
    // (sqrt(var + eps) = sqrt((var + eps - 10^E) + 10^E)), in double.
    int exponent = -5;
    for (int e = -1; e >= -12; --e)
      if (static_cast<float>(std::pow(10.0, e)) == *epsilon) exponent = e;
    const double mote_epsilon = std::pow(10.0, exponent);
    if (static_cast<float>(mote_epsilon) != *epsilon) {
      for (float& v : params[3].values)
        v = static_cast<float>(static_cast<double>(v) + static_cast<double>(*epsilon) - mote_epsilon);
      plan_.notes.push_back(node.label() + ": epsilon " + float_literal(*epsilon) + " moved into running_var");
    }
    settle_pending_quant(node);
    PlannedLayer& layer = add_layer("BatchNorm", "mote::BatchNormEpsilon<" + std::to_string(exponent) + ">", node);
    layer.params = std::move(params);
    advance(node, current_.dims, current_.flat_channels);
    layer.out_shape = mote_shape(sample(current_.dims));
    return Status::ok();
  }

  Expected<float> optional_scalar(const Node& node, std::size_t index, const char* role, float fallback) const {
    if (index >= node.inputs.size() || node.inputs[index].empty()) return fallback;
    auto c = constant_input(node, index, role);
    if (!c) return c.error();
    if ((*c)->values.size() != 1)
      return fail(node, std::string(role) + " is not a scalar", ErrorCode::invalid_value).error();
    return (*c)->values[0];
  }

  Status lower_activation(const Node& node) {
    if (Status s = expect_chain(node); !s) return s;
    const std::string& op = node.op_type;
    std::string kind, spec;
    if (op == "Relu") kind = "ReLU", spec = "mote::ReLU";
    else if (op == "Sigmoid") kind = "Sigmoid", spec = "mote::Sigmoid";
    else if (op == "Tanh") kind = "Tanh", spec = "mote::Tanh";
    else if (op == "HardSwish") kind = "HardSwish", spec = "mote::HardSwish";
    else if (op == "LeakyRelu") {
      auto alpha = node.float_attr("alpha", 0.01f);
      if (!alpha) return alpha.error();
      kind = "LeakyReLU";
      if (auto fraction = as_decimal_fraction(*alpha))
        spec = "mote::LeakyReLUSlope<" + std::to_string(fraction->first) + ", " + std::to_string(fraction->second) + ">";
      else
        spec = "mote::LeakyReLUAlpha<" + float_literal(*alpha) + ">";
    } else if (op == "HardSigmoid") {
      auto alpha = node.float_attr("alpha", 0.2f);
      auto beta = node.float_attr("beta", 0.5f);
      if (!alpha) return alpha.error();
      if (!beta) return beta.error();
      kind = "HardSigmoid";
      spec = *alpha == 0.2f && *beta == 0.5f ? "mote::HardSigmoid"
                                             : "mote::HardSigmoidWith<" + float_literal(*alpha) + ", " + float_literal(*beta) + ">";
    } else {  // Clip
      float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
      if (opset_ < 11) {
        auto a = node.float_attr("min", lo);
        auto b = node.float_attr("max", hi);
        if (!a) return a.error();
        if (!b) return b.error();
        lo = *a, hi = *b;
      } else {
        auto a = optional_scalar(node, 1, "min", lo);
        auto b = optional_scalar(node, 2, "max", hi);
        if (!a) return a.error();
        if (!b) return b.error();
        lo = *a, hi = *b;
      }
      if (!(lo <= hi)) return fail(node, "min " + float_literal(lo) + " > max " + float_literal(hi), ErrorCode::invalid_value);
      if (lo == 0.0f && hi == 6.0f) kind = "ReLU6", spec = "mote::ReLU6";
      else if (lo == 0.0f && std::isinf(hi)) kind = "ReLU", spec = "mote::ReLU";
      else {
        kind = "Clip";
        const float big = std::numeric_limits<float>::max();
        spec = "mote::Clip<" + float_literal(std::isinf(lo) ? -big : lo) + ", " + float_literal(std::isinf(hi) ? big : hi) + ">";
        if (std::isinf(lo) || std::isinf(hi)) {
          spec = "mote::Clip<" + (std::isinf(lo) ? std::string("-std::numeric_limits<float>::infinity()") : float_literal(lo)) +
                 ", " + (std::isinf(hi) ? std::string("std::numeric_limits<float>::infinity()") : float_literal(hi)) + ">";
        }
      }
    }
    settle_pending_quant(node);
    PlannedLayer& layer = add_layer(kind, spec, node);
    advance(node, current_.dims, current_.flat_channels);
    layer.out_shape = mote_shape(sample(current_.dims));
    return Status::ok();
  }

  Status lower_softmax(const Node& node) {
    if (Status s = expect_chain(node); !s) return s;
    const auto rank = static_cast<std::int64_t>(current_.dims.size());
    auto axis_attr = node.int_attr("axis", opset_ >= 13 ? -1 : 1);
    if (!axis_attr) return axis_attr.error();
    const std::int64_t axis = *axis_attr < 0 ? *axis_attr + rank : *axis_attr;
    if (axis < 0 || axis >= rank) return fail(node, "axis " + std::to_string(*axis_attr) + " is out of range", ErrorCode::invalid_value);
    const std::vector<std::int64_t> xs = sample(current_.dims);
    const std::int64_t first = plan_.batch_axis ? 1 : 0;
    const bool channels_first_map = plan_.channels_first && xs.size() >= 2 && current_.flat_channels == 0;
    // Before opset 13, Softmax normalises over every axis from `axis` on: from the first sample
    // axis, that is the whole sample, in whatever order mote stores it.
    const bool whole_sample = opset_ < 13 && axis == first;
    const bool last_axis = !channels_first_map && axis == rank - 1;
    if (!last_axis && !whole_sample)
      return fail(node, "softmax over axis " + std::to_string(*axis_attr) + " of " + dims_string(current_.dims) +
                            (channels_first_map ? " (a channels-first map)" : "") +
                            "; mote's Softmax normalises over its last (channel) axis");
    settle_pending_quant(node);
    const std::vector<std::size_t> shape = mote_shape(xs);
    const std::size_t count = static_cast<std::size_t>(product(xs));
    if (!last_axis && shape.size() > 1) {
      add_layer("Flatten", "mote::Flatten", node).out_shape = {count};
      add_layer("Softmax", "mote::Softmax", node).out_shape = {count};
      add_layer("Reshape", "mote::Reshape<" + Plan::shape_list(shape) + ">", node).out_shape = shape;
    } else {
      add_layer("Softmax", "mote::Softmax", node).out_shape = shape;
    }
    advance(node, current_.dims, current_.flat_channels);
    return Status::ok();
  }

  Status lower_pool(const Node& node) {
    if (Status s = expect_chain(node); !s) return s;
    if (node.outputs.size() > 1 && !node.outputs[1].empty())
      return fail(node, "its Indices output is used; mote's pools return values only");
    const std::vector<std::int64_t> in = sample(current_.dims);
    if (in.size() != 2 && in.size() != 3)
      return fail(node, "input " + dims_string(current_.dims) + ": mote pools 1-D (N, C, L) and 2-D (N, C, H, W) maps");
    const bool max = node.op_type == "MaxPool";
    auto ceil_mode = node.int_attr("ceil_mode", 0);
    auto storage = node.int_attr("storage_order", 0);
    auto count_pad = node.int_attr("count_include_pad", 0);
    if (!ceil_mode) return ceil_mode.error();
    if (!storage) return storage.error();
    if (!count_pad) return count_pad.error();
    if (*storage != 0) return fail(node, "storage_order = 1 concerns the Indices output, which mote does not produce");
    const std::vector<std::int64_t> spatial(in.begin() + 1, in.end());
    auto g = window_geometry(node, spatial, {}, *ceil_mode != 0);
    if (!g) return g.error();
    if (!max && std::any_of(g->dilations.begin(), g->dilations.end(), [](std::int64_t d) { return d != 1; }))
      return fail(node, "AveragePool with dilations; mote dilates MaxPool only");
    const std::size_t n = spatial.size();
    for (std::size_t i = 0; i < n; ++i)
      if (g->pads[i] >= g->kernel[i] || g->pads[n + i] >= g->kernel[i])
        return fail(node, "padding " + dims_string(g->pads) + " as large as the window " + dims_string(g->kernel) +
                              " (a window could lie entirely in the padding)");
    std::string kind = std::string(max ? "MaxPool" : "AvgPool") + (n == 1 ? "1D" : "2D");
    std::string spec = "mote::" + kind + "<" + std::to_string(g->kernel[0]);
    if (n == 2 && g->kernel[1] != g->kernel[0]) spec += ", mote::Kernel<" + std::to_string(g->kernel[0]) + ", " + std::to_string(g->kernel[1]) + ">";
    // mote's pools default to stride = window: write the stride whenever it differs.
    ConvGeometry options = *g;
    bool stride_is_window = true;
    for (std::size_t i = 0; i < n; ++i) stride_is_window = stride_is_window && g->strides[i] == g->kernel[i];
    std::string text;
    if (!stride_is_window) {
      text += ", mote::Stride<" + std::to_string(g->strides[0]) + (n == 2 ? ", " + std::to_string(g->strides[1]) : "") + ">";
    }
    std::fill(options.strides.begin(), options.strides.end(), 1);
    text += window_options(options);
    if (*ceil_mode) text += ", mote::CeilMode";
    if (!max && *count_pad) text += ", mote::CountPad";
    spec += text + ">";
    settle_pending_quant(node);
    PlannedLayer& layer = add_layer(kind, spec, node);
    std::vector<std::int64_t> out{in[0]};
    out.insert(out.end(), g->out.begin(), g->out.end());
    advance(node, with_batch(out));
    layer.out_shape = mote_shape(out);
    return Status::ok();
  }

  Status lower_global_pool(const Node& node) {
    if (Status s = expect_chain(node); !s) return s;
    const std::vector<std::int64_t> in = sample(current_.dims);
    if (in.size() != 2 && in.size() != 3)
      return fail(node, "input " + dims_string(current_.dims) + ": mote pools (N, C, L) and (N, C, H, W) maps");
    settle_pending_quant(node);
    PlannedLayer& layer = add_layer("GlobalAveragePool2D", "mote::GlobalAveragePool2D", node);
    std::vector<std::int64_t> out(in.size(), 1);
    out[0] = in[0];
    layer.out_shape = {static_cast<std::size_t>(in[0])};
    advance(node, with_batch(out));
    return Status::ok();
  }

  Status lower_reshape(const Node& node) {
    if (Status s = expect_chain(node); !s) return s;
    const std::vector<std::int64_t>& dims = current_.dims;
    std::vector<std::int64_t> out;
    if (node.op_type == "Flatten") {
      auto axis_attr = node.int_attr("axis", 1);
      if (!axis_attr) return axis_attr.error();
      const auto rank = static_cast<std::int64_t>(dims.size());
      const std::int64_t axis = *axis_attr < 0 ? *axis_attr + rank : *axis_attr;
      if (axis < 0 || axis > rank) return fail(node, "axis " + std::to_string(*axis_attr) + " is out of range", ErrorCode::invalid_value);
      out = {product(dims, 0, static_cast<std::size_t>(axis)), product(dims, static_cast<std::size_t>(axis))};
    } else {
      auto shape = constant_input(node, 1, "shape");
      if (!shape) return shape.error();
      if ((*shape)->tensor == nullptr) return fail(node, "its shape is computed; mote needs a constant shape");
      auto requested = to_ints(*(*shape)->tensor);
      if (!requested) return fail(node, requested.error().message, requested.error().code);
      auto allow_zero = node.int_attr("allowzero", 0);
      if (!allow_zero) return allow_zero.error();
      std::int64_t known = 1;
      std::ptrdiff_t infer = -1;
      for (std::size_t i = 0; i < requested->size(); ++i) {
        std::int64_t d = (*requested)[i];
        if (d == 0 && !*allow_zero) {
          if (i >= dims.size()) return fail(node, "shape entry 0 at axis " + std::to_string(i) + " copies a missing input axis", ErrorCode::invalid_value);
          d = dims[i];
        }
        if (d == -1) {
          if (infer >= 0) return fail(node, "shape has two -1 entries", ErrorCode::invalid_value);
          infer = static_cast<std::ptrdiff_t>(i);
        } else if (d < 0) {
          return fail(node, "shape entry " + std::to_string(d) + " is negative", ErrorCode::invalid_value);
        } else {
          known *= d;
        }
        out.push_back(d);
      }
      const std::int64_t total = product(dims);
      if (infer >= 0) {
        if (known == 0 || total % known != 0)
          return fail(node, "cannot infer -1 in " + dims_string(*requested) + " for " + dims_string(dims), ErrorCode::shape_mismatch);
        out[static_cast<std::size_t>(infer)] = total / known;
      }
      if (product(out) != total)
        return fail(node, "shape " + dims_string(out) + " does not hold the " + std::to_string(total) + " values of " + dims_string(dims),
                    ErrorCode::shape_mismatch);
    }
    if (dims.size() >= 1 && dims[0] < 0) {
      // A symbolic batch: Flatten(axis 1) and Reshape to [N, -1] keep it.
      if (out.empty() || out[0] != dims[0]) {
        if (!(node.op_type == "Flatten" && out.size() == 2)) return fail(node, "reshapes the symbolic batch axis");
      }
    }
    if (plan_.batch_axis && (out.empty() || dims.empty() || out[0] != dims[0]))
      return fail(node, "changes the batch axis (" + dims_string(dims) + " to " + dims_string(out) +
                            "); mote runs samples independently");
    const std::vector<std::int64_t> xs = sample(dims), ys = sample(out);
    settle_pending_quant(node);
    if (plan_.channels_first && ys.size() > 3)
      return fail(node, "output " + dims_string(out) + ": mote tensors have at most 3 dimensions per sample");
    std::size_t flat_channels = current_.flat_channels;
    const std::vector<std::size_t> mote_out = mote_shape(ys);
    if (plan_.channels_first && xs.size() >= 2 && current_.flat_channels == 0) {
      // A channels-first map: only flattening to one vector keeps a meaning in mote's layout.
      if (ys.size() != 1)
        return fail(node, "reshapes a channels-first map " + dims_string(dims) + " to " + dims_string(out) +
                              "; mote stores maps channels-last and imports only flattening them");
      if (xs[0] != 1 && product(xs, 1) != 1) flat_channels = static_cast<std::size_t>(xs[0]);
      PlannedLayer& layer = add_layer("Flatten", "mote::Flatten", node);
      layer.out_shape = mote_out;
    } else if (current_.flat_channels != 0 && ys.size() != 1) {
      return fail(node, "reshapes a flattened channels-first map; mote's order differs from ONNX's there");
    } else if (mote_out.size() == 1) {
      PlannedLayer& layer = add_layer("Flatten", "mote::Flatten", node);
      layer.out_shape = mote_out;
    } else {
      PlannedLayer& layer = add_layer("Reshape", "mote::Reshape<" + Plan::shape_list(mote_out) + ">", node);
      layer.out_shape = mote_out;
    }
    advance(node, out, flat_channels);
    return Status::ok();
  }

  Status finish() {
    if (pending_quant_) {
      plan_.notes.push_back("the Q -> DQ pair " + pending_quant_origin_ + " at the output is computed in float");
      pending_quant_.reset();
    }
    if (graph_.outputs.size() != 1)
      return make_error(ErrorCode::unsupported, plan_.source + ": mote networks have one output; the graph has " +
                                                    std::to_string(graph_.outputs.size()));
    if (graph_.outputs[0].name != current_.name)
      return make_error(ErrorCode::unsupported, plan_.source + ": the graph output '" + graph_.outputs[0].name +
                                                    "' is not the end of the chain ('" + current_.name + "')");
    if (plan_.layers.empty()) {
      // Only Identity/Dropout: a view keeps the network a network (mote needs one layer).
      const std::vector<std::size_t> shape = mote_shape(sample(current_.dims));
      PlannedLayer layer;
      layer.kind = "Reshape";
      layer.spec = "mote::Reshape<" + Plan::shape_list(shape) + ">";
      layer.origin = "the graph's identity";
      layer.out_shape = shape;
      plan_.layers.push_back(layer);
    }
    plan_.output_name = current_.name;
    plan_.output_dims = current_.dims;
    plan_.output_shape = plan_.layers.back().out_shape;
    plan_.output_flat_channels = current_.flat_channels;
    return Status::ok();
  }

  const Model& model_;
  const Graph& graph_;
  const PlanOptions& options_;
  Plan plan_;
  std::int64_t opset_ = 0;
  std::map<std::string, Constant> constants_;
  std::vector<bool> consumed_;
  Value current_;
  std::string last_output_;
  std::size_t weighted_seen_ = 0;
  std::optional<QuantParams> pending_quant_;
  bool pending_quant_uint8_ = true;
  std::string pending_quant_origin_;
};

}  // namespace detail

/// Lowers `model` to mote layers. Fails (ErrorCode::unsupported) listing every node whose op mote
/// does not import, or naming the first node it cannot map and why.
inline Expected<Plan> try_plan(const Model& model, const PlanOptions& options = {}) {
  return detail::Lowering(model, options).run();
}

}  // namespace mote::onnx
