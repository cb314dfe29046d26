#pragma once
// Binding named tensors (from an .npz file or from memory) to the weighted layers of a
// network. Loading is all-or-nothing: every tensor is found and checked (name, dtype, shape)
// before any layer is changed, so a failed load leaves the network as it was.

#include <cstddef>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/layers/layer.hpp"

namespace mote {

/// A tensor handed to a loader: a name, a shape and little-endian element bytes. `dtype` is
/// numpy's name for the element type ("float32", "int64", ...); only float32 is accepted by
/// f32 layers.
struct TensorRef {
  std::string name;
  std::vector<std::size_t> shape;
  const void* data = nullptr;
  std::string dtype = "float32";

  /// A float32 tensor in memory, e.g. weights embedded in the binary as a constexpr array.
  static TensorRef f32(std::string name, std::vector<std::size_t> shape, const float* data) {
    return TensorRef{std::move(name), std::move(shape), data, "float32"};
  }
  std::size_t numel() const noexcept {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }
  std::string shape_string() const {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
  }
};

/// How tensor names map to layers.
class WeightNames {
 public:
  enum class Mode { file_order, layer_index, prefixes };

  /// Weighted layers take tensors in the order they appear in the source, each layer its
  /// parameters in declaration order (weight, bias; BatchNorm: weight, bias, running_mean,
  /// running_var). Names are ignored. This is the default.
  static WeightNames file_order() { return WeightNames(Mode::file_order, {}); }
  /// "<layer path>.<param>", e.g. "1.weight" for the layer at position 1: the state_dict names
  /// of a PyTorch nn.Sequential written layer for layer like the mote network.
  static WeightNames layer_index() { return WeightNames(Mode::layer_index, {}); }
  /// An explicit map from layer path ("1", or "3.0" inside a Residual) to a state_dict prefix
  /// ("fc1"): the layer's tensors are "<prefix>.<param>". Every weighted layer must be mapped.
  static WeightNames prefixes(std::vector<std::pair<std::string, std::string>> path_to_prefix) {
    return WeightNames(Mode::prefixes, std::move(path_to_prefix));
  }

  Mode mode() const noexcept { return mode_; }
  const std::vector<std::pair<std::string, std::string>>& map() const noexcept { return map_; }

