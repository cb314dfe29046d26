// Layers for ONNX operators an importer needs: Clip, LeakyRelu(alpha), HardSigmoid, Add/Mul by a
// constant (per tensor, per channel, per element) and the pooling attributes (rectangular
// kernels, ceil_mode, count_include_pad, dilations, 1-D pools). Each is compared with a plain
// loop written here from the ONNX definition, bit for bit (same bits, or both NaN): on special
// values (NaN, +-inf, +-0, denormals, the clamping boundaries), every tail length up to three
// AVX-512 vectors, every ISA this CPU has (kernels called with each ISA's tag; the layers run
// isa::Dynamic, which tools/test_isa_matrix.sh repeats per ISA), and fused into Dense/Conv2D
// epilogues against the unfused form.

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../kernels/kernel_test_support.hpp"

using namespace mote;

// Floating-point template arguments (Clip<-0.5f, 1.5f>) need C++20's P1907 (GCC 11+); the
// integer forms are tested everywhere.
#if defined(__cpp_nontype_template_args) && __cpp_nontype_template_args >= 201911L
#define MOTE_TEST_FLOAT_ARGUMENTS 1
#else
#define MOTE_TEST_FLOAT_ARGUMENTS 0
#endif

namespace {

constexpr float inf = std::numeric_limits<float>::infinity();
const float qnan = std::numeric_limits<float>::quiet_NaN();

bool identical(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

/// Special values and the boundaries of the activations below, then random values in
/// [-10, 10] (about 1 in 8 replaced by a special value), `count` in all.
std::vector<float> test_values(std::size_t count, std::uint32_t seed) {
  static const float specials[] = {qnan,  inf,   -inf,  0.0f,  -0.0f,   1e-40f,  -1e-40f, FLT_MAX,
                                   -FLT_MAX, 6.0f, -6.0f, 0.5f,  -0.5f,  1.5f,  2.5f,   -2.5f,
                                   3.0f, -3.0f, 1.0f,  -1.0f, 1e-8f,  -1e-8f};
  std::vector<float> v(specials, specials + std::size(specials));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-10.0f, 10.0f);
  std::uniform_int_distribution<int> pick(0, 8 * static_cast<int>(std::size(specials)));
  while (v.size() < count) {
    const int p = pick(rng);
    v.push_back(p < static_cast<int>(std::size(specials)) ? specials[p] : uniform(rng));
  }
  v.resize(count);
  return v;
}

template <class Net>
typename Net::OutputTensor run(const Net& net, const typename Net::InputTensor& in) {
  typename Net::Workspace workspace;
  typename Net::OutputTensor out;
  net.forward(in, out, workspace);
  return out;
}

template <class Net>
typename Net::InputTensor input_of(const std::vector<float>& values) {
  typename Net::InputTensor in;
  for (std::size_t i = 0; i < Net::input_shape::size; ++i) in[i] = values[i];
  return in;
}

// ---- activations --------------------------------------------------------------------------------

/// The functor F equals `oracle` bit for bit: its scalar form, its vector form on every ISA and
/// every tail length (neighbouring floats untouched), in place, and as a network layer.
template <class Spec, class Oracle>
void check_activation(Oracle oracle) {
  using F = typename Spec::function;
  const std::vector<float> values = test_values(400, 5);
  for (float x : values) {
    INFO("x = " << x << ": " << F::apply(x) << " vs " << oracle(x));
    REQUIRE(identical(F::apply(x), oracle(x)));
  }
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa) {
    for (std::size_t count = 1; count <= 3 * 16 + 3; ++count) {
      for (std::size_t offset : {0, 1, 7}) {
        std::vector<float> out(count + 2, -7.0f);
        const float* in = values.data() + offset;
        kernels::activate(tag, F{}, in, out.data() + 1, count);
        INFO(isa << ", " << count << " values from " << offset);
        REQUIRE(out[0] == -7.0f);
        REQUIRE(out[count + 1] == -7.0f);
        for (std::size_t i = 0; i < count; ++i) {
          INFO("x = " << in[i] << ": " << out[i + 1] << " vs " << oracle(in[i]));
          REQUIRE(identical(out[i + 1], oracle(in[i])));
        }
        std::vector<float> same(in, in + count);  // in place
        kernels::activate(tag, F{}, same.data(), same.data(), count);
        for (std::size_t i = 0; i < count; ++i) REQUIRE(identical(same[i], oracle(in[i])));
      }
    }
  });
  using Net = Sequential<Input<3, 5, 7>, Spec>;
  Net net;
  const auto in = input_of<Net>(values);
  const auto out = run(net, in);
  for (std::size_t i = 0; i < Net::output_shape::size; ++i) REQUIRE(identical(out[i], oracle(in[i])));
}

