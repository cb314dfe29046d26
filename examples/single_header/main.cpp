// Uses mote through the single header alone: build with
//   c++ -std=c++20 -I single_include main.cpp
// CTest (single_include.standalone) compiles it with no other include directory (no xsimd, no
// Highway) and runs it; single_include.no_exceptions builds it with -fno-exceptions.
#include <mote/mote.hpp>

#include <cstdio>

// A tiny policy network with weights embedded in the binary (no file I/O).
using Policy = mote::Sequential<mote::Input<4>, mote::Dense<3>, mote::Tanh, mote::Dense<2>, mote::Softmax>;

constexpr float hidden_weight[3][4] = {{0.5f, -0.25f, 0, 1}, {0, 0.75f, -0.5f, 0}, {1, 0, 0, -1}};
constexpr float hidden_bias[3] = {0, 0.1f, -0.1f};
constexpr float head_weight[2][3] = {{1, -1, 0.5f}, {-0.5f, 1, 0}};
constexpr float head_bias[2] = {0, 0};

int main() {
  Policy policy;
  const std::vector<mote::TensorRef> weights{
      mote::TensorRef::f32("hidden.weight", {3, 4}, &hidden_weight[0][0]),
      mote::TensorRef::f32("hidden.bias", {3}, hidden_bias),
      mote::TensorRef::f32("head.weight", {2, 3}, &head_weight[0][0]),
      mote::TensorRef::f32("head.bias", {2}, head_bias)};
  const mote::Status status = policy.try_load(weights, "embedded");
  if (!status) {
    std::printf("%s\n", status.message().c_str());
    return 1;
  }
  // A wrong shape is reported, not silently accepted.
  std::vector<mote::TensorRef> wrong = weights;
  wrong[0].shape = {4, 3};
  if (policy.try_load(wrong, "embedded").is_ok()) return 1;

  Policy::InputTensor observation;
  observation[0] = 0.2f, observation[1] = -0.4f, observation[2] = 0.9f, observation[3] = 0.1f;
  Policy::OutputTensor action;
  Policy::Workspace workspace;
  policy.forward(observation, action, workspace);
  std::printf("single header: action probabilities %.4f %.4f (workspace %zu bytes)\n", action[0], action[1],
              Policy::workspace_bytes);
  return action[0] + action[1] > 0.999f && action[0] + action[1] < 1.001f ? 0 : 1;
}
