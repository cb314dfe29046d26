// The ONNX lowering (mote/onnx/plan.hpp) on the ONNX backend's node models: the layer specs it
// chooses, the layouts at the boundary, and how it refuses what mote cannot run. The end-to-end
// checks (generated networks against the test data) are the onnx_node.* and onnx_model.* tests.

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include <mote/mote.hpp>
#include <mote/onnx.hpp>

namespace {

const std::string node_dir = "/usr/share/libonnx-testdata/data/node/";

bool have_node_tests() { return std::filesystem::exists(node_dir + "test_relu/model.onnx"); }

mote::io::onnx::Model read(const std::string& test) {
  auto model = mote::io::onnx::try_read_model_file(node_dir + test + "/model.onnx");
  INFO((model ? std::string() : model.error().message));
  REQUIRE(model);
  return std::move(*model);
}

/// Binds every runtime input but the first to its test data, as mote-onnx --node-tests does.
mote::onnx::PlanOptions constants_from_data(const std::string& test, const mote::io::onnx::Model& model) {
  mote::onnx::PlanOptions options;
  auto inputs = model.graph.runtime_inputs();
  for (std::size_t k = 1; k < inputs.size(); ++k) {
    auto tensor = mote::io::onnx::try_read_tensor_proto_file(node_dir + test + "/test_data_set_0/input_" + std::to_string(k) + ".pb");
    REQUIRE(tensor);
    options.constant_inputs[inputs[k]->name] = std::move(*tensor);
  }
  return options;
}

}  // namespace

TEST_CASE("ONNX plan: Conv with strides and asymmetric pads becomes a channels-last Conv2D", "[onnx_plan]") {
  if (!have_node_tests()) FAIL("needs the ONNX node tests: run `apt-get install libonnx-testdata` (tools/test.sh does)");
  const auto model = read("test_conv_with_strides_and_asymmetric_padding");
  auto plan = mote::onnx::try_plan(model, constants_from_data("test_conv_with_strides_and_asymmetric_padding", model));
  REQUIRE(plan);
  REQUIRE(plan->layers.size() == 1);
  CHECK(plan->layers[0].spec == "mote::Conv2D<1, mote::Kernel<3, 3>, mote::Stride<2, 2>, mote::Padding<1, 0, 1, 0>>");
  CHECK(plan->channels_first);
  CHECK(plan->input_shape == std::vector<std::size_t>{7, 5, 1});
  CHECK(plan->layers[0].out_shape == std::vector<std::size_t>{4, 2, 1});
  REQUIRE(plan->layers[0].params.size() == 2);
  CHECK(plan->layers[0].params[0].shape == std::vector<std::size_t>{1, 1, 3, 3});
  CHECK(plan->layers[0].params[1].values == std::vector<float>{0.0f});  // no bias input: zeros
}

TEST_CASE("ONNX plan: idioms and attribute values map to mote specs", "[onnx_plan]") {
  if (!have_node_tests()) FAIL("needs the ONNX node tests: run `apt-get install libonnx-testdata` (tools/test.sh does)");
  auto spec_of = [](const std::string& test) {
    const auto model = read(test);
    auto plan = mote::onnx::try_plan(model, constants_from_data(test, model));
    INFO(test << ": " << (plan ? std::string() : plan.error().message));
    REQUIRE(plan);
    return plan->layers.at(0).spec;
  };
  CHECK(spec_of("test_leakyrelu") == "mote::LeakyReLUSlope<1, 10>");  // alpha 0.1: a decimal fraction
  CHECK(spec_of("test_clip_splitbounds") == "mote::Clip<-5, 5>");  // min and max are inputs bound from the data
  CHECK(spec_of("test_maxpool_2d_ceil") == "mote::MaxPool2D<3, mote::Stride<2, 2>, mote::CeilMode>");
  CHECK(spec_of("test_averagepool_2d_pads_count_include_pad") ==
        "mote::AvgPool2D<3, mote::Stride<1, 1>, mote::Padding<2, 2, 2, 2>, mote::CountPad>");
  CHECK(spec_of("test_add_bcast") == "mote::AddConstant<mote::PerChannel>");
  CHECK(spec_of("test_hardsigmoid_default") == "mote::HardSigmoid");
}

TEST_CASE("ONNX plan: unsupported ops are all listed with their nodes", "[onnx_plan]") {
  if (!have_node_tests()) FAIL("needs the ONNX node tests: run `apt-get install libonnx-testdata` (tools/test.sh does)");
  const auto model = read("test_resize_downsample_scales_cubic");
  auto plan = mote::onnx::try_plan(model);
  REQUIRE_FALSE(plan);
  CHECK(plan.error().code == mote::ErrorCode::unsupported);
  CHECK(plan.error().message.find("1 node(s) use ops mote does not import") != std::string::npos);
  CHECK(plan.error().message.find("Resize node") != std::string::npos);
}