/// ONNX Clip: x inside [lo, hi] (NaN included) stays, else the bound it crossed.
auto clip_oracle(float lo, float hi) {
  return [=](float x) { return std::isnan(x) || (x >= lo && x <= hi) ? x : (x < lo ? lo : hi); };
}
/// ONNX LeakyRelu: alpha * x below zero.
auto leaky_oracle(float alpha) {
  return [=](float x) { return x >= 0.0f || std::isnan(x) ? x : alpha * x; };
}
/// ONNX HardSigmoid: max(0, min(1, alpha * x + beta)), NaN propagating (as numpy's).
auto hard_sigmoid_oracle(float alpha, float beta) {
  return [=](float x) {
    // Two roundings, as ONNX defines it: GCC would otherwise fuse them into one FMA where the
    // target has FMA by default (AArch64), and the oracle would no longer be ONNX's.
    const float product = MOTE_NO_CONTRACT(alpha * x);
    const float y = product + beta;
    return std::isnan(y) ? y : std::clamp(y, 0.0f, 1.0f);
  };
}

/// Sequential<Input<...>, Weighted, Activation> fuses the activation (the summary says so) and
/// gives the same bits as the weighted layer alone followed by the activation's definition.
template <class InputSpec, class Weighted, class Activation>
void check_fused() {
  using Fused = Sequential<InputSpec, Weighted, Activation>;
  using Plain = Sequential<InputSpec, Weighted>;
  const auto fused = std::make_unique<Fused>();
  const auto plain = std::make_unique<Plain>();
  mote_test::load_random_weights(*fused, 11);
  mote_test::load_random_weights(*plain, 11);
  INFO(Fused::summary());
  REQUIRE(Fused::summary().find("(fused into the previous layer)") != std::string::npos);
  std::vector<float> values = test_values(Fused::input_shape::size + 64, 3);
  for (float& v : values)
    if (!std::isfinite(v) || std::fabs(v) > 1e6f) v = 4.0f;  // keep the products finite
  bool changed = false;
  for (std::size_t shift : {0, 17, 41}) {
    std::vector<float> scaled(values.begin() + static_cast<long>(shift), values.end());
    for (float& v : scaled) v *= 3.0f;  // outputs of a few units: both clamping bounds are hit
    const auto in_fused = input_of<Fused>(scaled);
    const auto in_plain = input_of<Plain>(scaled);
    const auto out = run(*fused, in_fused);
    const auto reference = run(*plain, in_plain);
    for (std::size_t i = 0; i < Fused::output_shape::size; ++i) {
      const float expected = Activation::function::apply(reference[i]);
      INFO("output " << i << ": " << out[i] << " vs " << expected << " (before: " << reference[i] << ")");
      REQUIRE(identical(out[i], expected));
      changed = changed || !identical(expected, reference[i]);
    }
  }
  CHECK(changed);  // the activation did something to some output
}

}  // namespace

TEST_CASE("Clip by hand: bounds, NaN, infinities, signed zero", "[onnx_ops][clip]") {
  using F = Clip<0, 6>::function;
  CHECK(F::apply(-1.0f) == 0.0f);
  CHECK(F::apply(7.0f) == 6.0f);
  CHECK(F::apply(6.0f) == 6.0f);
  CHECK(F::apply(2.5f) == 2.5f);
  CHECK(F::apply(inf) == 6.0f);
  CHECK(F::apply(-inf) == 0.0f);
  CHECK(std::isnan(F::apply(qnan)));
  CHECK(std::signbit(F::apply(-0.0f)));  // -0 is inside [0, 6]: it stays
  CHECK(Clip<0, 6>::function::lo == 0.0f);
  CHECK(Clip<2, 2>::function::apply(-3.0f) == 2.0f);
  CHECK(Clip<-3, 2u>::function::apply(-4.0f) == -3.0f);
  CHECK(Sequential<Input<4>, Clip<0, 6>>::summary().find("Clip<0, 6>") != std::string::npos);
  STATIC_REQUIRE(activation::is_piecewise_linear_v<Clip<0, 6>::function>);
#if MOTE_TEST_FLOAT_ARGUMENTS
  CHECK(Clip<-0.5f, 1.5f>::function::apply(-0.75f) == -0.5f);
  CHECK(Clip<-0.5f, 1.5f>::function::apply(1.75f) == 1.5f);
  CHECK(Clip<-0.5, 1.5>::function::hi == 1.5f);  // doubles are converted to float
  CHECK(Clip<-inf, 6.0f>::function::apply(-1e30f) == -1e30f);  // an open side
  CHECK(Sequential<Input<4>, Clip<-0.5f, 1.5f>>::summary().find("Clip<-0.5, 1.5>") != std::string::npos);
#endif
}

TEST_CASE("Clip equals ONNX's definition on every ISA and tail", "[onnx_ops][clip]") {
  SECTION("Clip<0, 6>") { check_activation<Clip<0, 6>>(clip_oracle(0.0f, 6.0f)); }
  SECTION("Clip<-3, -3>") { check_activation<Clip<-3, -3>>(clip_oracle(-3.0f, -3.0f)); }
  SECTION("Clip<-1, 2>") { check_activation<Clip<-1, 2>>(clip_oracle(-1.0f, 2.0f)); }
#if MOTE_TEST_FLOAT_ARGUMENTS
  SECTION("Clip<-0.5f, 1.5f>") { check_activation<Clip<-0.5f, 1.5f>>(clip_oracle(-0.5f, 1.5f)); }
  SECTION("Clip<-inf, 1.0f>") { check_activation<Clip<-inf, 1.0f>>(clip_oracle(-inf, 1.0f)); }
#endif
}

