#pragma once
// Loading an ONNX file into a network type: the file is lowered to mote layers (plan.hpp), the
// plan is checked against the type layer by layer (kind, weight shapes, output shapes), then the
// weights are bound in graph order, BatchNorms folded, and integer layers given the input
// quantisation of their Q -> DQ pairs. All or nothing: on any error the network is unchanged.
//
//   using Net = mote::Sequential<mote::Input<28, 28, 1>, mote::Flatten, mote::Dense<256>, mote::ReLU, ...>;
//   Net net;
//   if (mote::Status s = mote::onnx::try_load(net, "mlp.onnx"); !s) std::cerr << s.error().message;
//
// ONNX feature maps are channels-first, mote's channels-last: Layout (below) converts samples at
// the boundary when the plan says so (Plan::channels_first).

#include <cstddef>
#include <optional>
#include <type_traits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/io/file.hpp"
#include "mote/io/onnx_model.hpp"
#include "mote/model/sequential.hpp"
#include "mote/onnx/plan.hpp"

namespace mote::onnx {

/// How one sample moves between ONNX's layout and mote's: `channels` x `spatial` values stored
/// channels-first in ONNX and channels-last in mote (a sample is channels * spatial values).
/// channels == 1 or spatial == 1: the same order, a copy.
struct Layout {
  std::size_t channels = 1;
  std::size_t spatial = 1;
  bool identity() const noexcept { return channels == 1 || spatial == 1; }

  /// ONNX (C, spatial) samples to mote (spatial, C); `samples` of channels * spatial values.
  void to_mote(const float* onnx, float* mote, std::size_t samples = 1) const noexcept {
    transpose(onnx, mote, samples, channels, spatial);
  }
  /// mote (spatial, C) samples to ONNX (C, spatial).
  void to_onnx(const float* mote, float* onnx, std::size_t samples = 1) const noexcept {
    transpose(mote, onnx, samples, spatial, channels);
  }

 private:
  static void transpose(const float* in, float* out, std::size_t samples, std::size_t rows, std::size_t cols) noexcept {
    const std::size_t size = rows * cols;
    for (std::size_t n = 0; n < samples; ++n, in += size, out += size) {
      if (rows == 1 || cols == 1) {
        for (std::size_t i = 0; i < size; ++i) out[i] = in[i];
        continue;
      }
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) out[c * rows + r] = in[r * cols + c];
    }
  }
};

namespace detail {
inline std::size_t shape_size(const std::vector<std::size_t>& shape) {
  std::size_t size = 1;
  for (std::size_t d : shape) size *= d;
  return size;
}
}  // namespace detail

/// The layout of the plan's input samples.
inline Layout input_layout(const Plan& plan) {
  const Layout same{1, detail::shape_size(plan.input_shape)};
  if (!plan.channels_first) return same;
  const std::size_t first = plan.batch_axis ? 1 : 0;
  if (plan.input_dims.size() < first + 2) return same;
  std::size_t spatial = 1;
  for (std::size_t i = first + 1; i < plan.input_dims.size(); ++i) spatial *= static_cast<std::size_t>(plan.input_dims[i]);
  return {static_cast<std::size_t>(plan.input_dims[first]), spatial};
}

/// The layout of the plan's output samples.
inline Layout output_layout(const Plan& plan) {
  const std::size_t size = detail::shape_size(plan.output_shape);
  const Layout same{1, size};
  if (plan.output_flat_channels != 0) return {plan.output_flat_channels, size / plan.output_flat_channels};
  if (!plan.channels_first) return same;
  const std::size_t first = plan.batch_axis ? 1 : 0;
  if (plan.output_dims.size() < first + 2) return same;
  std::size_t spatial = 1;
  for (std::size_t i = first + 1; i < plan.output_dims.size(); ++i) spatial *= static_cast<std::size_t>(plan.output_dims[i]);
  return {static_cast<std::size_t>(plan.output_dims[first]), spatial};
}

namespace detail {

inline std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string text = "[";  // appended, not "[" + ...: GCC 12 warns falsely (-Wrestrict) on the latter
  text += Plan::shape_list(shape);
  return text += "]";
}

