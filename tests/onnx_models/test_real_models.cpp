// Real models through both ONNX paths: the Fashion-MNIST MLP and CNN and a MobileNet-style net
// with BatchNorm and ReLU6, exported from PyTorch (opset 13). Every path must reproduce PyTorch's
// logits on 256 test images within 1e-4 of max(1, |logit|) and its predictions on all 10,000
// test images exactly. The QDQ models (onnxruntime's static quantiser) load into int8 types;
// their predictions are compared with onnxruntime's (int8 rounding differs by design: a bound).

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <mote/mote.hpp>
#include <mote/onnx.hpp>

#include "cnn.hpp"
#include "cnn_embedded.hpp"
#include "cnn_qdq.hpp"
#include "cnn_qdq_embedded.hpp"
#include "cnn_qoperator.hpp"
#include "mlp.hpp"
#include "mlp_embedded.hpp"
#include "mlp_qdq.hpp"
#include "mlp_qdq_embedded.hpp"
#include "mlp_int4.hpp"
#include "mlp_int4_mse.hpp"
#include "mobilenet.hpp"
#include "mobilenet_embedded.hpp"
#include "mobilenet_int8.hpp"

namespace {

using namespace mote;

std::string model_path(const std::string& name) { return std::string(MOTE_ONNX_DATA_DIR) + "/" + name + ".onnx"; }

const io::TensorArchive& reference() {
  static const io::TensorArchive archive = io::read_npz(std::string(MOTE_ONNX_DATA_DIR) + "/reference.npz");
  return archive;
}
const io::TensorArchive& reference_qdq() {
  static const io::TensorArchive archive = io::read_npz(std::string(MOTE_ONNX_DATA_DIR) + "/reference_qdq.npz");
  return archive;
}

std::vector<std::int64_t> int64s(const io::TensorData& t) {
  std::vector<std::int64_t> v(t.numel());
  std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(std::int64_t));
  return v;
}

/// The 10,000 test images as floats (pixel / 255, as train.py).
const std::vector<float>& test_images() {
  static const std::vector<float> images = [] {
    const auto idx = io::read_idx(std::string(MOTE_FASHION_MNIST_DIR) + "/t10k-images-idx3-ubyte.gz");
    std::vector<float> v(idx.values.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(idx.values[i]) / 255.0f;
    return v;
  }();
  return images;
}

template <class Net>
std::vector<std::int64_t> predictions(const Net& net, const std::vector<float>& images) {
  constexpr std::size_t in = Net::input_shape::size, out = Net::output_shape::size;
  const std::size_t count = images.size() / in, chunk = 100;
  typename Net::Workspace workspace(chunk);
  std::vector<float> logits(chunk * out);
  std::vector<std::int64_t> result;
  for (std::size_t first = 0; first < count; first += chunk) {
    net.forward_batch(std::span<const float>(images.data() + first * in, chunk * in), logits, workspace);
    for (std::size_t i = 0; i < chunk; ++i)
      result.push_back(std::max_element(logits.begin() + i * out, logits.begin() + (i + 1) * out) - (logits.begin() + i * out));
  }
  return result;
}

/// Logits of the 256 reference images within 1e-4 of max(1, |logit|) and the 10k predictions
/// equal to PyTorch's. The images are [N, 1, 28, 28]: one channel, so ONNX and mote orders agree.
template <class Net>
void check_float_model(const Net& net, const std::string& name) {
  const std::vector<float> images = reference().find("images")->to_floats();
  const std::vector<float> expected = reference().find(name + "_logits")->to_floats();
  REQUIRE(images.size() == 256 * 784);
  typename Net::Workspace workspace(256);
  std::vector<float> logits(expected.size());
  net.forward_batch(images, logits, workspace);
  double worst = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const double bound = std::max(1.0, std::fabs(static_cast<double>(expected[i])));
    worst = std::max(worst, std::fabs(static_cast<double>(logits[i]) - expected[i]) / bound);
  }
  INFO(name << ": worst logit difference relative to max(1, |logit|): " << worst);
  CHECK(worst <= 1e-4);
  const std::vector<std::int64_t> mine = predictions(net, test_images());
  const std::vector<std::int64_t> theirs = int64s(*reference().find(name + "_predictions"));
  REQUIRE(mine.size() == theirs.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < mine.size(); ++i) differ += mine[i] != theirs[i];
  CHECK(differ == 0);
  WARN(name << ": worst relative logit difference " << worst << "; " << differ << " of 10000 predictions differ");
}

