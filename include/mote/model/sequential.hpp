#pragma once
// The network type: an Input followed by layers, e.g.
//   using Net = mote::Sequential<mote::Input<28, 28, 1>,
//                                mote::Conv2D<16, mote::Kernel<3>, mote::Pad::same>, mote::ReLU,
//                                mote::MaxPool2D<2>, mote::Flatten, mote::Dense<10>>;
// The network owns its weights (heap, allocated once at construction). forward() allocates
// nothing: it runs in a caller-provided workspace of Net::workspace_bytes, so one const
// network can serve many threads, each with its own workspace.

#include <cassert>
#include <cctype>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mote/core/aligned.hpp"
#include "mote/core/error.hpp"
#include "mote/core/tensor.hpp"
#include "mote/io/npz.hpp"
#include "mote/model/chain.hpp"
#include "mote/model/weights.hpp"
#include "mote/numeric/calibration.hpp"

namespace mote {

/// The network's input: `Input<H, W, C>` (a feature map), `Input<L, C>` (a 1-D signal) or
/// `Input<N>` (a vector).
template <std::size_t... Dims>
struct Input {
  static_assert(sizeof...(Dims) >= 1 && sizeof...(Dims) <= 3,
                "Input<Dims...> takes 1 (N), 2 (L, C) or 3 (H, W, C) dimensions.");
  static_assert(((Dims > 0) && ...), "Input<Dims...>: every dimension must be at least 1.");
  using shape = Shape<Dims...>;
};

/// One top-level layer of a network, as importers check it (see Sequential::layer_list()).
struct LayerInfo {
  std::string path;                   ///< "3"
  std::string description;            ///< the layer's describe()
  std::vector<std::size_t> out_shape;  ///< its output shape (one sample)
  std::vector<ParamSpec> params;       ///< its weights, PyTorch-convention shapes
  bool quantizes_input = false;        ///< an integer layer (see Sequential::for_each_quantizing_layer)
  /// The first word of the description: "Dense", "Conv2D", "ReLU", ...
  std::string kind() const {
    std::size_t end = 0;
    while (end < description.size() && (std::isalnum(static_cast<unsigned char>(description[end])) || description[end] == '_')) ++end;
    return description.substr(0, end);
  }
};

/// One weight tensor a network expects (see Sequential::parameters()).
struct ParameterInfo {
  std::string name;   ///< "<layer path>.<param>", e.g. "3.weight"
  std::string layer;  ///< the layer's description
  ParamSpec spec;     ///< PyTorch-convention shape
};

namespace detail {
template <class T>
inline constexpr bool is_input_v = false;
template <std::size_t... Dims>
inline constexpr bool is_input_v<Input<Dims...>> = true;

/// Tensors of an archive as TensorRefs (views: the archive must outlive them).
inline std::vector<TensorRef> tensor_refs(const io::TensorArchive& archive) {
  std::vector<TensorRef> refs;
  for (const io::TensorData& tensor : archive) {
    std::string dtype = tensor.dtype == io::DType::f32 ? "float32" : io::to_string(tensor.dtype);
    if (tensor.dtype == io::DType::other) dtype = tensor.descr;
    refs.push_back(TensorRef{tensor.name, tensor.shape, tensor.bytes.data(), std::move(dtype)});
  }
  return refs;
}
}  // namespace detail

/// A feed-forward network: `InputSpec` is `Input<...>`, `Specs...` are layer specs.
template <class InputSpec, class... Specs>
class Sequential {
  static_assert(detail::is_input_v<InputSpec>,
                "Sequential<Input<Dims...>, Layers...>: the first argument must be Input<...>.");
  using chain_type = Chain<typename InputSpec::shape, LayerPath<>, Specs...>;

 public:
  using input_shape = typename InputSpec::shape;
  using output_shape = typename chain_type::out_shape;
  using InputTensor = Tensor<input_shape>;
  using OutputTensor = Tensor<output_shape>;
  static constexpr std::size_t layer_count = sizeof...(Specs);
  /// Bytes of scratch forward() needs, a compile-time constant (see model/chain.hpp).
  static constexpr std::size_t workspace_bytes = chain_type::workspace_bytes;

