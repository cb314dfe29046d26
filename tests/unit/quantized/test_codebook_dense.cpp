// Codebook (palettised) weights: the k-means fit (sorted, deterministic, exact for few distinct
// values, better than uniform quantisation on Gaussian data), the index layout and BatchNorm
// folding, the SIMD lookup kernels of every ISA this CPU has against the scalar reference (bound:
// kernel_test_support.hpp, as for f32), and Dense layers in a network against an f32 network
// holding the decoded weights.

#include "../kernels/kernel_test_support.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <vector>

using namespace mote;
using mote_test::agrees;
using mote_test::dot_bound;

static_assert(NumberFormat<Codebook<4>> && NumberFormat<Codebook<2, PerTensor>>);
static_assert(Codebook<3>::bits_per_weight == 3 && Codebook<2>::entries == 4 && Codebook<4>::entries == 16);
static_assert(std::is_same_v<Codebook<4>, Codebook<4, PerChannel>> && Codebook<4>::per_channel);
static_assert(std::is_same_v<Codebook<2>::accumulator_type, float>);
static_assert(has_weight_storage_v<Codebook<2>, DenseStorage> &&
              has_weight_storage_v<Codebook<3, PerTensor>, DenseStorage>);
static_assert(is_codebook_format_v<Codebook<4, PerTensor>> && !is_codebook_format_v<F32> &&
              !is_codebook_format_v<Int8<>>);

namespace {

std::vector<float> gaussian(std::mt19937& rng, std::size_t count, float sigma = 1.0f) {
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> values(count);
  for (float& v : values) v = normal(rng);
  return values;
}

template <std::size_t Bits>
std::vector<float> fit(const std::vector<float>& values) {
  std::vector<float> table(std::size_t{1} << Bits);
  fit_codebook(values.data(), values.size(), table.size(), table.data());
  return table;
}

/// Mean squared error of replacing each value by its nearest table entry.
double codebook_mse(const std::vector<float>& values, const std::vector<float>& table) {
  double sum = 0.0;
  for (float v : values) {
    const double d = v - table[assign_codebook_index(table.data(), table.size(), v)];
    sum += d * d;
  }
  return sum / static_cast<double>(values.size());
}

/// Mean squared error of uniform quantisation to 2^bits levels over [min, max] (asymmetric,
/// round to nearest level), and over [-max|x|, max|x|] with 2^bits - 1 levels (symmetric int).
double uniform_mse(const std::vector<float>& values, std::size_t bits, bool symmetric) {
  const auto [lo_it, hi_it] = std::minmax_element(values.begin(), values.end());
  double lo = *lo_it, hi = *hi_it;
  double levels = static_cast<double>((1u << bits) - 1u);
  if (symmetric) {
    hi = std::max(-lo, hi), lo = -hi;
    levels -= 1.0;  // 2^bits - 1 codes: -(2^(bits-1) - 1) .. 2^(bits-1) - 1
  }
  const double step = (hi - lo) / levels;
  double sum = 0.0;
  for (float v : values) {
    const double q = lo + std::round((v - lo) / step) * step;
    sum += (v - q) * (v - q);
  }
  return sum / static_cast<double>(values.size());
}

}  // namespace

// ---- k-means ------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE_SIG("Codebook k-means: sorted tables, deterministic, independent of the order of the values",
                       "[codebook][numeric]", ((std::size_t Bits), Bits), 2, 3, 4) {
  std::mt19937 rng(11);
  for (std::size_t count : {17, 100, 784, 4096, 100000}) {
    std::vector<float> values = gaussian(rng, count, 0.05f);
    const std::vector<float> table = fit<Bits>(values);
    INFO("count " << count);
    CHECK(std::is_sorted(table.begin(), table.end()));
    CHECK(std::adjacent_find(table.begin(), table.end()) == table.end());  // many distinct values: no repeats
    for (float t : table) CHECK(std::isfinite(t));
    CHECK(fit<Bits>(values) == table);  // bit for bit
    std::shuffle(values.begin(), values.end(), rng);
    CHECK(fit<Bits>(values) == table);
  }
}

