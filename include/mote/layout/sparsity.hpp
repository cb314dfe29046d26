#pragma once
// Sparsity patterns and pruning. A pattern (Unstructured, NM<N, M>, Block<R, C>) says which
// zeros a sparse weight layout (`Sparse<Pattern>`, layout/sparse.hpp) may skip; the functions
// here prune a row-major rows x cols float matrix (output channels x inputs, mote's column
// order) to a pattern and check that a matrix satisfies one, naming the first violation.
// Pruning happens once, when weights are set; nothing here runs in forward().

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "mote/core/error.hpp"

namespace mote {

/// Any weight may be zero or not: the storage skips every zero (layout/sparse.hpp).
struct Unstructured {
  static constexpr const char* name = "unstructured";
};

/// N:M structured sparsity: in every group of M consecutive inputs (columns) of each output
/// channel (row), at most N weights are non-zero. M is 4 or 8: one group then fits the window
/// that one permute instruction selects from (vpermilps / vpermps / NEON tbl).
template <std::size_t N, std::size_t M>
struct NM {
  static_assert(M == 4 || M == 8,
                "NM<N, M>: mote's N:M kernels take groups of M = 4 or M = 8 consecutive inputs (e.g. NM<2, 4>).");
  static_assert(N >= 1 && N < M, "NM<N, M>: N must be at least 1 and below M (NM<2, 4> keeps 2 weights of 4).");
  static constexpr std::size_t n = N, m = M;
  static constexpr char name[] = {static_cast<char>('0' + N), ':', static_cast<char>('0' + M), '\0'};
};

/// Block sparsity: weights are zero or not by blocks of R consecutive output channels (rows) by
/// C consecutive inputs (columns); blocks at the matrix's edges are cut short. R divides 8 or is
/// a multiple of 8 (the kernels' tiles are 8 rows).
template <std::size_t R, std::size_t C>
struct Block {
  static_assert(R >= 1 && C >= 1, "Block<R, C>: a block has at least one row and one column.");
  static_assert(R <= 8 ? 8 % R == 0 : R % 8 == 0,
                "Block<R, C>: R (rows per block) must be 1, 2, 4, 8 or a multiple of 8 (the kernels' tiles are 8 "
                "rows): e.g. Block<8, 1>, Block<4, 4>, Block<16, 1>.");
  static_assert(C <= 64, "Block<R, C>: C (columns per block) is limited to 64.");
  static constexpr std::size_t rows = R, cols = C;
  static constexpr auto name_text = [] {
    std::array<char, 32> text{};
    std::size_t at = 0;
    for (char c : {'b', 'l', 'o', 'c', 'k', ' '}) text[at++] = c;
    auto put = [&](std::size_t value) {
      char digits[24];
      std::size_t count = 0;
      do digits[count++] = static_cast<char>('0' + value % 10); while ((value /= 10) != 0);
      while (count != 0) text[at++] = digits[--count];
    };
    put(R);
    text[at++] = 'x';
    put(C);
    return text;
  }();
  static constexpr const char* name = name_text.data();
};

template <class P>
inline constexpr bool is_sparsity_pattern_v = false;
template <>
inline constexpr bool is_sparsity_pattern_v<Unstructured> = true;
template <std::size_t N, std::size_t M>
inline constexpr bool is_sparsity_pattern_v<NM<N, M>> = true;
template <std::size_t R, std::size_t C>
inline constexpr bool is_sparsity_pattern_v<Block<R, C>> = true;

/// How dense weights set into a sparse layer are pruned to its pattern. With `none` (the
/// default) weights must already satisfy the pattern (e.g. fine-tuned with
/// examples/fashion_mnist/prune_finetune.py), else setting them is an error naming the first
/// violation.
///   Unstructured: `to_sparsity` zeroes the given fraction of weights of smallest |w| (per layer
///                 or per output channel); `below` zeroes |w| <= threshold.
///   NM<N, M>:     any rule but `none` keeps the N weights of largest |w| in each group (after
///                 zeroing |w| <= threshold for `below`).
///   Block<R, C>:  `to_sparsity` zeroes the given fraction of blocks of smallest L2 norm (per layer
///                 or per block row); `below` zeroes blocks whose L2 norm is <= threshold.
/// Ties are broken by position (the earlier weight or block is pruned first): deterministic.
struct Pruning {
  enum class Kind { none, to_sparsity, below };
  enum class Scope { layer, row };
  Kind kind = Kind::none;
  double sparsity = 0.0;
  float threshold = 0.0f;
  Scope scope = Scope::layer;