using Mlp = Sequential<Input<28, 28, 1>, Flatten, Dense<256>, ReLU, Dense<128>, ReLU, Dense<10>>;
using Cnn = Sequential<Input<28, 28, 1>, Conv2D<16, Kernel<3>, Padding<1>>, ReLU, MaxPool2D<2>,
                       Conv2D<32, Kernel<3>, Padding<1>>, ReLU, MaxPool2D<2>, Flatten, Dense<10>>;
using MobileNet =
    Sequential<Input<28, 28, 1>, Conv2D<8, Kernel<3>, Stride<2>, Padding<1>>, BatchNorm, ReLU6,
               DepthwiseConv2D<Kernel<3>, Padding<1>>, BatchNorm, ReLU6, Conv2D<16, Kernel<1>>, BatchNorm, ReLU6,
               DepthwiseConv2D<Kernel<3>, Stride<2>, Padding<1>>, BatchNorm, ReLU6, Conv2D<32, Kernel<1>>, BatchNorm,
               ReLU6, GlobalAveragePool2D, Flatten, Dense<10>>;

template <class Net>
std::unique_ptr<Net> loaded(const std::string& name) {
  auto net = std::make_unique<Net>();
  const Status status = onnx::try_load(*net, model_path(name));
  INFO((status ? std::string() : status.error().message));
  REQUIRE(status);
  return net;
}

template <class Net, class Load>
std::unique_ptr<Net> loaded_with(Load load) {
  auto net = std::make_unique<Net>();
  const Status status = load(*net);
  INFO((status ? std::string() : status.error().message));
  REQUIRE(status);
  return net;
}

}  // namespace

TEST_CASE("ONNX MLP: hand-written type + loader reproduces PyTorch", "[onnx_model]") {
  check_float_model(*loaded<Mlp>("mlp"), "mlp");
}
TEST_CASE("ONNX MLP: mote-onnx type + .onnx loader reproduces PyTorch", "[onnx_model]") {
  STATIC_REQUIRE(std::is_same_v<onnx_mlp::Net, Mlp>);
  check_float_model(*loaded_with<onnx_mlp::Net>([](auto& net) { return onnx_mlp::try_load(net, model_path("mlp")); }), "mlp");
}
TEST_CASE("ONNX MLP: mote-onnx type + embedded weights reproduces PyTorch", "[onnx_model]") {
  check_float_model(*loaded_with<onnx_mlp_embedded::Net>(onnx_mlp_embedded::try_load_embedded), "mlp");
}
TEST_CASE("ONNX CNN: hand-written type + loader reproduces PyTorch", "[onnx_model]") {
  check_float_model(*loaded<Cnn>("cnn"), "cnn");
}
TEST_CASE("ONNX CNN: mote-onnx type + .onnx loader reproduces PyTorch", "[onnx_model]") {
  check_float_model(*loaded_with<onnx_cnn::Net>([](auto& net) { return onnx_cnn::try_load(net, model_path("cnn")); }), "cnn");
}
TEST_CASE("ONNX CNN: mote-onnx type + embedded weights reproduces PyTorch", "[onnx_model]") {
  check_float_model(*loaded_with<onnx_cnn_embedded::Net>(onnx_cnn_embedded::try_load_embedded), "cnn");
}
TEST_CASE("ONNX MobileNet (BatchNorm, ReLU6, depthwise): hand-written type + loader reproduces PyTorch", "[onnx_model]") {
  auto net = loaded<MobileNet>("mobilenet");
  CHECK(net->template layer<1>().folded());  // BatchNorm folded into the stem convolution
  check_float_model(*net, "mobilenet");
}
TEST_CASE("ONNX MobileNet: mote-onnx type, both loaders, reproduce PyTorch", "[onnx_model]") {
  check_float_model(*loaded_with<onnx_mobilenet::Net>([](auto& net) { return onnx_mobilenet::try_load(net, model_path("mobilenet")); }),
                    "mobilenet");
  check_float_model(*loaded_with<onnx_mobilenet_embedded::Net>(onnx_mobilenet_embedded::try_load_embedded), "mobilenet");
}