TEMPLATE_TEST_CASE_SIG("Codebook k-means is exact for data with at most 2^Bits distinct values", "[codebook][numeric]",
                       ((std::size_t Bits), Bits), 2, 3, 4) {
  constexpr std::size_t entries = std::size_t{1} << Bits;
  std::mt19937 rng(12);
  std::uniform_real_distribution<float> uniform(-3.0f, 3.0f);
  for (std::size_t distinct = 1; distinct <= entries; ++distinct) {
    std::vector<float> palette(distinct);
    for (float& p : palette) p = uniform(rng);
    // Very unequal counts: the palette's first value 1000 times, the others a few times.
    std::vector<float> values;
    for (std::size_t i = 0; i < distinct; ++i) values.insert(values.end(), i == 0 ? 1000 : 1 + i % 3, palette[i]);
    std::shuffle(values.begin(), values.end(), rng);
    const std::vector<float> table = fit<Bits>(values);
    INFO("distinct values " << distinct);
    CHECK(std::is_sorted(table.begin(), table.end()));
    CHECK(codebook_mse(values, table) == 0.0);
    // Through a weight matrix (3 rows, per channel and per tensor): every weight comes back.
    const std::size_t cols = values.size() / 3;
    WeightMatrix<Codebook<Bits, PerChannel>, DenseStorage> per_channel(3, cols);
    WeightMatrix<Codebook<Bits, PerTensor>, DenseStorage> per_tensor(3, cols);
    per_channel.assign(values.data());
    per_tensor.assign(values.data());
    for (std::size_t r = 0; r < 3; ++r)
      for (std::size_t k = 0; k < cols; ++k) {
        REQUIRE(per_channel.at(r, k) == values[r * cols + k]);
        REQUIRE(per_tensor.at(r, k) == values[r * cols + k]);
      }
  }
}

TEMPLATE_TEST_CASE_SIG("Codebook k-means has a lower error than uniform quantisation with the same bits on "
                       "Gaussian data",
                       "[codebook][numeric]", ((std::size_t Bits), Bits), 2, 3, 4) {
  std::mt19937 rng(13);
  for (std::size_t count : {256, 1024, 65536}) {
    const std::vector<float> values = gaussian(rng, count);
    const double kmeans = codebook_mse(values, fit<Bits>(values));
    const double asymmetric = uniform_mse(values, Bits, false), symmetric = uniform_mse(values, Bits, true);
    INFO("count " << count << ": k-means " << kmeans << ", uniform min/max " << asymmetric << ", symmetric "
                  << symmetric);
    CHECK(kmeans < asymmetric);
    CHECK(kmeans < symmetric);
  }
  // The Lloyd-Max quantiser of a unit Gaussian has MSE 0.1175 (2 bits), 0.03454 (3), 0.009497 (4).
  const double lloyd_max = Bits == 2 ? 0.1175 : Bits == 3 ? 0.03454 : 0.009497;
  const std::vector<float> many = gaussian(rng, 200000);
  CHECK(codebook_mse(many, fit<Bits>(many)) < 1.03 * lloyd_max);
}

