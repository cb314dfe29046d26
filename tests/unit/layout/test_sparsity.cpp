// Sparsity patterns and pruning (layout/sparsity.hpp): magnitude pruning per layer and per row
// zeroes exactly the asked count, the threshold form, N:M selection (trailing partial groups
// included), block pruning by norm, one global threshold across layers, the pattern check and
// the rule validation with their messages, the pattern names, and CSR import with every error it
// reports (and no out-of-bounds read on malformed input).

#include "../support.hpp"

#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace mote;

namespace {

std::size_t zeros(std::span<const float> values) {
  return static_cast<std::size_t>(std::count(values.begin(), values.end(), 0.0f));
}

/// Values with distinct magnitudes 1..n in a shuffled order, half of them negative.
std::vector<float> distinct_magnitudes(std::size_t n, std::uint32_t seed) {
  std::vector<float> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<float>(i + 1) * (i % 2 == 0 ? 1.0f : -1.0f);
  std::mt19937 rng(seed);
  std::shuffle(values.begin(), values.end(), rng);
  return values;
}

std::string error_of(const Status& status) {
  REQUIRE_FALSE(status.is_ok());
  return status.message();
}

template <class T>
std::string error_of(const Expected<T>& result) {
  REQUIRE_FALSE(result.has_value());
  return result.error().describe();
}

}  // namespace

TEST_CASE("prune::smallest zeroes exactly round(fraction * n) values of smallest magnitude", "[sparsity][prune]") {
  const std::vector<float> original = distinct_magnitudes(20, 1);
  for (double fraction : {0.0, 0.05, 0.25, 0.5, 0.9, 1.0}) {
    std::vector<float> values = original;
    const std::size_t target = static_cast<std::size_t>(std::llround(fraction * 20));
    CHECK(prune::smallest(values, fraction) == target);
    CHECK(zeros(values) == target);
    for (std::size_t i = 0; i < values.size(); ++i) {
      // Magnitudes are 1..20: exactly those up to `target` are gone, the others are untouched.
      if (std::fabs(original[i]) <= static_cast<float>(target)) CHECK(values[i] == 0.0f);
      else CHECK(values[i] == original[i]);
    }
  }
  SECTION("zeros already there count towards the fraction") {
    std::vector<float> values = {0.0f, 5.0f, 0.0f, -3.0f, 1.0f, 2.0f, -4.0f, 6.0f, 7.0f, 8.0f};
    CHECK(prune::smallest(values, 0.3) == 3);
    CHECK(values == std::vector<float>{0.0f, 5.0f, 0.0f, -3.0f, 0.0f, 2.0f, -4.0f, 6.0f, 7.0f, 8.0f});
  }
  SECTION("ties are broken by position: the earlier value goes first") {
    std::vector<float> values = {1.0f, -1.0f, 1.0f, 1.0f};
    CHECK(prune::smallest(values, 0.5) == 2);
    CHECK(values == std::vector<float>{0.0f, 0.0f, 1.0f, 1.0f});
  }
  SECTION("fractions outside [0, 1] are clamped, empty input is fine") {
    std::vector<float> values = original;
    CHECK(prune::smallest(values, -0.5) == 0);
    CHECK(prune::smallest(values, 2.0) == 20);
    std::vector<float> empty;
    CHECK(prune::smallest(empty, 0.5) == 0);
  }
}

