// Activations fused into Dense/Conv/Depthwise epilogues (cheap ones per accumulator, the
// transcendental ones as a pass after the layer) give the scalar reference's result on every
// ISA, within the matrix bound plus the activation's own bound (math-inl.hpp: <= 6 ulp).

#include "kernel_test_support.hpp"

using namespace mote;

namespace {

template <class Tag>
using MixedNet = Sequential<Input<9, 7, 3>, Conv2D<20, Kernel<3>, Pad::same, Tag>, GELU,
                            DepthwiseConv2D<Kernel<3>, Pad::same, Tag>, Sigmoid, Conv2D<17, Kernel<1>, Tag>,
                            HardSwish, Flatten, Dense<21, Tag>, Tanh, Dense<19, Tag>, LeakyReLU, Dense<5, Tag>, ReLU6>;

}  // namespace

TEST_CASE("Fused activations match the scalar reference on every ISA", "[kernels][fusion][simd]") {
  using Reference = MixedNet<isa::Scalar>;
  CHECK_THAT(Reference::summary(), Catch::Contains("fused Tanh") && Catch::Contains("fused GELU") &&
                                       Catch::Contains("fused Sigmoid") && Catch::Contains("fused HardSwish"));
  auto reference = std::make_unique<Reference>();
  mote_test::load_random_weights(*reference, 5);
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  Reference::InputTensor in;
  for (float& v : in) v = uniform(rng);
  Reference::OutputTensor expected;
  Reference::Workspace reference_workspace;
  reference->forward(in, expected, reference_workspace);

  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    using Net = MixedNet<decltype(tag)>;
    auto net = std::make_unique<Net>();
    mote_test::load_random_weights(*net, 5);
    typename Net::OutputTensor actual;
    typename Net::Workspace workspace;
    net->forward(in, actual, workspace);
    for (std::size_t i = 0; i < expected.size; ++i) {
      INFO(isa_name << ": output " << i << ", simd " << actual[i] << ", reference " << expected[i]);
      // Seven layers of O(1) values, each reordering sums of up to 189 products and applying
      // an activation within a few ulp: 1e-5 absolute + relative is a loose, safe bound.
      REQUIRE(std::fabs(actual[i] - expected[i]) <= 1e-5f * (1.0f + std::fabs(expected[i])));
    }
  });
}
