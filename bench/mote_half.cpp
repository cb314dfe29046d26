// mote with 16-bit float weights (Weights<BF16>, Weights<F16>; computed in f32):
//   W3b1/bf16/mote, W3b1/f16/mote   the 1024x1024 GEMV: half the bytes of W3b1/f32/mote to stream
//   W1/bf16/mote, W1/f16/mote       the MLP (its first layer's weights stream from L2/L3)
// Checked before timing: each network must compute what the f32 network computes with the same
// weights rounded to the format (within 1e-3 of the output's magnitude, as main.cpp checks
// peers); the counter max_error_vs_f32 shows how far rounding the weights moved the output from
// W<n>/f32/mote's, relative to its largest value.

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
using W1HalfNet = mote::Sequential<mote::Input<784>, mote::Dense<256, mote::Weights<Format>>, mote::ReLU,
                                   mote::Dense<128, mote::Weights<Format>>, mote::ReLU,
                                   mote::Dense<10, mote::Weights<Format>>>;
template <class Format>
using W3HalfNet = mote::Sequential<mote::Input<1024>, mote::Dense<1024, mote::Weights<Format>>>;

/// The workload's weights under their nn.Sequential names; with `Format`, each weight (not the
/// biases, which mote keeps in f32) rounded as Weights<Format> stores it.
template <class Format>
std::vector<mote::TensorRef> weight_refs(const Workload& w, std::vector<std::vector<float>>& storage) {
  std::vector<mote::TensorRef> refs;
  storage.clear();
  storage.reserve(w.layers.size());
  for (const WeightedLayer& layer : w.layers) {
    storage.push_back(layer.weight.values);
    if constexpr (!std::is_same_v<Format, mote::F32>)
      for (float& v : storage.back()) v = Format::decode(Format::encode(v));
    const std::string prefix = std::to_string(layer.index);
    refs.push_back(mote::TensorRef::f32(prefix + ".weight", layer.weight.shape, storage.back().data()));
    refs.push_back(mote::TensorRef::f32(prefix + ".bias", layer.bias.shape, layer.bias.values.data()));
  }
  return refs;
}

/// `Net` on a batch-1 workload, its weights set from `refs`.
template <class Net>
class HalfRunner final : public Runner {
 public:
  explicit HalfRunner(const Workload& w, std::span<const mote::TensorRef> refs)
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

 private:
  std::unique_ptr<Net> net_;
  mote::AlignedBuffer<float> input_;
  mote::AlignedBuffer<float> output_;
  typename Net::Workspace workspace_;
};

/// Bytes of 16-bit weights and f32 biases, unpadded (as Workload::weight_bytes counts f32 ones).
std::size_t half_weight_bytes(const Workload& w) {
  std::size_t bytes = 0;
  for (const WeightedLayer& layer : w.layers)
    bytes += layer.weight.values.size() * sizeof(std::uint16_t) + layer.bias.values.size() * sizeof(float);
  return bytes;
}

/// Registers `<workload>/<format>/mote` for `HalfNet` (Dense layers storing Format) and checks it
/// against `F32Net` (the same network in f32) holding the weights rounded to Format.
template <class Format, template <class> class NetOf>
void register_half_case(WorkloadId id) {
  const std::string name = workload(id).name + "/" + Format::name + "/mote";
  using HalfNet = NetOf<Format>;
  using F32Net = NetOf<mote::F32>;
  auto runner = std::make_shared<std::unique_ptr<HalfRunner<HalfNet>>>();
  auto error_vs_f32 = std::make_shared<double>(0.0);
  benchmark::RegisterBenchmark(name.c_str(), [runner, error_vs_f32, id, name](benchmark::State& state) {
    const Workload& w = workload(id);
    if (!*runner) {  // built on the first call, so a filter skips the setup of excluded cases
      std::vector<std::vector<float>> exact, rounded;
      *runner = std::make_unique<HalfRunner<HalfNet>>(w, weight_refs<mote::F32>(w, exact));
      HalfRunner<F32Net> check(w, weight_refs<Format>(w, rounded));
      (*runner)->run();
      check.run();
      const double error = relative_error((*runner)->output(), check.output());
      if (!(error <= 1e-3)) {
        std::fprintf(stderr,
                     "mote_bench: %s does not compute what f32 mote computes with the same rounded weights "
                     "(max |difference| %g of max |output|). Aborting.\n",
                     name.c_str(), error);
        std::exit(EXIT_FAILURE);
      }
      *error_vs_f32 = relative_error((*runner)->output(), reference_output(id));
    }
    HalfRunner<HalfNet>& r = **runner;
    for (auto _ : state) {
      r.run();
      benchmark::ClobberMemory();
    }
    state.counters["GFLOPS"] = benchmark::Counter(w.flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["weight_bytes"] = benchmark::Counter(static_cast<double>(half_weight_bytes(w)),
                                                        benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
    state.counters["max_error_vs_f32"] = *error_vs_f32;
  });
}

/// Registered during static initialisation (main.cpp registers the f32 cases in main()).
[[maybe_unused]] const bool registered = [] {
  register_half_case<mote::BF16, W3HalfNet>(WorkloadId::W3b1);
  register_half_case<mote::F16, W3HalfNet>(WorkloadId::W3b1);
  register_half_case<mote::BF16, W1HalfNet>(WorkloadId::W1);
  register_half_case<mote::F16, W1HalfNet>(WorkloadId::W1);
  return true;
}();

}  // namespace
}  // namespace mote_bench
