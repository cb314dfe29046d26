// Layers with sparse f32 weights (Weights<F32, Sparse<Pattern>>) inside networks: each computes
// what the same network with dense f32 layers holding the pruned weights computes (Dense,
// Conv2D 3x3 padded, 1x1 pointwise and strided, Dense after Flatten of a feature map, BatchNorm
// folded into a sparse layer, Residual bodies, forward_batch); loading dense weights into an N:M
// layer without pruning fails naming the tensor, layer, row and columns and changes nothing;
// pruning rules set on the network prune as they say; summary() and the byte counts show the
// layout.

#include "../support.hpp"

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace mote;

namespace {

template <class P>
using SparseF32 = Weights<F32, Sparse<P>>;

/// Every parameter of a network, under the layer-index names ("0.weight").
struct Params {
  std::vector<std::string> names;
  std::vector<std::vector<std::size_t>> shapes;
  std::vector<std::vector<float>> values;

  std::vector<float>& operator[](const std::string& name) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return values[i];
    FAIL("no parameter " << name);
    return values[0];
  }
  std::vector<TensorRef> refs() const {
    std::vector<TensorRef> list;
    for (std::size_t i = 0; i < names.size(); ++i) list.push_back(TensorRef::f32(names[i], shapes[i], values[i].data()));
    return list;
  }
};

/// Seeded parameters for Net: weights uniform in [-0.5, 0.5], BatchNorm variances in [0.5, 1.5].
template <class Net>
Params random_params(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
  Params params;
  for (const ParameterInfo& p : Net::parameters()) {
    params.names.push_back(p.name);
    params.shapes.emplace_back(p.spec.dims.begin(), p.spec.dims.begin() + static_cast<long>(p.spec.rank));
    params.values.emplace_back(p.spec.size());
    const bool variance = std::string(p.spec.name) == "running_var";
    for (float& v : params.values.back()) v = variance ? 1.0f + uniform(rng) : uniform(rng);
  }
  return params;
}

template <class Net>
void load(Net& net, const Params& params) {
  const Status status = net.try_load(params.refs(), "memory", WeightNames::layer_index());
  INFO(status.message());
  REQUIRE(status.is_ok());
}

std::vector<float> random_inputs(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> inputs(count);
  for (float& v : inputs) v = normal(rng);
  return inputs;
}

/// Runs every sample of `inputs` (stored one after the other) through forward().
template <class Net>
std::vector<float> run(const Net& net, const std::vector<float>& inputs) {
  constexpr std::size_t in_size = Net::input_shape::size, out_size = Net::output_shape::size;
  const std::size_t samples = inputs.size() / in_size;
  std::vector<float> outputs(samples * out_size);
  typename Net::Workspace workspace;
  for (std::size_t s = 0; s < samples; ++s)
    net.forward(std::span<const float, in_size>(inputs.data() + s * in_size, in_size),
                std::span<float, out_size>(outputs.data() + s * out_size, out_size), workspace.bytes());
  return outputs;
}

template <class Net>
std::vector<float> run_batch(const Net& net, const std::vector<float>& inputs) {
  const std::size_t samples = inputs.size() / Net::input_shape::size;
  std::vector<float> outputs(samples * Net::output_shape::size);
  typename Net::Workspace workspace(samples);
  net.forward_batch(inputs, outputs, workspace);
  return outputs;
}

/// |actual - expected| <= 1e-5 of the outputs' magnitude (the largest |expected|), element-wise:
/// the sparse kernels sum the same products in another order.
void require_near(const std::vector<float>& actual, const std::vector<float>& expected) {
  REQUIRE(actual.size() == expected.size());
  float magnitude = 1e-3f;
  for (float v : expected) magnitude = std::max(magnitude, std::fabs(v));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("element " << i << ": actual " << actual[i] << ", expected " << expected[i] << ", magnitude " << magnitude);
    REQUIRE(std::fabs(actual[i] - expected[i]) <= 1e-5f * magnitude);
  }
}

