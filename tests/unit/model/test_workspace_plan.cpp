// The compile-time memory plan: its size bound, and that sharing one arena changes nothing
// (checked against running every layer into a buffer of its own).

#include "../support.hpp"

#include <limits>
#include <random>

using namespace mote;

namespace {
using Mlp = Sequential<Input<784>, Dense<256>, ReLU, Dense<128>, ReLU, Dense<10>>;
using Cnn = Sequential<Input<28, 28, 1>, Conv2D<16, Kernel<3>, Pad::same>, ReLU, MaxPool2D<2>,
                       Conv2D<32, Kernel<3>, Pad::same>, ReLU, MaxPool2D<2>, Flatten, Dense<10>>;
using Blocks = Sequential<Input<8, 8, 4>, Conv2D<8, Kernel<3>, Pad::same>, BatchNorm, ReLU,
                          Residual<Conv2D<8, Kernel<3>, Pad::same>, ReLU, Conv2D<8, Kernel<3>, Pad::same>>,
                          ReLU, Residual<DepthwiseConv2D<Kernel<3>, Pad::same>, ReLU6>,
                          GlobalAveragePool2D, Dense<5>, Softmax>;

/// Runs each top-level layer into its own buffer: no sharing at all.
template <class Net, std::size_t... I>
std::vector<float> run_unshared(const Net& net, std::vector<float> activation, std::index_sequence<I...>) {
  auto step = [&](const auto& layer) {
    using L = std::remove_cvref_t<decltype(layer)>;
    std::vector<float> next(L::out_shape::size);
    std::vector<std::byte> scratch(L::scratch_bytes + 64);
    auto* aligned = reinterpret_cast<std::byte*>((reinterpret_cast<std::uintptr_t>(scratch.data()) + 63) / 64 * 64);
    layer.forward(activation.data(), next.data(), aligned);
    activation = std::move(next);
  };
  (step(net.template layer<I>()), ...);
  return activation;
}

template <class Net>
void check_plan_changes_nothing(std::uint32_t seed) {
  Net net;
  mote_test::load_random_weights(net, seed);
  std::mt19937 rng(seed + 1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  typename Net::InputTensor in;
  for (float& v : in) v = uniform(rng);
  typename Net::Workspace workspace;
  // Poison the arena: a layer reading memory nobody wrote would produce NaN.
  for (std::byte& b : workspace.bytes()) b = std::byte{0xff};
  typename Net::OutputTensor out;
  net.forward(in, out, workspace);
  const std::vector<float> expected =
      run_unshared(net, std::vector<float>(in.begin(), in.end()), std::make_index_sequence<Net::layer_count>{});
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("output " << i);
    REQUIRE(out[i] == expected[i]);  // same kernels, same order: bit-identical
  }
}
}  // namespace

TEST_CASE("Workspace size is the two-ended arena bound", "[plan]") {
  // MLP: the largest step is Dense 256 -> 128 (1024 + 512 bytes); ReLUs run in place.
  STATIC_REQUIRE(Mlp::workspace_bytes == 256 * 4 + 128 * 4);
  // CNN: the first MaxPool reads 28x28x16 and writes 14x14x16 floats.
  STATIC_REQUIRE(Cnn::workspace_bytes == (28 * 28 * 16 + 14 * 14 * 16) * 4);
  // A single layer writes straight into the caller's output: no workspace at all.
  STATIC_REQUIRE(Sequential<Input<10>, Dense<3>>::workspace_bytes == 0);
  // Flatten is a view, even of the caller's input.
  STATIC_REQUIRE(Sequential<Input<4, 4, 2>, Flatten, Dense<3>>::workspace_bytes == 0);
  // Residual: the block's input and output (8x8x8 floats each) stay alive while its body runs
  // in an arena of its own (one 8x8x8 intermediate): three feature maps.
  STATIC_REQUIRE(Blocks::workspace_bytes == 3 * 8 * 8 * 8 * 4);
  STATIC_REQUIRE(Blocks::workspace_bytes % 64 == 0);
}

