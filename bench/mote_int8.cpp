// mote with int8 weights and activations (Weights<Int8<>>: per-channel symmetric weights,
// int8 asymmetric per-tensor activations, int32 accumulation, float between layers):
//   W1/int8/mote, W2/int8/mote, W3b1/int8/mote, W3b64/int8/mote, W4/int8/mote, W5/int8/mote
// with Int7<> weights (7-bit symmetric, same activations): the same six as <workload>/int7/mote
// and with Int4<32> weights (same activations): W1/int4/mote, W3b1/int4/mote
// and with Int4<0> weights (a scale per row; same activations): W1/int4-perchannel/mote, W3b1
// and with the integer hand-over on (Sequential::set_integer_handover(true): adjacent int8 layers
// pass requantised codes, model/chain.hpp) where a network has two int8 layers in a row:
// W1/int8-codes/mote, W2, W5 (and W5/int7-codes; W4's layers have a pooling layer between them)
// and with the input given as codes (Sequential::forward_codes: the workload's input quantised
// once, before timing, with the first layer's calibrated quantisation, as the oneDNN cases take
// theirs): W1/int8-u8in/mote, W2, W3b1, W3b64, W4, W5
// Each network is calibrated (min/max) on the workload's own input before timing; the timed
// forward quantises each layer's input (or takes the codes handed over), runs the integer kernel
// and dequantises. The
// counter max_error_vs_f32 is the largest |output - f32 output| relative to the f32 output's
// largest magnitude; a case whose error exceeds 0.1 (garbage, not quantisation noise) aborts.

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

// Each network is a template over its weight option Q: Weights<Int8<>>, Weights<Int7<>>, ...
template <class Q>
using W1Net = mote::Sequential<mote::Input<784>, mote::Dense<256, Q>, mote::ReLU, mote::Dense<128, Q>, mote::ReLU,
                               mote::Dense<10, Q>>;
template <class Q>
using W2Net = mote::Sequential<mote::Input<64>, mote::Dense<64, Q>, mote::Tanh, mote::Dense<64, Q>, mote::Tanh,
                               mote::Dense<8, Q>>;
template <class Q>
using W3Net = mote::Sequential<mote::Input<1024>, mote::Dense<1024, Q>>;
// W4 with int8 convolutions: each Conv2D quantises its input once into a bordered image of codes,
// gathers the receptive fields as codes and runs the integer GEMM (peers: W4/int8/onednn, xnnpack).
template <class Q>
using W4Net =
    mote::Sequential<mote::Input<28, 28, 1>, mote::Conv2D<16, mote::Kernel<3>, mote::Pad::same, Q>, mote::ReLU,
                     mote::MaxPool2D<2>, mote::Conv2D<32, mote::Kernel<3>, mote::Pad::same, Q>, mote::ReLU,
                     mote::MaxPool2D<2>, mote::Flatten, mote::Dense<10, Q>>;
// W5 with an int8 depthwise layer (int32 sums of centred int16 codes, tap pairs per vpmaddwd on
// AVX2) and an int8 pointwise layer (the symmetric GEMM over the pixels).
template <class Q>
using W5Net = mote::Sequential<mote::Input<56, 56, 32>, mote::DepthwiseConv2D<mote::Kernel<3>, mote::Pad::same, Q>,
                               mote::ReLU6, mote::Conv2D<64, mote::Kernel<1>, Q>, mote::ReLU6>;
using Q8 = mote::Weights<mote::Int8<>>;
// Int7: 7-bit symmetric weights (AVX2 multiplies them without the sign operation: oneDNN's
// scheme on CPUs without VNNI).
using Q7 = mote::Weights<mote::Int7<>>;
// Int4<32>: 4-bit weights, a scale per 32 columns of a row, int8 activations.
using Q4 = mote::Weights<mote::Int4<32>>;
// Int4<0>: 4-bit weights, one scale per row (per channel), int8 activations.
using Q4PerChannel = mote::Weights<mote::Int4<0>>;

template <class Net>
class Int8Runner final : public Runner {
  static constexpr std::size_t in_size = Net::input_shape::size;
  static constexpr std::size_t out_size = Net::output_shape::size;