/// PyTorch [rows, in, taps] (conv [out, in, kh, kw]; or Dense columns (C, H*W) after Flatten)
/// as mote's rows of (tap, in), and back.
std::vector<float> mote_rows(const std::vector<float>& pytorch, std::size_t rows, std::size_t in, std::size_t taps) {
  std::vector<float> out(pytorch.size());
  for (std::size_t o = 0; o < rows; ++o)
    for (std::size_t i = 0; i < in; ++i)
      for (std::size_t t = 0; t < taps; ++t) out[(o * taps + t) * in + i] = pytorch[(o * in + i) * taps + t];
  return out;
}
std::vector<float> pytorch_order(const std::vector<float>& rows_, std::size_t rows, std::size_t in, std::size_t taps) {
  std::vector<float> out(rows_.size());
  for (std::size_t o = 0; o < rows; ++o)
    for (std::size_t i = 0; i < in; ++i)
      for (std::size_t t = 0; t < taps; ++t) out[(o * in + i) * taps + t] = rows_[(o * taps + t) * in + i];
  return out;
}

/// Prunes a row-major matrix to pattern P as the layers' default rules do, with prune::
/// directly: Unstructured to `fraction` zeros, N:M by selection, blocks to `fraction` of blocks.
template <class P>
void prune_like(std::vector<float>& w, std::size_t rows, std::size_t cols, double fraction) {
  if constexpr (std::is_same_v<P, Unstructured>) prune::magnitude(w, rows, cols, fraction);
  else if constexpr (requires { P::n; }) prune::n_of_m(w, rows, cols, P::n, P::m);
  else prune::blocks(w, rows, cols, P::rows, P::cols, fraction);
}

template <class P>
Pruning rule_for(double fraction) {
  if constexpr (requires { P::n; }) return Pruning::to_pattern();
  else return Pruning::to_sparsity(fraction);
}

std::size_t count_zeros(const std::vector<float>& values) {
  return static_cast<std::size_t>(std::count(values.begin(), values.end(), 0.0f));
}

// ---------------------------------------------------------------------------------------------

template <class P>
void check_mlp(const char* label) {
  INFO(label);
  using SparseNet = Sequential<Input<40>, Dense<33, SparseF32<P>>, ReLU, Dense<10, SparseF32<P>>>;
  using DenseNet = Sequential<Input<40>, Dense<33>, ReLU, Dense<10>>;
  const Params original = random_params<DenseNet>(1);
  Params pruned = original;
  prune_like<P>(pruned["0.weight"], 33, 40, 0.7);
  prune_like<P>(pruned["2.weight"], 10, 33, 0.7);
  REQUIRE(count_zeros(pruned["0.weight"]) > 33 * 40 / 3);
  auto dense = std::make_unique<DenseNet>();
  load(*dense, pruned);
  const std::vector<float> inputs = random_inputs(11 * 40, 2);
  const std::vector<float> expected = run(*dense, inputs);

  SECTION("weights that already hold the pattern, no pruning") {
    auto sparse = std::make_unique<SparseNet>();
    load(*sparse, pruned);
    CHECK(sparse->template layer<0>().weights().matrix().to_dense() == pruned["0.weight"]);
    CHECK(sparse->template layer<2>().weights().matrix().to_dense() == pruned["2.weight"]);
    CHECK(sparse->template layer<0>().weights().matrix().nonzeros() == 33 * 40 - count_zeros(pruned["0.weight"]));
    require_near(run(*sparse, inputs), expected);
    SECTION("forward_batch computes what forward computes per sample") {
      require_near(run_batch(*sparse, inputs), run(*sparse, inputs));
    }
  }
  SECTION("dense weights pruned on the way by the layer's rule") {
    auto sparse = std::make_unique<SparseNet>();
    REQUIRE(sparse->set_pruning(rule_for<P>(0.7)).is_ok());
    load(*sparse, original);
    CHECK(sparse->template layer<0>().weights().matrix().to_dense() == pruned["0.weight"]);
    CHECK(sparse->template layer<2>().weights().matrix().to_dense() == pruned["2.weight"]);
    require_near(run(*sparse, inputs), expected);
  }
}

}  // namespace

TEST_CASE("a sparse Dense MLP computes what the dense MLP with the pruned weights computes", "[sparse][layers]") {
  check_mlp<Unstructured>("unstructured");
  check_mlp<NM<2, 4>>("2:4");
  check_mlp<NM<1, 4>>("1:4");
  check_mlp<NM<4, 8>>("4:8");
  check_mlp<Block<8, 1>>("block 8x1");
  check_mlp<Block<4, 4>>("block 4x4");
  check_mlp<Block<16, 1>>("block 16x1");
}

