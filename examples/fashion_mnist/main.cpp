// Fashion-MNIST end to end: loads the PyTorch-trained MLP and CNN (weights/*.npz), classifies
// the 10,000 test images, and compares accuracy and predictions with PyTorch's
// (weights/pytorch_reference.npz, written by train.py on the same weights).
//
// Usage: fashion_mnist <weights dir> <fashion-mnist dir with t10k-*-idx*-ubyte.gz>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "models.hpp"

namespace {

struct Report {
  double accuracy = 0;
  std::size_t agree_with_pytorch = 0;
  double median_us = 0;
  std::size_t weight_bytes = 0;
  std::size_t workspace_bytes = 0;
};

template <class Net>
Report evaluate(const Net& net, const mote::io::IdxData& images, const mote::io::IdxData& labels,
                const std::vector<float>& pytorch_predictions) {
  Report report;
  const std::size_t count = labels.values.size();
  auto input = std::make_unique<typename Net::InputTensor>();
  typename Net::OutputTensor logits;
  typename Net::Workspace workspace;
  std::vector<double> microseconds;
  microseconds.reserve(count);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < count; ++i) {
    fashion::to_input(images.values.data() + i * 784, input->data());
    const auto start = std::chrono::steady_clock::now();
    net.forward(*input, logits, workspace);
    const auto stop = std::chrono::steady_clock::now();
    microseconds.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
    const auto predicted = static_cast<std::size_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    correct += predicted == labels.values[i];
    report.agree_with_pytorch += static_cast<float>(predicted) == pytorch_predictions[i];
  }
  std::nth_element(microseconds.begin(), microseconds.begin() + static_cast<long>(count / 2), microseconds.end());
  report.median_us = microseconds[count / 2];
  report.accuracy = static_cast<double>(correct) / static_cast<double>(count);
  report.weight_bytes = net.weight_bytes();
  report.workspace_bytes = Net::workspace_bytes;
  return report;
}

std::vector<float> as_floats(const mote::io::TensorData& tensor) {
  std::vector<float> values(tensor.numel());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (tensor.dtype == mote::io::DType::u8) values[i] = static_cast<float>(std::to_integer<unsigned>(tensor.bytes[i]));
    else if (tensor.dtype == mote::io::DType::f64) {
      double v;
      std::memcpy(&v, tensor.bytes.data() + i * sizeof(double), sizeof(double));
      values[i] = static_cast<float>(v);
    }
  }
  return values;
}

