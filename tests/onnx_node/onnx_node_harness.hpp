#pragma once
// Runs one generated ONNX backend node test: every test_data_set_*/input_0.pb through the network,
// compared with output_0.pb at the ONNX backend's default tolerances (rtol 1e-3, atol 1e-7).

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <mote/io/onnx_tensor.hpp>
#include <mote/onnx.hpp>

namespace mote_node_test {

inline std::vector<float> read_floats(const std::filesystem::path& path) {
  auto tensor = mote::io::onnx::try_read_tensor_proto_file(path.string());
  INFO(path.string());
  REQUIRE(tensor);
  auto values = tensor->try_to_floats();
  REQUIRE(values);
  return *values;
}

template <class Net, class Load>
void run(const std::string& dir, Load load, mote::onnx::Layout input_layout, mote::onnx::Layout output_layout) {
  auto net = std::make_unique<Net>();
  const mote::Status loaded = load(*net);
  INFO((loaded ? std::string("loaded") : loaded.error().message));
  REQUIRE(loaded);
  std::vector<std::filesystem::path> sets;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  REQUIRE(!sets.empty());
  for (const auto& set : sets) {
    INFO(set.string());
    const std::vector<float> input = read_floats(set / "input_0.pb");
    const std::vector<float> expected = read_floats(set / "output_0.pb");
    constexpr std::size_t in_size = Net::input_shape::size, out_size = Net::output_shape::size;
    REQUIRE(input.size() % in_size == 0);
    const std::size_t batch = input.size() / in_size;
    REQUIRE(expected.size() == batch * out_size);
    std::vector<float> mote_input(input.size()), mote_output(expected.size()), output(expected.size());
    input_layout.to_mote(input.data(), mote_input.data(), batch);
    typename Net::Workspace workspace(batch);
    net->forward_batch(mote_input, mote_output, workspace);
    output_layout.to_onnx(mote_output.data(), output.data(), batch);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < output.size(); ++i) {
      const float a = output[i], e = expected[i];
      const bool ok = (std::isnan(a) && std::isnan(e)) || a == e || std::fabs(a - e) <= 1e-7f + 1e-3f * std::fabs(e);
      if (!ok && bad++ < 5) UNSCOPED_INFO("element " << i << ": mote " << a << ", expected " << e);
    }
    CHECK(bad == 0);
  }
}

}  // namespace mote_node_test