  /// Owning, 64-byte aligned workspace for forward() (and forward_batch() of up to
  /// `max_batch` samples). One per concurrent caller.
  class Workspace {
   public:
    explicit Workspace(std::size_t max_batch = 1)
        : bytes_(workspace_bytes * max_batch == 0 ? 1 : workspace_bytes * max_batch), max_batch_(max_batch) {}
    std::span<std::byte> bytes() noexcept { return {bytes_.data(), workspace_bytes * max_batch_}; }
    std::size_t max_batch() const noexcept { return max_batch_; }

   private:
    AlignedBuffer<std::byte> bytes_;
    std::size_t max_batch_;
  };

  /// Runs the network. Allocation-free, thread-safe on a const network with one workspace per
  /// thread. `in` and `out` must not overlap the workspace.
  void forward(TensorView<input_shape, const float> in, TensorView<output_shape, float> out,
               Workspace& workspace) const noexcept {
    chain_.forward(in.data(), out.data(), workspace.bytes().data());
  }
  /// The same on raw memory: `workspace` must be 64-byte aligned and hold workspace_bytes
  /// (e.g. `alignas(64) std::array<std::byte, Net::workspace_bytes>`).
  void forward(std::span<const float, input_shape::size> in, std::span<float, output_shape::size> out,
               std::span<std::byte> workspace) const noexcept {
    assert(workspace.size() >= workspace_bytes);
    assert(reinterpret_cast<std::uintptr_t>(workspace.data()) % buffer_alignment == 0);
    chain_.forward(in.data(), out.data(), workspace.data());
  }

  /// Runs `in.size() / input_shape::size` samples stored one after the other (Dense layers
  /// then run as one GEMM). The workspace must have been made for at least that many samples.
  void forward_batch(std::span<const float> in, std::span<float> out, Workspace& workspace) const noexcept {
    const std::size_t batch = in.size() / input_shape::size;
    assert(in.size() == batch * input_shape::size && out.size() == batch * output_shape::size);
    assert(batch <= workspace.max_batch());
    chain_.forward_batch(in.data(), out.data(), batch, workspace.bytes().data());
  }

  /// Whether forward_codes() applies: the first layer is an int8 Dense, Conv2D or
  /// DepthwiseConv2D with dense weights, which can take its input as codes.
  static constexpr bool takes_input_codes = chain_type::takes_input_codes;
  /// The quantisation of forward_codes()' input: code u in [low, high] stands for
  /// params.scale * (u - params.zero_point), as mote::quantize(x, params, low, high) makes it
  /// from a float. It is the first layer's input quantisation (from calibrate() or
  /// layer<0>().set_input_quantization(), in uint8 codes: signed activation formats are offset by
  /// 128); nullopt until one is set.
  std::optional<kernels::Int8InputQuant> input_codes_quantization() const noexcept {
    const kernels::Int8InputQuant* quant = chain_.input_codes_quantization();
    return quant != nullptr ? std::optional<kernels::Int8InputQuant>(*quant) : std::nullopt;
  }
  /// Runs the network on input codes instead of floats (a camera's uint8 pixels, a TFLite
  /// model's quantised input), skipping the first layer's quantisation: the same outputs as
  /// forward() on floats that quantise to these codes. Allocation-free when it succeeds. Fails,
  /// writing nothing, while the first layer has no input quantisation (input_codes_quantization()).
  Status forward_codes(std::span<const std::uint8_t, input_shape::size> in, std::span<float, output_shape::size> out,
                       Workspace& workspace) const {
    return forward_codes_batch(in, out, workspace);
  }
  /// forward_codes() on `in.size() / input_shape::size` samples stored one after the other; the
  /// workspace must have been made for at least that many.
  Status forward_codes_batch(std::span<const std::uint8_t> in, std::span<float> out, Workspace& workspace) const {
    const std::size_t batch = in.size() / input_shape::size;
    if (chain_.input_codes_quantization() == nullptr)
      return make_error(ErrorCode::invalid_value,
                        "forward_codes: layer 0 has no input quantisation for the codes to be in; call calibrate() "
                        "or layer<0>().set_input_quantization() first");
    if (in.size() != batch * input_shape::size || out.size() != batch * output_shape::size)
      return make_error(ErrorCode::shape_mismatch,
                        "forward_codes: " + std::to_string(in.size()) + " input codes and " +
                            std::to_string(out.size()) + " outputs are not whole samples of " +
                            std::to_string(input_shape::size) + " -> " + std::to_string(output_shape::size));
    if (batch > workspace.max_batch())
      return make_error(ErrorCode::shape_mismatch, "forward_codes: " + std::to_string(batch) +
                                                       " samples, but the workspace was made for " +
                                                       std::to_string(workspace.max_batch()));
    chain_.forward_codes_batch(in.data(), out.data(), batch, workspace.bytes().data());
    return Status::ok();
  }

