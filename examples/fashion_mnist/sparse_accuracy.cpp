// Fashion-MNIST accuracy of sparse weights: for the MLP and the CNN, on all 10,000 test images,
//   dense f32 and dense int8 (the baselines),
//   and for each pattern (u50, u75, u90: unstructured per layer; b75: Block<8, 1>, 75% of blocks
//   zero; nm24: NM<2, 4>):
//     one-shot          the dense weights pruned by mote when loaded (set_pruning), no retraining;
//     fine-tuned        weights/sparse/<net>_<pattern>.npz (pruned and fine-tuned by
//                       prune_finetune.py), loaded into the sparse type with Pruning::none(): they
//                       must already hold the pattern;
//     fine-tuned + int8 the same weights in the dense int8 network (calibrated as main.cpp does);
//   plus, for MLP u90, one-shot pruning with one global threshold over the three layers.
// Prints a markdown table, and checks mote's fine-tuned accuracy against PyTorch's
// (weights/sparse/accuracy.npz) within 0.1 percentage points.
//
// Usage: fashion_mnist_sparse_accuracy <weights dir> <fashion-mnist dir with t10k-*-idx*-ubyte.gz>
// Exit status: 0; 1 on an error (a fine-tuned file that does not load); 2 when mote and PyTorch
// disagree by more than 0.1 pp. Missing fine-tuned files are reported, not errors.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sparse_models.hpp"

namespace {

/// PyTorch's accuracy for `key` ("<net>_<pattern>_oneshot" / "_finetuned", a fraction) from
/// prune_finetune.py's accuracy.npz, if the archive has it.
std::optional<double> pytorch_accuracy(const mote::io::TensorArchive* archive, const std::string& key) {
  if (archive == nullptr) return std::nullopt;
  const mote::io::TensorData* tensor = archive->find(key);
  if (tensor == nullptr) return std::nullopt;
  const mote::Expected<std::vector<float>> values = tensor->try_to_floats();
  if (!values || values->size() != 1) return std::nullopt;
  return (*values)[0];
}

// ------------------------------------------------------------------------------------------------
// Evaluation.

struct TestSet {
  mote::io::IdxData images, labels;
  std::vector<float> calibration;  // the first 1000 training images, as main.cpp calibrates
};

template <class Net>
double accuracy(const Net& net, const TestSet& data) {
  const std::size_t count = data.labels.values.size();
  auto input = std::make_unique<typename Net::InputTensor>();
  typename Net::OutputTensor logits;
  typename Net::Workspace workspace;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < count; ++i) {
    fashion::to_input(data.images.values.data() + i * 784, input->data());
    net.forward(*input, logits, workspace);
    const auto predicted = static_cast<std::size_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    correct += predicted == data.labels.values[i];
  }
  return static_cast<double>(correct) / static_cast<double>(count);
}

/// Non-zero and total weights of the sparse (prunable) layers of `net`.
struct SparseCount {
  std::size_t nonzeros = 0, weights = 0;
  double sparsity() const { return weights == 0 ? 0.0 : 1.0 - static_cast<double>(nonzeros) / static_cast<double>(weights); }
};
template <class Net>
SparseCount sparse_count(const Net& net) {
  SparseCount count;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          const auto& layer = net.template layer<I>();
          if constexpr (requires { layer.pruning(); }) {
            const auto& matrix = layer.weights().matrix();
            count.nonzeros += matrix.nonzeros();
            count.weights += matrix.rows() * matrix.cols();
          }
        }(),
        ...);
  }(std::make_index_sequence<Net::layer_count>{});
  return count;
}

/// One sparse network loaded: accuracy, sparsity of its sparse layers, bytes; or why not.
struct Loaded {
  bool available = false;
  std::string error;  // set when the file exists but did not load
  double accuracy = 0;
  SparseCount count;
  std::size_t weight_bytes = 0;
  std::string report;  // sparsity_report()
};

template <class Net>
Loaded load_sparse(const std::string& path, const mote::WeightNames& names, const mote::Pruning& rule,
                   const TestSet& data) {
  Loaded result;
  auto net = std::make_unique<Net>();
  if (mote::Status status = net->set_pruning(rule); !status) {
    result.error = status.message();
    return result;
  }
  if (mote::Status status = net->try_load_npz(path, names); !status) {
    result.error = status.message();
    return result;
  }
  result.available = true;
  result.accuracy = accuracy(*net, data);
  result.count = sparse_count(*net);
  result.weight_bytes = net->weight_bytes();
  result.report = net->sparsity_report();
  return result;
}