TEST_CASE("Sharing the arena gives the same result as a buffer per layer", "[plan]") {
  check_plan_changes_nothing<Mlp>(1);
  check_plan_changes_nothing<Cnn>(2);
  check_plan_changes_nothing<Blocks>(3);
  check_plan_changes_nothing<Sequential<Input<4, 4, 2>, Flatten, Dense<3>, ReLU>>(4);
  check_plan_changes_nothing<Sequential<Input<4, 4, 2>, ReLU, Flatten>>(5);
  check_plan_changes_nothing<Sequential<Input<4, 4, 2>, Flatten>>(6);
}

TEST_CASE("forward_batch equals one forward per sample", "[plan][batch]") {
  auto check = [](auto* tag) {
    using Net = std::remove_pointer_t<decltype(tag)>;
    auto net = std::make_unique<Net>();
    mote_test::load_random_weights(*net, 21);
    constexpr std::size_t batch = 9;
    std::mt19937 rng(22);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> in(batch * Net::input_shape::size), out(batch * Net::output_shape::size);
    for (float& v : in) v = uniform(rng);
    typename Net::Workspace batch_workspace(batch);
    for (std::byte& b : batch_workspace.bytes()) b = std::byte{0xff};
    net->forward_batch(in, out, batch_workspace);
    typename Net::Workspace workspace;
    typename Net::OutputTensor single;
    for (std::size_t b = 0; b < batch; ++b) {
      net->forward(std::span<const float, Net::input_shape::size>(in.data() + b * Net::input_shape::size,
                                                                  Net::input_shape::size),
                   single.span(), workspace.bytes());
      for (std::size_t k = 0; k < Net::output_shape::size; ++k) {
        INFO("sample " << b << ", output " << k);
        // Batched Dense accumulates in another order (one stream per tile row): same bound as
        // the kernel tests, generously, since outputs here are O(1).
        REQUIRE(std::fabs(out[b * Net::output_shape::size + k] - single[k]) <= 1e-4f * (1.0f + std::fabs(single[k])));
      }
    }
  };
  check(static_cast<Mlp*>(nullptr));
  check(static_cast<Cnn*>(nullptr));
  check(static_cast<Blocks*>(nullptr));
}

TEST_CASE("An activation after Dense/Conv/Depthwise is fused into its epilogue", "[plan][fusion]") {
  const std::string summary = Cnn::summary();
  INFO(summary);
  CHECK_THAT(summary, Catch::Contains("0: Conv2D<16, 3x3> (f32, fused ReLU)"));
  CHECK_THAT(summary, Catch::Contains("1: ReLU (fused into the previous layer)"));
  CHECK_THAT(Mlp::summary(), Catch::Contains("4: Dense<10> (f32) -> [10]"));  // nothing to fuse
  // Softmax is not an element-wise activation: it stays a layer of its own.
  CHECK_THAT((Sequential<Input<4>, Dense<3>, Softmax>::summary()), Catch::Contains("1: Softmax -> [3]"));
  // The fused placeholder is a view: no extra buffer.
  STATIC_REQUIRE(Sequential<Input<4>, Dense<8>, ReLU, Dense<2>>::workspace_bytes == 64);
}

TEST_CASE("parameters() lists every tensor with its layer-index name", "[plan]") {
  const auto params = Blocks::parameters();
  std::vector<std::string> names;
  for (const auto& p : params) names.push_back(p.name);
  const std::vector<std::string> expected{
      "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
      "3.0.weight", "3.0.bias", "3.2.weight", "3.2.bias", "5.0.weight", "5.0.bias", "7.weight", "7.bias"};
  CHECK(names == expected);
  CHECK(params[0].spec.shape_string() == "[8, 4, 3, 3]");
}
