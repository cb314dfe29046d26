// mote with sparse f32 weights (Weights<F32, Sparse<Pattern>>, layout/sparse.hpp), the workloads'
// weights pruned to each pattern:
//   W3b1/f32-nm24/mote, W3b1/f32-nm14/mote        N:M 2:4 and 1:4 (the 2 / 1 largest |w| of 4)
//   W3b1/f32-s<NN>/mote                           unstructured, NN% of weights pruned by magnitude
//                                                 (NN = 10, 20, ..., 90, 95, 98 and 75)
//   W3b1/f32-b<NN>-<R>x<C>/mote                   Block<R, C>, NN% of the blocks pruned by L2 norm
//                                                 (75% for 8x1 16x1 4x1 1x4 4x4 8x4; the NN sweep
//                                                 for 16x1 and 8x1)
//   W3b1/f32-dense-pruned90/mote                  the dense f32 layer holding the 90%-pruned weights
//   W1/f32-s90/mote                               the MLP, each layer unstructured 90%
//   W1/f32-s90ft/mote                             the fine-tuned Fashion-MNIST MLP at 90%
//                                                 (examples/fashion_mnist/weights/sparse/mlp_u90.npz)
//   W3b1/int8-b<NN>-<R>x<C>/mote                  int8 Block<R, C>, against W3b1/int8/mote
//   W3b64/f32-{s75,s90,nm24,b75-16x1,b75-8x4}/mote the batch of 64 (forward_batch: the sparse GEMM)
//   W5/f32-{s75,s90,nm24,b75-8x1}/mote             the pointwise Conv2D sparse (its depthwise layer
//                                                 stays dense: mote's depthwise takes no sparse
//                                                 weights), one image of 56 x 56 pixels
// The dense f32 cases to compare with are W3b1/f32/mote, W3b64/f32/mote, W5/f32/mote and
// W1/f32/mote (main.cpp, mote.cpp).
// Time the sweep against them in the same run; tools/plot_sparsity.py draws the crossover.
//
// Each case's weights are pruned here with mote::prune (per layer), and the sparse network is
// loaded with the *unpruned* weights and the matching Pruning rule (set_pruning), as a user
// would. Checked before timing: the sparse layers must hold exactly the matrix pruned here, and
// the network must compute what the dense f32 network computes with that pruned matrix, within
// 1e-4 of the output's magnitude (the dense-pruned case: what a double-precision loop computes).
// Counters: weight_bytes (what the network holds: values, indices, biases) and sparsity (the
// fraction of zero weights achieved, over all weighted layers).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mote/mote.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "harness.hpp"