TEST_CASE("Codebook k-means: non-finite values, ties and degenerate inputs", "[codebook][numeric]") {
  constexpr float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  // Non-finite values are left out of the fit; NaN maps to the entry nearest 0, +-inf to the ends.
  std::vector<float> values = {-2.0f, -1.0f, 0.5f, 3.0f, nan, inf, -inf};
  const std::vector<float> table = fit<2>(values);
  CHECK(table == std::vector<float>{-2.0f, -1.0f, 0.5f, 3.0f});
  CHECK(assign_codebook_index(table.data(), 4, nan) == 2);
  CHECK(assign_codebook_index(table.data(), 4, inf) == 3);
  CHECK(assign_codebook_index(table.data(), 4, -inf) == 0);
  CHECK(assign_codebook_index(table.data(), 4, -1.5f) == 0);  // a tie goes to the lower entry
  // Nothing finite: a zero table. One value: repeated.
  CHECK(fit<3>(std::vector<float>{nan, inf}) == std::vector<float>(8, 0.0f));
  CHECK(fit<2>(std::vector<float>{0.25f, 0.25f, 0.25f}) == std::vector<float>(4, 0.25f));
  // Heavy ties with more distinct values than entries (ReLU-pruned weights: mostly zeros).
  std::mt19937 rng(14);
  std::vector<float> sparse(5000, 0.0f);
  for (std::size_t i = 0; i < 300; ++i) sparse[i * 16] = std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng);
  const std::vector<float> sparse_table = fit<3>(sparse);
  CHECK(std::is_sorted(sparse_table.begin(), sparse_table.end()));
  CHECK(codebook_mse(sparse, sparse_table) < uniform_mse(sparse, 3, false));
}

// ---- storage ------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE_SIG("Codebook weight matrices: layout, bytes, at(), BatchNorm folding", "[codebook][layout]",
                       ((std::size_t Bits, class Granularity), Bits, Granularity), (2, PerChannel), (3, PerChannel),
                       (4, PerChannel), (2, PerTensor), (3, PerTensor), (4, PerTensor)) {
  using Format = Codebook<Bits, Granularity>;
  using Matrix = WeightMatrix<Format, DenseStorage>;
  constexpr std::size_t entries = Format::entries;
  const std::size_t rows = 19, cols = 37;
  std::mt19937 rng(15);
  const std::vector<float> values = gaussian(rng, rows * cols);
  Matrix matrix(rows, cols);
  matrix.assign(values.data());
  CHECK(matrix.padded_rows() == 32);
  CHECK(matrix.panel_count() == 2);
  CHECK(matrix.group_count() == 3);
  const std::size_t index_bytes = 32 * 3 * 2 * Bits + Matrix::slack_bytes;
  const std::size_t table_bytes = (Format::per_channel ? 32 : 1) * entries * sizeof(float);
  CHECK(matrix.bytes() == index_bytes + table_bytes);

  // Tables: sorted; per channel each row's table is that row's fit.
  for (std::size_t r = 0; r < rows; ++r) {
    CHECK(std::is_sorted(matrix.table(r), matrix.table(r) + entries));
    if constexpr (Format::per_channel) {
      const std::vector<float> row(values.begin() + static_cast<long>(r * cols),
                                   values.begin() + static_cast<long>((r + 1) * cols));
      CHECK(std::equal(matrix.table(r), matrix.table(r) + entries, fit<Bits>(row).begin()));
    } else {
      CHECK(matrix.table(r) == matrix.table(0));
    }
  }
  // Each weight is its nearest entry, and its index sits where the layout comment says.
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < cols; ++k) {
      const std::uint8_t index = assign_codebook_index(matrix.table(r), entries, values[r * cols + k]);
      REQUIRE(matrix.index(r, k) == index);
      REQUIRE(matrix.at(r, k) == matrix.table(r)[index]);
      const std::uint8_t* panel = matrix.panel(r / 16);
      const std::uint8_t* chunk = panel + ((k / 16) * 16 + r % 16) * 2 * Bits;
      REQUIRE(chunk == matrix.chunk(r, k / 16));
      std::uint64_t bits = 0;
      for (std::size_t b = 0; b < 2 * Bits; ++b) bits |= std::uint64_t{chunk[b]} << (8 * b);
      REQUIRE(((bits >> (Bits * (k % 16))) & (entries - 1)) == index);
    }
  // Padding rows and columns hold index 0.
  for (std::size_t k = 0; k < 48; ++k) CHECK(matrix.index(31, k) == 0);
  for (std::size_t k = cols; k < 48; ++k) CHECK(matrix.index(0, k) == 0);

  // BatchNorm folding.
  std::vector<float> before(cols), before_next(cols);
  for (std::size_t k = 0; k < cols; ++k) before[k] = matrix.at(3, k), before_next[k] = matrix.at(4, k);
  matrix.scale_row(3, -1.5f);
  for (std::size_t k = 0; k < cols; ++k) {
    INFO("column " << k);
    if constexpr (Format::per_channel) {
      CHECK(matrix.at(3, k) == before[k] * -1.5f);  // exact: the table was scaled
    } else {
      const float scaled = before[k] * -1.5f;
      CHECK(matrix.at(3, k) == matrix.table(3)[assign_codebook_index(matrix.table(3), entries, scaled)]);
    }
    CHECK(matrix.at(4, k) == before_next[k]);  // other rows untouched
  }
  if constexpr (Format::per_channel) CHECK(std::is_sorted(matrix.table(3), matrix.table(3) + entries));
}