TEST_CASE("LeakyReLUAlpha equals ONNX LeakyRelu on every ISA and tail", "[onnx_ops][leaky_relu]") {
  using F = LeakyReLUAlpha<-2>::function;
  CHECK(F::apply(-2.0f) == 4.0f);
  CHECK(F::apply(3.0f) == 3.0f);
  CHECK(F::apply(-inf) == inf);
  CHECK(std::isnan(F::apply(qnan)));
  CHECK(std::signbit(F::apply(-0.0f)));  // -0 is not below 0: it stays -0 (-0 * -2 would be +0)
  CHECK(std::signbit(LeakyReLUAlpha<0>::function::apply(-0.0f)));
  CHECK(Sequential<Input<4>, LeakyReLUAlpha<-2>>::summary().find("LeakyReLU<-2>") != std::string::npos);
  SECTION("alpha 0 (an int)") { check_activation<LeakyReLUAlpha<0>>(leaky_oracle(0.0f)); }
#if MOTE_TEST_FLOAT_ARGUMENTS
  CHECK(LeakyReLUAlpha<0.1f>::function::apply(-2.0f) == -2.0f * 0.1f);
  CHECK(Sequential<Input<4>, LeakyReLUAlpha<0.1f>>::summary().find("LeakyReLU<0.1>") != std::string::npos);
  SECTION("alpha 0.1f") { check_activation<LeakyReLUAlpha<0.1f>>(leaky_oracle(0.1f)); }
  SECTION("alpha 0.01 (a double)") { check_activation<LeakyReLUAlpha<0.01>>(leaky_oracle(0.01f)); }
#endif
  SECTION("alpha -2") { check_activation<LeakyReLUAlpha<-2>>(leaky_oracle(-2.0f)); }
  SECTION("the existing LeakyReLU is unchanged") {
    CHECK(LeakyReLU::function::apply(-100.0f) == -100.0f * (1.0f / 100.0f));
  }
}

TEST_CASE("HardSigmoid equals ONNX HardSigmoid on every ISA and tail", "[onnx_ops][hard_sigmoid]") {
  using F = HardSigmoid::function;
  CHECK(F::alpha == 0.2f);
  CHECK(F::beta == 0.5f);
  CHECK(F::apply(0.0f) == 0.5f);
  CHECK(F::apply(1.0f) == 0.2f * 1.0f + 0.5f);
  CHECK(F::apply(2.5f) == 1.0f);
  CHECK(F::apply(-2.5f) == 0.0f);
  CHECK(F::apply(100.0f) == 1.0f);
  CHECK(F::apply(inf) == 1.0f);
  CHECK(F::apply(-inf) == 0.0f);
  CHECK(std::isnan(F::apply(qnan)));
  CHECK(HardSigmoidWith<1, 0>::function::apply(0.25f) == 0.25f);  // integers are accepted
  CHECK(Sequential<Input<4>, HardSigmoid>::summary().find("HardSigmoid<0.2, 0.5>") != std::string::npos);
  SECTION("defaults") { check_activation<HardSigmoid>(hard_sigmoid_oracle(0.2f, 0.5f)); }
  SECTION("integers") { check_activation<HardSigmoidWith<-3, 1>>(hard_sigmoid_oracle(-3.0f, 1.0f)); }
#if MOTE_TEST_FLOAT_ARGUMENTS
  CHECK(HardSigmoidWith<1.0f / 6, 0.5f>::function::apply(3.0f) == 1.0f);
  CHECK(HardSigmoidWith<1.0f / 6, 0.5f>::function::apply(-3.0f) == 0.0f);
  SECTION("PyTorch's 1/6, 0.5") {
    check_activation<HardSigmoidWith<1.0f / 6, 0.5f>>(hard_sigmoid_oracle(1.0f / 6, 0.5f));
  }
  SECTION("negative slope") { check_activation<HardSigmoidWith<-0.3f, 0.25f>>(hard_sigmoid_oracle(-0.3f, 0.25f)); }
#endif
}