template <class Net>
Loaded load_int8(const std::string& path, const mote::WeightNames& names, const TestSet& data) {
  Loaded result;
  auto net = std::make_unique<Net>();
  if (mote::Status status = net->try_load_npz(path, names); !status) {
    result.error = status.message();
    return result;
  }
  if (mote::Status status = net->try_calibrate(data.calibration, mote::CalibrationMethod::min_max); !status) {
    result.error = status.message();
    return result;
  }
  result.available = true;
  result.accuracy = accuracy(*net, data);
  result.weight_bytes = net->weight_bytes();
  return result;
}

struct Row {
  std::string net, pattern;
  Loaded one_shot, fine_tuned, fine_tuned_int8;
  Loaded int8_block;  // b75 only: the fine-tuned weights in Weights<Int8<>, Sparse<Block<8, 1>>>
  bool fine_tuned_applies = true;  // false for the global-threshold variant (no fine-tuned file)
  std::string fine_tuned_file;
  double dense_f32 = 0, dense_int8 = 0;
  std::size_t dense_bytes = 0, int8_bytes = 0;
  std::optional<double> pytorch_fine_tuned, pytorch_one_shot;
  bool baseline = false;
};

std::string percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", 100.0 * fraction);
  return text;
}
std::string cell(const Loaded& loaded, bool applies) {
  if (!applies) return "—";
  if (!loaded.error.empty()) return "load failed";
  if (!loaded.available) return "not available";
  return percent(loaded.accuracy);
}

/// Evaluates one pattern of one net: one-shot (dense file pruned by `one_shot_rule`),
/// fine-tuned (`sparse_dir/<net>_<pattern>.npz`) and fine-tuned + int8.
template <class SparseNet, class Int8Net>
Row pattern_row(const std::string& net_name, const std::string& pattern, const mote::Pruning& one_shot_rule,
                const std::string& weights_dir, const mote::WeightNames& names, const TestSet& data,
                const mote::io::TensorArchive* pytorch) {
  Row row;
  row.net = net_name;
  row.pattern = pattern;
  std::string lower = net_name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  row.one_shot = load_sparse<SparseNet>(weights_dir + "/" + lower + ".npz", names, one_shot_rule, data);
  if (!row.one_shot.error.empty())
    throw std::runtime_error(net_name + " " + pattern + " one-shot: " + row.one_shot.error);
  row.fine_tuned_file = weights_dir + "/sparse/" + lower + "_" + pattern + ".npz";
  if (std::filesystem::exists(row.fine_tuned_file)) {
    row.fine_tuned = load_sparse<SparseNet>(row.fine_tuned_file, names, mote::Pruning::none(), data);
    // Only weights that hold the pattern make a sparse int8 network.
    if (row.fine_tuned.available) row.fine_tuned_int8 = load_int8<Int8Net>(row.fine_tuned_file, names, data);
  }
  row.pytorch_fine_tuned = pytorch_accuracy(pytorch, lower + "_" + pattern + "_finetuned");
  row.pytorch_one_shot = pytorch_accuracy(pytorch, lower + "_" + pattern + "_oneshot");
  return row;
}