  /// With the integer hand-over on, lets adjacent int8 layers pass codes instead of floats
  /// (model/chain.hpp, Chain::link_integer_handover). load(), calibrate() and
  /// set_integer_handover(true) do it; call it after setting weights or a layer's input
  /// quantisation directly (set_param, set_input_quantization): until then the layers changed
  /// hand floats over.
  void link_integer_handover() { chain_.link_integer_handover(); }
  /// Integer hand-over on (TFLite's integer semantics between int8 layers: requantised codes) or
  /// off, the default (every layer hands floats over and the next quantises them: ONNX's QDQ
  /// semantics, and the faster of the two on AVX2, docs/quantization.md).
  void set_integer_handover(bool enabled) { chain_.set_integer_handover(enabled); }
  /// Whether layer I (a position in the network) currently hands codes to the next layer.
  template <std::size_t I>
  bool hands_over_codes() const noexcept { return chain_.template hands_over_codes<I>(); }

  /// Number of layers that quantise their input (integer layers), which calibrate() sets.
  static constexpr std::size_t quantizing_layer_count = chain_type::quantizing_layer_count;

  /// Post-training calibration of the integer layers' input quantisation from `inputs`
  /// (samples stored one after the other). Layers are calibrated in order: the inputs of
  /// layer n are observed with layers 0..n-1 already quantised as they will run, so each range
  /// includes the error of the layers before it. `method`: min_max, percentile (clip at
  /// `percentile` of the observed values) or mse (the range minimising quantisation error).
  /// Allocates (histograms, one buffer); forward() stays allocation-free. On failure (no
  /// samples, a partial sample, NaN/inf in the data) the network is unchanged.
  Status try_calibrate(std::span<const float> inputs, CalibrationMethod method = CalibrationMethod::min_max,
                       double percentile = 99.99) {
    if (inputs.empty())
      return make_error(ErrorCode::invalid_value, "calibrate: the calibration set is empty");
    if (inputs.size() % input_shape::size != 0)
      return make_error(ErrorCode::shape_mismatch,
                        "calibrate: " + std::to_string(inputs.size()) + " values are not a whole number of samples of " +
                            std::to_string(input_shape::size));
    if constexpr (quantizing_layer_count == 0) {
      return Status::ok();
    } else {
      const std::size_t samples = inputs.size() / input_shape::size;
      std::vector<std::optional<QuantParams>> previous;
      chain_.for_each_quantizing_layer([&](std::size_t, auto& layer) {
        previous.push_back(layer.input_quantization());
        layer.clear_input_quantization();
      });
      auto restore = [&] {
        chain_.for_each_quantizing_layer([&](std::size_t index, auto& layer) {
          if (previous[index]) (void)layer.set_input_quantization(*previous[index]);
          else layer.clear_input_quantization();
        });
        chain_.link_integer_handover();
      };
      Workspace workspace;
      std::vector<float> output(output_shape::size);
      for (std::size_t target = 0; target < quantizing_layer_count; ++target) {
        RangeObserver observer;
        Status observed = Status::ok();
        std::size_t observed_size = 0;
        chain_.for_each_quantizing_layer([&](std::size_t index, auto& layer) {
          if (index == target) observed_size = std::remove_cvref_t<decltype(layer)>::in_shape::size;
        });
        for (std::size_t s = 0; s < samples && observed; ++s)
          chain_.forward_observed(inputs.data() + s * input_shape::size, output.data(), workspace.bytes().data(),
                                  [&](std::size_t index, const float* layer_input) {
                                    if (index == target && observed) {
                                      observed = observer.observe(layer_input, observed_size);
                                      if (!observed)
                                        observed = make_error(observed.error().code,
                                                              "calibrate: sample " + std::to_string(s) + ": " +
                                                                  observed.error().message);
                                    }
                                  });
        if (!observed) {
          restore();
          return observed;
        }
        Status set = Status::ok();
        chain_.for_each_quantizing_layer([&](std::size_t index, auto& layer) {
          if (index != target) return;
          using Format = typename std::remove_cvref_t<decltype(layer)>::activation_format;
          Expected<QuantParams> params =
              observer.compute_params(method, Format::min_code, Format::max_code, Format::symmetric, percentile);
          set = params ? layer.set_input_quantization(*params) : params.status();
        });
        if (!set) {
          restore();
          return set;
        }
      }
      // Observed inputs are floats (the observing forward hands floats over); the codes come now.
      chain_.link_integer_handover();
      return Status::ok();
    }
  }
#if MOTE_HAS_EXCEPTIONS
  /// try_calibrate, throwing mote::Error on failure.
  void calibrate(std::span<const float> inputs, CalibrationMethod method = CalibrationMethod::min_max,
                 double percentile = 99.99) {
    throw_if_failed(try_calibrate(inputs, method, percentile));
  }
#endif

