// Block-sparse int8 weights (layout/sparse_int8.hpp): on every ISA, bit for bit, the same
// outputs as the dense int8 kernels (and the dense scalar reference) on the same pruned weights,
// over shapes around the panel (16 rows), group (4 columns) and register-tile sizes, empty and
// full panels, both activation code ranges, batches; BatchNorm-style row scaling; and as a layer.

#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "../kernels/kernel_test_support.hpp"
#include "mote/mote.hpp"

namespace {

using mote::kernels::Int8InputQuant;

std::size_t scratch_for(std::size_t rows, std::size_t cols, std::size_t batch) {
  const std::size_t pr = (rows + 15) / 16 * 16, pc = (cols + 3) / 4 * 4;
  return batch * std::max(mote::kernels::int8_dense_scratch_bytes(pr, pc),
                          mote::kernels::int8_dense_reference_scratch_bytes(pr, pc));
}

/// Random weights with blocks of Block<R, C> zeroed with probability 1 - density, panel 0 empty
/// and row 17 full when the matrix is large enough.
template <std::size_t R, std::size_t C>
std::vector<float> block_weights(std::mt19937& rng, std::size_t rows, std::size_t cols, double density) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::bernoulli_distribution keep(density);
  std::vector<float> w(rows * cols);
  for (float& v : w) v = normal(rng);
  for (std::size_t r0 = 0; r0 < rows; r0 += R)
    for (std::size_t c0 = 0; c0 < cols; c0 += C)
      if (!keep(rng) || (rows > 32 && r0 < 16))
        for (std::size_t r = r0; r < std::min(rows, r0 + R); ++r)
          for (std::size_t c = c0; c < std::min(cols, c0 + C); ++c) w[r * cols + c] = 0.0f;
  if (rows > 32)
    for (std::size_t c = 0; c < cols; ++c) w[17 * cols + c] = normal(rng) + 3.0f;
  return w;
}

template <class G, std::size_t R, std::size_t C, class Symmetry = mote::Symmetric>
void check_block(const char* label) {
  using Format = mote::Int8<G, Symmetry>;
  using Sparse = mote::WeightMatrix<Format, mote::Sparse<mote::Block<R, C>>>;
  using Dense = mote::WeightMatrix<Format, mote::DenseStorage>;
  std::mt19937 rng(77);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (std::size_t rows : {1, 3, 15, 16, 17, 33, 48})
    for (std::size_t cols : {1, 3, 4, 5, 8, 9, 17, 64, 100})
      for (double density : {0.0, 0.25, 1.0})
        for (std::size_t batch : {1, 2, 7, 9})
          for (bool uint8_input : {false, true}) {
            const std::vector<float> w = block_weights<R, C>(rng, rows, cols, density);
            Sparse sparse(rows, cols);
            Dense dense(rows, cols);
            sparse.assign(w.data());
            dense.assign(w.data());
            for (std::size_t r = 0; r < rows; ++r)
              for (std::size_t k = 0; k < cols; ++k) REQUIRE(sparse.at(r, k) == dense.at(r, k));
            std::vector<float> bias(rows), input(cols * batch);
            for (float& v : bias) v = normal(rng);
            for (float& v : input) v = 2.0f * normal(rng) + 0.5f;
            const std::int32_t offset = uint8_input ? 0 : 128;
            const std::int32_t low = uint8_input ? 0 : -128, high = uint8_input ? 255 : 127;
            const mote::QuantParams p = mote::choose_quant_params(-4.0f, 5.0f, low, high, false);
            const Int8InputQuant quant{{p.scale, p.zero_point + offset}, low + offset, high + offset};
            mote::AlignedBuffer<std::byte> scratch(scratch_for(rows, cols, batch));
            std::vector<float> expected(rows * batch), actual(rows * batch);
            mote::kernels::dense_int8(mote::isa::Scalar{}, dense, bias.data(), input.data(), expected.data(), batch,
                                      quant, mote::activation::Relu{}, scratch.data());
            auto check = [&](auto tag, const std::string& isa) {
              std::fill(actual.begin(), actual.end(), -12345.0f);
              mote::kernels::dense_int8(tag, sparse, bias.data(), input.data(), actual.data(), batch, quant,
                                        mote::activation::Relu{}, scratch.data());
              INFO(label << " " << isa << ": " << rows << "x" << cols << " density " << density << " batch " << batch);
              REQUIRE(std::memcmp(actual.data(), expected.data(), actual.size() * sizeof(float)) == 0);
            };
            check(mote::isa::Scalar{}, "scalar");
            mote_test::for_each_simd_isa(check);
          }
}

}  // namespace

TEST_CASE("block-sparse int8 equals dense int8 bit for bit on every ISA", "[int8][sparse][kernels]") {
  check_block<mote::PerChannel, 16, 4>("per-channel 16x4");
  check_block<mote::PerTensor, 16, 4>("per-tensor 16x4");
  check_block<mote::PerChannel, 8, 4>("per-channel 8x4");
  check_block<mote::PerChannel, 16, 1>("per-channel 16x1");
  check_block<mote::PerChannel, 4, 2>("per-channel 4x2");
  check_block<mote::PerChannel, 16, 4, mote::Narrow>("int7 per-channel 16x4");
  check_block<mote::PerTensor, 8, 4, mote::Narrow>("int7 per-tensor 8x4");
}