TEST_CASE("prune::magnitude per layer and per output channel", "[sparsity][prune]") {
  // Row 0 holds the small weights, row 1 the large ones.
  const std::vector<float> original = {0.1f, -0.2f, 0.3f, -0.4f, 0.5f, -0.6f,  //
                                       1.0f, -2.0f, 3.0f, -4.0f, 5.0f, -6.0f,  //
                                       0.7f, 8.0f, -0.8f, 9.0f, -0.9f, 10.0f};
  SECTION("layer: the smallest half of the whole matrix, whatever row it lies in") {
    std::vector<float> w = original;
    prune::magnitude(w, 3, 6, 0.5);
    CHECK(zeros(w) == 9);
    for (std::size_t c = 0; c < 6; ++c) CHECK(w[c] == 0.0f);  // row 0 entirely
    CHECK(zeros(std::span<const float>(w).subspan(6, 6)) == 0);
    CHECK(zeros(std::span<const float>(w).subspan(12, 6)) == 3);  // 0.7, 0.8, 0.9
  }
  SECTION("row: the same count in every row") {
    std::vector<float> w = original;
    prune::magnitude(w, 3, 6, 0.5, Pruning::Scope::row);
    for (std::size_t r = 0; r < 3; ++r) CHECK(zeros(std::span<const float>(w).subspan(r * 6, 6)) == 3);
    CHECK(w[0] == 0.0f);
    CHECK(w[5] == -0.6f);
    CHECK(w[6] == 0.0f);
    CHECK(w[11] == -6.0f);
    CHECK(w[12] == 0.0f);
    CHECK(w[13] == 8.0f);
  }
  SECTION("exact counts on a larger random matrix") {
    std::mt19937 rng(3);
    std::normal_distribution<float> normal;
    std::vector<float> w(37 * 53);
    for (float& v : w) v = normal(rng);
    std::vector<float> per_layer = w, per_row = w;
    prune::magnitude(per_layer, 37, 53, 0.7);
    CHECK(zeros(per_layer) == static_cast<std::size_t>(std::llround(0.7 * 37 * 53)));
    prune::magnitude(per_row, 37, 53, 0.7, Pruning::Scope::row);
    for (std::size_t r = 0; r < 37; ++r)
      CHECK(zeros(std::span<const float>(per_row).subspan(r * 53, 53)) == static_cast<std::size_t>(std::llround(0.7 * 53)));
    CHECK(prune::sparsity_of(per_layer) == Approx(0.7).margin(0.5 / (37 * 53)));
  }
}

TEST_CASE("prune::below zeroes |w| <= tau, both signs, and nothing else", "[sparsity][prune]") {
  std::vector<float> w = {0.5f, -0.5f, 0.49f, -0.51f, 0.0f, 2.0f, -0.25f};
  prune::below(w, 0.5f);
  CHECK(w == std::vector<float>{0.0f, 0.0f, 0.0f, -0.51f, 0.0f, 2.0f, 0.0f});
  std::vector<float> untouched = {0.1f, -0.1f};
  prune::below(untouched, -1.0f);  // a negative threshold keeps everything (Pruning::to_pattern)
  CHECK(untouched == std::vector<float>{0.1f, -0.1f});
}

TEST_CASE("prune::n_of_m keeps at most N per group of M, the largest, trailing groups included", "[sparsity][prune]") {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  for (auto [n, m] : {std::pair<std::size_t, std::size_t>{2, 4}, {1, 4}, {3, 4}, {2, 8}, {4, 8}}) {
    for (std::size_t cols : {1, 3, 4, 7, 11, 16, 19}) {
      const std::size_t rows = 5;
      std::vector<float> original(rows * cols);
      for (float& v : original) v = normal(rng);
      std::vector<float> w = original;
      prune::n_of_m(w, rows, cols, n, m);
      INFO(n << ":" << m << ", cols " << cols);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t g = 0; g < cols; g += m) {
          const std::size_t size = std::min(m, cols - g);
          const std::size_t kept = std::min(n, size);
          const float* before = original.data() + r * cols + g;
          const float* after = w.data() + r * cols + g;
          // The kept values are the `kept` largest magnitudes of the group, unchanged.
          std::vector<float> magnitudes(before, before + size);
          for (float& v : magnitudes) v = std::fabs(v);
          std::sort(magnitudes.begin(), magnitudes.end(), std::greater<>());
          std::size_t nonzero = 0;
          for (std::size_t j = 0; j < size; ++j) {
            if (after[j] == 0.0f) {
              CHECK(std::fabs(before[j]) <= magnitudes[kept - 1]);
            } else {
              ++nonzero;
              CHECK(after[j] == before[j]);
              CHECK(std::fabs(before[j]) >= magnitudes[kept - 1]);
            }
          }
          CHECK(nonzero == kept);
        }
      if (n <= 2 && m == 4) CHECK(check_pattern<NM<2, 4>>(w, rows, cols, "w").is_ok());
      if (n <= 4 && m == 8) CHECK(check_pattern<NM<4, 8>>(w, rows, cols, "w").is_ok());
    }
  }
  SECTION("a trailing partial group: 2:4 over 7 columns prunes the last 3 to 2") {
    std::vector<float> w = {1, 2, 3, 4, 5, 6, 7};
    prune::n_of_m(w, 1, 7, 2, 4);
    CHECK(w == std::vector<float>{0, 0, 3, 4, 0, 6, 7});
    std::vector<float> short_tail = {1, 2, 3, 4, 5, 6};
    prune::n_of_m(short_tail, 1, 6, 2, 4);  // the tail of 2 already holds the pattern
    CHECK(short_tail == std::vector<float>{0, 0, 3, 4, 5, 6});
  }
}