TEST_CASE("Clip, LeakyReLUAlpha and HardSigmoid fuse into Dense and Conv2D bit-exactly", "[onnx_ops][fusion]") {
  SECTION("Dense<5>, Clip<0, 6>") { check_fused<Input<13>, Dense<5>, Clip<0, 6>>(); }
  SECTION("Dense<37>, Clip<-1, 1> (tails)") { check_fused<Input<29>, Dense<37>, Clip<-1, 1>>(); }
  SECTION("Dense<19>, HardSigmoid") { check_fused<Input<13>, Dense<19>, HardSigmoid>(); }
  SECTION("Dense<19>, LeakyReLUAlpha<-2>") { check_fused<Input<13>, Dense<19>, LeakyReLUAlpha<-2>>(); }
  SECTION("Conv2D, Clip<0, 6>") { check_fused<Input<6, 5, 4>, Conv2D<7, Kernel<3>, Pad::same>, Clip<0, 6>>(); }
  SECTION("Conv2D, HardSigmoid") { check_fused<Input<6, 5, 4>, Conv2D<18, Kernel<3>, Stride<2>>, HardSigmoid>(); }
#if MOTE_TEST_FLOAT_ARGUMENTS
  SECTION("Dense<37>, Clip<-0.5f, 1.5f> (tails)") { check_fused<Input<29>, Dense<37>, Clip<-0.5f, 1.5f>>(); }
  SECTION("Dense<19>, LeakyReLUAlpha<0.1f>") { check_fused<Input<13>, Dense<19>, LeakyReLUAlpha<0.1f>>(); }
  SECTION("Conv2D, HardSigmoidWith<1/6, 1/2>") {
    check_fused<Input<6, 5, 4>, Conv2D<18, Kernel<3>, Stride<2>>, HardSigmoidWith<1.0f / 6, 0.5f>>();
  }
  SECTION("DepthwiseConv2D, LeakyReLUAlpha<-0.25f>") {
    check_fused<Input<6, 5, 20>, DepthwiseConv2D<Kernel<3>, Pad::same>, LeakyReLUAlpha<-0.25f>>();
  }
#endif
  SECTION("int8 Dense, Clip<-1, 1> (the scalar epilogue of piecewise-linear activations)") {
    check_fused<Input<23>, Dense<21, Weights<Int8<>>>, Clip<-1, 1>>();
  }
}

// ---- constant element-wise layers -----------------------------------------------------------------

namespace {

template <class Spec, class InputSpec>
using BoundOf = typename Spec::template bind<typename InputSpec::shape, LayerPath<0>>;

/// Sequential<InputSpec, Spec> with `value` loaded equals `oracle(x, value[index])` where index
/// is 0 (PerTensor), the channel (PerChannel) or the element (PerElement).
template <class InputSpec, class Spec, class Op>
void check_constant(Op op) {
  using Net = Sequential<InputSpec, Spec>;
  using Layer = BoundOf<Spec, InputSpec>;
  using In = typename InputSpec::shape;
  const std::size_t count = Layer::value_count;
  std::vector<float> value = test_values(count + 5, 9);
  value.erase(value.begin(), value.begin() + 5);  // not NaN first: PerTensor gets +-0 or a number
  if (count == 1) value[0] = -2.5f;
  const std::vector<float> values = test_values(In::size + 3, 1);
  std::vector<float> shifted(values.begin() + 3, values.end());  // specials meet other specials
  INFO(Net::summary() << "row " << Layer::row);
  const auto net = std::make_unique<Net>();
  const auto in = input_of<Net>(shifted);
  {  // before loading: the exact identity
    const auto out = run(*net, in);
    for (std::size_t i = 0; i < In::size; ++i) REQUIRE(identical(out[i], in[i]));
  }
  net->load(std::vector{TensorRef::f32("value", {count}, value.data())}, "memory");
  const auto out = run(*net, in);
  for (std::size_t i = 0; i < In::size; ++i) {
    const std::size_t index = count == 1 ? 0 : count == In::size ? i : i % count;
    const float expected = op(in[i], value[index]);
    INFO("element " << i << ": " << in[i] << " and " << value[index] << " gave " << out[i] << ", expected "
                    << expected);
    REQUIRE(identical(out[i], expected));
  }
  CHECK(net->weight_bytes() >= count * sizeof(float));
  // A mis-shaped value is refused and leaves the layer as it was.
  const std::vector<float> wrong(count + 1, 1.0f);
  const Status status = net->try_load(std::vector{TensorRef::f32("value", {count + 1}, wrong.data())}, "memory");
  CHECK_FALSE(static_cast<bool>(status));
  const auto again = run(*net, in);
  for (std::size_t i = 0; i < In::size; ++i) REQUIRE(identical(again[i], out[i]));
}

const auto add = [](float x, float v) { return x + v; };
const auto multiply = [](float x, float v) { return x * v; };

}  // namespace

TEST_CASE("AddConstant and MulConstant: parameters and descriptions", "[onnx_ops][constant]") {
  using AddC = BoundOf<AddConstant<PerChannel>, Input<3, 5, 7>>;
  using MulT = BoundOf<MulConstant<PerTensor>, Input<3, 5, 7>>;
  using AddE = BoundOf<AddConstant<PerElement>, Input<3, 5, 7>>;
  STATIC_REQUIRE(WeightedLayer<AddC>);
  STATIC_REQUIRE(AddC::in_place);
  STATIC_REQUIRE(AddC::param_count == 1);
  CHECK(std::string(AddC::param_spec(0).name) == "value");
  CHECK(AddC::param_spec(0).shape_string() == "[7]");
  CHECK(MulT::param_spec(0).shape_string() == "[1]");
  CHECK(AddE::param_spec(0).shape_string() == "[105]");
  CHECK(AddC::describe() == "AddConstant<per channel>");
  CHECK(MulT::describe() == "MulConstant<per tensor>");
  CHECK(AddE::describe() == "AddConstant<per element>");
  STATIC_REQUIRE(AddC::row == 105);  // 7 channels x 15 pixels
  STATIC_REQUIRE(BoundOf<MulConstant<PerTensor>, Input<64, 64, 3>>::row == 1024);
  STATIC_REQUIRE(BoundOf<MulConstant<PerChannel>, Input<28, 28, 3>>::row == 588);
  STATIC_REQUIRE(BoundOf<MulConstant<PerChannel>, Input<2, 2000>>::row == 2000);
  const auto net = std::make_unique<Sequential<Input<3, 5, 7>, AddConstant<PerElement>>>();
  CHECK(net->weight_bytes() == 105 * sizeof(float));
  const auto parameters = Sequential<Input<7>, Dense<4>, AddConstant<PerChannel>>::parameters();
  REQUIRE(parameters.size() == 3);
  CHECK(parameters[2].name == "1.value");
}

