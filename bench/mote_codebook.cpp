// mote with codebook (palettised) weights (Weights<Codebook<Bits>>: Bits-bit indices into one
// k-means table of 2^Bits floats per output channel; computed in f32 by register lookups):
//   W3b1/codebook4/mote, W3b1/codebook2/mote   the 1024x1024 GEMV: 1/8 and 1/16 of the f32 bytes
//   W1/codebook4/mote                          the MLP
// Checked before timing: each network must compute what the f32 network computes with the same
// weights replaced by their table values (within 1e-3 of the output's magnitude, as main.cpp
// checks peers); the counter max_error_vs_f32 shows how far the codebook moved the output from
// W<n>/f32/mote's, relative to its largest value. weight_bytes: indices, tables and f32 biases.

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
#include <vector>

#include "harness.hpp"

namespace mote_bench {
namespace {

template <class Format>
using W1CodebookNet = mote::Sequential<mote::Input<784>, mote::Dense<256, mote::Weights<Format>>, mote::ReLU,
                                       mote::Dense<128, mote::Weights<Format>>, mote::ReLU,
                                       mote::Dense<10, mote::Weights<Format>>>;
template <class Format>
using W3CodebookNet = mote::Sequential<mote::Input<1024>, mote::Dense<1024, mote::Weights<Format>>>;

/// The workload's weights under their nn.Sequential names; with `Format`, each weight matrix
/// replaced by the table values Weights<Format> stores (the same deterministic fit).
template <class Format>
std::vector<mote::TensorRef> weight_refs(const Workload& w, std::vector<std::vector<float>>& storage) {
  std::vector<mote::TensorRef> refs;
  storage.clear();
  storage.reserve(w.layers.size());
  for (const WeightedLayer& layer : w.layers) {
    storage.push_back(layer.weight.values);
    if constexpr (!std::is_same_v<Format, mote::F32>) {
      const std::size_t rows = layer.weight.shape[0], cols = layer.weight.shape[1];
      mote::WeightMatrix<Format, mote::DenseStorage> matrix(rows, cols);
      matrix.assign(layer.weight.values.data());
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t k = 0; k < cols; ++k) storage.back()[r * cols + k] = matrix.at(r, k);
    }
    const std::string prefix = std::to_string(layer.index);
    refs.push_back(mote::TensorRef::f32(prefix + ".weight", layer.weight.shape, storage.back().data()));
    refs.push_back(mote::TensorRef::f32(prefix + ".bias", layer.bias.shape, layer.bias.values.data()));
  }
  return refs;
}

/// `Net` on a batch-1 workload, its weights set from `refs`.
template <class Net>
class CodebookRunner final : public Runner {
 public:
  explicit CodebookRunner(const Workload& w, std::span<const mote::TensorRef> refs)
      : net_(std::make_unique<Net>()), input_(w.input.size()), output_(Net::output_shape::size) {
    if (w.batch != 1 || w.input.size() != Net::input_shape::size || w.output_size != Net::output_shape::size)
      throw std::logic_error(w.name + ": the mote network's shapes do not match the workload");
    net_->load(refs, "random", mote::WeightNames::layer_index());
    std::memcpy(input_.data(), w.input.data(), w.input.size() * sizeof(float));
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

/// Registers `<workload>/<label>/mote` for NetOf<Format> and checks it against NetOf<F32>
/// holding the decoded weights.
template <class Format, template <class> class NetOf>
void register_codebook_case(WorkloadId id, const char* label) {
  const std::string name = workload(id).name + "/" + label + "/mote";
  using CodebookNet = NetOf<Format>;
  using F32Net = NetOf<mote::F32>;
  auto runner = std::make_shared<std::unique_ptr<CodebookRunner<CodebookNet>>>();
  auto error_vs_f32 = std::make_shared<double>(0.0);
  benchmark::RegisterBenchmark(name.c_str(), [runner, error_vs_f32, id, name](benchmark::State& state) {
    const Workload& w = workload(id);
    if (!*runner) {  // built on the first call (k-means runs here), so a filter skips excluded cases
      std::vector<std::vector<float>> exact, decoded;
      *runner = std::make_unique<CodebookRunner<CodebookNet>>(w, weight_refs<mote::F32>(w, exact));
      CodebookRunner<F32Net> check(w, weight_refs<Format>(w, decoded));
      (*runner)->run();
      check.run();
      const double error = relative_error((*runner)->output(), check.output());
      if (!(error <= 1e-3)) {
        std::fprintf(stderr,
                     "mote_bench: %s does not compute what f32 mote computes with the decoded weights "
                     "(max |difference| %g of max |output|). Aborting.\n",
                     name.c_str(), error);
        std::exit(EXIT_FAILURE);
      }
      *error_vs_f32 = relative_error((*runner)->output(), reference_output(id));
    }
    CodebookRunner<CodebookNet>& r = **runner;
    for (auto _ : state) {
      r.run();
      benchmark::ClobberMemory();
    }
    state.counters["GFLOPS"] = benchmark::Counter(w.flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["weight_bytes"] = benchmark::Counter(static_cast<double>(r.weight_bytes()),
                                                        benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
    state.counters["max_error_vs_f32"] = *error_vs_f32;
  });
}

/// Registered during static initialisation (main.cpp registers the f32 cases in main()).
[[maybe_unused]] const bool registered = [] {
  register_codebook_case<mote::Codebook<4>, W3CodebookNet>(WorkloadId::W3b1, "codebook4");
  register_codebook_case<mote::Codebook<2>, W3CodebookNet>(WorkloadId::W3b1, "codebook2");
  register_codebook_case<mote::Codebook<4>, W1CodebookNet>(WorkloadId::W1, "codebook4");
  return true;
}();

}  // namespace
}  // namespace mote_bench