TEST_CASE("prune::blocks zeroes whole blocks of smallest L2 norm", "[sparsity][prune]") {
  // 8 x 8 in 4 x 4 blocks; block b (row-major over blocks) has norm growing with its `level`.
  const std::size_t rows = 8, cols = 8;
  const float level[4] = {3.0f, 1.0f, 4.0f, 2.0f};
  std::vector<float> original(rows * cols);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) original[r * cols + c] = level[(r / 4) * 2 + c / 4] * ((r + c) % 2 ? 1.0f : -1.0f);
  auto block_zero = [&](const std::vector<float>& w, std::size_t b) {
    std::size_t count = 0;
    for (std::size_t r = b / 2 * 4; r < b / 2 * 4 + 4; ++r)
      for (std::size_t c = b % 2 * 4; c < b % 2 * 4 + 4; ++c) count += w[r * cols + c] == 0.0f;
    return count;
  };
  SECTION("per layer") {
    std::vector<float> w = original;
    prune::blocks(w, rows, cols, 4, 4, 0.5);
    CHECK(block_zero(w, 1) == 16);  // level 1
    CHECK(block_zero(w, 3) == 16);  // level 2
    CHECK(block_zero(w, 0) == 0);
    CHECK(block_zero(w, 2) == 0);
    CHECK(zeros(w) == 32);
  }
  SECTION("per block row: the same fraction of each row of blocks") {
    std::vector<float> w = original;
    prune::blocks(w, rows, cols, 4, 4, 0.5, Pruning::Scope::row);
    CHECK(block_zero(w, 1) == 16);  // row 0: levels 3, 1
    CHECK(block_zero(w, 3) == 16);  // row 1: levels 4, 2
    CHECK(zeros(w) == 32);
    std::vector<float> quarter = original;
    prune::blocks(quarter, rows, cols, 4, 4, 0.25);  // one block of four: level 1
    CHECK(block_zero(quarter, 1) == 16);
    CHECK(zeros(quarter) == 16);
  }
  SECTION("by norm, not by largest element") {
    // Block 0: one weight of 3, the rest 0.1 (norm ~3.02); block 1: all 1 (norm 4).
    std::vector<float> w(4 * 8, 1.0f);
    for (std::size_t r = 0; r < 4; ++r)
      for (std::size_t c = 0; c < 4; ++c) w[r * 8 + c] = 0.1f;
    w[0] = 3.0f;
    prune::blocks(w, 4, 8, 4, 4, 0.5);
    CHECK(zeros(std::span<const float>(w)) == 16);
    CHECK(w[0] == 0.0f);
    CHECK(w[4] == 1.0f);
  }
  SECTION("blocks at the edges are cut short and count as blocks") {
    // 10 x 6 in 4 x 4 blocks: 3 x 2 = 6 blocks, the last row of blocks 2 high, the last column 2 wide.
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> uniform(0.5f, 1.0f);
    std::vector<float> w(10 * 6);
    for (float& v : w) v = uniform(rng);
    prune::blocks(w, 10, 6, 4, 4, 0.5);
    // Each remaining non-zero's block is entirely non-zero, each zero's block entirely zero.
    std::size_t zero_blocks = 0;
    for (std::size_t r0 = 0; r0 < 10; r0 += 4)
      for (std::size_t c0 = 0; c0 < 6; c0 += 4) {
        std::size_t z = 0, size = 0;
        for (std::size_t r = r0; r < std::min<std::size_t>(10, r0 + 4); ++r)
          for (std::size_t c = c0; c < std::min<std::size_t>(6, c0 + 4); ++c, ++size) z += w[r * 6 + c] == 0.0f;
        CHECK((z == 0 || z == size));
        zero_blocks += z == size;
      }
    CHECK(zero_blocks == 3);
    // The edge blocks hold fewer weights, so smaller norms: the 2 x 2 corner and the 2-wide
    // and 2-high edge blocks go first.
    CHECK(w[9 * 6 + 5] == 0.0f);
  }
  SECTION("blocks_below zeroes blocks whose norm is <= tau") {
    std::vector<float> w = original;
    // Norms: level * 4 (16 weights of |level|): 12, 4, 16, 8.
    prune::blocks_below(w, rows, cols, 4, 4, 8.0f);
    CHECK(block_zero(w, 1) == 16);
    CHECK(block_zero(w, 3) == 16);
    CHECK(block_zero(w, 0) == 0);
    CHECK(block_zero(w, 2) == 0);
    std::vector<float> none = original;
    prune::blocks_below(none, rows, cols, 4, 4, 3.9f);
    CHECK(zeros(none) == 0);
    CHECK(prune::block_norm(original, rows, cols, 4, 0, 4, 4) == Approx(16.0));
  }
}