 private:
  WeightNames(Mode mode, std::vector<std::pair<std::string, std::string>> map)
      : mode_(mode), map_(std::move(map)) {}
  Mode mode_;
  std::vector<std::pair<std::string, std::string>> map_;
};

namespace detail {

/// A weighted layer seen by the (non-template) loader.
struct LayerSlot {
  std::string path;
  std::string description;
  std::vector<ParamSpec> params;
  std::function<void(std::size_t, const float*)> set;
  /// Whether `set` would accept the values (sparse layouts: the pattern); empty when always.
  std::function<Status(std::size_t, const float*)> check;
};

inline std::string layer_label(const LayerSlot& slot) {
  return "layer " + slot.path + " (" + slot.description + ")";
}

inline Status bind_tensors(const std::vector<LayerSlot>& slots, std::span<const TensorRef> tensors,
                           std::string_view source, const WeightNames& names) {
  const std::string where = "in '" + std::string(source) + "'";
  std::vector<bool> used(tensors.size(), false);
  struct Assignment {
    std::size_t slot, param, tensor;
  };
  std::vector<Assignment> plan;

  auto find_tensor = [&](const std::string& name) -> std::size_t {
    for (std::size_t t = 0; t < tensors.size(); ++t)
      if (tensors[t].name == name) return t;
    return tensors.size();
  };
  if (names.mode() == WeightNames::Mode::prefixes) {
    for (const auto& [path, prefix] : names.map()) {
      bool known = false;
      for (const auto& slot : slots) known = known || slot.path == path;
      if (!known)
        return make_error(ErrorCode::invalid_value,
                          "the weight name map names layer '" + path + "' (prefix '" + prefix +
                              "'), but the network has no weighted layer at that position");
    }
  }

  std::size_t next_in_order = 0;
  for (std::size_t s = 0; s < slots.size(); ++s) {
    const LayerSlot& slot = slots[s];
    std::string prefix = slot.path;
    if (names.mode() == WeightNames::Mode::prefixes) {
      bool mapped = false;
      for (const auto& [path, mapped_prefix] : names.map())
        if (path == slot.path) prefix = mapped_prefix, mapped = true;
      if (!mapped)
        return make_error(ErrorCode::missing_tensor,
                          where + ": " + layer_label(slot) + " has no entry in the weight name map");
    }
    for (std::size_t p = 0; p < slot.params.size(); ++p) {
      const ParamSpec& spec = slot.params[p];
      std::size_t t = 0;
      std::string wanted;
      if (names.mode() == WeightNames::Mode::file_order) {
        t = next_in_order++;
        wanted = "tensor #" + std::to_string(t);
        if (t >= tensors.size())
          return make_error(ErrorCode::missing_tensor,
                            where + ": " + layer_label(slot) + " needs its '" + spec.name +
                                "' float32 " + spec.shape_string() + " as tensor #" +
                                std::to_string(t) + ", but the source holds only " +
                                std::to_string(tensors.size()) + " tensors");
      } else {
        wanted = prefix + "." + spec.name;
        t = find_tensor(wanted);
        if (t == tensors.size())
          return make_error(ErrorCode::missing_tensor,
                            where + ": tensor '" + wanted + "' for " + layer_label(slot) +
                                " (float32 " + spec.shape_string() + ") is not in the source");
      }
      const TensorRef& tensor = tensors[t];
      const std::string label = "tensor '" + tensor.name + "' for " + layer_label(slot) + ", parameter '" + spec.name + "'";
      if (tensor.dtype != "float32")
        return make_error(ErrorCode::unsupported,
                          where + ": " + label + " has dtype " + tensor.dtype +
                              "; f32 layers need float32 (convert with .astype(np.float32))");
      bool same_shape = tensor.shape.size() == spec.rank;
      for (std::size_t d = 0; same_shape && d < spec.rank; ++d) same_shape = tensor.shape[d] == spec.dims[d];
      if (!same_shape)
        return make_error(ErrorCode::shape_mismatch, where + ": " + label + ": expected " +
                                                         spec.shape_string() + ", found " +
                                                         tensor.shape_string());
      if (tensor.data == nullptr && spec.size() != 0)
        return make_error(ErrorCode::invalid_value, where + ": " + label + " has no data");
      used[t] = true;
      plan.push_back({s, p, t});
    }
  }
  for (std::size_t t = 0; t < tensors.size(); ++t)
    if (!used[t])
      return make_error(ErrorCode::extra_tensor,
                        where + ": tensor '" + tensors[t].name + "' " + tensors[t].shape_string() +
                            " is not used by any layer (" +
                            (names.mode() == WeightNames::Mode::file_order
                                 ? std::string("the source has more tensors than the network's "
                                               "layers take in order")
                                 : std::string("no layer is named so")) +
                            ")");

  std::vector<float> values;  // the source bytes may be unaligned for float
  for (const Assignment& a : plan) {  // everything checked before anything changes
    if (!slots[a.slot].check) continue;
    const TensorRef& tensor = tensors[a.tensor];
    values.resize(tensor.numel());
    if (!values.empty()) std::memcpy(values.data(), tensor.data, values.size() * sizeof(float));
    Status status = slots[a.slot].check(a.param, values.data());
    if (!status)
      return make_error(status.error().code, where + ": tensor '" + tensor.name + "': " + status.error().message);
  }
  for (const Assignment& a : plan) {
    const TensorRef& tensor = tensors[a.tensor];
    values.resize(tensor.numel());
    if (!values.empty()) std::memcpy(values.data(), tensor.data, values.size() * sizeof(float));
    slots[a.slot].set(a.param, values.data());
  }
  return Status::ok();
}

/// Collects the weighted layers of a chain, recursing into Residual bodies.
template <class ChainT>
void collect_slots(ChainT& chain, std::vector<LayerSlot>& slots) {
  chain.for_each_layer([&](auto& layer) {
    using L = std::remove_reference_t<decltype(layer)>;
    if constexpr (WeightedLayer<L>) {
      LayerSlot slot;
      slot.path = L::path::to_string();
      slot.description = L::describe();
      for (std::size_t p = 0; p < L::param_count; ++p) slot.params.push_back(L::param_spec(p));
      slot.set = [&layer](std::size_t index, const float* values) { layer.set_param(index, values); };
      if constexpr (requires { layer.check_param(std::size_t{}, static_cast<const float*>(nullptr)); })
        slot.check = [&layer](std::size_t index, const float* values) { return layer.check_param(index, values); };
      slots.push_back(std::move(slot));
    }
    if constexpr (requires { layer.body(); }) collect_slots(layer.body(), slots);
  });
}

}  // namespace detail

}  // namespace mote