namespace mote_bench {
namespace {

template <class Layout>
using W1SparseNet =
    mote::Sequential<mote::Input<784>, mote::Dense<256, mote::Weights<mote::F32, Layout>>, mote::ReLU,
                     mote::Dense<128, mote::Weights<mote::F32, Layout>>, mote::ReLU,
                     mote::Dense<10, mote::Weights<mote::F32, Layout>>>;
template <class Layout>
using W3SparseNet = mote::Sequential<mote::Input<1024>, mote::Dense<1024, mote::Weights<mote::F32, Layout>>>;
template <class Layout>
using W5SparseNet = mote::Sequential<mote::Input<56, 56, 32>, mote::DepthwiseConv2D<mote::Kernel<3>, mote::Pad::same>,
                                     mote::ReLU6, mote::Conv2D<64, mote::Kernel<1>, mote::Weights<mote::F32, Layout>>,
                                     mote::ReLU6>;

[[noreturn]] void fail(const std::string& case_name, const std::string& why) {
  std::fprintf(stderr, "mote_bench: %s: %s. Aborting.\n", case_name.c_str(), why.c_str());
  std::exit(EXIT_FAILURE);
}

/// Prunes one row-major rows x cols weight matrix in place.
using PruneFn = std::function<void(std::span<float>, std::size_t rows, std::size_t cols)>;

/// The workload's weights, each matrix pruned by `prune`, one row per output channel. W5's
/// depthwise layer (its layer 0) stays dense: mote's DepthwiseConv2D takes no sparse weights. (Its
/// shape alone, [C, 1, kh, kw], would not tell it from a convolution of one input channel.)
std::vector<std::vector<float>> pruned_weights(const Workload& w, const PruneFn& prune) {
  std::vector<std::vector<float>> storage;
  storage.reserve(w.layers.size());
  for (const WeightedLayer& layer : w.layers) {
    storage.push_back(layer.weight.values);
    const bool depthwise = w.id == WorkloadId::W5 && layer.index == 0;
    if (prune && !depthwise) {
      const std::size_t rows = layer.weight.shape[0];
      prune(storage.back(), rows, layer.weight.values.size() / rows);
    }
  }
  return storage;
}

/// The workload's tensors under their nn.Sequential names, weights from `weights` (or the
/// workload's own when null).
std::vector<mote::TensorRef> refs_of(const Workload& w, const std::vector<std::vector<float>>* weights) {
  std::vector<mote::TensorRef> refs;
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const WeightedLayer& layer = w.layers[i];
    const std::string prefix = std::to_string(layer.index);
    const float* values = weights ? (*weights)[i].data() : layer.weight.values.data();
    refs.push_back(mote::TensorRef::f32(prefix + ".weight", layer.weight.shape, values));
    refs.push_back(mote::TensorRef::f32(prefix + ".bias", layer.bias.shape, layer.bias.values.data()));
  }
  return refs;
}

/// The workload's network (Dense layers, ReLU between them) in double precision, with `weights`.
std::vector<float> naive_forward(const Workload& w, const std::vector<std::vector<float>>& weights) {
  std::vector<double> x(w.input.begin(), w.input.end());
  for (std::size_t l = 0; l < w.layers.size(); ++l) {
    const std::size_t rows = w.layers[l].weight.shape[0], cols = w.layers[l].weight.shape[1];
    std::vector<double> y(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      double sum = w.layers[l].bias.values[r];
      for (std::size_t c = 0; c < cols; ++c) sum += static_cast<double>(weights[l][r * cols + c]) * x[c];
      y[r] = l + 1 < w.layers.size() ? std::max(sum, 0.0) : sum;
    }
    x = std::move(y);
  }
  return std::vector<float>(x.begin(), x.end());
}

/// `Net` on the workload (a batch: forward_batch); `Weighted...` are the positions of its
/// weighted layers (the workload's layer indices). With a rule, the sparse layers prune the
/// weights as they load.
template <class Net, std::size_t... Weighted>
class SparseRunner final : public Runner {
 public:
  SparseRunner(const Workload& w, std::span<const mote::TensorRef> refs, const std::optional<mote::Pruning>& rule,
               const std::string& case_name)
      : net_(std::make_unique<Net>()),
        batch_(w.batch),
        input_(w.input.size()),
        output_(w.batch * Net::output_shape::size),
        workspace_(w.batch) {
    if (w.input.size() != w.batch * Net::input_shape::size || w.output_size != Net::output_shape::size ||
        sizeof...(Weighted) != w.layers.size())
      throw std::logic_error(w.name + ": the mote network's shapes do not match the workload");
    if (rule) {
      const mote::Status status = net_->set_pruning(*rule);
      if (!status) fail(case_name, "set_pruning: " + status.message());
    }
    const mote::Status status = net_->try_load(refs, "random", mote::WeightNames::layer_index());
    if (!status) fail(case_name, "try_load: " + status.message());
    std::memcpy(input_.data(), w.input.data(), w.input.size() * sizeof(float));
  }
  void run() override {
    if (batch_ == 1)
      net_->forward(mote::TensorView<typename Net::input_shape, const float>(input_.data()),
                    mote::TensorView<typename Net::output_shape, float>(output_.data()), workspace_);
    else
      net_->forward_batch(input_.span(), output_.span(), workspace_);
  }
  std::span<const float> output() const override { return output_.span(); }
  std::size_t weight_bytes() const { return net_->weight_bytes(); }
  std::string sparsity_report() const { return net_->sparsity_report(); }