TEST_CASE("prune::global_threshold: one tau across layers gives the overall fraction", "[sparsity][prune]") {
  // A large layer of small weights and a small layer of large weights (e.g. a classifier head).
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> small(0.001f, 0.1f), large(0.05f, 1.0f);
  std::vector<float> big(900), head(100);
  for (float& v : big) v = small(rng) * (rng() % 2 ? 1.0f : -1.0f);
  for (float& v : head) v = large(rng) * (rng() % 2 ? 1.0f : -1.0f);
  const std::span<const float> layers[] = {big, head};
  for (double fraction : {0.1, 0.5, 0.8, 0.9}) {
    const float tau = prune::global_threshold(layers, fraction);
    std::vector<float> a = big, b = head;
    prune::below(a, tau);
    prune::below(b, tau);
    INFO("fraction " << fraction << ", tau " << tau);
    CHECK(zeros(a) + zeros(b) == static_cast<std::size_t>(std::llround(fraction * 1000)));
  }
  SECTION("the small layer is not starved as with a per-layer quota") {
    const float tau = prune::global_threshold(layers, 0.8);
    std::vector<float> global_big = big, global_head = head;
    prune::below(global_big, tau);
    prune::below(global_head, tau);
    std::vector<float> quota_big = big, quota_head = head;
    prune::smallest(quota_big, 0.8);
    prune::smallest(quota_head, 0.8);
    // Same total, but the head keeps most of its weights: the big layer gives up more.
    CHECK(zeros(global_big) + zeros(global_head) == zeros(quota_big) + zeros(quota_head));
    CHECK(zeros(quota_head) == 80);
    CHECK(zeros(global_head) < 20);
    CHECK(zeros(global_big) > 780);
  }
  SECTION("nothing to prune gives a negative threshold; everything gives the largest magnitude") {
    CHECK(prune::global_threshold(layers, 0.0) < 0.0f);
    CHECK(prune::global_threshold(std::span<const std::span<const float>>{}, 0.5) < 0.0f);
    const float all = prune::global_threshold(layers, 1.0);
    std::vector<float> a = big, b = head;
    prune::below(a, all);
    prune::below(b, all);
    CHECK(zeros(a) + zeros(b) == 1000);
  }
  SECTION("used as a Pruning rule") {
    const float tau = prune::global_threshold(layers, 0.5);
    const Pruning rule = Pruning::below(tau);
    CHECK(rule.kind == Pruning::Kind::below);
    CHECK(rule.threshold == tau);
    CHECK(rule.validate("net").is_ok());
  }
}

