// The committed Fashion-MNIST networks reproduce PyTorch on a committed subset of the test set
// (tests/data/fashion_subset.npz, written by examples/fashion_mnist/train.py): same argmax on
// every image and logits within 1e-4 relative (floor 1e-4 absolute for logits near zero).

#include "../support.hpp"

#include <algorithm>
#include <cmath>

#include "../../../examples/fashion_mnist/models.hpp"

namespace {

template <class Net>
void check_against_pytorch(const char* weights, const mote::WeightNames& names, const char* logits_name) {
  auto net = std::make_unique<Net>();
  net->load_npz(std::string(MOTE_SOURCE_DIR) + "/examples/fashion_mnist/weights/" + weights, names);
  const auto subset = mote::io::read_npz(mote_test::data_path("fashion_subset.npz"));
  const std::vector<float> images = subset.find("images")->to_floats();
  const std::vector<float> expected = subset.find(logits_name)->to_floats();
  const std::size_t count = images.size() / 784;
  REQUIRE(count == 256);
  REQUIRE(expected.size() == count * 10);

  typename Net::Workspace workspace;
  typename Net::OutputTensor logits;
  double worst_relative = 0;
  for (std::size_t i = 0; i < count; ++i) {
    net->forward(std::span<const float, 784>(images.data() + i * 784, 784), logits.span(), workspace.bytes());
    const float* reference = expected.data() + i * 10;
    for (std::size_t k = 0; k < 10; ++k) {
      const double relative = std::fabs(logits[k] - reference[k]) / std::max(1e-0, static_cast<double>(std::fabs(reference[k])));
      worst_relative = std::max(worst_relative, relative);
      INFO("image " << i << ", logit " << k << ": mote " << logits[k] << ", PyTorch " << reference[k]);
      REQUIRE(std::fabs(logits[k] - reference[k]) <= 1e-4f * std::max(1.0f, std::fabs(reference[k])));
    }
    INFO("image " << i);
    REQUIRE(std::max_element(logits.begin(), logits.end()) - logits.begin() ==
            std::max_element(reference, reference + 10) - reference);
  }
  WARN(weights << ": worst logit difference relative to max(1, |logit|): " << worst_relative);
}

}  // namespace

TEST_CASE("Fashion-MNIST MLP reproduces PyTorch's logits", "[fashion][examples]") {
  check_against_pytorch<fashion::Mlp>("mlp.npz", fashion::mlp_names(), "mlp_logits");
}

TEST_CASE("Fashion-MNIST CNN reproduces PyTorch's logits", "[fashion][examples]") {
  check_against_pytorch<fashion::Cnn>("cnn.npz", fashion::cnn_names(), "cnn_logits");
}
