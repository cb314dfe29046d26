// Loading weights: by file order, by layer index, by a name map, from memory and from .npz;
// every error names the source, the tensor, the layer and the shapes, and leaves the network
// unchanged.

#include "../support.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace mote;

namespace {
using Net = Sequential<Input<4>, Dense<3>, ReLU, Dense<2>>;

struct Tensors {
  std::vector<float> w0 = std::vector<float>(12, 0.5f), b0 = {1, 2, 3}, w1 = std::vector<float>(6, -1.0f), b1 = {0, 1};
  std::vector<TensorRef> refs(const std::string& prefix0 = "fc1", const std::string& prefix1 = "fc2") const {
    return {TensorRef::f32(prefix0 + ".weight", {3, 4}, w0.data()), TensorRef::f32(prefix0 + ".bias", {3}, b0.data()),
            TensorRef::f32(prefix1 + ".weight", {2, 3}, w1.data()), TensorRef::f32(prefix1 + ".bias", {2}, b1.data())};
  }
};

std::vector<float> run(const Net& net) {
  Net::InputTensor in;
  for (std::size_t i = 0; i < in.size; ++i) in[i] = static_cast<float>(i);
  Net::OutputTensor out;
  Net::Workspace workspace;
  net.forward(in, out, workspace);
  return {out.begin(), out.end()};
}

std::string failure(Net& net, const std::vector<TensorRef>& refs, const WeightNames& names) {
  const Status status = net.try_load(refs, "model.npz", names);
  REQUIRE_FALSE(status.is_ok());
  return status.message();
}
}  // namespace

TEST_CASE("The three naming modes load the same weights", "[load]") {
  Tensors t;
  Net by_order, by_map, by_index;
  by_order.load(t.refs(), "memory");
  by_map.load(t.refs(), "memory", WeightNames::prefixes({{"0", "fc1"}, {"2", "fc2"}}));
  by_index.load(t.refs("0", "2"), "memory", WeightNames::layer_index());
  // Hidden: relu(0.5 * (0 + 1 + 2 + 3) + {1, 2, 3}) = {4, 5, 6}; output: -(4 + 5 + 6) + {0, 1}.
  const std::vector<float> expected{-15, -14};
  CHECK(run(by_order) == expected);
  CHECK(run(by_map) == expected);
  CHECK(run(by_index) == expected);
}

TEST_CASE("Load errors say what, where and why, and change nothing", "[load][errors]") {
  Tensors t;
  Net net;
  net.load(t.refs(), "memory");
  const std::vector<float> before = run(net);
  const auto by_map = WeightNames::prefixes({{"0", "fc1"}, {"2", "fc2"}});

  SECTION("missing tensor") {
    auto refs = t.refs();
    refs.pop_back();
    const std::string message = failure(net, refs, by_map);
    CHECK_THAT(message, Catch::Contains("missing tensor") && Catch::Contains("'fc2.bias'") &&
                            Catch::Contains("layer 2 (Dense<2>") && Catch::Contains("[2]") &&
                            Catch::Contains("model.npz"));
  }
  SECTION("missing tensor in file order") {
    auto refs = t.refs();
    refs.pop_back();
    CHECK_THAT(failure(net, refs, WeightNames::file_order()),
               Catch::Contains("needs its 'bias' float32 [2] as tensor #3") && Catch::Contains("only 3 tensors"));
  }
  SECTION("extra tensor") {
    auto refs = t.refs();
    const float extra[] = {1};
    refs.push_back(TensorRef::f32("fc3.weight", {1}, extra));
    CHECK_THAT(failure(net, refs, by_map), Catch::Contains("unexpected tensor") && Catch::Contains("'fc3.weight'"));
    CHECK_THAT(failure(net, refs, WeightNames::file_order()), Catch::Contains("'fc3.weight'"));
  }
  SECTION("mis-shaped tensor") {
    auto refs = t.refs();
    refs[0].shape = {4, 3};
    CHECK_THAT(failure(net, refs, by_map),
               Catch::Contains("shape mismatch") && Catch::Contains("'fc1.weight'") && Catch::Contains("layer 0 (Dense<3>") &&
                   Catch::Contains("expected [3, 4], found [4, 3]"));
  }
  SECTION("wrong dtype") {
    auto refs = t.refs();
    refs[1].dtype = "float64";
    CHECK_THAT(failure(net, refs, by_map), Catch::Contains("'fc1.bias'") && Catch::Contains("dtype float64"));
  }
  SECTION("a layer missing from the name map") {
    CHECK_THAT(failure(net, t.refs(), WeightNames::prefixes({{"0", "fc1"}})),
               Catch::Contains("layer 2 (Dense<2>") && Catch::Contains("no entry in the weight name map"));
  }
  SECTION("a name map entry for a layer without weights") {
    CHECK_THAT(failure(net, t.refs(), WeightNames::prefixes({{"0", "fc1"}, {"1", "act"}, {"2", "fc2"}})),
               Catch::Contains("layer '1'") && Catch::Contains("no weighted layer"));
  }
  CHECK(run(net) == before);
}

TEST_CASE("Loading from .npz files: good, truncated, corrupt, wrong dtype", "[load][npz]") {
  const std::string path = mote_test::data_path("ops/dense.npz");
  using DenseNet = Sequential<Input<7>, Dense<5>>;
  DenseNet net;
  mote::io::TensorArchive archive = mote::io::read_npz(path);
  // The archive also holds the golden input/output: the loader must call them extra.
  Status status = net.try_load(archive, WeightNames::prefixes({{"0", ""}}));
  REQUIRE_FALSE(status.is_ok());
  CHECK_THAT(status.message(), Catch::Contains("dense.npz"));

  SECTION("truncated file") {
    std::ifstream file(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const std::string truncated =
        (std::filesystem::temp_directory_path() / ("mote-" + std::to_string(::getpid()) + "-truncated.npz")).string();
    std::ofstream(truncated, std::ios::binary).write(bytes.data(), static_cast<long>(bytes.size() / 2));
    status = net.try_load_npz(truncated);
    std::remove(truncated.c_str());
    REQUIRE_FALSE(status.is_ok());
    CHECK_THAT(status.message(), Catch::Contains("-truncated.npz"));
  }
  SECTION("missing file") {
    status = net.try_load_npz("/nonexistent/weights.npz");
    REQUIRE_FALSE(status.is_ok());
    CHECK_THAT(status.message(), Catch::Contains("/nonexistent/weights.npz"));
  }
#if MOTE_HAS_EXCEPTIONS
  SECTION("the throwing form throws mote::Error with the same message") {
    CHECK_THROWS_AS(net.load_npz("/nonexistent/weights.npz"), mote::Error);
  }
#endif
}

TEST_CASE("Weights embedded in the binary load from memory", "[load][memory]") {
  static constexpr float weight[2][3] = {{1, 0, 0}, {0, 0, 2}};
  static constexpr float bias[2] = {0, 1};
  Sequential<Input<3>, Dense<2>> net;
  net.load(std::vector{TensorRef::f32("fc.weight", {2, 3}, &weight[0][0]), TensorRef::f32("fc.bias", {2}, bias)},
           "embedded");
  Sequential<Input<3>, Dense<2>>::InputTensor in;
  in[0] = 5, in[1] = 6, in[2] = 7;
  Sequential<Input<3>, Dense<2>>::OutputTensor out;
  Sequential<Input<3>, Dense<2>>::Workspace workspace;
  net.forward(in, out, workspace);
  CHECK(out[0] == 5);
  CHECK(out[1] == 15);
}
