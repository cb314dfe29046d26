// Sparse f32 layouts (layout/sparse.hpp) and their kernels: every layout round-trips its matrix
// exactly, the scalar kernel equals the dense reference on the same pruned matrix, and every SIMD
// kernel on every ISA this CPU has stays within the f32 bound of it (kernel_test_support.hpp).
// Random patterns at several densities, plus empty rows, full rows, all-zero matrices, rows and
// columns around every tile and window edge; inputs past `cols` are NaN so a kernel reading them
// would poison its output.

#include "kernel_test_support.hpp"

using namespace mote;
using mote_test::agrees;
using mote_test::dot_bound;

namespace {

/// A random rows x cols matrix with the zeros of pattern P at about `density` non-zeros, with
/// row 0 empty and row 1 as full as the pattern allows when there are enough rows.
template <class P>
std::vector<float> random_pattern(std::mt19937& rng, std::size_t rows, std::size_t cols, double density) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::bernoulli_distribution keep(density);
  std::vector<float> w(rows * cols);
  for (float& v : w) v = uniform(rng);
  if constexpr (std::is_same_v<P, Unstructured>) {
    for (float& v : w)
      if (!keep(rng)) v = 0.0f;
  } else if constexpr (requires { P::n; }) {
    // N:M: keep a random subset of at most N per group, fewer with probability 1 - density.
    prune::n_of_m(w, rows, cols, P::n, P::m);
    for (float& v : w)
      if (!keep(rng)) v = 0.0f;
  } else {
    const std::size_t br = P::rows, bc = P::cols;
    for (std::size_t r0 = 0; r0 < rows; r0 += br)
      for (std::size_t c0 = 0; c0 < cols; c0 += bc)
        if (!keep(rng))
          for (std::size_t r = r0; r < std::min(rows, r0 + br); ++r)
            for (std::size_t c = c0; c < std::min(cols, c0 + bc); ++c) w[r * cols + c] = 0.0f;
  }
  if (rows > 2) {
    for (std::size_t c = 0; c < cols; ++c) w[c] = 0.0f;  // row 0 empty
    for (std::size_t c = 0; c < cols; ++c) w[cols + c] = uniform(rng) + 2.0f;  // row 1 full...
    if constexpr (requires { P::n; }) prune::n_of_m(std::span<float>(w).subspan(cols, cols), 1, cols, P::n, P::m);
  }
  return w;
}

template <class P>
void check_layout(const char* label) {
  using Matrix = WeightMatrix<F32, Sparse<P>>;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  // Around every edge: tiles of 8 and 16 rows, windows of 4 and 8 inputs, N:M groups.
  for (std::size_t rows : {1, 7, 8, 9, 16, 17, 33}) {
    for (std::size_t cols : {1, 3, 4, 5, 7, 8, 9, 17, 31, 67}) {
      for (double density : {0.0, 0.1, 0.5, 1.0}) {
        const std::vector<float> w = random_pattern<P>(rng, rows, cols, density);
        REQUIRE(check_pattern<P>(w, rows, cols, label).is_ok());
        Matrix matrix(rows, cols);
        matrix.assign(w.data());
        INFO(label << ": rows " << rows << ", cols " << cols << ", density " << density);
        REQUIRE(matrix.to_dense() == w);
        const auto nonzeros = static_cast<std::size_t>(std::count_if(w.begin(), w.end(), [](float v) { return v != 0.0f; }));
        REQUIRE(matrix.nonzeros() == nonzeros);

        AlignedBuffer<float> bias(matrix.padded_rows());
        for (std::size_t r = 0; r < rows; ++r) bias[r] = uniform(rng);
        std::vector<float> input(cols + 16, std::numeric_limits<float>::quiet_NaN());
        for (std::size_t k = 0; k < cols; ++k) input[k] = uniform(rng) * 4.0f;

        WeightMatrix<F32, DenseStorage> dense(rows, cols);
        dense.assign(w.data());
        std::vector<float> expected(rows + 1, -7.0f), scalar(rows + 1, -7.0f);
        kernels::dense(isa::Scalar{}, dense, bias.data(), input.data(), expected.data());
        kernels::dense(isa::Scalar{}, matrix, bias.data(), input.data(), scalar.data());
        REQUIRE(scalar[rows] == -7.0f);
        for (std::size_t r = 0; r < rows; ++r) {
          INFO("row " << r);
          REQUIRE(scalar[r] == expected[r]);  // same products, same order; +0 == -0
        }
        mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
          std::vector<float> actual(rows + 1, -7.0f);
          kernels::dense(tag, matrix, bias.data(), input.data(), actual.data());
          REQUIRE(actual[rows] == -7.0f);
          for (std::size_t r = 0; r < rows; ++r) {
            double magnitude = std::fabs(bias[r]);
            for (std::size_t k = 0; k < cols; ++k) magnitude += std::fabs(w[r * cols + k] * input[k]);
            INFO(isa_name << ": row " << r << ": " << actual[r] << " vs " << expected[r]);
            REQUIRE(agrees(actual[r], expected[r], dot_bound(cols, magnitude)));
          }
          // Batches of 5 (a tile of 4 sharing weight loads, then 1 alone), 6 (a GEMM of 6
          // samples), 15 (GEMMs of 8 and 7) and 21 (GEMMs of 8 and 8, a tile of 4, 1 alone), each
          // sample its own input, through a ReLU: each within the bound of its own dense
          // reference. The scratch is poisoned with NaN.
          for (const std::size_t batch : {std::size_t{5}, std::size_t{6}, std::size_t{15}, std::size_t{21}}) {
          std::vector<float> batch_in(batch * cols + 16, std::numeric_limits<float>::quiet_NaN());
          for (std::size_t i = 0; i < batch * cols; ++i) batch_in[i] = uniform(rng) * 4.0f;
          std::vector<float> batch_out(batch * rows + 1, -7.0f), one(rows);
          AlignedBuffer<float> scratch(kernels::sparse_batch_scratch_bytes(cols, batch) / sizeof(float) + 1);
          std::fill(scratch.begin(), scratch.end(), std::numeric_limits<float>::quiet_NaN());
          kernels::dense_batch(tag, matrix, bias.data(), batch_in.data(), batch_out.data(), batch, activation::Relu{},
                               reinterpret_cast<std::byte*>(scratch.data()));
          REQUIRE(batch_out[batch * rows] == -7.0f);
          for (std::size_t b = 0; b < batch; ++b) {
            const float* x = batch_in.data() + b * cols;
            kernels::dense(isa::Scalar{}, dense, bias.data(), x, one.data(), activation::Relu{});
            for (std::size_t r = 0; r < rows; ++r) {
              double magnitude = std::fabs(bias[r]);
              for (std::size_t k = 0; k < cols; ++k) magnitude += std::fabs(w[r * cols + k] * x[k]);
              INFO(isa_name << ": batch " << batch << ", sample " << b << ", row " << r);
              REQUIRE(agrees(batch_out[b * rows + r], one[r], dot_bound(cols, magnitude)));
            }
          }
          }
        });
      }
    }
  }
}

}  // namespace