TEST_CASE("AddConstant equals x + value, per tensor, channel and element", "[onnx_ops][constant]") {
  SECTION("per tensor") { check_constant<Input<3, 5, 7>, AddConstant<PerTensor>>(add); }
  SECTION("per channel") { check_constant<Input<3, 5, 7>, AddConstant<PerChannel>>(add); }
  SECTION("per element") { check_constant<Input<3, 5, 7>, AddConstant<PerElement>>(add); }
  SECTION("per channel of a vector") { check_constant<Input<53>, AddConstant<PerChannel>>(add); }
  SECTION("per channel, 37 channels") { check_constant<Input<4, 37>, AddConstant<PerChannel>>(add); }
  SECTION("per tensor, a prime size") { check_constant<Input<1031>, AddConstant<PerTensor>>(add); }
}

TEST_CASE("MulConstant equals x * value, per tensor, channel and element", "[onnx_ops][constant]") {
  SECTION("per tensor") { check_constant<Input<3, 5, 7>, MulConstant<PerTensor>>(multiply); }
  SECTION("per channel") { check_constant<Input<3, 5, 7>, MulConstant<PerChannel>>(multiply); }
  SECTION("per element") { check_constant<Input<3, 5, 7>, MulConstant<PerElement>>(multiply); }
  SECTION("per channel, 3 channels") { check_constant<Input<9, 11, 3>, MulConstant<PerChannel>>(multiply); }
  SECTION("per element, 1-D") { check_constant<Input<67, 2>, MulConstant<PerElement>>(multiply); }
  SECTION("signed zero by hand") {
    using Net = Sequential<Input<4>, MulConstant<PerTensor>>;
    Net net;
    const float minus_one = -1.0f;
    net.load(std::vector{TensorRef::f32("value", {1}, &minus_one)}, "memory");
    Net::InputTensor in;
    in[0] = 0.0f, in[1] = -0.0f, in[2] = inf, in[3] = qnan;
    const auto out = run(net, in);
    CHECK((out[0] == 0.0f && std::signbit(out[0])));
    CHECK((out[1] == 0.0f && !std::signbit(out[1])));
    CHECK(out[2] == -inf);
    CHECK(std::isnan(out[3]));
  }
}

// ---- pooling ------------------------------------------------------------------------------------

