// Scalar reference kernels on cases small enough to compute by hand, and special values.

#include "../support.hpp"

#include <limits>

using namespace mote;

namespace {
template <class Net>
typename Net::OutputTensor run(const Net& net, const typename Net::InputTensor& in) {
  typename Net::Workspace workspace;
  typename Net::OutputTensor out;
  net.forward(in, out, workspace);
  return out;
}
}  // namespace

TEST_CASE("Dense by hand", "[reference][dense]") {
  using Net = Sequential<Input<3>, Dense<2>>;
  Net net;
  const float weight[] = {1, 2, 3, -1, 0.5f, 0};
  const float bias[] = {0.25f, -1};
  net.load(std::vector{TensorRef::f32("w", {2, 3}, weight), TensorRef::f32("b", {2}, bias)}, "memory");
  Net::InputTensor in;
  in[0] = 1, in[1] = 2, in[2] = 3;
  const auto out = run(net, in);
  CHECK(out[0] == 1 + 4 + 9 + 0.25f);
  CHECK(out[1] == -1 + 1 + 0 - 1);
}

TEST_CASE("Conv2D by hand: all-ones 3x3 kernel counts the taps inside the input", "[reference][conv2d]") {
  using Net = Sequential<Input<3, 3, 1>, Conv2D<1, Kernel<3>, Pad::same>>;
  Net net;
  std::vector<float> weight(9, 1.0f);
  const float bias[] = {0};
  net.load(std::vector{TensorRef::f32("w", {1, 1, 3, 3}, weight.data()), TensorRef::f32("b", {1}, bias)}, "memory");
  Net::InputTensor in;
  for (float& v : in) v = 1.0f;
  const auto out = run(net, in);
  const float expected[] = {4, 6, 4, 6, 9, 6, 4, 6, 4};
  for (int i = 0; i < 9; ++i) CHECK(out[i] == expected[i]);
}

TEST_CASE("Conv2D by hand: channels-last input, two filters", "[reference][conv2d]") {
  // 1x1 kernel over 2 channels is a per-pixel matrix product.
  using Net = Sequential<Input<1, 2, 2>, Conv2D<2, Kernel<1>>>;
  Net net;
  const float weight[] = {1, 10, -1, 2};  // PyTorch [out=2, in=2, 1, 1]
  const float bias[] = {0.5f, 0};
  net.load(std::vector{TensorRef::f32("w", {2, 2, 1, 1}, weight), TensorRef::f32("b", {2}, bias)}, "memory");
  Net::InputTensor in;
  in(0, 0, 0) = 1, in(0, 0, 1) = 2, in(0, 1, 0) = 3, in(0, 1, 1) = 4;
  const auto out = run(net, in);
  CHECK(out(0, 0, 0) == 1 + 20 + 0.5f);
  CHECK(out(0, 0, 1) == -1 + 4);
  CHECK(out(0, 1, 0) == 3 + 40 + 0.5f);
  CHECK(out(0, 1, 1) == -3 + 8);
}

TEST_CASE("Output shapes follow PyTorch's formula", "[reference][shapes]") {
  STATIC_REQUIRE(same_dims_v<Sequential<Input<28, 28, 1>, Conv2D<16, Kernel<3>>>::output_shape, Shape<26, 26, 16>>);
  STATIC_REQUIRE(same_dims_v<Sequential<Input<28, 28, 1>, Conv2D<16, Kernel<3>, Pad::same>>::output_shape, Shape<28, 28, 16>>);
  STATIC_REQUIRE(same_dims_v<Sequential<Input<28, 28, 1>, Conv2D<8, Kernel<5>, Stride<2>, Padding<2>>>::output_shape, Shape<14, 14, 8>>);
  STATIC_REQUIRE(same_dims_v<Sequential<Input<10, 10, 3>, Conv2D<4, Kernel<3>, Dilation<2>>>::output_shape, Shape<6, 6, 4>>);
  STATIC_REQUIRE(same_dims_v<Sequential<Input<7, 7, 3>, DepthwiseConv2D<Kernel<3>, Multiplier<2>, Stride<2>, Pad::same>>::output_shape, Shape<4, 4, 6>>);
  STATIC_REQUIRE(same_dims_v<Sequential<Input<9, 9, 2>, MaxPool2D<3, Stride<2>>>::output_shape, Shape<4, 4, 2>>);
  STATIC_REQUIRE(same_dims_v<Sequential<Input<5, 4, 6>, GlobalAveragePool2D>::output_shape, Shape<6>>);
  STATIC_REQUIRE(same_dims_v<Sequential<Input<12, 3>, Conv1D<4, 3, Stride<2>>>::output_shape, Shape<5, 4>>);
  STATIC_REQUIRE(same_dims_v<Sequential<Input<4, 4, 2>, Flatten>::output_shape, Shape<32>>);
}

TEST_CASE("Special values: NaN propagates, signed zero and infinities behave", "[reference][special]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(std::isnan(activation::Relu::apply(nan)));
  CHECK(std::isnan(activation::Relu6::apply(nan)));
  CHECK(std::isnan(activation::LeakyRelu<1, 100>::apply(nan)));
  CHECK(activation::Relu::apply(inf) == inf);
  CHECK(activation::Relu::apply(-inf) == 0.0f);
  CHECK(activation::Relu6::apply(inf) == 6.0f);
  CHECK(activation::Sigmoid::apply(-inf) == 0.0f);
  CHECK(activation::Sigmoid::apply(inf) == 1.0f);
  CHECK(activation::Tanh::apply(-inf) == -1.0f);
  CHECK(activation::HardSwish::apply(-4.0f) == 0.0f);
  CHECK(activation::HardSwish::apply(4.0f) == 4.0f);
  CHECK(activation::Gelu::apply(0.0f) == 0.0f);
  CHECK(activation::Gelu::apply(-inf) == 0.0f);
  CHECK(std::signbit(activation::Gelu::apply(-inf)));
  CHECK(activation::Gelu::apply(inf) == inf);
  CHECK(std::isnan(activation::Gelu::apply(nan)));

  SECTION("max pooling propagates NaN from any tap") {
    using Net = Sequential<Input<2, 2, 1>, MaxPool2D<2>>;
    Net net;
    Net::InputTensor in;
    in[0] = 1, in[1] = nan, in[2] = 3, in[3] = -inf;
    CHECK(std::isnan(run(net, in)[0]));
    in[1] = -inf;
    CHECK(run(net, in)[0] == 3.0f);
  }
  SECTION("softmax of large logits stays finite and sums to 1; NaN poisons the row") {
    using Net = Sequential<Input<3>, Softmax>;
    Net net;
    Net::InputTensor in;
    in[0] = 1000, in[1] = 1000, in[2] = -1000;
    const auto out = run(net, in);
    CHECK(out[0] == Approx(0.5f));
    CHECK(out[1] == Approx(0.5f));
    CHECK(out[2] == 0.0f);
    in[2] = nan;
    const auto poisoned = run(net, in);
    for (float v : poisoned) CHECK(std::isnan(v));
  }
}