/// Whether a planned layer computes in integers (its weights are int8/int4).
inline bool integer_layer(const PlannedLayer& layer) {
  return layer.spec.find("Weights<mote::Int8") != std::string::npos ||
         layer.spec.find("Weights<mote::Int4") != std::string::npos;
}

/// Checks the plan against a network's layers: same kinds in the same order, same weight shapes,
/// same output shapes. Names the ONNX node(s), the mote layer, and both shapes on a mismatch.
inline Status check_plan(const Plan& plan, const std::vector<std::size_t>& input_shape,
                         const std::vector<LayerInfo>& layers) {
  const std::string& where = plan.source;
  if (input_shape != plan.input_shape)
    return make_error(ErrorCode::shape_mismatch,
                      where + ": input '" + plan.input_name + "' " + dims_string(plan.input_dims) + " is " +
                          shape_text(plan.input_shape) + " per sample in mote's layout, but the network's Input is " +
                          shape_text(input_shape));
  for (std::size_t i = 0; i < plan.layers.size() || i < layers.size(); ++i) {
    if (i >= layers.size())
      return make_error(ErrorCode::shape_mismatch, where + ": " + plan.layers[i].origin + " becomes " + plan.layers[i].spec +
                                                       ", but the network has only " + std::to_string(layers.size()) + " layers");
    if (i >= plan.layers.size())
      return make_error(ErrorCode::shape_mismatch, where + ": the network's layer " + layers[i].path + " (" +
                                                       layers[i].description + ") has no counterpart: the graph ends after " +
                                                       std::to_string(plan.layers.size()) + " layers");
    const PlannedLayer& planned = plan.layers[i];
    const LayerInfo& layer = layers[i];
    const std::string pair = planned.origin + " becomes " + planned.spec + ", but the network's layer " + layer.path + " is " +
                             layer.description;
    if (layer.kind() != planned.kind) return make_error(ErrorCode::shape_mismatch, where + ": " + pair);
    if (layer.params.size() != planned.params.size())
      return make_error(ErrorCode::shape_mismatch, where + ": " + pair + " (" + std::to_string(layer.params.size()) +
                                                       " weight tensors, the graph gives " + std::to_string(planned.params.size()) + ")");
    for (std::size_t p = 0; p < layer.params.size(); ++p) {
      const ParamSpec& spec = layer.params[p];
      const PlannedTensor& tensor = planned.params[p];
      std::vector<std::size_t> expected(spec.dims.begin(), spec.dims.begin() + static_cast<std::ptrdiff_t>(spec.rank));
      if (expected != tensor.shape)
        return make_error(ErrorCode::shape_mismatch, where + ": " + planned.origin + ": '" + tensor.name + "' from " +
                                                         tensor.source + " is " + tensor.shape_string() + ", but the network's layer " +
                                                         layer.path + " (" + layer.description + ") expects " +
                                                         spec.shape_string());
    }
    std::size_t planned_size = 1, layer_size = 1;
    for (std::size_t d : planned.out_shape) planned_size *= d;
    for (std::size_t d : layer.out_shape) layer_size *= d;
    if (planned.out_shape != layer.out_shape && !(planned_size == layer_size && layer.kind() == "GlobalAveragePool2D"))
      return make_error(ErrorCode::shape_mismatch, where + ": " + planned.origin + " outputs " + shape_text(planned.out_shape) +
                                                       " per sample, but the network's layer " + layer.path + " (" +
                                                       layer.description + ") outputs " + shape_text(layer.out_shape));
    if (layer.quantizes_input != integer_layer(planned))
      return make_error(ErrorCode::unsupported,
                        where + ": " + pair + (layer.quantizes_input ? " (an integer layer; the graph's is float)"
                                                                     : " (a float layer; the graph's is integer)"));
  }
  return Status::ok();
}

}  // namespace detail

