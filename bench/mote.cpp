// mote: each workload as a mote::Sequential type; its output is the reference the peers are
// checked against.

#include <cstring>
#include <map>
#include <memory>
#include <mote/mote.hpp>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"

namespace mote_bench {
namespace {

using W1Net = mote::Sequential<mote::Input<784>, mote::Dense<256>, mote::ReLU, mote::Dense<128>,
                               mote::ReLU, mote::Dense<10>>;
using W2Net = mote::Sequential<mote::Input<64>, mote::Dense<64>, mote::Tanh, mote::Dense<64>,
                               mote::Tanh, mote::Dense<8>>;
using W3Net = mote::Sequential<mote::Input<1024>, mote::Dense<1024>>;
using W4Net =
    mote::Sequential<mote::Input<28, 28, 1>, mote::Conv2D<16, mote::Kernel<3>, mote::Pad::same>,
                     mote::ReLU, mote::MaxPool2D<2>,
                     mote::Conv2D<32, mote::Kernel<3>, mote::Pad::same>, mote::ReLU,
                     mote::MaxPool2D<2>, mote::Flatten, mote::Dense<10>>;
using W5Net = mote::Sequential<mote::Input<56, 56, 32>,
                               mote::DepthwiseConv2D<mote::Kernel<3>, mote::Pad::same>, mote::ReLU6,
                               mote::Conv2D<64, mote::Kernel<1>>, mote::ReLU6>;

/// Runs `Net` on each element of the workload's batch, one forward call per element.
template <class Net>
class MoteRunner final : public Runner {
  static constexpr std::size_t in_size = Net::input_shape::size;
  static constexpr std::size_t out_size = Net::output_shape::size;

 public:
  explicit MoteRunner(const Workload& w)
      : net_(std::make_unique<Net>()),
        batch_(w.batch),
        input_(w.input.size()),
        output_(w.batch * out_size),
        workspace_(w.batch) {
    if (w.input.size() != batch_ * in_size || w.output_size != out_size)
      throw std::logic_error(w.name + ": the mote network's shapes do not match the workload");
    // Weights: the workload's PyTorch-layout tensors under their nn.Sequential names.
    std::vector<mote::TensorRef> refs;
    for (const WeightedLayer& layer : w.layers) {
      const std::string prefix = std::to_string(layer.index);
      refs.push_back(
          mote::TensorRef::f32(prefix + ".weight", layer.weight.shape, layer.weight.values.data()));
      refs.push_back(
          mote::TensorRef::f32(prefix + ".bias", layer.bias.shape, layer.bias.values.data()));
    }
    net_->load(refs, "random", mote::WeightNames::layer_index());
    std::memcpy(input_.data(), w.input.data(), w.input.size() * sizeof(float));
  }

  void run() override {
    if (batch_ == 1) {
      net_->forward(mote::TensorView<typename Net::input_shape, const float>(input_.data()),
                    mote::TensorView<typename Net::output_shape, float>(output_.data()), workspace_);
    } else {
      net_->forward_batch(input_.span(), output_.span(), workspace_);
    }
  }
  std::span<const float> output() const override { return output_.span(); }

 private:
  std::unique_ptr<Net> net_;  // heap: a network holds its weights, which may be large
  std::size_t batch_;
  mote::AlignedBuffer<float> input_;
  mote::AlignedBuffer<float> output_;
  typename Net::Workspace workspace_;
};

std::unique_ptr<Runner> make(const Workload& w) {
  switch (w.id) {
    case WorkloadId::W1: return std::make_unique<MoteRunner<W1Net>>(w);
    case WorkloadId::W2: return std::make_unique<MoteRunner<W2Net>>(w);
    case WorkloadId::W3b1:
    case WorkloadId::W3b64: return std::make_unique<MoteRunner<W3Net>>(w);
    case WorkloadId::W4: return std::make_unique<MoteRunner<W4Net>>(w);
    case WorkloadId::W5: return std::make_unique<MoteRunner<W5Net>>(w);
  }
  return nullptr;
}

}  // namespace

Impl mote_impl() {
  // The networks dispatch at run time (isa::Default = isa::Dynamic): the level they run is the
  // CPU's, capped by MOTE_FORCE_ISA, whatever -march compiled this file.
  return {"mote", std::string("(runs ") + mote::arch::to_string(mote::arch::selected_isa()) + ")",
          [](WorkloadId) { return true; }, &make};
}

std::span<const float> reference_output(WorkloadId id) {
  static std::mutex mutex;
  static std::map<WorkloadId, std::vector<float>> outputs;
  const std::lock_guard<std::mutex> lock(mutex);
  auto found = outputs.find(id);
  if (found == outputs.end()) {
    const std::unique_ptr<Runner> runner = make(workload(id));
    runner->run();
    const std::span<const float> result = runner->output();
    found = outputs.emplace(id, std::vector<float>(result.begin(), result.end())).first;
  }
  return found->second;
}

}  // namespace mote_bench
