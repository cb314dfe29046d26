#pragma once
// Codebook (palettised) weights: each weight is a Bits-bit index into a table of 2^Bits floats,
// one table per output channel (PerChannel) or one for the whole layer (PerTensor). The tables
// are fitted when weights are set, by 1-D k-means (Lloyd's algorithm), deterministically; the
// kernels compute in f32 on the looked-up values (layout/dense_codebook.hpp,
// kernels/dense/codebook-inl.hpp). docs/quantization.md, "Codebook weights".

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "mote/numeric/int8.hpp"  // PerTensor, PerChannel

namespace mote {

/// Weights as `Bits`-bit indices (2, 3 or 4) into tables of 2^Bits f32 values found by k-means:
/// per output channel (`PerChannel`, the default) or per tensor (`PerTensor`). Computed in f32
/// (activations stay f32). Bytes: Bits / 8 per weight plus 2^Bits floats per table.
template <std::size_t Bits, class Granularity = PerChannel>
struct Codebook {
  static_assert(Bits >= 2 && Bits <= 4,
                "Codebook<Bits, Granularity>: Bits is the number of index bits per weight and must be 2, 3 "
                "or 4 (tables of 4, 8 or 16 values).");
  static_assert(detail::is_granularity_v<Granularity>,
                "Codebook<Bits, Granularity>: Granularity must be mote::PerTensor or mote::PerChannel.");
  using storage_type = std::uint8_t;  ///< packed indices
  using accumulator_type = float;
  using granularity = Granularity;
  static constexpr std::size_t bits = Bits;
  static constexpr std::size_t bits_per_weight = Bits;
  /// Values per table.
  static constexpr std::size_t entries = std::size_t{1} << Bits;
  static constexpr bool per_channel = std::is_same_v<Granularity, PerChannel>;
  static constexpr const char* name = per_channel ? (Bits == 2 ? "codebook2 per-channel"
                                                     : Bits == 3 ? "codebook3 per-channel"
                                                                 : "codebook4 per-channel")
                                                  : (Bits == 2 ? "codebook2 per-tensor"
                                                     : Bits == 3 ? "codebook3 per-tensor"
                                                                 : "codebook4 per-tensor");
};

namespace detail {
/// Where index i (0-15) of a chunk of Bits-bit indices starts (layout/dense_codebook.hpp): its
/// first byte, and its bit offset (0-7) in that byte. The SIMD decoders' constants.
constexpr int codebook_index_byte(std::size_t bits, int i) noexcept { return static_cast<int>(bits) * i / 8; }
constexpr int codebook_index_shift(std::size_t bits, int i) noexcept { return static_cast<int>(bits) * i % 8; }
}  // namespace detail

template <class F>
inline constexpr bool is_codebook_format_v = false;
template <std::size_t Bits, class G>
inline constexpr bool is_codebook_format_v<Codebook<Bits, G>> = true;

/// A Codebook<Bits, Granularity> format.
template <class F>
concept CodebookFormat = is_codebook_format_v<F>;

/// Lloyd iterations at most per table (fit_codebook); the fit usually stops earlier, when no
/// value changes cluster.
inline constexpr std::size_t codebook_max_iterations = 100;

/// Fits `entries` table values to `values[0, count)` by 1-D k-means (Lloyd's algorithm) and
/// writes them to `table` in ascending order. Deterministic (no random numbers):
/// * non-finite values are left out of the fit (assign_codebook_index maps them);
/// * at most `entries` distinct values: the table is those values, exactly, the last repeated
///   to fill it;
/// * otherwise quantile initialisation (cluster j starts as the j-th run of count / entries
///   sorted values, each at least one distinct value), then Lloyd iterations on the sorted
///   distinct values with prefix sums (a cluster is an interval between two midpoints), until
///   no value changes cluster or `max_iterations`; a cluster left empty is moved to the value
///   farthest from its nearest centre.
/// Cost: a sort, O(count log count), then O(entries log count) per iteration; memory: two
/// arrays of count doubles and floats. No effect on the forward pass.
inline void fit_codebook(const float* values, std::size_t count, std::size_t entries, float* table,
                         std::size_t max_iterations = codebook_max_iterations) {
  std::vector<float> sorted;
  sorted.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    if (std::isfinite(values[i])) sorted.push_back(values[i]);
  std::sort(sorted.begin(), sorted.end());
  if (sorted.empty()) {
    std::fill(table, table + entries, 0.0f);
    return;
  }
  // Distinct values and prefix sums of counts and values (in double: exact enough for means).
  std::vector<float> distinct;
  std::vector<double> count_prefix{0.0}, sum_prefix{0.0};
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    distinct.push_back(sorted[i] == 0.0f ? 0.0f : sorted[i]);  // -0 and +0 are one value
    count_prefix.push_back(count_prefix.back() + static_cast<double>(j - i));
    sum_prefix.push_back(sum_prefix.back() + static_cast<double>(sorted[i]) * static_cast<double>(j - i));
    i = j;
  }
  const std::size_t m = distinct.size(), k = entries;
  if (m <= k) {
    for (std::size_t j = 0; j < k; ++j) table[j] = distinct[std::min(j, m - 1)];
    return;
  }
  // Cluster j holds distinct values [bound[j], bound[j + 1]).
  std::vector<std::size_t> bound(k + 1);
  const double n = count_prefix.back();
  bound[0] = 0, bound[k] = m;
  for (std::size_t j = 1; j < k; ++j) {
    const double target = n * static_cast<double>(j) / static_cast<double>(k);
    std::size_t b = static_cast<std::size_t>(std::lower_bound(count_prefix.begin(), count_prefix.end(), target) -
                                             count_prefix.begin());
    b = std::clamp(b, bound[j - 1] + 1, m - (k - j));
    bound[j] = b;
  }
  std::vector<double> centre(k);
  auto mean = [&](std::size_t from, std::size_t to) {
    return (sum_prefix[to] - sum_prefix[from]) / (count_prefix[to] - count_prefix[from]);
  };
  for (std::size_t j = 0; j < k; ++j) centre[j] = mean(bound[j], bound[j + 1]);
  std::vector<std::size_t> next(k + 1);
  for (std::size_t iteration = 0; iteration < max_iterations; ++iteration) {
    // Assignment: a value goes to its nearest centre (the lower one on a tie).
    next[0] = 0, next[k] = m;
    for (std::size_t j = 0; j + 1 < k; ++j) {
      const double midpoint = 0.5 * (centre[j] + centre[j + 1]);
      next[j + 1] = static_cast<std::size_t>(
          std::upper_bound(distinct.begin(), distinct.end(), midpoint,
                           [](double t, float v) { return t < static_cast<double>(v); }) -
          distinct.begin());
      next[j + 1] = std::max(next[j + 1], next[j]);
    }
    if (next == bound) break;
    bound = next;
    // Update: each centre moves to its cluster's mean; empty clusters are re-seeded.
    std::vector<std::size_t> empty;
    for (std::size_t j = 0; j < k; ++j) {
      if (bound[j] < bound[j + 1]) centre[j] = mean(bound[j], bound[j + 1]);
      else empty.push_back(j);
    }
    std::vector<bool> placed(k);
    for (std::size_t j = 0; j < k; ++j) placed[j] = bound[j] < bound[j + 1];
    for (std::size_t j : empty) {
      // The farthest value from its nearest centre is the first or last value of a cluster.
      double worst = -1.0, where = centre[j];
      for (std::size_t c = 0; c < k; ++c) {
        if (bound[c] == bound[c + 1]) continue;
        for (std::size_t index : {bound[c], bound[c + 1] - 1}) {
          const double v = distinct[index];
          double nearest = std::numeric_limits<double>::infinity();
          for (std::size_t e = 0; e < k; ++e)
            if (placed[e]) nearest = std::min(nearest, std::fabs(v - centre[e]));
          if (nearest > worst) worst = nearest, where = v;
        }
      }
      centre[j] = where;
      placed[j] = true;
    }
    if (!empty.empty()) {
      std::sort(centre.begin(), centre.end());
      bound.assign(k + 1, m + 1);  // forces another assignment pass
    }
  }
  for (std::size_t j = 0; j < k; ++j) table[j] = static_cast<float>(centre[j]);
  std::sort(table, table + k);
}

/// The index of the entry of `table` (ascending, `entries` values) nearest to `value`, the lower
/// one on a tie. NaN maps to the entry nearest to 0, +-infinity to the last / first entry.
inline std::uint8_t assign_codebook_index(const float* table, std::size_t entries, float value) noexcept {
  if (std::isnan(value)) value = 0.0f;
  if (value == std::numeric_limits<float>::infinity()) return static_cast<std::uint8_t>(entries - 1);
  if (value == -std::numeric_limits<float>::infinity()) return 0;
  std::size_t best = 0;
  double best_distance = std::fabs(static_cast<double>(value) - table[0]);
  for (std::size_t j = 1; j < entries; ++j) {
    const double distance = std::fabs(static_cast<double>(value) - table[j]);
    if (distance < best_distance) best = j, best_distance = distance;
  }
  return static_cast<std::uint8_t>(best);
}

}  // namespace mote