  /// Sets every weight from `tensors`, named per `names`; folds BatchNorm layers. On failure
  /// the network is unchanged and the Status names the source, tensor, layer and shapes.
  Status try_load(std::span<const TensorRef> tensors, std::string_view source_name,
                  const WeightNames& names = WeightNames::file_order()) {
    std::vector<detail::LayerSlot> slots;
    detail::collect_slots(chain_, slots);
    Status status = detail::bind_tensors(slots, tensors, source_name, names);
    if (status) {
      chain_.fold_batch_norms();
      chain_.link_integer_handover();
    }
    return status;
  }
  /// Loads from a parsed .npz archive.
  Status try_load(const io::TensorArchive& archive, const WeightNames& names = WeightNames::file_order()) {
    const std::vector<TensorRef> refs = detail::tensor_refs(archive);
    return try_load(refs, archive.source, names);
  }
  /// Reads and loads an .npz file (numpy.savez / savez_compressed).
  Status try_load_npz(const std::string& path, const WeightNames& names = WeightNames::file_order()) {
    auto archive = io::try_read_npz(path);
    if (!archive) return archive.error();
    return try_load(*archive, names);
  }
#if MOTE_HAS_EXCEPTIONS
  /// Throwing forms of the loaders (mote::Error).
  void load(std::span<const TensorRef> tensors, std::string_view source_name,
            const WeightNames& names = WeightNames::file_order()) {
    throw_if_failed(try_load(tensors, source_name, names));
  }
  void load(const io::TensorArchive& archive, const WeightNames& names = WeightNames::file_order()) {
    throw_if_failed(try_load(archive, names));
  }
  void load_npz(const std::string& path, const WeightNames& names = WeightNames::file_order()) {
    throw_if_failed(try_load_npz(path, names));
  }
#endif

  /// Bytes of weights held in memory (after BatchNorm folding).
  std::size_t weight_bytes() const noexcept {
    std::size_t total = 0;
    add_weight_bytes(chain_, total);
    return total;
  }

  /// How dense weights are pruned when loaded into the sparse layers (Weights<F32, Sparse<...>>):
  /// sets `rule` on every one of them (Residual bodies included). The next load prunes with it;
  /// sparsity_report() then says what it achieved. Returns the first invalid rule's error.
  Status set_pruning(const Pruning& rule) {
    Status status = Status::ok();
    set_pruning_in(chain_, rule, status);
    return status;
  }
  /// One line per sparse layer: position, description, non-zero weights, sparsity and bytes.
  std::string sparsity_report() const {
    std::string text;
    report_sparsity(chain_, text);
    return text;
  }

  /// One line per layer: position, description, output shape. Recurses into Residual bodies.
  static std::string summary() {
    std::string text = "Input " + input_shape::to_string() + "\n";
    describe_chain<chain_type>(text, "  ");
    text += "workspace: " + std::to_string(workspace_bytes) + " bytes\n";
    return text;
  }

  /// Every weight tensor the network expects, in load order, named "<layer path>.<param>"
  /// (the WeightNames::layer_index() names) with PyTorch-convention shapes.
  static std::vector<ParameterInfo> parameters() {
    std::vector<ParameterInfo> list;
    list_parameters<chain_type>(list, std::make_index_sequence<chain_type::layer_count>{});
    return list;
  }

  /// The top-level layers in order (a Residual is one entry), for importers that check a file
  /// against this type.
  static std::vector<LayerInfo> layer_list() {
    std::vector<LayerInfo> list;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (list.push_back(layer_info<std::tuple_element_t<I, typename chain_type::layers_type>>()), ...);
    }(std::make_index_sequence<chain_type::layer_count>{});
    return list;
  }