// ---- SIMD kernels against the scalar reference --------------------------------------------------

namespace {

struct Problem {
  std::vector<float> weights, bias, input;
};

Problem random_problem(std::mt19937& rng, std::size_t rows, std::size_t cols, std::size_t inputs) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  Problem p;
  p.weights.resize(rows * cols);
  p.bias.resize(rows);
  p.input.resize(inputs);
  for (float& v : p.weights) v = uniform(rng);
  for (float& v : p.bias) v = uniform(rng);
  for (float& v : p.input) v = uniform(rng) * 4.0f;
  return p;
}

template <class Format>
struct Stored {
  WeightMatrix<Format, DenseStorage> matrix;
  AlignedBuffer<float> bias;
  Stored(const Problem& p, std::size_t rows, std::size_t cols) : matrix(rows, cols), bias(matrix.padded_rows()) {
    matrix.assign(p.weights.data());
    for (std::size_t r = 0; r < rows; ++r) bias[r] = p.bias[r];
  }
};

/// The float bound of kernel_test_support.hpp for output (sample, row), over the products of the
/// table values both kernels multiply by.
template <class Format>
double bound(const Stored<Format>& stored, const Problem& p, std::size_t sample, std::size_t row) {
  const std::size_t cols = stored.matrix.cols();
  double magnitude = std::fabs(p.bias[row]);
  for (std::size_t k = 0; k < cols; ++k)
    magnitude += std::fabs(static_cast<double>(stored.matrix.at(row, k)) * p.input[sample * cols + k]);
  return dot_bound(cols, magnitude);
}

/// Compares the ISA's GEMV (batch 1) or GEMM with the scalar reference on the first `batch`
/// samples of a problem (one REQUIRE per call, naming the first output out of bounds).
template <class Format, class Activation>
void compare(const Stored<Format>& stored, const Problem& p, std::size_t batch, auto tag, const std::string& isa_name,
             Activation activation) {
  const std::size_t rows = stored.matrix.rows(), cols = stored.matrix.cols();
  std::vector<float> expected(batch * rows + 1, -7.0f), actual(batch * rows + 1, -7.0f);  // +1: no overrun
  if (batch == 1) {
    kernels::dense(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data(), activation);
    kernels::dense(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data(), activation);
  } else {
    kernels::dense_batch(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data(), batch,
                         activation);
    kernels::dense_batch(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data(), batch, activation);
  }
  std::size_t bad = batch * rows;
  for (std::size_t i = 0; i < batch * rows && bad == batch * rows; ++i)
    if (!agrees(actual[i], expected[i], bound(stored, p, i / rows, i % rows))) bad = i;
  INFO(isa_name << " " << Format::name << " " << Activation::name << ": rows " << rows << ", cols " << cols
                << ", batch " << batch);
  if (bad < batch * rows) {
    INFO("sample " << bad / rows << ", row " << bad % rows << ": simd " << actual[bad] << ", reference "
                   << expected[bad] << ", bound " << bound(stored, p, bad / rows, bad % rows));
    REQUIRE(bad == batch * rows);
  }
  REQUIRE(actual[batch * rows] == -7.0f);
}

