// The fine-tuned sparse Fashion-MNIST weights (examples/fashion_mnist/weights/sparse, written by
// prune_finetune.py) load into their sparse types as they are (Pruning::none(): they hold the
// patterns), reach the sparsity the file names, and compute on the committed test subset what the
// dense f32 networks compute with the same weights (same argmax; logits within 1e-4 relative) on
// its first 64 images.

#include "../support.hpp"

#include <algorithm>
#include <cmath>

#include "../../../examples/fashion_mnist/sparse_models.hpp"

namespace {

template <class SparseNet, class DenseNet>
void check_finetuned(const std::string& file, const mote::WeightNames& names, double min_sparsity) {
  const std::string path = std::string(MOTE_SOURCE_DIR) + "/examples/fashion_mnist/weights/sparse/" + file;
  auto sparse = std::make_unique<SparseNet>();
  auto dense = std::make_unique<DenseNet>();
  const mote::Status status = sparse->try_load_npz(path, names);
  INFO(status.message());
  REQUIRE(status.is_ok());
  REQUIRE(dense->try_load_npz(path, names).is_ok());
  const std::string report = sparse->sparsity_report();
  INFO(report);
  // Every sparse layer reaches at least min_sparsity (the 10-row classifiers' edge blocks aside).
  std::size_t layers = 0;
  for (std::size_t at = report.find("% zeros"); at != std::string::npos; at = report.find("% zeros", at + 1)) {
    const std::size_t open = report.rfind('(', at);
    const double percent = std::stod(report.substr(open + 1, at - open - 1));
    CHECK(percent >= 100.0 * min_sparsity);
    ++layers;
  }
  CHECK(layers >= 2);
  CHECK(sparse->weight_bytes() < dense->weight_bytes());

  const auto subset = mote::io::read_npz(mote_test::data_path("fashion_subset.npz"));
  const std::vector<float> images = subset.find("images")->to_floats();
  typename SparseNet::Workspace sparse_workspace;
  typename DenseNet::Workspace dense_workspace;
  typename SparseNet::OutputTensor a;
  typename DenseNet::OutputTensor b;
  // 64 of the subset's 256 images: enough to compare two kernels, and quick under emulation.
  for (std::size_t i = 0; i < std::min<std::size_t>(64, images.size() / 784); ++i) {
    sparse->forward(std::span<const float, 784>(images.data() + i * 784, 784), a.span(), sparse_workspace.bytes());
    dense->forward(std::span<const float, 784>(images.data() + i * 784, 784), b.span(), dense_workspace.bytes());
    for (std::size_t k = 0; k < 10; ++k) {
      INFO(file << ": image " << i << ", logit " << k);
      REQUIRE(std::fabs(a[k] - b[k]) <= 1e-4f * std::max(1.0f, std::fabs(b[k])));
    }
    REQUIRE(std::max_element(a.begin(), a.end()) - a.begin() == std::max_element(b.begin(), b.end()) - b.begin());
  }
}

}  // namespace

TEST_CASE("fine-tuned sparse Fashion-MNIST MLPs load as they are and match the dense network", "[fashion][sparse]") {
  using namespace fashion;
  check_finetuned<MlpSparse<SparseUnstructured>, Mlp>("mlp_u50.npz", mlp_names(), 0.499);
  check_finetuned<MlpSparse<SparseUnstructured>, Mlp>("mlp_u90.npz", mlp_names(), 0.899);
  check_finetuned<MlpSparse<Sparse2of4>, Mlp>("mlp_nm24.npz", mlp_names(), 0.5);
  // The 10-row classifier: its two partial 8-row blocks count as blocks (65% of weights zero).
  check_finetuned<MlpSparse<SparseBlock8x1>, Mlp>("mlp_b75.npz", mlp_names(), 0.65);
}

TEST_CASE("fine-tuned sparse Fashion-MNIST CNNs load as they are and match the dense network", "[fashion][sparse]") {
  using namespace fashion;
  check_finetuned<CnnSparse<SparseUnstructured>, Cnn>("cnn_u75.npz", cnn_names(), 0.749);
  check_finetuned<CnnSparse<Sparse2of4>, Cnn>("cnn_nm24.npz", cnn_names(), 0.5);
  check_finetuned<CnnSparse<SparseBlock8x1>, Cnn>("cnn_b75.npz", cnn_names(), 0.6);
}

TEST_CASE("dense Fashion-MNIST weights do not load into a 2:4 network without a pruning rule", "[fashion][sparse]") {
  auto net = std::make_unique<fashion::MlpSparse<fashion::Sparse2of4>>();
  const std::string path = std::string(MOTE_SOURCE_DIR) + "/examples/fashion_mnist/weights/mlp.npz";
  const mote::Status status = net->try_load_npz(path, fashion::mlp_names());
  REQUIRE_FALSE(status.is_ok());
  CHECK(status.message().find("fc1.weight") != std::string::npos);
  CHECK(status.message().find("allows 2 per group of 4") != std::string::npos);
  REQUIRE(net->set_pruning(mote::Pruning::to_pattern()).is_ok());
  REQUIRE(net->try_load_npz(path, fashion::mlp_names()).is_ok());
}

TEST_CASE("an ONNX model loads into sparse types, pruned on the way", "[fashion][sparse][onnx]") {
  using Net = mote::Sequential<mote::Input<28, 28, 1>, mote::Flatten,
                               mote::Dense<256, mote::Weights<mote::F32, mote::Sparse<mote::NM<2, 4>>>>, mote::ReLU,
                               mote::Dense<128, mote::Weights<mote::F32, mote::Sparse<mote::Unstructured>>>,
                               mote::ReLU, mote::Dense<10>>;
  auto net = std::make_unique<Net>();
  const std::string path = mote_test::data_path("onnx/mlp.onnx");
  const mote::Status refused = mote::onnx::try_load(*net, path);
  REQUIRE_FALSE(refused.is_ok());
  CHECK(refused.message().find("allows 2 per group of 4") != std::string::npos);
  REQUIRE(net->set_pruning(mote::Pruning::to_sparsity(0.9)).is_ok());
  const mote::Status loaded = mote::onnx::try_load(*net, path);
  INFO(loaded.message());
  REQUIRE(loaded.is_ok());
  CHECK(net->template layer<1>().weights().matrix().sparsity() == Approx(0.5));
  CHECK(net->template layer<3>().weights().matrix().sparsity() == Approx(0.9).margin(1e-4));
}