  static constexpr Pruning none() noexcept { return {}; }
  /// Magnitude pruning to `fraction` (0..1) zeros, over the whole layer or each output channel.
  static constexpr Pruning to_sparsity(double fraction, Scope scope = Scope::layer) noexcept {
    return {Kind::to_sparsity, fraction, 0.0f, scope};
  }
  /// The threshold form |w| <= tau -> 0 (one tau for several layers: global pruning, see
  /// prune::global_threshold).
  static constexpr Pruning below(float tau) noexcept { return {Kind::below, 0.0, tau, Scope::layer}; }
  /// Keeps the pattern only (N:M selection); for Unstructured and Block the same as none.
  static constexpr Pruning to_pattern() noexcept { return {Kind::below, 0.0, -1.0f, Scope::layer}; }

  Status validate(const std::string& where) const {
    if (kind == Kind::to_sparsity && !(sparsity >= 0.0 && sparsity <= 1.0))
      return make_error(ErrorCode::invalid_value, where + ": pruning to sparsity " + std::to_string(sparsity) +
                                                      ": the sparsity is a fraction of weights, between 0 and 1");
    if (kind == Kind::below && std::isnan(threshold))
      return make_error(ErrorCode::invalid_value, where + ": pruning threshold is NaN");
    return Status::ok();
  }
  std::string describe() const {
    switch (kind) {
      case Kind::none: return "none";
      case Kind::to_sparsity:
        return "magnitude to " + std::to_string(sparsity * 100.0).substr(0, 5) + "% zeros per " +
               (scope == Scope::layer ? "layer" : "output channel");
      case Kind::below: return threshold < 0 ? "to the pattern" : "|w| <= " + std::to_string(threshold);
    }
    return "?";
  }
};

namespace prune {

/// `fraction` in [0, 1]; NaN is 0 (nothing pruned), never a count out of range.
inline double clamp_fraction(double fraction) noexcept { return fraction > 0.0 ? std::min(fraction, 1.0) : 0.0; }

/// Zeroes the `fraction` of `values` with the smallest magnitude (exactly round(fraction * n)
/// of them; zeros already there count). Returns the number of zeros afterwards.
inline std::size_t smallest(std::span<float> values, double fraction) {
  const std::size_t n = values.size();
  const auto target = static_cast<std::size_t>(std::llround(clamp_fraction(fraction) * static_cast<double>(n)));
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return std::fabs(values[a]) < std::fabs(values[b]); });
  for (std::size_t i = 0; i < target; ++i) values[order[i]] = 0.0f;
  return static_cast<std::size_t>(std::count(values.begin(), values.end(), 0.0f));
}

/// Magnitude pruning of a rows x cols matrix: per layer, or per output channel (row).
inline void magnitude(std::span<float> matrix, std::size_t rows, std::size_t cols, double fraction,
                      Pruning::Scope scope = Pruning::Scope::layer) {
  if (scope == Pruning::Scope::layer) {
    smallest(matrix, fraction);
    return;
  }
  for (std::size_t r = 0; r < rows; ++r) smallest(matrix.subspan(r * cols, cols), fraction);
}

/// The threshold form: |w| <= tau -> 0.
inline void below(std::span<float> values, float tau) {
  for (float& v : values)
    if (std::fabs(v) <= tau) v = 0.0f;
}