/// Binds weights (in the network's load order) and the input quantisation of its integer layers
/// (one entry per integer layer, in order; nullopt: quantise each input by its own range) to
/// `net`. What the generator's embedded loader calls. On failure `net` is unchanged.
template <class Net>
Status try_load_tensors(Net& net, std::span<const TensorRef> tensors,
                        std::span<const std::optional<QuantParams>> quantization, const std::string& source) {
  Status status = Status::ok();
  net.for_each_quantizing_layer([&](std::size_t index, auto& layer) {
    using Format = typename std::remove_cvref_t<decltype(layer)>::activation_format;
    if (status && index < quantization.size() && quantization[index])
      status = validate_quant_params(*quantization[index], Format::min_code, Format::max_code,
                                     source + ": the input quantisation of the network's integer layer #" + std::to_string(index));
  });
  if (!status) return status;
  if (Status s = net.try_load(tensors, source, WeightNames::file_order()); !s) return s;
  net.for_each_quantizing_layer([&](std::size_t index, auto& layer) {
    if (index < quantization.size() && quantization[index]) (void)layer.set_input_quantization(*quantization[index]);
    else layer.clear_input_quantization();
  });
  net.link_integer_handover();
  return Status::ok();
}

/// Which ONNX node each listed layer must come from: {layer path, node name}, e.g.
/// {{"1", "/fc1/Gemm"}, {"3", "/fc2/Gemm"}}. Weights are bound in graph order; the map is a check
/// that the order is the one the caller means (a renamed or reordered export fails loudly).
using NodeNameMap = std::vector<std::pair<std::string, std::string>>;

namespace detail {
inline Status check_node_names(const Plan& plan, const std::vector<LayerInfo>& layers, const NodeNameMap& names) {
  for (const auto& [path, node] : names) {
    std::size_t index = layers.size();
    for (std::size_t i = 0; i < layers.size(); ++i)
      if (layers[i].path == path) index = i;
    if (index == layers.size() || index >= plan.layers.size())
      return make_error(ErrorCode::invalid_value,
                        plan.source + ": the node name map names layer '" + path + "', which the network does not have");
    const std::string& origin = plan.layers[index].origin;
    if (origin.find("'" + node + "'") == std::string::npos)
      return make_error(ErrorCode::shape_mismatch, plan.source + ": the network's layer " + path + " (" +
                                                       layers[index].description + ") comes from " + origin +
                                                       ", not from node '" + node + "' as the node name map says");
  }
  return Status::ok();
}
}  // namespace detail

/// Binds a lowered plan to `net` (see the file comment), checking `node_names` if given. On
/// failure `net` is unchanged.
template <class Net>
Status try_load(Net& net, const Plan& plan, const NodeNameMap& node_names = {}) {
  std::vector<std::size_t> input_shape;
  for (std::size_t d = 0; d < Net::input_shape::rank; ++d) input_shape.push_back(Net::input_shape::dims[d]);
  const std::vector<LayerInfo> layers = Net::layer_list();
  if (Status s = detail::check_plan(plan, input_shape, layers); !s) return s;
  if (Status s = detail::check_node_names(plan, layers, node_names); !s) return s;
  std::vector<TensorRef> refs;
  for (const PlannedLayer& layer : plan.layers)
    for (const PlannedTensor& tensor : layer.params) refs.push_back(TensorRef::f32(tensor.source, tensor.shape, tensor.values.data()));
  std::vector<std::optional<QuantParams>> quantization;
  for (const PlannedLayer& layer : plan.layers)
    if (detail::integer_layer(layer)) quantization.push_back(layer.input_quantization);
  return try_load_tensors(net, refs, quantization, plan.source);
}

/// Lowers `model` and binds it to `net`.
template <class Net>
Status try_load(Net& net, const Model& model, const PlanOptions& options = {}, const NodeNameMap& node_names = {}) {
  auto plan = try_plan(model, options);
  if (!plan) return plan.error();
  return try_load(net, *plan, node_names);
}

/// Reads an .onnx file and binds it to `net`.
template <class Net>
Status try_load(Net& net, const std::string& path, const PlanOptions& options = {}, const NodeNameMap& node_names = {}) {
  auto model = io::onnx::try_read_model_file(path);
  if (!model) return model.error();
  return try_load(net, *model, options, node_names);
}

#if MOTE_HAS_EXCEPTIONS
/// Throwing form of try_load (mote::Error).
template <class Net>
void load(Net& net, const std::string& path, const PlanOptions& options = {}, const NodeNameMap& node_names = {}) {
  throw_if_failed(try_load(net, path, options, node_names));
}
#endif

}  // namespace mote::onnx