/// Rows around the row tiles (2, 4) and the 16-row panel, columns around the vector widths (4, 8,
/// 16) and the 16-column group, batches 1-7 around the GEMM tiles (2, 3, 6 samples); every ISA
/// this CPU has, with Identity and ReLU (exact after the sum: the same bound).
template <class Format>
void check_kernels(std::mt19937& rng) {
  for (std::size_t rows : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47}) {
    for (std::size_t cols : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 64, 65}) {
      const Problem p = random_problem(rng, rows, cols, 7 * cols);  // batches: the first samples
      const Stored<Format> stored(p, rows, cols);
      mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
        for (std::size_t batch = 1; batch <= 7; ++batch) {
          compare(stored, p, batch, tag, isa_name, activation::Identity{});
          compare(stored, p, batch, tag, isa_name, activation::Relu{});
        }
      });
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE_SIG("SIMD codebook dense (GEMV and GEMM) matches the scalar reference on every ISA",
                       "[codebook][kernels][dense][simd]", ((std::size_t Bits, class Granularity), Bits, Granularity),
                       (2, PerChannel), (3, PerChannel), (4, PerChannel), (2, PerTensor), (3, PerTensor),
                       (4, PerTensor)) {
  std::mt19937 rng(21 + Bits);
  check_kernels<Codebook<Bits, Granularity>>(rng);
}

TEST_CASE("SIMD codebook lookups return every table entry at every index position", "[codebook][kernels][simd]") {
  // One row per (entry, column) pair with input e_k: the output is exactly the weight at (r, k).
  auto check = [](auto format, auto tag, const std::string& isa_name) {
    using Format = decltype(format);
    constexpr std::size_t entries = Format::entries, cols = 16;
    const std::size_t rows = entries * cols;
    std::vector<float> values(rows * cols);
    // Row r: its table is {1, 2, ..., entries} * (r + 1) (distinct per row: per-channel tables
    // differ), and column r % cols holds entry r / cols; the other columns cycle through the rest.
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < cols; ++k) {
        const std::size_t entry = (r / cols + k + cols - r % cols) % entries;
        values[r * cols + k] = static_cast<float>((entry + 1) * (Format::per_channel ? r + 1 : 1));
      }
    WeightMatrix<Format, DenseStorage> matrix(rows, cols);
    matrix.assign(values.data());
    AlignedBuffer<float> bias(matrix.padded_rows());
    std::vector<float> in(cols), out(rows);
    for (std::size_t k = 0; k < cols; ++k) {
      std::fill(in.begin(), in.end(), 0.0f);
      in[k] = 1.0f;
      kernels::dense(tag, matrix, bias.data(), in.data(), out.data());
      for (std::size_t r = 0; r < rows; ++r) {
        INFO(isa_name << " " << Format::name << ": row " << r << ", column " << k);
        REQUIRE(out[r] == values[r * cols + k]);
      }
    }
  };
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    check(Codebook<2>{}, tag, isa_name);
    check(Codebook<3>{}, tag, isa_name);
    check(Codebook<4>{}, tag, isa_name);
    check(Codebook<4, PerTensor>{}, tag, isa_name);
  });
}

