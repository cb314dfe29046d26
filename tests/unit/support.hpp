#pragma once
// Helpers shared by the unit tests: golden cases written by tools/gen_op_golden.py (PyTorch)
// and a tolerance comparison.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <mote/mote.hpp>

namespace mote_test {

inline std::string data_path(const std::string& relative) {
  return std::string(MOTE_TEST_DATA_DIR) + "/" + relative;
}

/// A golden case: "input", "output" and the layer parameters under PyTorch names.
struct GoldenCase {
  mote::io::TensorArchive archive;
  std::vector<float> input;
  std::vector<float> output;
  std::vector<mote::TensorRef> params;

  explicit GoldenCase(const std::string& name)
      : archive(mote::io::read_npz(data_path("ops/" + name + ".npz"))) {
    for (const mote::TensorRef& ref : mote::detail::tensor_refs(archive)) {
      if (ref.name == "input") input = archive.find("input")->to_floats();
      else if (ref.name == "output") output = archive.find("output")->to_floats();
      else if (ref.name != "pad_tlbr") params.push_back(ref);
    }
  }
};

/// Loads seeded weights uniform in [-0.5, 0.5] into every parameter of `Net` (BatchNorm
/// variances in [0.5, 1.5], so that they stay positive), under the layer-index names.
template <class Net>
void load_random_weights(Net& net, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
  std::vector<std::vector<float>> storage;  // load() copies the values
  std::vector<mote::TensorRef> refs;
  for (const mote::ParameterInfo& p : Net::parameters()) {
    storage.emplace_back(p.spec.size());
    const bool variance = std::string(p.spec.name) == "running_var";
    for (float& v : storage.back()) v = variance ? 1.0f + uniform(rng) : uniform(rng);
    refs.push_back(mote::TensorRef::f32(
        p.name, {p.spec.dims.begin(), p.spec.dims.begin() + static_cast<long>(p.spec.rank)}, storage.back().data()));
  }
  net.load(refs, "random", mote::WeightNames::layer_index());
}

/// |actual - expected| <= abs_tol + rel_tol * |expected| element-wise (NaN must match NaN).
/// The default bound covers f32 sums of up to a few hundred products in a different order
/// than PyTorch's (each rounding contributes at most 2^-24 of the running magnitude).
inline void require_close(const float* actual, const std::vector<float>& expected,
                          float abs_tol = 1e-5f, float rel_tol = 1e-4f) {
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i << ": actual " << actual[i] << ", expected " << expected[i]);
    if (std::isnan(expected[i])) {
      REQUIRE(std::isnan(actual[i]));
    } else {
      REQUIRE(std::fabs(actual[i] - expected[i]) <= abs_tol + rel_tol * std::fabs(expected[i]));
    }
  }
}

/// Loads a golden case into `Net` with `names`, runs it and compares with PyTorch's output.
template <class Net>
void check_golden(const std::string& name, const mote::WeightNames& names = mote::WeightNames::file_order()) {
  INFO("golden case " << name);
  GoldenCase golden(name);
  REQUIRE(golden.input.size() == Net::input_shape::size);
  REQUIRE(golden.output.size() == Net::output_shape::size);
  Net net;
  if (!golden.params.empty()) {
    const mote::Status status = net.try_load(golden.params, name, names);
    INFO(status.message());
    REQUIRE(status.is_ok());
  }
  typename Net::Workspace workspace;
  typename Net::OutputTensor out;
  net.forward(std::span<const float, Net::input_shape::size>(golden.input.data(), Net::input_shape::size),
              out.span(), workspace.bytes());
  require_close(out.data(), golden.output);
}

}  // namespace mote_test
