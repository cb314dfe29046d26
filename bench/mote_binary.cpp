// mote with binary weights (Weights<Binary>: one sign bit per weight, one f32 scale per row):
//   W3b1/binary/mote        the 1024x1024 GEMV with f32 activations (sign flips and adds)
//   W3b1/binary-xnor/mote   the same with binary activations too (Activations<Binary>): the
//                           input's signs, XNOR-popcount dot products
//   W1/binary/mote          the MLP with binary weights and f32 activations
// and with ternary weights (Weights<Ternary>: -1/0/+1 per weight as two sign planes, one f32
// scale per row; Binary's kernels run each plane):
//   W3b1/ternary/mote, W3b1/ternary-xnor/mote, W1/ternary/mote   the same three cases
// Checked before timing: each network must compute what the f32 network computes with the
// dequantised weights (sign times the row's mean |w|; for ternary, what the ternary matrix
// stands for, WeightMatrix<Ternary>::at), on the input binarised to +-1 for the
// XNOR case (within 1e-3 of the output's magnitude, as main.cpp checks peers). The counter
// max_error_vs_f32 shows how far binarising moved the output from W<n>/f32/mote's, relative to
// its largest value: large, as expected without binary-aware training.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mote/mote.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "harness.hpp"

namespace mote_bench {
namespace {

template <class... Options>
using W1Net = mote::Sequential<mote::Input<784>, mote::Dense<256, Options...>, mote::ReLU, mote::Dense<128, Options...>,
                               mote::ReLU, mote::Dense<10, Options...>>;
template <class... Options>
using W3Net = mote::Sequential<mote::Input<1024>, mote::Dense<1024, Options...>>;

using B = mote::Weights<mote::Binary>;
using T = mote::Weights<mote::Ternary>;
using BinaryActivations = mote::Activations<mote::Binary>;

/// The workload's weights under their nn.Sequential names; with `dequantise`, each weight matrix
/// (not the biases) replaced by what `Format`'s storage stands for.
template <class Format = mote::Binary>
std::vector<mote::TensorRef> weight_refs(const Workload& w, bool dequantise, std::vector<std::vector<float>>& storage) {
  std::vector<mote::TensorRef> refs;
  storage.clear();
  storage.reserve(w.layers.size());
  for (const WeightedLayer& layer : w.layers) {
    storage.push_back(layer.weight.values);
    if (dequantise && std::is_same_v<Format, mote::Ternary>) {
      const std::size_t rows = layer.weight.shape[0], cols = storage.back().size() / rows;
      mote::WeightMatrix<mote::Ternary, mote::DenseStorage> ternary(rows, cols);
      ternary.assign(storage.back().data());
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t k = 0; k < cols; ++k) storage.back()[r * cols + k] = ternary.at(r, k);
    } else if (dequantise) {
      const std::size_t rows = layer.weight.shape[0], cols = storage.back().size() / rows;
      for (std::size_t r = 0; r < rows; ++r) {
        float* row = storage.back().data() + r * cols;
        double sum = 0;
        for (std::size_t k = 0; k < cols; ++k) sum += std::fabs(static_cast<double>(row[k]));
        const auto scale = static_cast<float>(sum / static_cast<double>(cols));
        for (std::size_t k = 0; k < cols; ++k) row[k] = row[k] >= 0.0f ? scale : -scale;
      }
    }
    const std::string prefix = std::to_string(layer.index);
    refs.push_back(mote::TensorRef::f32(prefix + ".weight", layer.weight.shape, storage.back().data()));
    refs.push_back(mote::TensorRef::f32(prefix + ".bias", layer.bias.shape, layer.bias.values.data()));
  }
  return refs;
}

/// `Net` on a batch-1 workload, its weights set from `refs`, its input optionally binarised.
template <class Net>
class BinaryRunner final : public Runner {
 public:
  BinaryRunner(const Workload& w, std::span<const mote::TensorRef> refs, bool binarise_input)
      : net_(std::make_unique<Net>()), input_(w.input.size()), output_(Net::output_shape::size) {
    if (w.batch != 1 || w.input.size() != Net::input_shape::size || w.output_size != Net::output_shape::size)
      throw std::logic_error(w.name + ": the mote network's shapes do not match the workload");
    net_->load(refs, "random", mote::WeightNames::layer_index());
    for (std::size_t i = 0; i < w.input.size(); ++i)
      input_[i] = binarise_input ? static_cast<float>(mote::Binary::sign(w.input[i])) : w.input[i];
  }
  void run() override {
    net_->forward(mote::TensorView<typename Net::input_shape, const float>(input_.data()),
                  mote::TensorView<typename Net::output_shape, float>(output_.data()), workspace_);
  }
  std::span<const float> output() const override { return output_.span(); }
  std::size_t weight_bytes() const { return net_->weight_bytes(); }

