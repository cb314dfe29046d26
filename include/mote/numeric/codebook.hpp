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
#include <utility>
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

/// Lloyd iterations at most per start of the fit (fit_codebook); a start usually stops earlier,
/// when no value changes cluster.
inline constexpr std::size_t codebook_max_iterations = 100;
/// k-means++ starts per fit (fit_codebook), each from its own fixed seed.
inline constexpr std::size_t codebook_kmeanspp_starts = 4;

namespace detail {

/// Sorted distinct values with prefix sums of their counts, sums and sums of squares (in
/// double): a cluster of consecutive distinct values [a, b) has its count, mean and squared
/// error in O(1).
struct CodebookSample {
  std::vector<float> distinct;
  std::vector<double> count{0.0}, sum{0.0}, square{0.0};

  explicit CodebookSample(std::vector<float> sorted) {
    for (std::size_t i = 0; i < sorted.size();) {
      std::size_t j = i;
      while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
      const double value = sorted[i] == 0.0f ? 0.0 : sorted[i];  // -0 and +0 are one value
      const double n = static_cast<double>(j - i);
      distinct.push_back(static_cast<float>(value));
      count.push_back(count.back() + n);
      sum.push_back(sum.back() + n * value);
      square.push_back(square.back() + n * value * value);
      i = j;
    }
  }
  std::size_t size() const noexcept { return distinct.size(); }
  double mean(std::size_t from, std::size_t to) const noexcept {
    return (sum[to] - sum[from]) / (count[to] - count[from]);
  }
  /// Sum over values v in [from, to) of count * (v - centre)^2.
  double squared_error(std::size_t from, std::size_t to, double centre) const noexcept {
    const double n = count[to] - count[from], s = sum[to] - sum[from], q = square[to] - square[from];
    return std::max(0.0, q - 2.0 * centre * s + n * centre * centre);
  }
  /// First distinct value above `threshold`.
  std::size_t above(double threshold) const noexcept {
    return static_cast<std::size_t>(
        std::upper_bound(distinct.begin(), distinct.end(), threshold,
                         [](double t, float v) { return t < static_cast<double>(v); }) -
        distinct.begin());
  }
};

/// Lloyd's algorithm from `centre` (k values, any order): assignment to the nearest centre (the
/// lower one on a tie: a cluster is the interval between two midpoints), then each centre to its
/// cluster's mean; an empty cluster's centre moves to the value farthest from its nearest
/// centre. Stops when no value changes cluster, or after `max_iterations`. Returns the squared
/// error of the final centres; `centre` ends sorted.
inline double codebook_lloyd(const CodebookSample& sample, std::vector<double>& centre, std::size_t max_iterations) {
  const std::size_t k = centre.size(), m = sample.size();
  std::vector<std::size_t> bound(k + 1, m + 1), next(k + 1);
  auto assign = [&](std::vector<std::size_t>& b) {
    b[0] = 0, b[k] = m;
    for (std::size_t j = 0; j + 1 < k; ++j) b[j + 1] = std::max(b[j], sample.above(0.5 * (centre[j] + centre[j + 1])));
  };
  std::sort(centre.begin(), centre.end());
  for (std::size_t iteration = 0; iteration < max_iterations; ++iteration) {
    assign(next);
    if (next == bound) break;
    bound = next;
    std::vector<bool> placed(k);
    for (std::size_t j = 0; j < k; ++j) {
      placed[j] = bound[j] < bound[j + 1];
      if (placed[j]) centre[j] = sample.mean(bound[j], bound[j + 1]);
    }
    for (std::size_t j = 0; j < k; ++j) {
      if (placed[j]) continue;
      // The farthest value from its nearest centre is the first or last value of a cluster.
      double worst = -1.0, where = centre[j];
      for (std::size_t c = 0; c < k; ++c) {
        if (bound[c] == bound[c + 1]) continue;
        for (std::size_t index : {bound[c], bound[c + 1] - 1}) {
          const double v = sample.distinct[index];
          double nearest = std::numeric_limits<double>::infinity();
          for (std::size_t e = 0; e < k; ++e)
            if (placed[e]) nearest = std::min(nearest, std::fabs(v - centre[e]));
          if (nearest > worst) worst = nearest, where = v;
        }
      }
      centre[j] = where;
      placed[j] = true;
    }
    std::sort(centre.begin(), centre.end());
  }
  assign(next);
  double error = 0.0;
  for (std::size_t j = 0; j < k; ++j) error += sample.squared_error(next[j], next[j + 1], centre[j]);
  return error;
}

/// Quantile start: centre j at the mean of the j-th run of count / k sorted values (each run at
/// least one distinct value).
inline std::vector<double> codebook_quantile_start(const CodebookSample& sample, std::size_t k) {
  const std::size_t m = sample.size();
  std::vector<std::size_t> bound(k + 1);
  bound[0] = 0, bound[k] = m;
  for (std::size_t j = 1; j < k; ++j) {
    const double target = sample.count.back() * static_cast<double>(j) / static_cast<double>(k);
    const auto b = static_cast<std::size_t>(std::lower_bound(sample.count.begin(), sample.count.end(), target) -
                                            sample.count.begin());
    bound[j] = std::clamp(b, bound[j - 1] + 1, m - (k - j));
  }
  std::vector<double> centre(k);
  for (std::size_t j = 0; j < k; ++j) centre[j] = sample.mean(bound[j], bound[j + 1]);
  return centre;
}

/// k-means++ start (Arthur & Vassilvitskii): the first centre drawn by count, each next one with
/// probability proportional to count * squared distance to the nearest centre so far. The
/// random numbers come from a 64-bit LCG (Knuth's MMIX constants) seeded with `seed`: the same
/// centres on every run and every standard library.
inline std::vector<double> codebook_kmeanspp_start(const CodebookSample& sample, std::size_t k, std::uint64_t seed) {
  std::uint64_t state = seed * 0x9E3779B97F4A7C15u + 1u;
  auto uniform = [&state] {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return static_cast<double>(state >> 11) * 0x1p-53;
  };
  const std::size_t m = sample.size();
  auto draw = [&](const std::vector<double>& cumulative) {
    const double target = uniform() * cumulative.back();
    const auto i = static_cast<std::size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), target) -
                                            cumulative.begin());
    return std::min(i == 0 ? 0 : i - 1, m - 1);
  };
  std::vector<double> centre{static_cast<double>(sample.distinct[draw(sample.count)])};
  std::vector<double> distance(m, std::numeric_limits<double>::infinity()), cumulative(m + 1);
  while (centre.size() < k) {
    cumulative[0] = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
      const double d = sample.distinct[i] - centre.back();
      distance[i] = std::min(distance[i], d * d);
      cumulative[i + 1] = cumulative[i] + (sample.count[i + 1] - sample.count[i]) * distance[i];
    }
    // A value already chosen has weight 0 and cannot be drawn again (m > k values exist).
    centre.push_back(sample.distinct[draw(cumulative)]);
  }
  return centre;
}

}  // namespace detail