namespace {

/// A pooling configuration in ONNX terms (pads: top, left, bottom, right).
struct PoolCase {
  std::size_t h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  bool ceil = false, count_pad = false;
};

/// ONNX's output size: floor or ceil of (in + pads - extent) / stride + 1, ceil mode dropping a
/// last window that would start in the trailing padding.
std::size_t pooled_size(std::size_t in, std::size_t k, std::size_t s, std::size_t d, std::size_t before,
                        std::size_t after, bool ceil) {
  const double steps = static_cast<double>(in + before + after - (d * (k - 1) + 1)) / static_cast<double>(s);
  std::size_t n = static_cast<std::size_t>(ceil ? std::ceil(steps) : std::floor(steps)) + 1;
  if (ceil && (n - 1) * s >= in + before) --n;
  return n;
}

/// Max: the largest tap inside the input, NaN winning. Average: the taps inside the padded input
/// (count_pad: padded ones as +0) or inside the input, summed in row-major order, times
/// 1.0f / their number (mote multiplies by the reciprocal; ONNX Runtime divides: at most an
/// ulp apart). Taps past the padded input (ceil mode's overhang) never count.
std::vector<float> pool_oracle(const PoolCase& p, bool max, const std::vector<float>& in, std::size_t& out_h,
                               std::size_t& out_w) {
  out_h = pooled_size(p.h, p.kh, p.sh, p.dh, p.pt, p.pb, p.ceil);
  out_w = pooled_size(p.w, p.kw, p.sw, p.dw, p.pl, p.pr, p.ceil);
  std::vector<float> out(out_h * out_w * p.c);
  for (std::size_t oy = 0; oy < out_h; ++oy)
    for (std::size_t ox = 0; ox < out_w; ++ox)
      for (std::size_t ch = 0; ch < p.c; ++ch) {
        float best = -inf, sum = 0.0f;
        std::size_t taps = 0;
        for (std::size_t ky = 0; ky < p.kh; ++ky)
          for (std::size_t kx = 0; kx < p.kw; ++kx) {
            const long y = static_cast<long>(oy * p.sh + ky * p.dh) - static_cast<long>(p.pt);
            const long x = static_cast<long>(ox * p.sw + kx * p.dw) - static_cast<long>(p.pl);
            const bool inside = y >= 0 && y < static_cast<long>(p.h) && x >= 0 && x < static_cast<long>(p.w);
            const bool padded = y >= -static_cast<long>(p.pt) && y < static_cast<long>(p.h + p.pb) &&
                                x >= -static_cast<long>(p.pl) && x < static_cast<long>(p.w + p.pr);
            const float v = inside ? in[(static_cast<std::size_t>(y) * p.w + static_cast<std::size_t>(x)) * p.c + ch]
                                   : 0.0f;
            if (max) {
              if (inside && !std::isnan(best) && (std::isnan(v) || v > best)) best = v;
            } else if (inside || (p.count_pad && padded)) {
              sum += v;
              ++taps;
            }
          }
        out[(oy * out_w + ox) * p.c + ch] = max ? best : sum * (1.0f / static_cast<float>(taps));
      }
  return out;
}

/// A pooling network on random input with special values: its output shape and values equal the
/// oracle's; and the bound layer's kernel call on every ISA too (without CountPad's padding).
template <class InputSpec, class Spec>
void check_pool(const PoolCase& p, bool max) {
  using Net = Sequential<InputSpec, Spec>;
  using Layer = BoundOf<Spec, InputSpec>;
  INFO(Net::summary());
  const std::vector<float> values = test_values(Net::input_shape::size + 11, 21);
  std::vector<float> in(values.begin() + 11, values.end());
  std::size_t out_h = 0, out_w = 0;
  const std::vector<float> expected = pool_oracle(p, max, in, out_h, out_w);
  using Out = typename Net::output_shape;
  REQUIRE(Out::size == expected.size());
  REQUIRE(Out::dims[Out::rank - 1] == p.c);
  REQUIRE(Out::dims[Out::rank - 2] == out_w);
  if constexpr (Out::rank == 3) REQUIRE(Out::dims[0] == out_h);
  const auto net = std::make_unique<Net>();
  const auto out = run(*net, input_of<Net>(in));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("output " << i << ": " << out[i] << " vs " << expected[i]);
    REQUIRE(identical(out[i], expected[i]));
  }
  if (!p.count_pad || p.pt + p.pl + p.pb + p.pr == 0) {
    mote_test::for_each_simd_isa([&](auto tag, const std::string& isa) {
      std::vector<float> actual(expected.size() + 1, -7.0f);
      if (max) kernels::max_pool2d(tag, Layer::geometry(), in.data(), actual.data());
      else kernels::avg_pool2d(tag, Layer::geometry(), in.data(), actual.data());
      INFO(isa);
      REQUIRE(actual.back() == -7.0f);
      for (std::size_t i = 0; i < expected.size(); ++i) REQUIRE(identical(actual[i], expected[i]));
    });
  }
}

/// 1, 2, ..., n as an input tensor.
template <class Net>
typename Net::InputTensor counting() {
  typename Net::InputTensor in;
  for (std::size_t i = 0; i < Net::input_shape::size; ++i) in[i] = static_cast<float>(i + 1);
  return in;
}

template <class Net>
std::vector<float> outputs(const Net& net, const typename Net::InputTensor& in) {
  const auto out = run(net, in);
  return std::vector<float>(out.begin(), out.end());
}

}  // namespace