 private:
  std::unique_ptr<Net> net_;
  mote::AlignedBuffer<float> input_;
  mote::AlignedBuffer<float> output_;
  typename Net::Workspace workspace_;
};

/// Registers `<workload>/<variant>/mote` for `BinaryNet`, checked against `F32Net` (the same
/// network in f32) holding the dequantised weights, on the binarised input when `xnor`.
template <class BinaryNet, class F32Net, class Format = mote::Binary>
void register_binary_case(WorkloadId id, const char* variant, bool xnor) {
  std::string name = workload(id).name;
  name += "/";
  name += variant;
  name += "/mote";
  auto runner = std::make_shared<std::unique_ptr<BinaryRunner<BinaryNet>>>();
  auto error_vs_f32 = std::make_shared<double>(0.0);
  benchmark::RegisterBenchmark(name.c_str(), [runner, error_vs_f32, id, name, xnor](benchmark::State& state) {
    const Workload& w = workload(id);
    if (!*runner) {  // built on the first call, so a filter skips the setup of excluded cases
      std::vector<std::vector<float>> exact, dequantised;
      *runner = std::make_unique<BinaryRunner<BinaryNet>>(w, weight_refs(w, false, exact), false);
      BinaryRunner<F32Net> check(w, weight_refs<Format>(w, true, dequantised), xnor);
      (*runner)->run();
      check.run();
      const double error = relative_error((*runner)->output(), check.output());
      if (!(error <= 1e-3)) {
        std::fprintf(stderr,
                     "mote_bench: %s does not compute what f32 mote computes with the dequantised weights "
                     "(max |difference| %g of max |output|). Aborting.\n",
                     name.c_str(), error);
        std::exit(EXIT_FAILURE);
      }
      *error_vs_f32 = relative_error((*runner)->output(), reference_output(id));
    }
    BinaryRunner<BinaryNet>& r = **runner;
    for (auto _ : state) {
      r.run();
      benchmark::ClobberMemory();
    }
    state.counters["GOPS"] = benchmark::Counter(w.flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["weight_bytes"] = benchmark::Counter(static_cast<double>(r.weight_bytes()),
                                                        benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
    state.counters["max_error_vs_f32"] = *error_vs_f32;
  });
}

/// Registered during static initialisation (main.cpp registers the f32 cases in main()).
[[maybe_unused]] const bool registered = [] {
  register_binary_case<W3Net<B>, W3Net<>>(WorkloadId::W3b1, "binary", false);
  register_binary_case<W3Net<B, BinaryActivations>, W3Net<>>(WorkloadId::W3b1, "binary-xnor", true);
  register_binary_case<W1Net<B>, W1Net<>>(WorkloadId::W1, "binary", false);
  register_binary_case<W3Net<T>, W3Net<>, mote::Ternary>(WorkloadId::W3b1, "ternary", false);
  register_binary_case<W3Net<T, BinaryActivations>, W3Net<>, mote::Ternary>(WorkloadId::W3b1, "ternary-xnor", true);
  register_binary_case<W1Net<T>, W1Net<>, mote::Ternary>(WorkloadId::W1, "ternary", false);
  return true;
}();

}  // namespace
}  // namespace mote_bench