TEST_CASE("SIMD codebook dense propagates NaN and infinities of the input like the reference",
          "[codebook][kernels][simd][special]") {
  std::mt19937 rng(23);
  mote_test::for_each_simd_isa([&](auto tag, const std::string& isa_name) {
    const std::size_t rows = 19, cols = 21;
    Problem p = random_problem(rng, rows, cols, cols);
    p.input[4] = std::numeric_limits<float>::infinity();
    p.input[20] = std::numeric_limits<float>::quiet_NaN();  // in the padded column group
    p.input[11] = -0.0f;
    p.input[13] = std::numeric_limits<float>::denorm_min();
    auto compare = [&](auto format) {
      using Format = decltype(format);
      const Stored<Format> stored(p, rows, cols);
      std::vector<float> expected(rows), actual(rows);
      kernels::dense(isa::Scalar{}, stored.matrix, stored.bias.data(), p.input.data(), expected.data());
      kernels::dense(tag, stored.matrix, stored.bias.data(), p.input.data(), actual.data());
      for (std::size_t r = 0; r < rows; ++r) {
        INFO(isa_name << " " << Format::name << ": row " << r << ": simd " << actual[r] << ", reference "
                      << expected[r]);
        REQUIRE(std::isnan(expected[r]));
        REQUIRE(std::isnan(actual[r]));
      }
      // Without the NaN: infinities (of either sign, or NaN where they cancel) as in the reference.
      Problem q = p;
      q.input[20] = 1.0f;
      std::vector<float> expected_inf(rows), actual_inf(rows);
      kernels::dense(isa::Scalar{}, stored.matrix, stored.bias.data(), q.input.data(), expected_inf.data());
      kernels::dense(tag, stored.matrix, stored.bias.data(), q.input.data(), actual_inf.data());
      for (std::size_t r = 0; r < rows; ++r) {
        INFO(isa_name << " " << Format::name << ": row " << r << ": simd " << actual_inf[r] << ", reference "
                      << expected_inf[r]);
        REQUIRE(agrees(actual_inf[r], expected_inf[r], 0.0));
      }
    };
    compare(Codebook<2>{});
    compare(Codebook<3, PerTensor>{});
    compare(Codebook<4>{});
  });
}

// ---- Dense layers in a network ------------------------------------------------------------------