  /// Non-zero weights held, over all weighted layers (sparse layouts: as the storage counts them).
  std::size_t nonzeros(const std::vector<std::vector<float>>& loaded) const {
    std::size_t count = 0, i = 0;
    (count_layer(net_->template layer<Weighted>(), loaded[i++], count), ...);
    return count;
  }
  /// Checks that every sparse layer holds exactly `expected` (the matrices pruned outside).
  void check_holds(const std::vector<std::vector<float>>& expected, const std::string& case_name) const {
    std::size_t i = 0;
    (check_layer(net_->template layer<Weighted>(), expected[i++], case_name), ...);
  }

 private:
  template <class Layer>
  static void count_layer(const Layer& layer, const std::vector<float>& loaded, std::size_t& count) {
    const auto& matrix = layer.weights().matrix();
    if constexpr (requires { matrix.nonzeros(); }) count += matrix.nonzeros();
    else
      for (float v : loaded) count += v != 0.0f;
  }
  template <class Layer>
  static void check_layer(const Layer& layer, const std::vector<float>& expected, const std::string& case_name) {
    const auto& matrix = layer.weights().matrix();
    if constexpr (requires { matrix.to_dense(); }) {
      const std::vector<float> held = matrix.to_dense();
      if (held.size() != expected.size()) fail(case_name, "a sparse layer holds a matrix of another size");
      for (std::size_t k = 0; k < held.size(); ++k)
        if (held[k] != expected[k])
          fail(case_name, "the sparse layer " + Layer::describe() + " holds " + std::to_string(held[k]) +
                              " at weight " + std::to_string(k) + " where mote::prune left " +
                              std::to_string(expected[k]) + " (set_pruning's rule and mote::prune disagree)");
    }
  }