/// Fits `entries` table values to `values[0, count)` by 1-D k-means and writes them to `table`
/// in ascending order. Deterministic: the same table for the same values in any order (in one
/// build: other compiler flags may contract the double-precision sums into FMAs differently):
/// * non-finite values are left out of the fit (assign_codebook_index maps them);
/// * at most `entries` distinct values: the table is those values, exactly, the last repeated
///   to fill it;
/// * otherwise Lloyd's algorithm (detail::codebook_lloyd, at most `max_iterations` iterations)
///   from a quantile start and from codebook_kmeanspp_starts k-means++ starts with fixed seeds;
///   the table with the lowest squared error wins (the quantile start on a tie). On Gaussian
///   data the k-means++ starts matter for 16 entries and a few hundred values, where Lloyd from
///   quantiles stops in a poor local minimum (error 1.2-1.7x higher).
/// Cost: a sort, O(count log count), then per start O(entries x distinct values) for k-means++
/// and O(entries log count) per Lloyd iteration; memory: a few arrays of count doubles. Weights
/// are set once, when loaded: Fashion-MNIST's MLP (235,000 weights, 394 tables of 16) fits in
/// about 0.1 s on one Zen 3 core. No effect on the forward pass.
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
  const detail::CodebookSample sample(std::move(sorted));
  const std::size_t m = sample.size();
  if (m <= entries) {
    for (std::size_t j = 0; j < entries; ++j) table[j] = sample.distinct[std::min(j, m - 1)];
    return;
  }
  std::vector<double> best = detail::codebook_quantile_start(sample, entries);
  double best_error = detail::codebook_lloyd(sample, best, max_iterations);
  for (std::uint64_t seed = 1; seed <= codebook_kmeanspp_starts; ++seed) {
    std::vector<double> centre = detail::codebook_kmeanspp_start(sample, entries, seed);
    const double error = detail::codebook_lloyd(sample, centre, max_iterations);
    if (error < best_error) best_error = error, best = std::move(centre);
  }
  for (std::size_t j = 0; j < entries; ++j) table[j] = static_cast<float>(best[j]);
  std::sort(table, table + entries);
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