namespace {

template <class P>
void check_conv(const char* label) {
  INFO(label);
  // 9 x 9 = 81 output pixels: two chunks of the per-pixel GEMV; then a 1x1 pointwise conv
  // (rows are the pixels themselves) and a strided 3x3 without padding.
  using SparseNet = Sequential<Input<9, 9, 5>, Conv2D<12, Kernel<3>, Pad::same, SparseF32<P>>, ReLU,
                               Conv2D<9, Kernel<1>, SparseF32<P>>, ReLU, Conv2D<6, Kernel<3>, Stride<2>, SparseF32<P>>>;
  using DenseNet = Sequential<Input<9, 9, 5>, Conv2D<12, Kernel<3>, Pad::same>, ReLU, Conv2D<9, Kernel<1>>, ReLU,
                              Conv2D<6, Kernel<3>, Stride<2>>>;
  const Params original = random_params<DenseNet>(3);
  // Pruned in mote's row order (ky, kx, in): N:M groups run along it.
  struct Shape {
    const char* name;
    std::size_t out, in, taps;
  };
  const Shape shapes[] = {{"0.weight", 12, 5, 9}, {"2.weight", 9, 12, 1}, {"4.weight", 6, 9, 9}};
  Params pruned = original;
  std::vector<std::vector<float>> pruned_rows;
  for (const Shape& s : shapes) {
    std::vector<float> rows = mote_rows(pruned[s.name], s.out, s.in, s.taps);
    prune_like<P>(rows, s.out, s.in * s.taps, 0.6);
    pruned[s.name] = pytorch_order(rows, s.out, s.in, s.taps);
    pruned_rows.push_back(rows);
  }
  auto dense = std::make_unique<DenseNet>();
  load(*dense, pruned);
  const std::vector<float> inputs = random_inputs(3 * 9 * 9 * 5, 4);
  const std::vector<float> expected = run(*dense, inputs);

  SECTION("pre-pruned weights") {
    auto sparse = std::make_unique<SparseNet>();
    load(*sparse, pruned);
    CHECK(sparse->template layer<0>().weights().matrix().to_dense() == pruned_rows[0]);
    CHECK(sparse->template layer<2>().weights().matrix().to_dense() == pruned_rows[1]);
    CHECK(sparse->template layer<4>().weights().matrix().to_dense() == pruned_rows[2]);
    require_near(run(*sparse, inputs), expected);
    require_near(run_batch(*sparse, inputs), run(*sparse, inputs));
  }
  SECTION("pruned on the way") {
    auto sparse = std::make_unique<SparseNet>();
    REQUIRE(sparse->set_pruning(rule_for<P>(0.6)).is_ok());
    load(*sparse, original);
    CHECK(sparse->template layer<0>().weights().matrix().to_dense() == pruned_rows[0]);
    require_near(run(*sparse, inputs), expected);
  }
}

}  // namespace

TEST_CASE("sparse Conv2D layers compute what dense Conv2D with the pruned weights computes", "[sparse][layers][conv]") {
  check_conv<Unstructured>("unstructured");
  check_conv<NM<2, 4>>("2:4");
  check_conv<Block<8, 1>>("block 8x1");
}

TEST_CASE("N:M groups of a Conv2D run along (ky, kx, in), not PyTorch's (in, ky, kx)", "[sparse][layers][conv]") {
  using Net = Sequential<Input<6, 6, 4>, Conv2D<8, Kernel<3>, Pad::same, SparseF32<NM<2, 4>>>>;
  Params params = random_params<Net>(5);
  std::vector<float>& w = params["0.weight"];  // [8, 4, 3, 3]
  prune::n_of_m(w, 8 * 4, 9, 2, 4);               // 2:4 along PyTorch's innermost (ky, kx) only
  const std::vector<float> rows = mote_rows(w, 8, 4, 9);
  REQUIRE_FALSE(check_pattern<NM<2, 4>>(rows, 8, 36, "").is_ok());
  auto net = std::make_unique<Net>();
  const Status status = net->try_load(params.refs(), "memory", WeightNames::layer_index());
  REQUIRE_FALSE(status.is_ok());
  const std::string first = check_pattern<NM<2, 4>>(rows, 8, 36, "").error().message;  // ": row r, columns a..b ..."
  const std::string row_and_columns = first.substr(2, first.find(" hold") - 2);
  CHECK_THAT(status.message(), Catch::Contains("tensor '0.weight'") && Catch::Contains("layer 0 (Conv2D<8, 3x3>") &&
                                   Catch::Contains("(ky, kx, in)") && Catch::Contains(row_and_columns));
}