TEST_CASE("check_pattern names the first N:M violation: row and columns", "[sparsity][pattern]") {
  // Row 1's second group (columns 4..7) holds 3 non-zeros.
  std::vector<float> w = {1, 0, 0, 2, 0, 0, 3, 0, 1, 1,  //
                          0, 5, 6, 0, 1, 2, 0, 3, 0, 0};
  CHECK(check_pattern<NM<2, 4>>(w, 2, 10, "fc").is_ok() == false);
  const std::string message = error_of(check_pattern<NM<2, 4>>(w, 2, 10, "layer fc"));
  CHECK_THAT(message, Catch::Contains("invalid value") && Catch::Contains("layer fc") && Catch::Contains("row 1") &&
                          Catch::Contains("columns 4..7") && Catch::Contains("3 non-zero") && Catch::Contains("2:4") &&
                          Catch::Contains("Pruning::to_pattern()"));
  SECTION("a trailing partial group is named by its real columns") {
    std::vector<float> tail = {1, 0, 0, 0, 1, 1, 1};  // 1:4, group 4..6 holds 3
    CHECK_THAT(error_of(check_pattern<NM<1, 4>>(tail, 1, 7, "t")), Catch::Contains("row 0, columns 4..6"));
  }
  SECTION("8-wide groups") {
    std::vector<float> g8(16, 0.0f);
    g8[8] = g8[9] = g8[10] = 1.0f;
    CHECK(check_pattern<NM<2, 8>>(g8, 1, 16, "t").is_ok() == false);
    CHECK_THAT(error_of(check_pattern<NM<2, 8>>(g8, 1, 16, "t")), Catch::Contains("columns 8..15"));
    CHECK(check_pattern<NM<4, 8>>(g8, 1, 16, "t").is_ok());
  }
  SECTION("Unstructured and Block hold any matrix") {
    std::vector<float> full(64, 1.0f);
    CHECK(check_pattern<Unstructured>(full, 8, 8, "t").is_ok());
    CHECK(check_pattern<Block<8, 1>>(full, 8, 8, "t").is_ok());
    CHECK(check_pattern<Block<4, 4>>(full, 8, 8, "t").is_ok());
  }
}

TEST_CASE("Pruning::validate refuses sparsities outside [0, 1] and NaN thresholds", "[sparsity][pruning]") {
  CHECK(Pruning::none().validate("x").is_ok());
  CHECK(Pruning::to_sparsity(0.0).validate("x").is_ok());
  CHECK(Pruning::to_sparsity(1.0).validate("x").is_ok());
  CHECK(Pruning::to_sparsity(0.9, Pruning::Scope::row).validate("x").is_ok());
  CHECK(Pruning::below(0.0f).validate("x").is_ok());
  CHECK(Pruning::to_pattern().validate("x").is_ok());
  for (double bad : {1.5, -0.1, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    const Status status = Pruning::to_sparsity(bad).validate("layer 3");
    INFO(bad);
    REQUIRE_FALSE(status.is_ok());
    CHECK(status.error().code == ErrorCode::invalid_value);
    CHECK_THAT(status.message(), Catch::Contains("layer 3") && Catch::Contains("between 0 and 1"));
  }
  const Status nan = Pruning::below(std::numeric_limits<float>::quiet_NaN()).validate("layer 1");
  REQUIRE_FALSE(nan.is_ok());
  CHECK(nan.error().code == ErrorCode::invalid_value);
  CHECK_THAT(nan.message(), Catch::Contains("layer 1") && Catch::Contains("NaN"));
  CHECK(Pruning::none().describe() == "none");
  CHECK(Pruning::to_pattern().describe() == "to the pattern");
  CHECK_THAT(Pruning::to_sparsity(0.9).describe(), Catch::Contains("90.00% zeros per layer"));
  CHECK_THAT(Pruning::to_sparsity(0.5, Pruning::Scope::row).describe(), Catch::Contains("per output channel"));
}

TEST_CASE("pattern names", "[sparsity][pattern]") {
  CHECK(std::string(Unstructured::name) == "unstructured");
  CHECK(std::string(NM<2, 4>::name) == "2:4");
  CHECK(std::string(NM<1, 4>::name) == "1:4");
  CHECK(std::string(NM<4, 8>::name) == "4:8");
  CHECK(std::string(Block<8, 1>::name) == "block 8x1");
  CHECK(std::string(Block<16, 1>::name) == "block 16x1");
  CHECK(std::string(Block<4, 4>::name) == "block 4x4");
  CHECK(std::string(Block<32, 64>::name) == "block 32x64");
  CHECK(std::string(Sparse<NM<2, 4>>::name) == "2:4");
  static_assert(is_sparsity_pattern_v<NM<2, 8>> && is_sparsity_pattern_v<Block<1, 1>> &&
                !is_sparsity_pattern_v<int>);
}

// ---------------------------------------------------------------------------------------------
// CSR import

namespace {

struct Csr {
  std::vector<std::int64_t> indptr, indices;
  std::vector<float> values;
};

Csr to_csr(const std::vector<float>& dense, std::size_t rows, std::size_t cols) {
  Csr csr;
  csr.indptr.push_back(0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c)
      if (dense[r * cols + c] != 0.0f) {
        csr.indices.push_back(static_cast<std::int64_t>(c));
        csr.values.push_back(dense[r * cols + c]);
      }
    csr.indptr.push_back(static_cast<std::int64_t>(csr.indices.size()));
  }
  return csr;
}

Expected<std::vector<float>> import(std::size_t rows, std::size_t cols, const Csr& csr) {
  return csr_to_dense(rows, cols, csr.indptr, csr.indices, csr.values, "fc1.weight");
}

}  // namespace