/// N:M selection: in each group of M consecutive columns of each row, keeps the N largest |w|
/// (the trailing group of a row whose length is not a multiple of M too).
inline void n_of_m(std::span<float> matrix, std::size_t rows, std::size_t cols, std::size_t n, std::size_t m) {
  std::vector<std::size_t> order;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t g = 0; g < cols; g += m) {
      float* group = matrix.data() + r * cols + g;
      const std::size_t size = std::min(m, cols - g);
      if (size <= n) continue;
      order.resize(size);
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return std::fabs(group[a]) > std::fabs(group[b]); });
      for (std::size_t i = n; i < size; ++i) group[order[i]] = 0.0f;
    }
  }
}

/// L2 norm of the block of rows [r0, r0 + br) x columns [c0, c0 + bc), cut at the edges.
inline double block_norm(std::span<const float> matrix, std::size_t rows, std::size_t cols, std::size_t r0,
                         std::size_t c0, std::size_t br, std::size_t bc) {
  double sum = 0.0;
  for (std::size_t r = r0; r < std::min(rows, r0 + br); ++r)
    for (std::size_t c = c0; c < std::min(cols, c0 + bc); ++c) sum += double{matrix[r * cols + c]} * matrix[r * cols + c];
  return std::sqrt(sum);
}

/// Block pruning by block norm: zeroes the `fraction` of br x bc blocks of smallest L2 norm, per
/// layer or per block row (Scope::row).
inline void blocks(std::span<float> matrix, std::size_t rows, std::size_t cols, std::size_t br, std::size_t bc,
                   double fraction, Pruning::Scope scope = Pruning::Scope::layer) {
  const std::size_t block_rows = (rows + br - 1) / br, block_cols = (cols + bc - 1) / bc;
  auto zero_block = [&](std::size_t b) {
    const std::size_t r0 = b / block_cols * br, c0 = b % block_cols * bc;
    for (std::size_t r = r0; r < std::min(rows, r0 + br); ++r)
      for (std::size_t c = c0; c < std::min(cols, c0 + bc); ++c) matrix[r * cols + c] = 0.0f;
  };
  auto prune_range = [&](std::size_t first, std::size_t count) {
    std::vector<double> norms(count);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t b = first + i;
      norms[i] = block_norm(matrix, rows, cols, b / block_cols * br, b % block_cols * bc, br, bc);
    }
    std::vector<std::size_t> order(count);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return norms[a] < norms[b]; });
    const auto target =
        static_cast<std::size_t>(std::llround(clamp_fraction(fraction) * static_cast<double>(count)));
    for (std::size_t i = 0; i < target; ++i) zero_block(first + order[i]);
  };
  if (scope == Pruning::Scope::layer) prune_range(0, block_rows * block_cols);
  else
    for (std::size_t br_index = 0; br_index < block_rows; ++br_index) prune_range(br_index * block_cols, block_cols);
}

/// Zeroes the br x bc blocks whose L2 norm is <= tau.
inline void blocks_below(std::span<float> matrix, std::size_t rows, std::size_t cols, std::size_t br, std::size_t bc,
                         float tau) {
  for (std::size_t r0 = 0; r0 < rows; r0 += br)
    for (std::size_t c0 = 0; c0 < cols; c0 += bc)
      if (block_norm(matrix, rows, cols, r0, c0, br, bc) <= tau)
        for (std::size_t r = r0; r < std::min(rows, r0 + br); ++r)
          for (std::size_t c = c0; c < std::min(cols, c0 + bc); ++c) matrix[r * cols + c] = 0.0f;
}