TEST_CASE("ONNX plan: refusals name the node and the reason", "[onnx_plan]") {
  if (!have_node_tests()) FAIL("needs the ONNX node tests: run `apt-get install libonnx-testdata` (tools/test.sh does)");
  {  // weights fed as a second input and not bound: two inputs
    auto plan = mote::onnx::try_plan(read("test_add"));
    REQUIRE_FALSE(plan);
    CHECK(plan.error().message.find("mote networks take one input; the graph has 2") != std::string::npos);
  }
  {  // transA
    const auto model = read("test_gemm_transposeA");
    auto plan = mote::onnx::try_plan(model, constants_from_data("test_gemm_transposeA", model));
    REQUIRE_FALSE(plan);
    CHECK(plan.error().message.find("Gemm node #0: transA = 1") != std::string::npos);
  }
  {  // softmax over a middle axis (opset 13)
    auto plan = mote::onnx::try_plan(read("test_softmax_axis_1"));
    REQUIRE_FALSE(plan);
    CHECK(plan.error().message.find("softmax over axis 1 of [3, 4, 5]") != std::string::npos);
  }
  {  // random dropout
    const auto model = read("test_training_dropout");
    auto plan = mote::onnx::try_plan(model, constants_from_data("test_training_dropout", model));
    REQUIRE_FALSE(plan);
    CHECK(plan.error().message.find("random dropout") != std::string::npos);
  }
}

TEST_CASE("ONNX plan: a network type checked against a plan names both shapes", "[onnx_plan]") {
  if (!have_node_tests()) FAIL("needs the ONNX node tests: run `apt-get install libonnx-testdata` (tools/test.sh does)");
  const auto model = read("test_conv_with_strides_padding");
  auto plan = mote::onnx::try_plan(model, constants_from_data("test_conv_with_strides_padding", model));
  REQUIRE(plan);
  using Right = mote::Sequential<mote::Input<7, 5, 1>, mote::Conv2D<1, mote::Kernel<3>, mote::Stride<2>, mote::Padding<1>>>;
  using WrongInput = mote::Sequential<mote::Input<5, 7, 1>, mote::Conv2D<1, mote::Kernel<3>, mote::Stride<2>, mote::Padding<1>>>;
  using WrongStride = mote::Sequential<mote::Input<7, 5, 1>, mote::Conv2D<1, mote::Kernel<3>, mote::Padding<1>>>;
  Right right;
  CHECK(mote::onnx::try_load(right, *plan));
  WrongInput wrong_input;
  const mote::Status input = mote::onnx::try_load(wrong_input, *plan);
  REQUIRE_FALSE(input);
  CHECK(input.error().message.find("[7, 5, 1]") != std::string::npos);
  CHECK(input.error().message.find("[5, 7, 1]") != std::string::npos);
  WrongStride wrong_stride;
  const mote::Status stride = mote::onnx::try_load(wrong_stride, *plan);
  REQUIRE_FALSE(stride);
  CHECK(stride.error().message.find("outputs [4, 3, 1]") != std::string::npos);
  CHECK(stride.error().message.find("outputs [7, 5, 1]") != std::string::npos);
}

TEST_CASE("ONNX layout: channels-first samples round-trip through mote's channels-last order", "[onnx_plan]") {
  const mote::onnx::Layout layout{3, 4};  // C = 3, H x W = 4
  std::vector<float> onnx(24), mote_order(24), back(24);
  for (std::size_t i = 0; i < onnx.size(); ++i) onnx[i] = static_cast<float>(i);
  layout.to_mote(onnx.data(), mote_order.data(), 2);
  CHECK(mote_order[1] == 4.0f);   // pixel 0, channel 1 of sample 0
  CHECK(mote_order[12 + 2] == 12.0f + 8.0f);  // pixel 0, channel 2 of sample 1
  layout.to_onnx(mote_order.data(), back.data(), 2);
  CHECK(back == onnx);
}

TEST_CASE("ONNX plan: literals read back exactly", "[onnx_plan]") {
  using mote::onnx::detail::as_decimal_fraction;
  using mote::onnx::detail::float_literal;
  CHECK(float_literal(6.0f) == "6");
  CHECK(float_literal(0.1f) == "0.1f");
  CHECK(std::strtof(float_literal(1.0f / 3.0f).c_str(), nullptr) == 1.0f / 3.0f);
  CHECK(as_decimal_fraction(0.01f) == std::pair<long long, long long>{1, 100});
  CHECK_FALSE(as_decimal_fraction(1.0f / 3.0f));
}

TEST_CASE("ONNX plan: formats for a depthwise convolution: int8 taken, int4 refused with the layer's number",
          "[onnx_plan]") {
  // The MobileNet-style model of tests/data/onnx: weighted layers 1 and 3 are depthwise.
  auto model = mote::io::onnx::try_read_model_file(std::string(MOTE_SOURCE_DIR) + "/tests/data/onnx/mobilenet.onnx");
  REQUIRE(model);
  mote::onnx::PlanOptions options;
  options.conv_format = "int8";
  options.weight_scales = "mse";
  auto plan = mote::onnx::try_plan(*model, options);
  INFO((plan ? std::string() : plan.error().message));
  REQUIRE(plan);
  std::size_t depthwise = 0;
  for (const auto& layer : plan->layers) {
    if (layer.spec.find("DepthwiseConv2D") == std::string::npos) continue;
    ++depthwise;
    CHECK_THAT(layer.spec, Catch::Contains("mote::Weights<mote::Int8<>>") &&
                               Catch::Contains("mote::WeightScales<mote::ScaleFit::mse>"));
  }
  CHECK(depthwise == 2);
  options.conv_format = "int4";
  plan = mote::onnx::try_plan(*model, options);
  REQUIRE_FALSE(plan);
  CHECK_THAT(plan.error().message, Catch::Contains("depthwise convolution (weighted layer 1) given weights mote::Int4<32>") &&
                                       Catch::Contains("takes f32, int8 or int7 weights"));
  options.layer_format[1] = options.layer_format[3] = "int8";  // the way out the message names
  CHECK(mote::onnx::try_plan(*model, options));
}