TEST_CASE("csr_to_dense round-trips scipy CSR matrices", "[sparsity][csr]") {
  std::mt19937 rng(13);
  std::normal_distribution<float> normal;
  std::bernoulli_distribution keep(0.2);
  for (std::size_t rows : {0, 1, 5, 16}) {
    for (std::size_t cols : {0, 1, 7, 33}) {
      std::vector<float> dense(rows * cols);
      for (float& v : dense) v = keep(rng) ? normal(rng) : 0.0f;
      if (rows > 1)
        for (std::size_t c = 0; c < cols; ++c) dense[cols + c] = 0.0f;  // an empty row
      const auto result = import(rows, cols, to_csr(dense, rows, cols));
      INFO(rows << " x " << cols << ": " << (result ? std::string() : result.error().describe()));
      REQUIRE(result.has_value());
      CHECK(*result == dense);
    }
  }
  SECTION("the scipy documentation example, explicit zeros kept as zeros") {
    // csr_matrix((data, indices, indptr), shape=(3, 3)) with data = [1, 2, 3, 4, 5, 6].
    const std::vector<std::int64_t> indptr = {0, 2, 3, 6}, indices = {0, 2, 2, 0, 1, 2};
    const std::vector<float> values = {1, 2, 3, 4, 5, 6};
    const auto result = csr_to_dense(3, 3, indptr, indices, values, "m");
    REQUIRE(result.has_value());
    CHECK(*result == std::vector<float>{1, 0, 2, 0, 0, 3, 4, 5, 6});
    const std::vector<float> with_zero = {1, 0, 3, 4, 5, 6};
    CHECK(*csr_to_dense(3, 3, indptr, indices, with_zero, "m") == std::vector<float>{1, 0, 0, 0, 0, 3, 4, 5, 6});
  }
}