/// Global magnitude pruning: the threshold tau such that zeroing |w| <= tau in all `layers`
/// together leaves `fraction` of their weights zero (one threshold across layers, so that no
/// layer is starved by a per-layer quota). Use it as Pruning::below(tau).
inline float global_threshold(std::span<const std::span<const float>> layers, double fraction) {
  std::vector<float> magnitudes;
  for (auto layer : layers)
    for (float v : layer) magnitudes.push_back(std::fabs(v));
  if (magnitudes.empty() || !(fraction > 0.0)) return -1.0f;
  const auto target = static_cast<std::size_t>(std::llround(std::min(fraction, 1.0) * static_cast<double>(magnitudes.size())));
  if (target == 0) return -1.0f;
  std::nth_element(magnitudes.begin(), magnitudes.begin() + static_cast<std::ptrdiff_t>(target - 1), magnitudes.end());
  return magnitudes[target - 1];
}

/// Fraction of zeros.
inline double sparsity_of(std::span<const float> values) {
  if (values.empty()) return 0.0;
  return static_cast<double>(std::count(values.begin(), values.end(), 0.0f)) / static_cast<double>(values.size());
}

}  // namespace prune

namespace detail {

/// Applies `rule` to a rows x cols matrix for pattern P (see Pruning).
template <class P>
void apply_pruning(std::span<float> matrix, std::size_t rows, std::size_t cols, const Pruning& rule) {
  if (rule.kind == Pruning::Kind::none) return;
  if constexpr (std::is_same_v<P, Unstructured>) {
    if (rule.kind == Pruning::Kind::to_sparsity) prune::magnitude(matrix, rows, cols, rule.sparsity, rule.scope);
    else prune::below(matrix, rule.threshold);
  } else if constexpr (requires { P::n; }) {
    if (rule.kind == Pruning::Kind::below) prune::below(matrix, rule.threshold);
    prune::n_of_m(matrix, rows, cols, P::n, P::m);
  } else {
    if (rule.kind == Pruning::Kind::to_sparsity)
      prune::blocks(matrix, rows, cols, P::rows, P::cols, rule.sparsity, rule.scope);
    else
      prune::blocks_below(matrix, rows, cols, P::rows, P::cols, rule.threshold);
  }
}

}  // namespace detail

/// Checks that a row-major rows x cols matrix has the zeros pattern P asks for (only N:M can be
/// violated); the error names the first group that does not, and how to fix it.
template <class P>
Status check_pattern(std::span<const float> matrix, std::size_t rows, std::size_t cols, const std::string& where) {
  if constexpr (requires { P::n; }) {
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t g = 0; g < cols; g += P::m) {
        std::size_t nonzeros = 0;
        for (std::size_t c = g; c < std::min(cols, g + P::m); ++c) nonzeros += matrix[r * cols + c] != 0.0f;
        if (nonzeros > P::n)
          return make_error(ErrorCode::invalid_value,
                            where + ": row " + std::to_string(r) + ", columns " + std::to_string(g) + ".." +
                                std::to_string(std::min(cols, g + P::m) - 1) + " hold " + std::to_string(nonzeros) +
                                " non-zero weights; the layout " + P::name + " allows " + std::to_string(P::n) +
                                " per group of " + std::to_string(P::m) +
                                " (prune them, e.g. set_pruning(Pruning::to_pattern()))");
      }
  }
  // Unstructured and Block<R, C> hold any matrix: a block with some zeros is stored whole.
  (void)matrix;
  (void)rows;
  (void)cols;
  (void)where;
  return Status::ok();
}

}  // namespace mote

// ---------------------------------------------------------------------------------------------
// CSR import: a matrix stored as scipy.sparse.csr_matrix (indptr, indices, data) becomes the
// row-major dense rows x cols floats that weights are set from. Every field is validated first;
// no input, however malformed (huge or negative indptr values, short arrays), reads out of bounds.