TEST_CASE("a sparse Dense after Flatten checks its pattern on mote's (H, W, C) columns", "[sparse][layers]") {
  using SparseNet = Sequential<Input<3, 4, 5>, Flatten, Dense<10, SparseF32<NM<2, 4>>>>;
  using DenseNet = Sequential<Input<3, 4, 5>, Flatten, Dense<10>>;
  const Params original = random_params<DenseNet>(6);
  // PyTorch's columns are (C, H, W): 5 channels of 12 pixels; mote's (H, W, C).
  std::vector<float> rows = mote_rows(Params(original)["1.weight"], 10, 5, 12);
  prune::n_of_m(rows, 10, 60, 2, 4);
  Params pruned = original;
  pruned["1.weight"] = pytorch_order(rows, 10, 5, 12);
  auto dense = std::make_unique<DenseNet>();
  load(*dense, pruned);
  const std::vector<float> inputs = random_inputs(4 * 60, 7);

  SECTION("weights pruned in mote's order load as they are") {
    auto sparse = std::make_unique<SparseNet>();
    load(*sparse, pruned);
    CHECK(sparse->layer<1>().weights().matrix().to_dense() == rows);
    require_near(run(*sparse, inputs), run(*dense, inputs));
  }
  SECTION("weights pruned in PyTorch's order do not hold 2:4 in mote's order") {
    Params torch_pruned = original;
    prune::n_of_m(torch_pruned["1.weight"], 10, 60, 2, 4);
    REQUIRE_FALSE(check_pattern<NM<2, 4>>(mote_rows(torch_pruned["1.weight"], 10, 5, 12), 10, 60, "").is_ok());
    auto sparse = std::make_unique<SparseNet>();
    const Status status = sparse->try_load(torch_pruned.refs(), "memory", WeightNames::layer_index());
    REQUIRE_FALSE(status.is_ok());
    CHECK_THAT(status.message(), Catch::Contains("tensor '1.weight'") && Catch::Contains("(H, W, C)") &&
                                     Catch::Contains("row ") && Catch::Contains("columns "));
  }
  SECTION("pruned on the way, to the pattern in mote's order") {
    auto sparse = std::make_unique<SparseNet>();
    REQUIRE(sparse->set_pruning(Pruning::to_pattern()).is_ok());
    load(*sparse, original);
    CHECK(sparse->layer<1>().weights().matrix().to_dense() == rows);
    require_near(run(*sparse, inputs), run(*dense, inputs));
  }
}

namespace {

template <class P>
void check_batch_norm(const char* label) {
  INFO(label);
  using SparseNet = Sequential<Input<20>, Dense<16, SparseF32<P>>, BatchNorm, ReLU, Dense<4>>;
  using DenseNet = Sequential<Input<20>, Dense<16>, BatchNorm, ReLU, Dense<4>>;
  Params params = random_params<DenseNet>(8);
  prune_like<P>(params["0.weight"], 16, 20, 0.5);
  auto sparse = std::make_unique<SparseNet>();
  auto dense = std::make_unique<DenseNet>();
  load(*sparse, params);
  load(*dense, params);
  CHECK(sparse->template layer<1>().folded());
  CHECK(dense->template layer<1>().folded());
  const std::vector<float> inputs = random_inputs(6 * 20, 9);
  require_near(run(*sparse, inputs), run(*dense, inputs));
  // The fold scaled the stored weights row by row; zeros stay zeros.
  const std::vector<float> folded = sparse->template layer<0>().weights().matrix().to_dense();
  const std::vector<float>& w = params["0.weight"];
  for (std::size_t i = 0; i < w.size(); ++i)
    if (w[i] == 0.0f) CHECK(folded[i] == 0.0f);
}

}  // namespace