int run(const std::string& weights_dir, const std::string& data_dir) {
  const auto images = mote::io::read_idx(data_dir + "/t10k-images-idx3-ubyte.gz");
  const auto labels = mote::io::read_idx(data_dir + "/t10k-labels-idx1-ubyte.gz");
  if (images.dims.size() != 3 || images.dims[1] != 28 || images.dims[2] != 28 || images.dims[0] != labels.values.size()) {
    std::fprintf(stderr, "error: %s does not hold 28x28 images matching its labels\n", data_dir.c_str());
    return 1;
  }
  const auto reference = mote::io::read_npz(weights_dir + "/pytorch_reference.npz");
  auto require = [&](const char* name) -> const mote::io::TensorData& {
    const auto* tensor = reference.find(name);
    if (tensor == nullptr) throw std::runtime_error(std::string("pytorch_reference.npz lacks ") + name);
    return *tensor;
  };

  auto mlp = std::make_unique<fashion::Mlp>();
  mlp->load_npz(weights_dir + "/mlp.npz", fashion::mlp_names());
  auto cnn = std::make_unique<fashion::Cnn>();
  cnn->load_npz(weights_dir + "/cnn.npz", fashion::cnn_names());

  std::printf("Fashion-MNIST test set: %zu images, mote %s kernels (run-time dispatch; MOTE_FORCE_ISA caps it)\n\n",
              labels.values.size(), mote::arch::to_string(mote::arch::selected_isa()));
  std::printf("%-5s %12s %12s %22s %12s %14s %16s\n", "net", "mote acc.", "PyTorch acc.", "same argmax as PyTorch",
              "median us", "weight bytes", "workspace bytes");
  const struct {
    const char* name;
    Report report;
    double pytorch_accuracy;
  } rows[] = {
      {"MLP", evaluate(*mlp, images, labels, as_floats(require("mlp_pred"))), as_floats(require("mlp_accuracy"))[0]},
      {"CNN", evaluate(*cnn, images, labels, as_floats(require("cnn_pred"))), as_floats(require("cnn_accuracy"))[0]},
  };
  constexpr std::size_t calibration_images = 1000;
  bool all_agree = true;
  for (const auto& row : rows) {
    std::printf("%-5s %11.2f%% %11.2f%% %15zu / %zu %12.2f %14zu %16zu\n", row.name, 100 * row.report.accuracy,
                100 * row.pytorch_accuracy, row.report.agree_with_pytorch, labels.values.size(), row.report.median_us,
                row.report.weight_bytes, row.report.workspace_bytes);
    all_agree = all_agree && row.report.agree_with_pytorch >= labels.values.size() - 10;
  }
  std::printf("\nQuantised (one type parameter each; calibrated on the first %zu training images, "
              "accuracy on all %zu test images):\n",
              calibration_images, labels.values.size());
  std::printf("%-34s %10s %10s %14s %12s\n", "variant", "accuracy", "vs f32", "weight bytes", "median us");
  const auto train_images = mote::io::read_idx(data_dir + "/train-images-idx3-ubyte.gz");
  std::vector<float> calibration(calibration_images * 784);
  for (std::size_t i = 0; i < calibration_images; ++i)
    fashion::to_input(train_images.values.data() + i * 784, calibration.data() + i * 784);
  const auto mlp_predictions = as_floats(require("mlp_pred"));
  const auto cnn_predictions = as_floats(require("cnn_pred"));
  auto quantised_row = [&](const char* name, auto& net, const char* weights_file, const mote::WeightNames& names,
                           mote::CalibrationMethod method, double float_accuracy, const std::vector<float>& predictions) {
    net.load_npz(weights_dir + "/" + weights_file, names);
    net.calibrate(calibration, method);
    const Report report = evaluate(net, images, labels, predictions);
    std::printf("%-34s %9.2f%% %+9.2fpp %14zu %12.2f\n", name, 100 * report.accuracy,
                100 * (report.accuracy - float_accuracy), report.weight_bytes, report.median_us);
  };
  using Method = mote::CalibrationMethod;
  const double mlp_float = rows[0].report.accuracy, cnn_float = rows[1].report.accuracy;
  quantised_row("MLP int8 per-channel, int8 act.", *std::make_unique<fashion::MlpInt8>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("MLP int8 per-channel, int8 act. mse", *std::make_unique<fashion::MlpInt8>(), "mlp.npz",
                fashion::mlp_names(), Method::mse, mlp_float, mlp_predictions);
  quantised_row("MLP int8 per-tensor, int8 act.", *std::make_unique<fashion::MlpInt8PerTensor>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("MLP int7 per-channel, int8 act.", *std::make_unique<fashion::MlpInt7>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("MLP int8 per-channel, uint8 act.", *std::make_unique<fashion::MlpInt8UInt8Activations>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("MLP binary weights, f32 act.", *std::make_unique<fashion::MlpBinary>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("MLP ternary weights, f32 act.", *std::make_unique<fashion::MlpTernary>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("MLP int4 groups of 32, int8 act.", *std::make_unique<fashion::MlpInt4Group32>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("MLP int4 per-channel, int8 act.", *std::make_unique<fashion::MlpInt4PerChannel>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("MLP int4 groups of 32, mse scales", *std::make_unique<fashion::MlpInt4Group32Mse>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("MLP int4 per-channel, mse scales", *std::make_unique<fashion::MlpInt4PerChannelMse>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("MLP codebook4 per-channel, f32 act", *std::make_unique<fashion::MlpCodebook4>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("MLP codebook2 per-channel, f32 act", *std::make_unique<fashion::MlpCodebook2>(), "mlp.npz",
                fashion::mlp_names(), Method::min_max, mlp_float, mlp_predictions);
  quantised_row("CNN int8 per-channel, int8 act.", *std::make_unique<fashion::CnnInt8>(), "cnn.npz",
                fashion::cnn_names(), Method::min_max, cnn_float, cnn_predictions);
  quantised_row("CNN int7 per-channel, int8 act.", *std::make_unique<fashion::CnnInt7>(), "cnn.npz",
                fashion::cnn_names(), Method::min_max, cnn_float, cnn_predictions);
  quantised_row("CNN int4 groups of 32, int8 act.", *std::make_unique<fashion::CnnInt4>(), "cnn.npz",
                fashion::cnn_names(), Method::min_max, cnn_float, cnn_predictions);
  quantised_row("CNN int4 groups of 32, mse scales", *std::make_unique<fashion::CnnInt4Mse>(), "cnn.npz",
                fashion::cnn_names(), Method::min_max, cnn_float, cnn_predictions);
  quantised_row("CNN f32 conv, int8 dense head", *std::make_unique<fashion::CnnInt8Head>(), "cnn.npz",
                fashion::cnn_names(), Method::min_max, cnn_float, cnn_predictions);

  std::printf("\n%s\n", all_agree ? "mote agrees with PyTorch on at least 9,990 of 10,000 images for both networks."
                                   : "MISMATCH: mote and PyTorch disagree on more than 10 images.");
  return all_agree ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string weights_dir = argc > 1 ? argv[1] : "examples/fashion_mnist/weights";
  const std::string data_dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
  try {
    return run(weights_dir, data_dir);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