int run(const std::string& weights_dir, const std::string& data_dir) {
  TestSet data;
  data.images = mote::io::read_idx(data_dir + "/t10k-images-idx3-ubyte.gz");
  data.labels = mote::io::read_idx(data_dir + "/t10k-labels-idx1-ubyte.gz");
  if (data.images.dims.size() != 3 || data.images.dims[1] != 28 || data.images.dims[2] != 28 ||
      data.images.dims[0] != data.labels.values.size()) {
    std::fprintf(stderr, "error: %s does not hold 28x28 images matching its labels\n", data_dir.c_str());
    return 1;
  }
  constexpr std::size_t calibration_images = 1000;
  {
    const auto train_images = mote::io::read_idx(data_dir + "/train-images-idx3-ubyte.gz");
    data.calibration.resize(calibration_images * 784);
    for (std::size_t i = 0; i < calibration_images; ++i)
      fashion::to_input(train_images.values.data() + i * 784, data.calibration.data() + i * 784);
  }
  const std::string pytorch_path = weights_dir + "/sparse/accuracy.npz";
  const mote::Expected<mote::io::TensorArchive> pytorch_archive = mote::io::try_read_npz(pytorch_path);
  const mote::io::TensorArchive* pytorch = pytorch_archive ? &*pytorch_archive : nullptr;

  using mote::Pruning;
  std::vector<Row> rows;
  std::string global_report;

  // ---- MLP
  {
    const auto names = fashion::mlp_names();
    auto dense = std::make_unique<fashion::Mlp>();
    dense->load_npz(weights_dir + "/mlp.npz", names);
    auto int8 = std::make_unique<fashion::MlpInt8>();
    int8->load_npz(weights_dir + "/mlp.npz", names);
    int8->calibrate(data.calibration, mote::CalibrationMethod::min_max);
    Row base;
    base.net = "MLP";
    base.pattern = "dense";
    base.baseline = true;
    base.dense_f32 = accuracy(*dense, data);
    base.dense_int8 = accuracy(*int8, data);
    base.dense_bytes = dense->weight_bytes();
    base.int8_bytes = int8->weight_bytes();
    rows.push_back(base);
    const mote::io::TensorArchive* py = pytorch;
    const std::string& dir = weights_dir;
    using fashion::MlpSparse;
    using Int8Net = fashion::MlpSparseInt8;
    rows.push_back(pattern_row<MlpSparse<fashion::SparseUnstructured>, Int8Net>("MLP", "u50", Pruning::to_sparsity(0.50), dir, names, data, py));
    rows.push_back(pattern_row<MlpSparse<fashion::SparseUnstructured>, Int8Net>("MLP", "u75", Pruning::to_sparsity(0.75), dir, names, data, py));
    rows.push_back(pattern_row<MlpSparse<fashion::SparseUnstructured>, Int8Net>("MLP", "u90", Pruning::to_sparsity(0.90), dir, names, data, py));

    // u90 with one threshold over the three weight matrices (global magnitude pruning).
    const auto archive = mote::io::read_npz(weights_dir + "/mlp.npz");
    std::vector<std::vector<float>> matrices;
    for (const char* name : {"fc1.weight", "fc2.weight", "fc3.weight"}) {
      const auto* tensor = archive.find(name);
      if (tensor == nullptr) throw std::runtime_error(std::string("mlp.npz lacks ") + name);
      matrices.push_back(tensor->to_floats());
    }
    std::vector<std::span<const float>> spans(matrices.begin(), matrices.end());
    const float tau = mote::prune::global_threshold(spans, 0.90);
    Row global;
    global.net = "MLP";
    global.pattern = "u90 global";
    global.fine_tuned_applies = false;
    global.one_shot = load_sparse<MlpSparse<fashion::SparseUnstructured>>(weights_dir + "/mlp.npz", names,
                                                                          Pruning::below(tau), data);
    if (!global.one_shot.error.empty()) throw std::runtime_error("MLP u90 global: " + global.one_shot.error);
    char line[96];
    std::snprintf(line, sizeof line, "MLP u90, one global threshold |w| <= %.6g over fc1, fc2, fc3:\n", double{tau});
    global_report = line + global.one_shot.report;
    rows.push_back(global);

    rows.push_back(pattern_row<MlpSparse<fashion::SparseBlock8x1>, Int8Net>("MLP", "b75", Pruning::to_sparsity(0.75), dir, names, data, py));
    if (rows.back().fine_tuned.available)
      rows.back().int8_block = load_int8<fashion::MlpInt8Block8x1>(rows.back().fine_tuned_file, names, data);
    rows.push_back(pattern_row<MlpSparse<fashion::Sparse2of4>, Int8Net>("MLP", "nm24", Pruning::to_pattern(), dir, names, data, py));
    for (Row& row : rows)
      if (row.net == "MLP") {
        row.dense_f32 = base.dense_f32;
        row.dense_int8 = base.dense_int8;
        row.dense_bytes = base.dense_bytes;
        row.int8_bytes = base.int8_bytes;
      }
  }
  // ---- CNN
  {
    const auto names = fashion::cnn_names();
    auto dense = std::make_unique<fashion::Cnn>();
    dense->load_npz(weights_dir + "/cnn.npz", names);
    auto int8 = std::make_unique<fashion::CnnInt8>();
    int8->load_npz(weights_dir + "/cnn.npz", names);
    int8->calibrate(data.calibration, mote::CalibrationMethod::min_max);
    Row base;
    base.net = "CNN";
    base.pattern = "dense";
    base.baseline = true;
    base.dense_f32 = accuracy(*dense, data);
    base.dense_int8 = accuracy(*int8, data);
    base.dense_bytes = dense->weight_bytes();
    base.int8_bytes = int8->weight_bytes();
    rows.push_back(base);
    const mote::io::TensorArchive* py = pytorch;
    const std::string& dir = weights_dir;
    using fashion::CnnSparse;
    using Int8Net = fashion::CnnSparseInt8;
    rows.push_back(pattern_row<CnnSparse<fashion::SparseUnstructured>, Int8Net>("CNN", "u50", Pruning::to_sparsity(0.50), dir, names, data, py));
    rows.push_back(pattern_row<CnnSparse<fashion::SparseUnstructured>, Int8Net>("CNN", "u75", Pruning::to_sparsity(0.75), dir, names, data, py));
    rows.push_back(pattern_row<CnnSparse<fashion::SparseUnstructured>, Int8Net>("CNN", "u90", Pruning::to_sparsity(0.90), dir, names, data, py));
    rows.push_back(pattern_row<CnnSparse<fashion::SparseBlock8x1>, Int8Net>("CNN", "b75", Pruning::to_sparsity(0.75), dir, names, data, py));
    if (rows.back().fine_tuned.available)
      rows.back().int8_block = load_int8<fashion::CnnInt8Block8x1>(rows.back().fine_tuned_file, names, data);
    rows.push_back(pattern_row<CnnSparse<fashion::Sparse2of4>, Int8Net>("CNN", "nm24", Pruning::to_pattern(), dir, names, data, py));
    for (Row& row : rows)
      if (row.net == "CNN") {
        row.dense_f32 = base.dense_f32;
        row.dense_int8 = base.dense_int8;
        row.dense_bytes = base.dense_bytes;
        row.int8_bytes = base.int8_bytes;
      }
  }

  // ---- The table.
  std::printf("Fashion-MNIST test set: %zu images; mote %s kernels. Accuracy in %%; int8 = Int8<PerChannel, "
              "Symmetric> weights, int8 activations calibrated (min/max) on the first %zu training images.\n"
              "Sparsity and weight bytes: the fine-tuned sparse f32 network (the one-shot one where no fine-tuned "
              "file exists); sparsity over the sparse layers' weights.\n\n",
              data.labels.values.size(), mote::arch::to_string(mote::arch::selected_isa()), calibration_images);
  std::printf("| net | pattern | sparsity | weight bytes | one-shot | fine-tuned | fine-tuned + int8 | dense f32 | "
              "fine-tuned vs dense f32 |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& row : rows) {
    if (row.baseline) {
      std::printf("| %s | dense f32 | 0.00%% | %zu | — | — | — | %s | — |\n", row.net.c_str(), row.dense_bytes,
                  percent(row.dense_f32).c_str());
      std::printf("| %s | dense int8 | 0.00%% | %zu | — | — | %s (int8 of dense) | %s | %+.2f pp (int8) |\n",
                  row.net.c_str(), row.int8_bytes, percent(row.dense_int8).c_str(), percent(row.dense_f32).c_str(),
                  100.0 * (row.dense_int8 - row.dense_f32));
      continue;
    }
    const Loaded& shown = row.fine_tuned.available ? row.fine_tuned : row.one_shot;
    std::string sparsity = percent(shown.count.sparsity()) + "%";
    if (row.fine_tuned.available && std::fabs(row.fine_tuned.count.sparsity() - row.one_shot.count.sparsity()) > 5e-4)
      sparsity += " (one-shot " + percent(row.one_shot.count.sparsity()) + "%)";
    if (!row.fine_tuned.available) sparsity += " (one-shot)";
    std::string delta = "—";
    if (row.fine_tuned.available) {
      char text[32];
      std::snprintf(text, sizeof text, "%+.2f pp", 100.0 * (row.fine_tuned.accuracy - row.dense_f32));
      delta = text;
    } else if (!row.fine_tuned.error.empty()) {
      delta = "load failed";
    } else if (row.fine_tuned_applies) {
      delta = "not available";
    }
    std::printf("| %s | %s | %s | %zu | %s | %s | %s | %s | %s |\n", row.net.c_str(), row.pattern.c_str(),
                sparsity.c_str(), shown.weight_bytes, cell(row.one_shot, true).c_str(),
                cell(row.fine_tuned, row.fine_tuned_applies).c_str(),
                row.fine_tuned.error.empty() ? cell(row.fine_tuned_int8, row.fine_tuned_applies).c_str() : "—",
                percent(row.dense_f32).c_str(),
                delta.c_str());
  }

  // ---- Agreement with PyTorch.
  int status = 0;
  std::printf("\nmote against PyTorch (%s%s), accuracy in %%:\n\n", pytorch_path.c_str(),
              pytorch ? "" : ": not available");
  std::printf("| net | pattern | one-shot mote | one-shot PyTorch | fine-tuned mote | fine-tuned PyTorch | "
              "fine-tuned difference | within 0.1 pp |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---|\n");
  for (const Row& row : rows) {
    if (row.baseline || !row.fine_tuned_applies) continue;
    auto py = [](const std::optional<double>& value) { return value ? percent(*value) : std::string("not available"); };
    std::string difference = "—", verdict = "—";
    if (row.fine_tuned.available && row.pytorch_fine_tuned) {
      const double pp = 100.0 * (row.fine_tuned.accuracy - *row.pytorch_fine_tuned);
      char text[32];
      std::snprintf(text, sizeof text, "%+.2f pp", pp);
      difference = text;
      const bool ok = std::fabs(pp) <= 0.1 + 1e-9;
      verdict = ok ? "yes" : "NO";
      if (!ok && status == 0) status = 2;
    } else if (!row.fine_tuned.error.empty()) {
      verdict = "load failed";
    } else if (!row.fine_tuned.available) {
      verdict = "not available";
    }
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", row.net.c_str(), row.pattern.c_str(),
                percent(row.one_shot.accuracy).c_str(), py(row.pytorch_one_shot).c_str(),
                cell(row.fine_tuned, true).c_str(), py(row.pytorch_fine_tuned).c_str(), difference.c_str(),
                verdict.c_str());
  }

  std::printf("\nmote's sparse int8 layout (Weights<Int8<PerChannel, Symmetric>, Sparse<Block<8, 1>>>, which skips only "
              "all-zero 16 x 4 groups of codes) on the fine-tuned b75 weights:\n");
  for (const Row& row : rows) {
    if (row.pattern != "b75") continue;
    if (!row.int8_block.error.empty()) {
      std::printf("  %s b75: load failed: %s\n", row.net.c_str(), row.int8_block.error.c_str());
      status = 1;
    } else if (!row.int8_block.available) {
      std::printf("  %s b75: not available\n", row.net.c_str());
    } else {
      std::printf("  %s b75: accuracy %s%% (dense int8 storage of the same weights: %s%%), weight bytes %zu "
                  "(dense int8: %zu)\n",
                  row.net.c_str(), percent(row.int8_block.accuracy).c_str(), cell(row.fine_tuned_int8, true).c_str(),
                  row.int8_block.weight_bytes, row.fine_tuned_int8.weight_bytes);
    }
  }

  std::printf("\n%s", global_report.c_str());
  for (const Row& row : rows) {
    if (row.baseline || !row.fine_tuned_applies) continue;
    if (!row.fine_tuned.error.empty() || !row.fine_tuned_int8.error.empty()) {
      std::printf("\nERROR: %s did not load: %s\n", row.fine_tuned_file.c_str(),
                  (row.fine_tuned.error.empty() ? row.fine_tuned_int8.error : row.fine_tuned.error).c_str());
      status = 1;
    } else if (!row.fine_tuned.available) {
      std::printf("\nnot available: %s\n", row.fine_tuned_file.c_str());
    }
  }
  std::printf("\n%s\n", status == 0   ? "OK: every fine-tuned file present loads, and agrees with PyTorch within 0.1 pp."
                        : status == 1 ? "FAILED: a fine-tuned file did not load."
                                      : "MISMATCH: mote and PyTorch fine-tuned accuracies differ by more than 0.1 pp.");
  return status;
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