TEST_CASE("ONNX loader: a node name map checks which node each layer comes from", "[onnx_model]") {
  auto net = std::make_unique<Mlp>();
  CHECK(onnx::try_load(*net, model_path("mlp"), {}, {{"1", "/fc1/Gemm"}, {"3", "/fc2/Gemm"}, {"5", "/fc3/Gemm"}}));
  const Status swapped = onnx::try_load(*net, model_path("mlp"), {}, {{"1", "/fc2/Gemm"}});
  REQUIRE_FALSE(swapped);
  INFO(swapped.error().message);
  CHECK(swapped.error().message.find("comes from Gemm node '/fc1/Gemm'") != std::string::npos);
  CHECK(swapped.error().message.find("not from node '/fc2/Gemm'") != std::string::npos);
  const Status unknown = onnx::try_load(*net, model_path("mlp"), {}, {{"9", "/fc1/Gemm"}});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message.find("layer '9'") != std::string::npos);
}

TEST_CASE("ONNX loader: a network type that does not match the file is refused, unchanged", "[onnx_model]") {
  using Wrong = Sequential<Input<28, 28, 1>, Flatten, Dense<128>, ReLU, Dense<128>, ReLU, Dense<10>>;
  auto net = std::make_unique<Wrong>();
  const Status status = onnx::try_load(*net, model_path("mlp"));
  REQUIRE_FALSE(status);
  const std::string& message = status.error().message;
  INFO(message);
  CHECK(status.error().code == ErrorCode::shape_mismatch);
  CHECK(message.find("Gemm node") != std::string::npos);
  CHECK(message.find("[256, 784]") != std::string::npos);
  CHECK(message.find("[128, 784]") != std::string::npos);
  CHECK(message.find("layer 1") != std::string::npos);

  using WrongKind = Sequential<Input<28, 28, 1>, Flatten, Dense<256>, Sigmoid, Dense<128>, ReLU, Dense<10>>;
  auto other = std::make_unique<WrongKind>();
  const Status kind = onnx::try_load(*other, model_path("mlp"));
  REQUIRE_FALSE(kind);
  CHECK(kind.error().message.find("Relu node") != std::string::npos);
  CHECK(kind.error().message.find("Sigmoid") != std::string::npos);
}

/// QDQ models: int8 weights per channel and uint8 activations with the file's scales. mote keeps
/// the logits in float where onnxruntime rounds them to the output's uint8 grid (0.2 apart), so
/// predictions may differ on near-ties: at most 1% of the 10k test images, and accuracy within
/// 0.3 percentage points of onnxruntime's.
template <class Net>
void check_qdq_model(const Net& net, const std::string& name) {
  const std::vector<std::int64_t> mine = predictions(net, test_images());
  const std::vector<std::int64_t> ort = int64s(*reference_qdq().find(name + "_qdq_predictions"));
  const std::vector<std::int64_t> labels = int64s(*reference().find("labels"));
  std::size_t differ = 0, correct = 0;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    differ += mine[i] != ort[i];
    correct += mine[i] == labels[i];
  }
  const auto ort_correct = static_cast<std::size_t>(int64s(*reference_qdq().find(name + "_qdq_correct"))[0]);
  WARN(name << " QDQ: mote int8 " << correct << " / 10000 correct, onnxruntime " << ort_correct << "; " << differ
            << " predictions differ");
  CHECK(differ <= 100);
  CHECK(std::abs(static_cast<long>(correct) - static_cast<long>(ort_correct)) <= 30);
}