TEST_CASE("Pooling by hand: ONNX's ceil_mode, dilations and count_include_pad examples", "[onnx_ops][pool]") {
  SECTION("ONNX maxpool_2d_ceil: 4x4 counting, kernel 3, stride 2, ceil") {
    using Net = Sequential<Input<4, 4, 1>, MaxPool2D<3, Stride<2>, CeilMode>>;
    CHECK(outputs(Net{}, counting<Net>()) == std::vector<float>{11, 12, 15, 16});
  }
  SECTION("ONNX averagepool_2d_ceil: the windows past the end are clipped") {
    using Net = Sequential<Input<4, 4, 1>, AvgPool2D<3, Stride<2>, CeilMode>>;
    CHECK(outputs(Net{}, counting<Net>()) == std::vector<float>{6, 7.5f, 12, 13.5f});
  }
  SECTION("ONNX maxpool_2d_dilations: kernel 2, stride 1, dilation 2") {
    using Net = Sequential<Input<4, 4, 1>, MaxPool2D<2, Stride<1>, Dilation<2>>>;
    CHECK(outputs(Net{}, counting<Net>()) == std::vector<float>{11, 12, 15, 16});
  }
  SECTION("count_include_pad: 3x3 counting, kernel 3, padding 1") {
    using Counted = Sequential<Input<3, 3, 1>, AvgPool2D<3, Stride<1>, Padding<1>, CountPad>>;
    using Excluded = Sequential<Input<3, 3, 1>, AvgPool2D<3, Stride<1>, Padding<1>>>;
    const auto counted = outputs(Counted{}, counting<Counted>());
    const auto excluded = outputs(Excluded{}, counting<Excluded>());
    CHECK(counted[0] == (1 + 2 + 4 + 5) * (1.0f / 9));
    CHECK(excluded[0] == (1 + 2 + 4 + 5) * (1.0f / 4));
    CHECK(counted[4] == 45 * (1.0f / 9));
    CHECK(excluded[4] == counted[4]);
    CHECK(counted[8] == (5 + 6 + 8 + 9) * (1.0f / 9));
    STATIC_REQUIRE(Counted::workspace_bytes >= 5 * 5 * sizeof(float));  // the zero-padded copy
  }
  SECTION("1-D, ceil mode: L = 5, kernel 2, stride 2") {
    using Max = Sequential<Input<5, 1>, MaxPool1D<2, CeilMode>>;
    using Avg = Sequential<Input<5, 1>, AvgPool1D<2, CeilMode>>;
    CHECK(outputs(Max{}, counting<Max>()) == std::vector<float>{2, 4, 5});
    CHECK(outputs(Avg{}, counting<Avg>()) == std::vector<float>{1.5f, 3.5f, 5});
  }
  SECTION("1-D, ceil mode and count_include_pad: the overhang past the padding does not count") {
    // L = 4, padding 1, kernel 3, stride 2: windows over [-1, 1], [1, 3], [3, 5]; tap 4 is
    // padding (counted), tap 5 lies past the padded input (not counted).
    using Counted = Sequential<Input<4, 1>, AvgPool1D<3, Stride<2>, Padding<1>, CeilMode, CountPad>>;
    using Excluded = Sequential<Input<4, 1>, AvgPool1D<3, Stride<2>, Padding<1>, CeilMode>>;
    CHECK(outputs(Counted{}, counting<Counted>()) == std::vector<float>{3 * (1.0f / 3), 9 * (1.0f / 3), 4 * 0.5f});
    CHECK(outputs(Excluded{}, counting<Excluded>()) == std::vector<float>{1.5f, 3, 4});
  }
  SECTION("ceil mode drops a window that would start in the trailing padding") {
    // L = 5, padding 1/1, kernel 2, stride 2: ceil((7 - 2) / 2) + 1 = 4, but the 4th window
    // would start at 6 - 1 = 5, past the input: 3 outputs.
    using Net = Sequential<Input<5, 1>, AvgPool1D<2, Stride<2>, Padding<1>, CeilMode, CountPad>>;
    CHECK(outputs(Net{}, counting<Net>()) == std::vector<float>{0.5f, 2.5f, 4.5f});
  }
  SECTION("descriptions") {
    CHECK(BoundOf<MaxPool2D<3, Kernel<3, 2>, Stride<2>, Padding<1, 0, 1, 0>, CeilMode>, Input<7, 6, 5>>::describe() ==
          "MaxPool2D<3x2, stride 2, padding 1/0/1/0, ceil mode>");
    CHECK(BoundOf<AvgPool1D<3, Stride<2>, Padding<1, 2>, CountPad>, Input<9, 4>>::describe() ==
          "AvgPool1D<3, stride 2, padding 1/2, count pad>");
    CHECK(BoundOf<MaxPool2D<2>, Input<4, 4, 1>>::describe() == "MaxPool2D<2>");
    CHECK(BoundOf<MaxPool2D<3, Stride<2>>, Input<9, 9, 1>>::describe() == "MaxPool2D<3, stride 2>");
  }
}

namespace {
template <class InputSpec, class Spec, class Expected>
inline constexpr bool pools_to_v = same_dims_v<typename Sequential<InputSpec, Spec>::output_shape, Expected>;
}  // namespace

TEST_CASE("Pooling shapes follow ONNX's formulas", "[onnx_ops][pool]") {
  using Rect = MaxPool2D<3, Kernel<3, 2>, Stride<2>, Padding<1, 0, 1, 0>>;
  using RectCeil = MaxPool2D<3, Kernel<3, 2>, Stride<2>, Padding<1, 0, 1, 0>, CeilMode>;
  STATIC_REQUIRE(pools_to_v<Input<7, 6, 5>, RectCeil, Shape<4, 3, 5>>);
  STATIC_REQUIRE(pools_to_v<Input<7, 6, 5>, Rect, Shape<4, 3, 5>>);
  STATIC_REQUIRE(pools_to_v<Input<8, 7, 5>, RectCeil, Shape<5, 4, 5>>);
  STATIC_REQUIRE(pools_to_v<Input<8, 7, 5>, Rect, Shape<4, 3, 5>>);
  STATIC_REQUIRE(pools_to_v<Input<6, 6, 1>, MaxPool2D<3, Stride<2>, CeilMode>, Shape<3, 3, 1>>);
  STATIC_REQUIRE(pools_to_v<Input<6, 6, 1>, MaxPool2D<3, Stride<2>>, Shape<2, 2, 1>>);
  STATIC_REQUIRE(pools_to_v<Input<10, 3>, MaxPool1D<3, Stride<2>, Padding<1>>, Shape<5, 3>>);
  STATIC_REQUIRE(pools_to_v<Input<10, 3>, AvgPool1D<2>, Shape<5, 3>>);
  STATIC_REQUIRE(pools_to_v<Input<9, 9, 2>, MaxPool2D<2, Dilation<2>, Stride<1>>, Shape<7, 7, 2>>);
  STATIC_REQUIRE(pools_to_v<Input<8, 9, 3>, MaxPool2D<2, Kernel<2, 3>, Stride<1, 2>, Pad::same>, Shape<8, 5, 3>>);
}