TEST_CASE("BatchNorm folds into a sparse Dense or Conv2D as into a dense one", "[sparse][layers][batchnorm]") {
  check_batch_norm<Unstructured>("unstructured");
  check_batch_norm<NM<2, 4>>("2:4");
  check_batch_norm<Block<8, 1>>("block 8x1");
  check_batch_norm<Block<4, 4>>("block 4x4");

  using SparseNet = Sequential<Input<5, 5, 4>, Conv2D<8, Kernel<3>, Pad::same, SparseF32<NM<2, 4>>>, BatchNorm, ReLU>;
  using DenseNet = Sequential<Input<5, 5, 4>, Conv2D<8, Kernel<3>, Pad::same>, BatchNorm, ReLU>;
  const Params original = random_params<DenseNet>(10);
  auto sparse = std::make_unique<SparseNet>();
  REQUIRE(sparse->set_pruning(Pruning::to_pattern()).is_ok());
  load(*sparse, original);
  Params pruned = original;
  std::vector<float> rows = mote_rows(pruned["0.weight"], 8, 4, 9);
  prune::n_of_m(rows, 8, 36, 2, 4);
  pruned["0.weight"] = pytorch_order(rows, 8, 4, 9);
  auto dense = std::make_unique<DenseNet>();
  load(*dense, pruned);
  CHECK(sparse->layer<1>().folded());
  const std::vector<float> inputs = random_inputs(2 * 100, 11);
  require_near(run(*sparse, inputs), run(*dense, inputs));
}

// ---------------------------------------------------------------------------------------------
// Loading and pruning rules

namespace {
using NMNet = Sequential<Input<40>, Dense<33, SparseF32<NM<2, 4>>>, ReLU, Dense<10, SparseF32<NM<2, 4>>>>;
using NMDenseNet = Sequential<Input<40>, Dense<33>, ReLU, Dense<10>>;
}  // namespace

TEST_CASE("dense weights into an N:M layer without pruning fail, name everything, change nothing",
          "[sparse][layers][load][errors]") {
  const Params dense_weights = random_params<NMNet>(12);
  Params valid = random_params<NMNet>(13);
  prune::n_of_m(valid["0.weight"], 33, 40, 2, 4);
  prune::n_of_m(valid["2.weight"], 10, 33, 2, 4);
  auto net = std::make_unique<NMNet>();
  load(*net, valid);
  const std::vector<float> inputs = random_inputs(5 * 40, 14);
  const std::vector<float> before = run(*net, inputs);

  SECTION("the first layer's weights") {
    const Status status = net->try_load(dense_weights.refs(), "model.npz", WeightNames::layer_index());
    REQUIRE_FALSE(status.is_ok());
    CHECK(status.error().code == ErrorCode::invalid_value);
    // Random weights: row 0's first group already holds 4 non-zeros.
    CHECK_THAT(status.message(), Catch::Contains("model.npz") && Catch::Contains("tensor '0.weight'") &&
                                     Catch::Contains("layer 0 (Dense<33> (f32-2:4, fused ReLU))") &&
                                     Catch::Contains("row 0, columns 0..3") && Catch::Contains("2:4 allows 2") &&
                                     Catch::Contains("set_pruning(Pruning::to_pattern())"));
  }
  SECTION("only the second layer's weights: the first is not set either") {
    Params mixed = random_params<NMNet>(15);  // other values than `valid`
    prune::n_of_m(mixed["0.weight"], 33, 40, 2, 4);
    prune::n_of_m(mixed["2.weight"], 10, 33, 2, 4);
    for (std::size_t c = 8; c < 12; ++c) mixed["2.weight"][7 * 33 + c] = 1.0f;  // row 7, group 8..11: 4 non-zeros
    const Status status = net->try_load(mixed.refs(), "model.npz", WeightNames::layer_index());
    REQUIRE_FALSE(status.is_ok());
    CHECK_THAT(status.message(), Catch::Contains("tensor '2.weight'") && Catch::Contains("layer 2 (Dense<10>") &&
                                     Catch::Contains("row 7, columns 8..11") && Catch::Contains("4 non-zero"));
  }
  SECTION("a trailing partial group (columns 32..32 of 33)") {
    Params tail = valid;
    tail["2.weight"][32] = 1.0f;  // row 0: the last group has one column; 1 <= 2, still valid
    REQUIRE(net->try_load(tail.refs(), "m", WeightNames::layer_index()).is_ok());
    load(*net, valid);
  }
  // The network still computes exactly what it did.
  const std::vector<float> after = run(*net, inputs);
  CHECK(std::memcmp(after.data(), before.data(), after.size() * sizeof(float)) == 0);

  SECTION("with set_pruning(Pruning::to_pattern()) the same load succeeds") {
    REQUIRE(net->set_pruning(Pruning::to_pattern()).is_ok());
    CHECK(net->layer<0>().pruning().kind == Pruning::Kind::below);
    CHECK(net->layer<2>().pruning().threshold < 0.0f);
    load(*net, dense_weights);
    Params reference = dense_weights;
    prune::n_of_m(reference["0.weight"], 33, 40, 2, 4);
    prune::n_of_m(reference["2.weight"], 10, 33, 2, 4);
    auto dense = std::make_unique<NMDenseNet>();
    load(*dense, reference);
    require_near(run(*net, inputs), run(*dense, inputs));
    CHECK(net->layer<0>().weights().matrix().nonzeros() == 33 * 20);
  }
}