TEST_CASE("ONNX QDQ MLP loads into int8 Dense layers with the file's scales", "[onnx_model][qdq]") {
  STATIC_REQUIRE(onnx_mlp_qdq::Net::quantizing_layer_count == 3);
  auto net = loaded_with<onnx_mlp_qdq::Net>([](auto& n) { return onnx_mlp_qdq::try_load(n, model_path("mlp_qdq")); });
  const auto first = net->template layer<1>().input_quantization();
  REQUIRE(first);
  CHECK(first->scale == Approx(1.0f / 255.0f));
  CHECK(first->zero_point == 0);
  check_qdq_model(*net, "mlp");
  check_qdq_model(*loaded_with<onnx_mlp_qdq_embedded::Net>(onnx_mlp_qdq_embedded::try_load_embedded), "mlp");
}
TEST_CASE("ONNX QDQ CNN loads into int8 Conv2D/Dense layers with the file's scales", "[onnx_model][qdq]") {
  STATIC_REQUIRE(onnx_cnn_qdq::Net::quantizing_layer_count == 3);
  check_qdq_model(*loaded_with<onnx_cnn_qdq::Net>([](auto& n) { return onnx_cnn_qdq::try_load(n, model_path("cnn_qdq")); }), "cnn");
  check_qdq_model(*loaded_with<onnx_cnn_qdq_embedded::Net>(onnx_cnn_qdq_embedded::try_load_embedded), "cnn");
}

TEST_CASE("ONNX QOperator CNN (QLinearConv, QGemm) loads into the same int8 types", "[onnx_model][qdq]") {
  STATIC_REQUIRE(std::is_same_v<onnx_cnn_qoperator::Net, onnx_cnn_qdq::Net>);
  // onnxruntime's 10k predictions of the QOperator model equal those of the QDQ one (see
  // tests/data/onnx/README.md), so the same reference applies.
  check_qdq_model(*loaded_with<onnx_cnn_qoperator::Net>([](auto& n) { return onnx_cnn_qoperator::try_load(n, model_path("cnn_qoperator")); }),
                  "cnn");
}

namespace {

/// Correct predictions of the 10,000 test images.
template <class Net>
std::size_t correct(const Net& net) {
  const std::vector<std::int64_t> mine = predictions(net, test_images());
  const auto labels = io::read_idx(std::string(MOTE_FASHION_MNIST_DIR) + "/t10k-labels-idx1-ubyte.gz");
  std::size_t count = 0;
  for (std::size_t i = 0; i < mine.size(); ++i) count += mine[i] == labels.values[i];
  return count;
}

}  // namespace

TEST_CASE("ONNX MobileNet as int8 (mote-onnx --conv int8 --dense int8): depthwise layers included", "[onnx_model]") {
  using Net = onnx_mobilenet_int8::Net;
  STATIC_REQUIRE(Net::quantizing_layer_count == 6);  // the convolution, 2 depthwise, 2 pointwise, the classifier
  auto net = loaded_with<Net>([](auto& n) { return onnx_mobilenet_int8::try_load(n, model_path("mobilenet")); });
  // Uncalibrated: each layer quantises its input with that input's range. PyTorch float: 8,042.
  const std::size_t right = correct(*net);
  WARN("MobileNet int8 through mote-onnx: " << right << " of 10000 correct (PyTorch float 8042)");
  CHECK(right + 100 >= 8042);
}

TEST_CASE("ONNX MLP as int4 per channel (mote-onnx --dense mote::Int4<0>): --weight-scales mse", "[onnx_model]") {
  STATIC_REQUIRE(!std::is_same_v<onnx_mlp_int4::Net, onnx_mlp_int4_mse::Net>);
  auto full = loaded_with<onnx_mlp_int4::Net>([](auto& n) { return onnx_mlp_int4::try_load(n, model_path("mlp")); });
  auto fitted = loaded_with<onnx_mlp_int4_mse::Net>([](auto& n) { return onnx_mlp_int4_mse::try_load(n, model_path("mlp")); });
  const std::size_t full_right = correct(*full), fitted_right = correct(*fitted);
  WARN("MLP int4 per channel through mote-onnx: " << full_right << " (full range) and " << fitted_right
                                                  << " (mse scales) of 10000 correct (PyTorch float 8870)");
  CHECK(fitted_right > full_right);
  CHECK(fitted_right + 50 >= 8870);
}