  std::unique_ptr<Net> net_;
  std::size_t batch_;
  mote::AlignedBuffer<float> input_;
  mote::AlignedBuffer<float> output_;
  typename Net::Workspace workspace_;
};

/// Registers `name`: `Layout` layers loaded with the workload's weights and `rule` (none: the
/// weights pruned by `prune` are loaded as they are), checked against the dense f32 network
/// (`DenseNet`) holding the weights `prune` leaves.
template <template <class> class NetOf, class Layout, std::size_t... Weighted>
void register_sparse_case(WorkloadId id, const std::string& variant, PruneFn prune,
                          std::optional<mote::Pruning> rule) {
  const std::string name = workload(id).name + "/f32-" + variant + "/mote";
  using Net = SparseRunner<NetOf<Layout>, Weighted...>;
  using DenseNet = SparseRunner<NetOf<mote::DenseStorage>, Weighted...>;
  struct State {
    std::unique_ptr<Net> runner;
    double sparsity = 0;
    std::size_t bytes = 0;
  };
  auto shared = std::make_shared<State>();
  benchmark::RegisterBenchmark(name.c_str(), [shared, id, name, prune, rule](benchmark::State& state) {
    const Workload& w = workload(id);
    State& s = *shared;
    if (!s.runner) {  // built on the first call, so a filter skips the setup of excluded cases
      const std::vector<std::vector<float>> pruned = pruned_weights(w, prune);
      // With a rule the network prunes the workload's own weights; without, it gets them pruned.
      const std::vector<mote::TensorRef> refs = refs_of(w, rule ? nullptr : &pruned);
      s.runner = std::make_unique<Net>(w, refs, rule, name);
      s.runner->check_holds(pruned, name);
      s.runner->run();
      std::vector<float> expected;
      if constexpr (std::is_same_v<Layout, mote::DenseStorage>) {
        expected = naive_forward(w, pruned);
      } else {
        DenseNet reference(w, refs_of(w, &pruned), std::nullopt, name);
        reference.run();
        expected.assign(reference.output().begin(), reference.output().end());
      }
      const double error = relative_error(s.runner->output(), expected);
      if (!(error <= 1e-4))
        fail(name, "does not compute what the dense f32 network computes with the same pruned weights (max "
                   "|difference| " + std::to_string(error) + " of max |output|, above 1e-4)");
      std::size_t total = 0;
      for (const WeightedLayer& layer : w.layers) total += layer.weight.values.size();
      s.sparsity = 1.0 - static_cast<double>(s.runner->nonzeros(pruned)) / static_cast<double>(total);
      s.bytes = s.runner->weight_bytes();
    }
    Net& r = *s.runner;
    for (auto _ : state) {
      r.run();
      benchmark::ClobberMemory();
    }
    state.counters["weight_bytes"] =
        benchmark::Counter(static_cast<double>(s.bytes), benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
    state.counters["sparsity"] = s.sparsity;
  });
}

/// "<prefix><nn><suffix>" (snprintf: GCC 12's -Wrestrict misfires on "literal" + std::string).
std::string tag(const char* prefix, int nn, const char* suffix = "") {
  char text[64];
  std::snprintf(text, sizeof text, "%s%d%s", prefix, nn, suffix);
  return text;
}

PruneFn unstructured(double fraction) {
  return [fraction](std::span<float> m, std::size_t rows, std::size_t cols) {
    mote::prune::magnitude(m, rows, cols, fraction);
  };
}
PruneFn blocks(std::size_t r, std::size_t c, double fraction) {
  return [r, c, fraction](std::span<float> m, std::size_t rows, std::size_t cols) {
    mote::prune::blocks(m, rows, cols, r, c, fraction);
  };
}
PruneFn n_of_m(std::size_t n, std::size_t m_) {
  return [n, m_](std::span<float> m, std::size_t rows, std::size_t cols) { mote::prune::n_of_m(m, rows, cols, n, m_); };
}

template <std::size_t R, std::size_t C>
void register_block(int nn) {
  const double f = nn / 100.0;
  register_sparse_case<W3SparseNet, mote::Sparse<mote::Block<R, C>>, 0>(
      WorkloadId::W3b1, tag("b", nn, (tag("-", static_cast<int>(R)) + tag("x", static_cast<int>(C))).c_str()),
      blocks(R, C, f), mote::Pruning::to_sparsity(f));
}

// ---- int8 (Weights<Int8<>, Sparse<Block<R, C>>>) against W3b1/int8/mote (mote_int8.cpp) -------------

template <class Layout>
using W3Int8SparseNet = mote::Sequential<mote::Input<1024>, mote::Dense<1024, mote::Weights<mote::Int8<>, Layout>>>;

/// `Net` on W3b1, int8, calibrated on the workload's input as mote_int8.cpp does.
template <class Net>
class Int8SparseRunner final : public Runner {
 public:
  Int8SparseRunner(const Workload& w, std::span<const mote::TensorRef> refs, const std::optional<mote::Pruning>& rule,
                   const std::string& case_name)
      : net_(std::make_unique<Net>()), input_(w.input.size()), output_(Net::output_shape::size) {
    if constexpr (requires { net_->set_pruning(mote::Pruning{}); })
      if (rule && !net_->set_pruning(*rule).is_ok()) fail(case_name, "the pruning rule was refused");
    const mote::Status status = net_->try_load(refs, "workload", mote::WeightNames::layer_index());
    if (!status) fail(case_name, status.message());
    net_->calibrate(w.input, mote::CalibrationMethod::min_max);
    std::memcpy(input_.data(), w.input.data(), w.input.size() * sizeof(float));
  }
  void run() override {
    net_->forward(mote::TensorView<typename Net::input_shape, const float>(input_.data()),
                  mote::TensorView<typename Net::output_shape, float>(output_.data()), workspace_);
  }
  std::span<const float> output() const override { return output_.span(); }
  std::size_t weight_bytes() const { return net_->weight_bytes(); }
  double sparsity() const {
    if constexpr (requires { net_->template layer<0>().weights().matrix().sparsity(); })
      return net_->template layer<0>().weights().matrix().sparsity();
    else
      return 0.0;
  }

 private:
  std::unique_ptr<Net> net_;
  mote::AlignedBuffer<float> input_;
  mote::AlignedBuffer<float> output_;
  typename Net::Workspace workspace_;
};

/// W3b1/int8-b<NN>-<R>x<C>/mote: NN% of the R x C blocks pruned as the weights load; checked
/// bit for bit against the dense int8 network holding the same pruned weights.
template <std::size_t R, std::size_t C>
void register_int8_block(int nn) {
  const double fraction = nn / 100.0;
  const std::string name = "W3b1/int8-" + tag("b", nn, (tag("-", static_cast<int>(R)) + tag("x", static_cast<int>(C))).c_str()) + "/mote";
  using Net = Int8SparseRunner<W3Int8SparseNet<mote::Sparse<mote::Block<R, C>>>>;
  using DenseNet = Int8SparseRunner<W3Int8SparseNet<mote::DenseStorage>>;
  auto shared = std::make_shared<std::unique_ptr<Net>>();
  benchmark::RegisterBenchmark(name.c_str(), [shared, name, fraction](benchmark::State& state) {
    const Workload& w = workload(WorkloadId::W3b1);
    if (!*shared) {
      *shared = std::make_unique<Net>(w, refs_of(w, nullptr), mote::Pruning::to_sparsity(fraction), name);
      const std::vector<std::vector<float>> pruned = pruned_weights(w, blocks(R, C, fraction));
      DenseNet reference(w, refs_of(w, &pruned), std::nullopt, name);
      (*shared)->run();
      reference.run();
      if (std::memcmp((*shared)->output().data(), reference.output().data(), reference.output().size_bytes()) != 0)
        fail(name, "differs from the dense int8 network holding the same pruned weights (must be bit-identical)");
    }
    Net& r = **shared;
    for (auto _ : state) {
      r.run();
      benchmark::ClobberMemory();
    }
    state.counters["weight_bytes"] = benchmark::Counter(static_cast<double>(r.weight_bytes()), benchmark::Counter::kDefaults,
                                                        benchmark::Counter::kIs1024);
    state.counters["sparsity"] = r.sparsity();
  });
}

// ---- W1 with the fine-tuned 90% MLP (examples/fashion_mnist/prune_finetune.py) ---------------------

/// W1/f32-s90ft/mote: the fine-tuned Fashion-MNIST MLP (784-256-128-10, W1's shape) with its
/// own 90% pattern, on W1's input; checked against the dense f32 network with the same weights.
void register_finetuned_w1() {
  const std::string name = "W1/f32-s90ft/mote";
  using Net = SparseRunner<W1SparseNet<mote::Sparse<mote::Unstructured>>, 0, 2, 4>;
  using DenseNet = SparseRunner<W1SparseNet<mote::DenseStorage>, 0, 2, 4>;
  auto shared = std::make_shared<std::unique_ptr<Net>>();
  auto bytes = std::make_shared<std::size_t>(0);
  benchmark::RegisterBenchmark(name.c_str(), [shared, bytes, name](benchmark::State& state) {
    const Workload& w = workload(WorkloadId::W1);
    if (!*shared) {
      const std::string path = std::string(MOTE_BENCH_SOURCE_DIR) + "/examples/fashion_mnist/weights/sparse/mlp_u90.npz";
      const mote::Expected<mote::io::TensorArchive> archive = mote::io::try_read_npz(path);
      if (!archive) fail(name, archive.error().describe());
      // The archive's fc1/fc2/fc3 under W1's nn.Sequential names.
      std::vector<mote::TensorRef> refs;
      const char* prefixes[] = {"fc1", "fc2", "fc3"};
      const char* indices[] = {"0", "2", "4"};
      for (int l = 0; l < 3; ++l)
        for (const char* param : {"weight", "bias"}) {
          const auto* tensor = archive->find(std::string(prefixes[l]) + "." + param);
          if (tensor == nullptr) fail(name, path + " has no " + prefixes[l] + "." + param);
          refs.push_back(mote::TensorRef{std::string(indices[l]) + "." + param, tensor->shape, tensor->bytes.data(), "float32"});
        }
      *shared = std::make_unique<Net>(w, refs, std::nullopt, name);
      DenseNet reference(w, refs, std::nullopt, name);
      (*shared)->run();
      reference.run();
      const double error = relative_error((*shared)->output(), std::vector<float>(reference.output().begin(), reference.output().end()));
      if (!(error <= 1e-4)) fail(name, "does not compute what the dense f32 network computes with the same weights");
      *bytes = (*shared)->weight_bytes();
    }
    Net& r = **shared;
    for (auto _ : state) {
      r.run();
      benchmark::ClobberMemory();
    }
    state.counters["weight_bytes"] =
        benchmark::Counter(static_cast<double>(*bytes), benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
  });
}

/// Registered during static initialisation (main.cpp registers the f32 cases in main()).
[[maybe_unused]] const bool registered = [] {
  using mote::Pruning;
  constexpr auto w3 = WorkloadId::W3b1;
  register_sparse_case<W3SparseNet, mote::Sparse<mote::NM<2, 4>>, 0>(w3, "nm24", n_of_m(2, 4), Pruning::to_pattern());
  register_sparse_case<W3SparseNet, mote::Sparse<mote::NM<1, 4>>, 0>(w3, "nm14", n_of_m(1, 4), Pruning::to_pattern());
  // Unstructured: the sweep, 75 included.
  for (int nn : {10, 20, 30, 40, 50, 60, 70, 75, 80, 90, 95, 98})
    register_sparse_case<W3SparseNet, mote::Sparse<mote::Unstructured>, 0>(
        w3, tag("s", nn), unstructured(nn / 100.0), Pruning::to_sparsity(nn / 100.0));
  // Blocks: 75% for every shape; the sweep for 16x1 and 8x1.
  register_block<4, 1>(75);
  register_block<1, 4>(75);
  register_block<4, 4>(75);
  register_block<8, 4>(75);
  for (int nn : {10, 20, 30, 40, 50, 60, 70, 75, 80, 90, 95, 98}) {
    register_block<16, 1>(nn);
    register_block<8, 1>(nn);
  }
  // The dense kernel on the 90%-pruned matrix: it does not skip zeros.
  register_sparse_case<W3SparseNet, mote::DenseStorage, 0>(w3, "dense-pruned90", unstructured(0.9), std::nullopt);
  // The MLP, each layer 90% (per layer).
  register_sparse_case<W1SparseNet, mote::Sparse<mote::Unstructured>, 0, 2, 4>(
      WorkloadId::W1, "s90", unstructured(0.9), Pruning::to_sparsity(0.9));
  register_finetuned_w1();
  for (int nn : {50, 75, 90}) register_int8_block<16, 4>(nn);
  register_int8_block<8, 4>(75);
  register_int8_block<16, 1>(75);
  // Batches and convolutions: the sparse GEMM (8 samples or pixels in the vector lanes).
  constexpr auto w3b64 = WorkloadId::W3b64;
  register_sparse_case<W3SparseNet, mote::Sparse<mote::Unstructured>, 0>(w3b64, "s75", unstructured(0.75),
                                                                          Pruning::to_sparsity(0.75));
  register_sparse_case<W3SparseNet, mote::Sparse<mote::Unstructured>, 0>(w3b64, "s90", unstructured(0.9),
                                                                          Pruning::to_sparsity(0.9));
  register_sparse_case<W3SparseNet, mote::Sparse<mote::NM<2, 4>>, 0>(w3b64, "nm24", n_of_m(2, 4), Pruning::to_pattern());
  register_sparse_case<W3SparseNet, mote::Sparse<mote::Block<16, 1>>, 0>(w3b64, "b75-16x1", blocks(16, 1, 0.75),
                                                                          Pruning::to_sparsity(0.75));
  register_sparse_case<W3SparseNet, mote::Sparse<mote::Block<8, 4>>, 0>(w3b64, "b75-8x4", blocks(8, 4, 0.75),
                                                                         Pruning::to_sparsity(0.75));
  constexpr auto w5 = WorkloadId::W5;
  register_sparse_case<W5SparseNet, mote::Sparse<mote::Unstructured>, 0, 2>(w5, "s75", unstructured(0.75),
                                                                             Pruning::to_sparsity(0.75));
  register_sparse_case<W5SparseNet, mote::Sparse<mote::Unstructured>, 0, 2>(w5, "s90", unstructured(0.9),
                                                                             Pruning::to_sparsity(0.9));
  register_sparse_case<W5SparseNet, mote::Sparse<mote::NM<2, 4>>, 0, 2>(w5, "nm24", n_of_m(2, 4), Pruning::to_pattern());
  register_sparse_case<W5SparseNet, mote::Sparse<mote::Block<8, 1>>, 0, 2>(w5, "b75-8x1", blocks(8, 1, 0.75),
                                                                            Pruning::to_sparsity(0.75));
  return true;
}();

}  // namespace
}  // namespace mote_bench