TEST_CASE("set_pruning(to_sparsity) on a network prunes every sparse layer to the fraction", "[sparse][layers][pruning]") {
  using Net = Sequential<Input<100>, Dense<50, SparseF32<Unstructured>>, ReLU, Dense<10, SparseF32<Unstructured>>>;
  const Params params = random_params<Net>(16);
  auto net = std::make_unique<Net>();
  REQUIRE(net->set_pruning(Pruning::to_sparsity(0.9)).is_ok());
  load(*net, params);
  CHECK(net->layer<0>().weights().matrix().nonzeros() == 500);
  CHECK(net->layer<2>().weights().matrix().nonzeros() == 50);
  CHECK(net->layer<0>().weights().matrix().sparsity() == Approx(0.9));
  const std::string report = net->sparsity_report();
  CHECK_THAT(report, Catch::Contains("0 Dense<50> (f32-unstructured, fused ReLU): 500 of 5000 weights non-zero (90.00% zeros)") &&
                         Catch::Contains("2 Dense<10> (f32-unstructured): 50 of 500 weights non-zero (90.00% zeros)"));

  SECTION("per output channel") {
    REQUIRE(net->set_pruning(Pruning::to_sparsity(0.9, Pruning::Scope::row)).is_ok());
    load(*net, params);
    const std::vector<float> w = net->layer<0>().weights().matrix().to_dense();
    for (std::size_t r = 0; r < 50; ++r)
      CHECK(std::count(w.begin() + static_cast<long>(r * 100), w.begin() + static_cast<long>(r * 100 + 100), 0.0f) == 90);
  }
  SECTION("an invalid rule is refused and the previous one kept") {
    const Status status = net->set_pruning(Pruning::to_sparsity(1.5));
    REQUIRE_FALSE(status.is_ok());
    CHECK(status.error().code == ErrorCode::invalid_value);
    CHECK_THAT(status.message(), Catch::Contains("layer 0 (Dense<50>") && Catch::Contains("between 0 and 1"));
    CHECK(net->layer<0>().pruning().sparsity == 0.9);
    CHECK(net->layer<2>().pruning().sparsity == 0.9);
    const Status nan = net->set_pruning(Pruning::below(std::numeric_limits<float>::quiet_NaN()));
    REQUIRE_FALSE(nan.is_ok());
    CHECK_THAT(nan.message(), Catch::Contains("NaN"));
    CHECK(net->layer<0>().pruning().kind == Pruning::Kind::to_sparsity);
  }
  SECTION("one global threshold across layers") {
    const float tau = prune::global_threshold(
        std::vector<std::span<const float>>{Params(params)["0.weight"], Params(params)["2.weight"]}, 0.8);
    REQUIRE(net->set_pruning(Pruning::below(tau)).is_ok());
    load(*net, params);
    const std::size_t nonzeros =
        net->layer<0>().weights().matrix().nonzeros() + net->layer<2>().weights().matrix().nonzeros();
    CHECK(nonzeros == 1100);  // 20% of 5500
    // The pruned weights are exactly those with |w| <= tau.
    std::vector<float> w0 = Params(params)["0.weight"];
    prune::below(w0, tau);
    CHECK(net->layer<0>().weights().matrix().to_dense() == w0);
  }
  SECTION("Pruning::none() again: dense weights are stored as they are") {
    REQUIRE(net->set_pruning(Pruning::none()).is_ok());
    load(*net, params);
    CHECK(net->layer<0>().weights().matrix().nonzeros() == 5000 - count_zeros(Params(params)["0.weight"]));
  }
}