  /// Calls f(index, layer) for each layer that quantises its input (integer layers), in order:
  /// how an importer sets their input quantisation (layer.set_input_quantization).
  template <class F>
  void for_each_quantizing_layer(F&& f) {
    chain_.for_each_quantizing_layer(f);
  }

  /// The layer at position I (for inspection and tests).
  template <std::size_t I>
  auto& layer() noexcept { return chain_.template layer<I>(); }
  template <std::size_t I>
  const auto& layer() const noexcept { return chain_.template layer<I>(); }

 private:
  template <class L>
  static LayerInfo layer_info() {
    LayerInfo info;
    info.path = L::path::to_string();
    info.description = L::describe();
    for (std::size_t d = 0; d < L::out_shape::rank; ++d) info.out_shape.push_back(L::out_shape::dims[d]);
    if constexpr (WeightedLayer<L>)
      for (std::size_t p = 0; p < L::param_count; ++p) info.params.push_back(L::param_spec(p));
    info.quantizes_input = detail::quantizes_input_v<L>;
    return info;
  }
  template <class ChainT, std::size_t... I>
  static void list_parameters(std::vector<ParameterInfo>& list, std::index_sequence<I...>) {
    (list_layer_parameters<std::tuple_element_t<I, typename ChainT::layers_type>>(list), ...);
  }
  template <class L>
  static void list_layer_parameters(std::vector<ParameterInfo>& list) {
    if constexpr (WeightedLayer<L>)
      for (std::size_t p = 0; p < L::param_count; ++p)
        list.push_back(ParameterInfo{L::path::to_string() + "." + L::param_spec(p).name, L::describe(), L::param_spec(p)});
    if constexpr (requires { typename L::body_type; })
      list_parameters<typename L::body_type>(list, std::make_index_sequence<L::body_type::layer_count>{});
  }
  template <class ChainT>
  static void set_pruning_in(ChainT& chain, const Pruning& rule, Status& status) {
    chain.for_each_layer([&](auto& layer) {
      if constexpr (requires { layer.set_pruning(rule); }) {
        Status result = layer.set_pruning(rule);
        if (status && !result) status = result;
      }
      if constexpr (requires { layer.body(); }) set_pruning_in(layer.body(), rule, status);
    });
  }
  template <class ChainT>
  static void report_sparsity(const ChainT& chain, std::string& text) {
    chain.for_each_layer([&](const auto& layer) {
      using L = std::remove_cvref_t<decltype(layer)>;
      if constexpr (requires { layer.pruning(); }) {
        const auto& matrix = layer.weights().matrix();
        char line[160];
        std::snprintf(line, sizeof line, ": %zu of %zu weights non-zero (%.2f%% zeros), %zu bytes\n", matrix.nonzeros(),
                      matrix.rows() * matrix.cols(), 100.0 * matrix.sparsity(), layer.weight_bytes());
        text += L::path::to_string() + " " + L::describe() + line;
      }
      if constexpr (requires { layer.body(); }) report_sparsity(layer.body(), text);
    });
  }
  template <class ChainT>
  static void add_weight_bytes(const ChainT& chain, std::size_t& total) {
    chain.for_each_layer([&](const auto& layer) {
      if constexpr (requires { layer.weight_bytes(); }) total += layer.weight_bytes();
      if constexpr (requires { layer.body(); }) add_weight_bytes(layer.body(), total);
    });
  }
  template <class ChainT>
  static void describe_chain(std::string& text, const std::string& indent) {
    describe_layers<ChainT>(text, indent, std::make_index_sequence<ChainT::layer_count>{});
  }
  template <class ChainT, std::size_t... I>
  static void describe_layers(std::string& text, const std::string& indent, std::index_sequence<I...>) {
    (describe_layer<std::tuple_element_t<I, typename ChainT::layers_type>>(text, indent), ...);
  }
  template <class L>
  static void describe_layer(std::string& text, const std::string& indent) {
    text += indent + L::path::to_string() + ": " + L::describe() + " -> " + L::out_shape::to_string() + "\n";
    if constexpr (requires { typename L::body_type; }) describe_chain<typename L::body_type>(text, indent + "  ");
  }

  chain_type chain_;
};

}  // namespace mote