TEST_CASE("sparse 2:4, 1:4, 2:8 and 4:8 match the dense reference on every ISA", "[kernels][sparse][simd]") {
  check_layout<NM<2, 4>>("2:4");
  check_layout<NM<1, 4>>("1:4");
  check_layout<NM<2, 8>>("2:8");
  check_layout<NM<4, 8>>("4:8");
}

TEST_CASE("sparse unstructured matches the dense reference on every ISA", "[kernels][sparse][simd]") {
  check_layout<Unstructured>("unstructured");
}

TEST_CASE("sparse blocks match the dense reference on every ISA", "[kernels][sparse][simd]") {
  check_layout<Block<8, 1>>("block 8x1");
  check_layout<Block<16, 1>>("block 16x1");
  check_layout<Block<4, 1>>("block 4x1");
  check_layout<Block<1, 4>>("block 1x4");
  check_layout<Block<4, 4>>("block 4x4");
  check_layout<Block<8, 4>>("block 8x4");
}

TEST_CASE("sparse layouts store fewer bytes as sparsity grows", "[kernels][sparse]") {
  std::mt19937 rng(3);
  const std::size_t rows = 256, cols = 256;
  auto bytes_at = [&](auto pattern, double density) {
    using P = decltype(pattern);
    WeightMatrix<F32, Sparse<P>> matrix(rows, cols);
    matrix.assign(random_pattern<P>(rng, rows, cols, density).data());
    return matrix.bytes();
  };
  const std::size_t dense_bytes = rows * cols * sizeof(float);
  CHECK(bytes_at(Unstructured{}, 0.1) < dense_bytes / 3);  // values padded about 2x, 8 bytes per step
  CHECK(bytes_at(Unstructured{}, 0.1) < bytes_at(Unstructured{}, 0.5));
  CHECK(bytes_at(NM<2, 4>{}, 1.0) < dense_bytes * 6 / 10);
  CHECK(bytes_at(Block<8, 1>{}, 0.25) < dense_bytes / 3);
}

TEST_CASE("scaling a row of a sparse matrix scales exactly its stored weights", "[kernels][sparse]") {
  std::mt19937 rng(9);
  auto check = [&](auto pattern) {
    using P = decltype(pattern);
    const std::size_t rows = 19, cols = 21;
    std::vector<float> w = random_pattern<P>(rng, rows, cols, 0.5);
    WeightMatrix<F32, Sparse<P>> matrix(rows, cols);
    matrix.assign(w.data());
    matrix.scale_row(10, 2.0f);
    matrix.scale_row(17, -0.5f);
    for (std::size_t c = 0; c < cols; ++c) {
      w[10 * cols + c] *= 2.0f;
      w[17 * cols + c] *= -0.5f;
    }
    REQUIRE(matrix.to_dense() == w);
  };
  check(NM<2, 4>{});
  check(Unstructured{});
  check(Block<4, 4>{});
  check(Block<16, 1>{});
}
