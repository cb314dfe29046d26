// One const network, several threads, one workspace each: results identical to a single thread.

#include "../support.hpp"

#include <random>
#include <thread>

using namespace mote;

TEST_CASE("Concurrent forward calls on one const network are safe", "[threads]") {
  using Net = Sequential<Input<12, 12, 2>, Conv2D<8, Kernel<3>, Pad::same>, BatchNorm, ReLU, MaxPool2D<2>,
                         Residual<Conv2D<8, Kernel<3>, Pad::same>, ReLU>, Flatten, Dense<6>, Softmax>;
  auto net = std::make_unique<Net>();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  mote_test::load_random_weights(*net, 7);
  const Net& shared = *net;

  constexpr int inputs = 64;
  std::vector<Net::InputTensor> in(inputs);
  for (auto& tensor : in)
    for (float& v : tensor) v = uniform(rng);
  std::vector<Net::OutputTensor> expected(inputs);
  Net::Workspace workspace;
  for (int i = 0; i < inputs; ++i) shared.forward(in[i], expected[i], workspace);

  constexpr int threads = 4;
  std::vector<std::vector<Net::OutputTensor>> results(threads, std::vector<Net::OutputTensor>(inputs));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      Net::Workspace own;
      for (int round = 0; round < 20; ++round)
        for (int i = 0; i < inputs; ++i) shared.forward(in[(i + t) % inputs], results[t][(i + t) % inputs], own);
    });
  for (auto& thread : pool) thread.join();
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < inputs; ++i)
      for (std::size_t k = 0; k < Net::output_shape::size; ++k) REQUIRE(results[t][i][k] == expected[i][k]);
}