namespace {

template <class Format, class... Tag>
using CodebookMlp = Sequential<Input<37>, Dense<40, Weights<Format>, Tag...>, ReLU, Dense<19, Weights<Format>, Tag...>,
                               Tanh, Dense<33, Weights<Format>, Tag...>, Dense<5, Weights<Format>, Tag...>>;
template <class Format>
using CodebookBatchNormMlp =
    Sequential<Input<37>, Dense<40, Weights<Format>>, BatchNorm, ReLU, Dense<5, Weights<Format>>>;

/// Seeded weights for `CodebookNet` as they are, and for `F32Net` (the same network in f32) with
/// every Dense weight replaced by its codebook value: both networks multiply by the same values.
template <class Format, class CodebookNet, class F32Net>
void load_same_decoded_weights(CodebookNet& codebook, F32Net& f32, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
  std::vector<std::vector<float>> exact, decoded;
  std::vector<TensorRef> exact_refs, decoded_refs;
  const auto params = CodebookNet::parameters();
  exact.reserve(params.size()), decoded.reserve(params.size());
  for (const ParameterInfo& p : params) {
    exact.emplace_back(p.spec.size());
    const bool variance = std::string(p.spec.name) == "running_var";
    for (float& v : exact.back()) v = variance ? 1.0f + uniform(rng) : uniform(rng);
    decoded.push_back(exact.back());
    if (std::string(p.spec.name) == "weight" && p.spec.rank == 2) {
      WeightMatrix<Format, DenseStorage> matrix(p.spec.dims[0], p.spec.dims[1]);
      matrix.assign(exact.back().data());
      for (std::size_t r = 0; r < p.spec.dims[0]; ++r)
        for (std::size_t k = 0; k < p.spec.dims[1]; ++k) decoded.back()[r * p.spec.dims[1] + k] = matrix.at(r, k);
    }
    const std::vector<std::size_t> dims(p.spec.dims.begin(), p.spec.dims.begin() + static_cast<long>(p.spec.rank));
    exact_refs.push_back(TensorRef::f32(p.name, dims, exact.back().data()));
    decoded_refs.push_back(TensorRef::f32(p.name, dims, decoded.back().data()));
  }
  codebook.load(exact_refs, "random", WeightNames::layer_index());
  f32.load(decoded_refs, "random decoded", WeightNames::layer_index());
}

template <class Format, class Net, class Full>
void check_network_against_decoded_f32() {
  auto net = std::make_unique<Net>();
  auto full = std::make_unique<Full>();
  load_same_decoded_weights<Format>(*net, *full, 51);
  CHECK_THAT(Net::summary(), Catch::Contains(std::string("(") + Format::name));

  constexpr std::size_t in_size = Net::input_shape::size, out_size = Net::output_shape::size, batch = 7;
  std::mt19937 rng(52);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<float> in(batch * in_size);
  for (float& v : in) v = uniform(rng);
  std::vector<float> expected(batch * out_size), actual(batch * out_size);
  typename Net::Workspace workspace(batch);
  typename Full::Workspace full_workspace(batch);
  for (std::size_t b = 0; b < batch; ++b) {
    net->forward(std::span<const float, in_size>(in.data() + b * in_size, in_size),
                 std::span<float, out_size>(actual.data() + b * out_size, out_size), workspace.bytes());
    full->forward(std::span<const float, in_size>(in.data() + b * in_size, in_size),
                  std::span<float, out_size>(expected.data() + b * out_size, out_size), full_workspace.bytes());
  }
  // The same products summed in another order (require_close's default bound covers f32 sums of
  // this size).
  mote_test::require_close(actual.data(), expected);
  for (std::size_t size : {std::size_t{1}, std::size_t{2}, std::size_t{6}, batch}) {
    std::vector<float> batched(size * out_size);
    net->forward_batch(std::span<const float>(in.data(), size * in_size), batched, workspace);
    mote_test::require_close(batched.data(), std::vector<float>(expected.begin(), expected.begin() + size * out_size));
  }
}

/// Bytes of a codebook Dense layer of `rows` x `cols` and its f32 bias, as the layout defines them.
template <class Format>
constexpr std::size_t layer_bytes(std::size_t rows, std::size_t cols) {
  const std::size_t padded_rows = (rows + 15) / 16 * 16, groups = (cols + 15) / 16;
  return padded_rows * groups * 2 * Format::bits + 8 + (Format::per_channel ? padded_rows : 1) * Format::entries * 4 +
         padded_rows * 4;
}

}  // namespace

TEMPLATE_TEST_CASE_SIG("Dense<N, Weights<Codebook<Bits, G>>> computes what f32 Dense computes with the decoded "
                       "weights",
                       "[codebook][layers]", ((std::size_t Bits, class Granularity), Bits, Granularity),
                       (2, PerChannel), (3, PerChannel), (4, PerChannel), (2, PerTensor), (4, PerTensor)) {
  using Format = Codebook<Bits, Granularity>;
  // Run-time dispatch (the default), and the scalar reference pinned.
  check_network_against_decoded_f32<Format, CodebookMlp<Format>, CodebookMlp<F32>>();
  check_network_against_decoded_f32<Format, CodebookMlp<Format, isa::Scalar>, CodebookMlp<F32>>();
  // BatchNorm folded into the codebook layer: per channel the table is scaled exactly as the f32
  // weights are. (Per tensor the row is re-assigned to the shared table, which rounds.)
  if constexpr (Format::per_channel)
    check_network_against_decoded_f32<Format, CodebookBatchNormMlp<Format>, CodebookBatchNormMlp<F32>>();

  auto net = std::make_unique<CodebookMlp<Format>>();
  mote_test::load_random_weights(*net, 53);
  const std::size_t expected = layer_bytes<Format>(40, 37) + layer_bytes<Format>(19, 40) +
                               layer_bytes<Format>(33, 19) + layer_bytes<Format>(5, 33);
  CHECK(net->weight_bytes() == expected);
  auto full = std::make_unique<CodebookMlp<F32>>();
  CHECK(net->weight_bytes() < full->weight_bytes());
}