TEST_CASE("csr_to_dense reports every malformed field: what, where and why", "[sparsity][csr][errors]") {
  // 3 x 4: [[1, 0, 2, 0], [0, 0, 0, 0], [0, 3, 0, 4]].
  const Csr good{{0, 2, 2, 4}, {0, 2, 1, 3}, {1, 2, 3, 4}};
  REQUIRE(import(3, 4, good).has_value());
  auto expect = [](const Expected<std::vector<float>>& result, ErrorCode code) {
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == code);
    CHECK_THAT(result.error().message, Catch::Contains("fc1.weight"));
    return result.error().message;
  };

  SECTION("indptr length is not rows + 1") {
    Csr csr = good;
    csr.indptr.pop_back();
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::shape_mismatch),
               Catch::Contains("indptr has 3 entries") && Catch::Contains("rows + 1 = 4"));
    CHECK_THAT(expect(import(2, 4, good), ErrorCode::shape_mismatch), Catch::Contains("indptr has 4 entries"));
    Csr empty{{}, {}, {}};
    CHECK_THAT(expect(import(0, 4, empty), ErrorCode::shape_mismatch), Catch::Contains("indptr has 0 entries"));
    // rows + 1 overflows: an empty indptr must not pass for SIZE_MAX + 1 = 0 entries.
    expect(import(std::numeric_limits<std::size_t>::max(), 0, empty), ErrorCode::shape_mismatch);
  }
  SECTION("indptr does not start at 0") {
    Csr csr = good;
    csr.indptr = {1, 2, 2, 4};
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::invalid_value),
               Catch::Contains("indptr[0] is 1") && Catch::Contains("must be 0"));
  }
  SECTION("indptr decreases") {
    Csr csr = good;
    csr.indptr = {0, 3, 2, 4};
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::invalid_value),
               Catch::Contains("decreases at row 1") && Catch::Contains("non-decreasing"));
    csr.indptr = {0, -1, 2, 4};  // negative: caught as a decrease, never used as an index
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::invalid_value), Catch::Contains("decreases at row 0"));
  }
  SECTION("wrong non-zero count") {
    Csr csr = good;
    csr.indptr = {0, 2, 2, 5};
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::shape_mismatch),
               Catch::Contains("ends at 5 non-zeros") && Catch::Contains("indices holds 4") &&
                   Catch::Contains("wrong non-zero count"));
    csr = good;
    csr.values.pop_back();
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::shape_mismatch),
               Catch::Contains("values holds 3") && Catch::Contains("wrong non-zero count"));
    csr = good;
    csr.indptr = {0, 2, 2, std::numeric_limits<std::int64_t>::max()};  // huge: no out-of-bounds read
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::shape_mismatch), Catch::Contains("wrong non-zero count"));
  }
  SECTION("column index out of range") {
    Csr csr = good;
    csr.indices = {0, 2, 1, 4};
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::invalid_value),
               Catch::Contains("row 2, position 1") && Catch::Contains("indices[3]") &&
                   Catch::Contains("column index 4 is out of range") && Catch::Contains("4 columns"));
    csr.indices = {-1, 2, 1, 3};
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::invalid_value),
               Catch::Contains("row 0, position 0") && Catch::Contains("column index -1 is out of range"));
    csr.indices = {0, std::numeric_limits<std::int64_t>::max(), 1, 3};
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::invalid_value), Catch::Contains("row 0, position 1"));
  }
  SECTION("columns within a row unsorted or duplicated") {
    Csr csr = good;
    csr.indices = {2, 0, 1, 3};
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::invalid_value),
               Catch::Contains("row 0, position 1") && Catch::Contains("column 0 follows column 2") &&
                   Catch::Contains("unsorted") && Catch::Contains("sorted is required"));
    csr.indices = {0, 2, 3, 3};
    CHECK_THAT(expect(import(3, 4, csr), ErrorCode::invalid_value),
               Catch::Contains("row 2, position 1") && Catch::Contains("duplicate") &&
                   Catch::Contains("sorted is required"));
    // Decreasing across rows is fine: only columns within a row must increase.
    csr.indices = {0, 2, 0, 3};
    CHECK(import(3, 4, csr).has_value());
  }
  SECTION("a matrix too large to hold densely") {
    const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;  // rows * cols overflows
    Csr csr{{0, 0, 0, 0}, {}, {}};
    CHECK_THAT(expect(import(3, huge, csr), ErrorCode::invalid_value), Catch::Contains("too large"));
  }
}

TEST_CASE("csr_to_dense never reads out of bounds on random garbage", "[sparsity][csr][robustness]") {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> small(-2, 9), length(0, 6);
  std::size_t accepted = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    // Mostly well-formed arrays, then perturbed: lengths off by one, values out of range.
    const std::size_t rows = static_cast<std::size_t>(length(rng)) % 4, cols = static_cast<std::size_t>(length(rng));
    Csr csr;
    csr.indices.resize(static_cast<std::size_t>(length(rng)));
    for (auto& v : csr.indices) v = small(rng);
    csr.values.resize(trial % 11 == 0 ? static_cast<std::size_t>(length(rng)) : csr.indices.size(), 1.0f);
    csr.indptr.resize(trial % 7 == 0 ? static_cast<std::size_t>(length(rng)) : rows + 1);
    for (auto& v : csr.indptr)
      v = std::uniform_int_distribution<std::int64_t>(0, static_cast<std::int64_t>(csr.indices.size()))(rng);
    std::sort(csr.indptr.begin(), csr.indptr.end());
    if (!csr.indptr.empty()) csr.indptr.front() = 0, csr.indptr.back() = static_cast<std::int64_t>(csr.indices.size());
    if (trial % 13 == 0 && !csr.indptr.empty()) csr.indptr[rng() % csr.indptr.size()] = small(rng);
    if (trial % 17 == 0 && !csr.indptr.empty())
      csr.indptr[rng() % csr.indptr.size()] = std::numeric_limits<std::int64_t>::max();
    if (trial % 19 == 0 && !csr.indptr.empty())
      csr.indptr[rng() % csr.indptr.size()] = std::numeric_limits<std::int64_t>::min();
    const auto result = import(rows, cols, csr);
    if (result) {
      ++accepted;
      REQUIRE(result->size() == rows * cols);
    }
  }
  CHECK(accepted > 0);
}