 public:
  explicit Int8Runner(const Workload& w, bool handover = false, bool codes_input = false)
      : net_(std::make_unique<Net>()), batch_(w.batch), input_(w.input.size()), output_(w.batch * out_size),
        workspace_(w.batch) {
    if (w.input.size() != batch_ * in_size || w.output_size != out_size)
      throw std::logic_error(w.name + ": the mote network's shapes do not match the workload");
    std::vector<mote::TensorRef> refs;
    for (const WeightedLayer& layer : w.layers) {
      const std::string prefix = std::to_string(layer.index);
      refs.push_back(mote::TensorRef::f32(prefix + ".weight", layer.weight.shape, layer.weight.values.data()));
      refs.push_back(mote::TensorRef::f32(prefix + ".bias", layer.bias.shape, layer.bias.values.data()));
    }
    net_->load(refs, "random", mote::WeightNames::layer_index());
    net_->set_integer_handover(handover);
    net_->calibrate(w.input, mote::CalibrationMethod::min_max);
    std::memcpy(input_.data(), w.input.data(), w.input.size() * sizeof(float));
    if constexpr (Net::takes_input_codes) {
      if (codes_input) {
        const auto quant = net_->input_codes_quantization();
        codes_.resize(w.input.size());
        for (std::size_t i = 0; i < codes_.size(); ++i)
          codes_[i] = static_cast<std::uint8_t>(mote::quantize(w.input[i], quant->params, quant->low, quant->high));
      }
    }
  }
  void run() override {
    if constexpr (Net::takes_input_codes) {
      if (!codes_.empty()) {
        if (!net_->forward_codes_batch(codes_, output_.span(), workspace_))
          throw std::logic_error("forward_codes failed");
        return;
      }
    }
    if (batch_ == 1)
      net_->forward(mote::TensorView<typename Net::input_shape, const float>(input_.data()),
                    mote::TensorView<typename Net::output_shape, float>(output_.data()), workspace_);
    else
      net_->forward_batch(input_.span(), output_.span(), workspace_);
  }
  std::span<const float> output() const override { return output_.span(); }
  std::size_t weight_bytes() const { return net_->weight_bytes(); }

 private:
  std::unique_ptr<Net> net_;
  std::size_t batch_;
  mote::AlignedBuffer<float> input_;
  std::vector<std::uint8_t> codes_;  // the input as codes, for forward_codes; empty otherwise
  mote::AlignedBuffer<float> output_;
  typename Net::Workspace workspace_;
};

template <class Net>
void register_int8_case(WorkloadId id, const char* precision = "int8", bool handover = false,
                        bool codes_input = false) {
  const std::string name = workload(id).name + "/" + precision + "/mote";
  auto runner = std::make_shared<std::unique_ptr<Int8Runner<Net>>>();
  auto error = std::make_shared<double>(0.0);
  benchmark::RegisterBenchmark(name.c_str(), [runner, error, id, name, handover, codes_input](benchmark::State& state) {
    const Workload& w = workload(id);
    if (!*runner) {
      *runner = std::make_unique<Int8Runner<Net>>(w, handover, codes_input);
      (*runner)->run();
      *error = checked_error_vs_f32(name, (*runner)->output(), id);
    }
    Int8Runner<Net>& r = **runner;
    for (auto _ : state) {
      r.run();
      benchmark::ClobberMemory();
    }
    state.counters["GOPS"] = benchmark::Counter(w.flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["weight_bytes"] = benchmark::Counter(static_cast<double>(r.weight_bytes()),
                                                        benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
    state.counters["max_error_vs_f32"] = *error;
  });
}

[[maybe_unused]] const bool registered = [] {
  register_int8_case<W1Net<Q8>>(WorkloadId::W1);
  register_int8_case<W2Net<Q8>>(WorkloadId::W2);
  register_int8_case<W3Net<Q8>>(WorkloadId::W3b1);
  register_int8_case<W3Net<Q8>>(WorkloadId::W3b64);
  register_int8_case<W4Net<Q8>>(WorkloadId::W4);
  register_int8_case<W5Net<Q8>>(WorkloadId::W5);
  register_int8_case<W1Net<Q7>>(WorkloadId::W1, "int7");
  register_int8_case<W2Net<Q7>>(WorkloadId::W2, "int7");
  register_int8_case<W3Net<Q7>>(WorkloadId::W3b1, "int7");
  register_int8_case<W3Net<Q7>>(WorkloadId::W3b64, "int7");
  register_int8_case<W4Net<Q7>>(WorkloadId::W4, "int7");
  register_int8_case<W5Net<Q7>>(WorkloadId::W5, "int7");
  register_int8_case<W1Net<Q8>>(WorkloadId::W1, "int8-codes", true);
  register_int8_case<W2Net<Q8>>(WorkloadId::W2, "int8-codes", true);
  register_int8_case<W5Net<Q8>>(WorkloadId::W5, "int8-codes", true);
  register_int8_case<W5Net<Q7>>(WorkloadId::W5, "int7-codes", true);
  register_int8_case<W1Net<Q8>>(WorkloadId::W1, "int8-u8in", false, true);
  register_int8_case<W2Net<Q8>>(WorkloadId::W2, "int8-u8in", false, true);
  register_int8_case<W3Net<Q8>>(WorkloadId::W3b1, "int8-u8in", false, true);
  register_int8_case<W3Net<Q8>>(WorkloadId::W3b64, "int8-u8in", false, true);
  register_int8_case<W4Net<Q8>>(WorkloadId::W4, "int8-u8in", false, true);
  register_int8_case<W5Net<Q8>>(WorkloadId::W5, "int8-u8in", false, true);
  register_int8_case<W1Net<Q4>>(WorkloadId::W1, "int4");
  register_int8_case<W3Net<Q4>>(WorkloadId::W3b1, "int4");
  register_int8_case<W1Net<Q4PerChannel>>(WorkloadId::W1, "int4-perchannel");
  register_int8_case<W3Net<Q4PerChannel>>(WorkloadId::W3b1, "int4-perchannel");
  return true;
}();

}  // namespace
}  // namespace mote_bench