TEST_CASE("block-sparse int8 keeps only non-zero groups and scales rows as dense int8 does", "[int8][sparse]") {
  using Format = mote::Int8<mote::PerChannel, mote::Symmetric>;
  std::mt19937 rng(3);
  const std::size_t rows = 64, cols = 256;
  const std::vector<float> w = block_weights<16, 4>(rng, rows, cols, 0.25);
  mote::WeightMatrix<Format, mote::Sparse<mote::Block<16, 4>>> sparse(rows, cols);
  mote::WeightMatrix<Format, mote::DenseStorage> dense(rows, cols);
  sparse.assign(w.data());
  dense.assign(w.data());
  CHECK(sparse.bytes() < dense.bytes() / 2);  // panel 0 empty, panel 1 full (row 17), 25% of the rest
  CHECK(sparse.sparsity() > 0.6);
  for (float factor : {2.0f, -0.5f, 0.0f}) {
    sparse.scale_row(20, factor);
    dense.scale_row(20, factor);
    for (std::size_t r = 0; r < rows; ++r) {
      REQUIRE(sparse.params(r).scale == dense.params(r).scale);
      REQUIRE(sparse.row_sum(r) == dense.row_sum(r));
      for (std::size_t k = 0; k < cols; ++k) REQUIRE(sparse.at(r, k) == dense.at(r, k));
    }
  }
}

namespace {

template <class Format>
void check_sparse_layer() {
  using SparseNet = mote::Sequential<mote::Input<40>, mote::Dense<33, mote::Weights<Format, mote::Sparse<mote::Block<16, 4>>>>,
                                     mote::ReLU, mote::Dense<7, mote::Weights<Format, mote::Sparse<mote::Block<16, 4>>>>>;
  using DenseNet = mote::Sequential<mote::Input<40>, mote::Dense<33, mote::Weights<Format>>, mote::ReLU,
                                    mote::Dense<7, mote::Weights<Format>>>;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w1 = block_weights<16, 4>(rng, 33, 40, 0.3), b1(33), w2(7 * 33), b2(7);
  for (float& v : b1) v = normal(rng);
  for (float& v : w2) v = normal(rng);
  for (float& v : b2) v = normal(rng);
  const std::vector<mote::TensorRef> refs = {
      mote::TensorRef::f32("0.weight", {33, 40}, w1.data()), mote::TensorRef::f32("0.bias", {33}, b1.data()),
      mote::TensorRef::f32("2.weight", {7, 33}, w2.data()), mote::TensorRef::f32("2.bias", {7}, b2.data())};
  auto sparse = std::make_unique<SparseNet>();
  auto dense = std::make_unique<DenseNet>();
  // The second layer's weights are dense: pruned to 75% of its 16x4 blocks on the way.
  REQUIRE(sparse->set_pruning(mote::Pruning::to_sparsity(0.75)).is_ok());
  REQUIRE(sparse->try_load(refs, "memory", mote::WeightNames::layer_index()).is_ok());
  CHECK(SparseNet::summary().find(Format::name) != std::string::npos);
  CHECK(sparse->sparsity_report().find("0 Dense<33>") != std::string::npos);
  // The dense network gets the weights as the sparse one pruned them.
  std::vector<float> w2_pruned = w2;
  mote::prune::blocks(w2_pruned, 7, 33, 16, 4, 0.75);
  std::vector<float> w1_pruned = w1;
  mote::prune::blocks(w1_pruned, 33, 40, 16, 4, 0.75);
  const std::vector<mote::TensorRef> pruned = {
      mote::TensorRef::f32("0.weight", {33, 40}, w1_pruned.data()), mote::TensorRef::f32("0.bias", {33}, b1.data()),
      mote::TensorRef::f32("2.weight", {7, 33}, w2_pruned.data()), mote::TensorRef::f32("2.bias", {7}, b2.data())};
  REQUIRE(dense->try_load(pruned, "memory", mote::WeightNames::layer_index()).is_ok());
  for (int trial = 0; trial < 20; ++trial) {
    typename SparseNet::InputTensor in;
    for (float& v : in) v = normal(rng);
    typename SparseNet::OutputTensor a, b;
    typename SparseNet::Workspace ws_a;
    typename DenseNet::Workspace ws_b;
    sparse->forward(in, a, ws_a);
    dense->forward(in, b, ws_b);
    REQUIRE(std::memcmp(a.data(), b.data(), sizeof(float) * 7) == 0);
  }
}

}  // namespace

TEST_CASE("an int8 block-sparse Dense layer computes what the dense int8 layer computes", "[int8][sparse][layers]") {
  check_sparse_layer<mote::Int8<mote::PerChannel, mote::Symmetric>>();
  check_sparse_layer<mote::Int7<>>();
}