TEST_CASE("Pooling with the ONNX attributes equals a plain loop", "[onnx_ops][pool]") {
  // PoolCase: h, w, c, kh, kw, sh, sw, dh, dw, pad top, left, bottom, right, ceil, count_pad.
  SECTION("max 3x2, stride 2, pads 1/0/1/0, ceil") {
    check_pool<Input<7, 6, 5>, MaxPool2D<3, Kernel<3, 2>, Stride<2>, Padding<1, 0, 1, 0>, CeilMode>>(
        {7, 6, 5, 3, 2, 2, 2, 1, 1, 1, 0, 1, 0, true, false}, true);
  }
  SECTION("avg 3x2, stride 2, pads 1/0/1/0, ceil") {
    check_pool<Input<7, 6, 5>, AvgPool2D<3, Kernel<3, 2>, Stride<2>, Padding<1, 0, 1, 0>, CeilMode>>(
        {7, 6, 5, 3, 2, 2, 2, 1, 1, 1, 0, 1, 0, true, false}, false);
  }
  SECTION("avg 3x2, stride 2, pads 1/0/1/0, ceil, count pad") {
    check_pool<Input<7, 6, 5>, AvgPool2D<3, Kernel<3, 2>, Stride<2>, Padding<1, 0, 1, 0>, CeilMode, CountPad>>(
        {7, 6, 5, 3, 2, 2, 2, 1, 1, 1, 0, 1, 0, true, true}, false);
  }
  SECTION("avg 3, stride 2, padding 1, count pad, 19 channels") {
    check_pool<Input<6, 6, 19>, AvgPool2D<3, Stride<2>, Padding<1>, CountPad>>(
        {6, 6, 19, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, true}, false);
  }
  SECTION("avg 2, stride 2, ceil, count pad without padding: nothing to count") {
    check_pool<Input<5, 5, 3>, AvgPool2D<2, CeilMode, CountPad>>({5, 5, 3, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, true, true},
                                                                 false);
  }
  SECTION("max 2, dilation 2, stride 1, 17 channels") {
    check_pool<Input<9, 8, 17>, MaxPool2D<2, Stride<1>, Dilation<2>>>({9, 8, 17, 2, 2, 1, 1, 2, 2, 0, 0, 0, 0}, true);
  }
  SECTION("max 2x3, stride 1x2, dilation 2x1, same padding, 33 channels") {
    // Pad::same: out = ceil(in / stride); total vertical padding (8-1)*1 + 3 - 8 = 2 (1/1),
    // horizontal (5-1)*2 + 3 - 9 = 2 (1/1).
    check_pool<Input<8, 9, 33>, MaxPool2D<2, Kernel<2, 3>, Stride<1, 2>, Dilation<2, 1>, Pad::same>>(
        {8, 9, 33, 2, 3, 1, 2, 2, 1, 1, 1, 1, 1}, true);
  }
  SECTION("max 3, dilation 2, stride 2, padding 2, ceil") {
    check_pool<Input<7, 8, 9>, MaxPool2D<3, Stride<2>, Dilation<2>, Padding<2>, CeilMode>>(
        {7, 8, 9, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, true, false}, true);
  }
  SECTION("avg 3, dilation 2, stride 2, padding 2, ceil, count pad") {
    check_pool<Input<7, 8, 9>, AvgPool2D<3, Stride<2>, Dilation<2>, Padding<2>, CeilMode, CountPad>>(
        {7, 8, 9, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, true, true}, false);
  }
  SECTION("1-D max 3, stride 2, padding 1, ceil") {
    check_pool<Input<10, 6>, MaxPool1D<3, Stride<2>, Padding<1>, CeilMode>>(
        {1, 10, 6, 1, 3, 1, 2, 1, 1, 0, 1, 0, 1, true}, true);
  }
  SECTION("1-D avg 3, stride 2, padding 1/2, ceil, count pad") {
    check_pool<Input<10, 6>, AvgPool1D<3, Stride<2>, Padding<1, 2>, CeilMode, CountPad>>(
        {1, 10, 6, 1, 3, 1, 2, 1, 1, 0, 1, 0, 2, true, true}, false);
  }
  SECTION("1-D avg 4, stride 3, dilation 2, 35 channels") {
    check_pool<Input<17, 35>, AvgPool1D<4, Stride<3>, Dilation<2>>>({1, 17, 35, 1, 4, 1, 3, 1, 2, 0, 0, 0, 0}, false);
  }
  SECTION("1-D max 2 with Kernel<2>") {
    check_pool<Input<8, 2>, MaxPool1D<2, Kernel<2>>>({1, 8, 2, 1, 2, 1, 2, 1, 1, 0, 0, 0, 0}, true);
  }
}