namespace mote {

/// The rows x cols matrix of the CSR arrays `indptr` (rows + 1 entries, from 0, non-decreasing,
/// ending at the number of non-zeros), `indices` (columns in [0, cols), strictly increasing within
/// each row: sorted, without duplicates, as scipy's `has_canonical_format`) and `values` (one per
/// index), as row-major floats. `where` names the matrix in error messages (shape_mismatch for
/// array lengths, invalid_value for their contents), which give the row and position at fault.
inline Expected<std::vector<float>> csr_to_dense(std::size_t rows, std::size_t cols,
                                                 std::span<const std::int64_t> indptr,
                                                 std::span<const std::int64_t> indices,
                                                 std::span<const float> values, const std::string& where) {
  const std::string shape = std::to_string(rows) + " x " + std::to_string(cols);
  if (cols != 0 && rows > std::vector<float>{}.max_size() / cols)
    return make_error(ErrorCode::invalid_value,
                      where + ": CSR matrix " + shape + " is too large to hold as dense floats");
  if (indptr.empty() || indptr.size() - 1 != rows)
    return make_error(ErrorCode::shape_mismatch,
                      where + ": CSR indptr has " + std::to_string(indptr.size()) + " entries; a " + shape +
                          " matrix needs rows + 1 = " + (rows + 1 == 0 ? std::string("(overflow)") : std::to_string(rows + 1)));
  if (indptr[0] != 0)
    return make_error(ErrorCode::invalid_value,
                      where + ": CSR indptr[0] is " + std::to_string(indptr[0]) + "; it must be 0");
  for (std::size_t r = 0; r < rows; ++r)
    if (indptr[r + 1] < indptr[r])
      return make_error(ErrorCode::invalid_value,
                        where + ": CSR indptr decreases at row " + std::to_string(r) + " (indptr[" + std::to_string(r) +
                            "] = " + std::to_string(indptr[r]) + ", indptr[" + std::to_string(r + 1) +
                            "] = " + std::to_string(indptr[r + 1]) + "); it must be non-decreasing");
  // indptr now runs from 0 up to indptr[rows] >= 0, without decreasing.
  const auto nonzeros = static_cast<std::uint64_t>(indptr[rows]);
  if (nonzeros != indices.size())
    return make_error(ErrorCode::shape_mismatch,
                      where + ": CSR indptr ends at " + std::to_string(nonzeros) + " non-zeros, but indices holds " +
                          std::to_string(indices.size()) + " (wrong non-zero count)");
  if (nonzeros != values.size())
    return make_error(ErrorCode::shape_mismatch,
                      where + ": CSR indptr ends at " + std::to_string(nonzeros) + " non-zeros, but values holds " +
                          std::to_string(values.size()) + " (wrong non-zero count)");
  std::vector<float> dense(rows * cols, 0.0f);
  for (std::size_t r = 0; r < rows; ++r) {
    const auto begin = static_cast<std::size_t>(indptr[r]), end = static_cast<std::size_t>(indptr[r + 1]);
    for (std::size_t k = begin; k < end; ++k) {
      const std::int64_t c = indices[k];
      auto at = [&] {
        return where + ": CSR row " + std::to_string(r) + ", position " + std::to_string(k - begin) + " (indices[" +
               std::to_string(k) + "])";
      };
      if (c < 0 || static_cast<std::uint64_t>(c) >= cols)
        return make_error(ErrorCode::invalid_value, at() + ": column index " + std::to_string(c) +
                                                        " is out of range: the matrix has " + std::to_string(cols) +
                                                        " columns (an index must be >= 0 and < " +
                                                        std::to_string(cols) + ")");
      if (k > begin && c <= indices[k - 1])
        return make_error(ErrorCode::invalid_value,
                          at() + ": column " + std::to_string(c) + " follows column " + std::to_string(indices[k - 1]) +
                              (c == indices[k - 1] ? " (a duplicate)" : " (unsorted)") +
                              "; columns within a row must be strictly increasing: sorted is required "
                              "(scipy: m.sum_duplicates(); m.sort_indices())");
      dense[r * cols + static_cast<std::size_t>(c)] = values[k];
    }
  }
  return dense;
}

}  // namespace mote