TEST_CASE("set_pruning reaches sparse layers inside Residual bodies", "[sparse][layers][pruning]") {
  using Net = Sequential<Input<16>, Residual<Dense<16, SparseF32<Block<4, 4>>>, ReLU, Dense<16, SparseF32<Unstructured>>>,
                         Dense<4, SparseF32<NM<2, 4>>>>;
  using DenseNet = Sequential<Input<16>, Residual<Dense<16>, ReLU, Dense<16>>, Dense<4>>;
  const Params params = random_params<Net>(17);
  auto net = std::make_unique<Net>();
  REQUIRE(net->set_pruning(Pruning::to_sparsity(0.5)).is_ok());
  load(*net, params);
  const std::string report = net->sparsity_report();
  CHECK_THAT(report, Catch::Contains("0.0 Dense<16> (f32-block 4x4, fused ReLU): 128 of 256") &&
                         Catch::Contains("0.2 Dense<16> (f32-unstructured): 128 of 256") &&
                         Catch::Contains("1 Dense<4> (f32-2:4): 32 of 64"));
  Params pruned = params;
  prune::blocks(pruned["0.0.weight"], 16, 16, 4, 4, 0.5);
  prune::magnitude(pruned["0.2.weight"], 16, 16, 0.5);
  prune::n_of_m(pruned["1.weight"], 4, 16, 2, 4);
  auto dense = std::make_unique<DenseNet>();
  load(*dense, pruned);
  const std::vector<float> inputs = random_inputs(5 * 16, 18);
  require_near(run(*net, inputs), run(*dense, inputs));
}

TEST_CASE("summary() names the sparse layouts", "[sparse][layers]") {
  using Net = Sequential<Input<32>, Dense<16, SparseF32<NM<2, 4>>>, Dense<16, SparseF32<Unstructured>>,
                         Dense<16, SparseF32<Block<8, 1>>>, Dense<4, SparseF32<Block<16, 1>>, Bias<false>>>;
  const std::string summary = Net::summary();
  CHECK_THAT(summary, Catch::Contains("0: Dense<16> (f32-2:4)") && Catch::Contains("1: Dense<16> (f32-unstructured)") &&
                          Catch::Contains("2: Dense<16> (f32-block 8x1)") &&
                          Catch::Contains("3: Dense<4> (f32-block 16x1, no bias)"));
  using Conv = Sequential<Input<4, 4, 8>, Conv2D<8, Kernel<3>, SparseF32<NM<2, 4>>>>;
  CHECK_THAT(Conv::summary(), Catch::Contains("Conv2D<8, 3x3> (f32-2:4)"));
}

TEST_CASE("a 90% unstructured 256x784 layer stores under 40% of the dense layer's bytes", "[sparse][layers][bytes]") {
  using SparseNet = Sequential<Input<784>, Dense<256, SparseF32<Unstructured>>>;
  using DenseNet = Sequential<Input<784>, Dense<256>>;
  const Params params = random_params<DenseNet>(19);
  auto sparse = std::make_unique<SparseNet>();
  auto dense = std::make_unique<DenseNet>();
  REQUIRE(sparse->set_pruning(Pruning::to_sparsity(0.9)).is_ok());
  load(*sparse, params);
  load(*dense, params);
  CHECK(sparse->layer<0>().weights().matrix().sparsity() == Approx(0.9).margin(1e-5));
  INFO("sparse " << sparse->weight_bytes() << " bytes, dense " << dense->weight_bytes() << " bytes");
  CHECK(dense->weight_bytes() >= 256 * 784 * sizeof(float));
  CHECK(sparse->weight_bytes() < 0.4 * static_cast<double>(dense->weight_bytes()));
  CHECK_THAT(sparse->sparsity_report(), Catch::Contains(std::to_string(sparse->layer<0>().weight_bytes()) + " bytes"));
  const std::vector<float> inputs = random_inputs(2 * 784, 20);
  Params pruned = params;
  prune::magnitude(pruned["0.weight"], 256, 784, 0.9);
  load(*dense, pruned);
  require_near(run(*sparse, inputs), run(*dense, inputs));
}
