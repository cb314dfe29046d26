#pragma once
// Activation-range calibration for post-training quantisation: a RangeObserver streams the
// activations of a calibration set through a running min/max and a histogram, then turns them
// into a QuantParams by one of three methods. Calibration runs offline, once per model; nothing
// here is used by inference.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "mote/core/error.hpp"
#include "mote/numeric/quantization.hpp"

namespace mote {

/// How RangeObserver::compute_params turns the observed values into a clipping range.
enum class CalibrationMethod {
  /// The full observed range [min, max]: nothing is clipped, so one outlier widens the step of
  /// every other value.
  min_max,
  /// The range between the (100 - p)th and pth percentiles of the observed values (symmetric:
  /// the pth percentile of |x|); the rarest values beyond it are clipped.
  percentile,
  /// The range minimising the expected squared error of quantise-dequantise over the observed
  /// distribution: rounding noise inside the range plus clipping error outside, traded off.
  mse,
};

/// Streams calibration values and keeps their count, min, max and a histogram whose range grows
/// as new extremes arrive. observe() never allocates (both bin buffers are allocated by the
/// constructor); compute_params() allocates its working arrays (O(bins)). Not thread-safe while
/// observing.
class RangeObserver {
 public:
  /// `bin_count` histogram bins (at least 2; fewer are taken as 2). More bins resolve
  /// percentiles and the mse search more finely, at 16 bytes per bin.
  explicit RangeObserver(std::size_t bin_count = 2048)
      : counts_(std::max<std::size_t>(bin_count, 2), 0),
        scratch_(std::max<std::size_t>(bin_count, 2), 0) {}

  /// Adds `count` values. A NaN or infinite value rejects the whole batch
  /// (ErrorCode::invalid_value, naming the first bad index) and leaves the observer as it was.
  Status observe(const float* values, std::size_t count) {
    if (count == 0) return Status::ok();
    if (values == nullptr)
      return make_error(ErrorCode::invalid_value, "RangeObserver::observe: null pointer for " +
                                                      std::to_string(count) + " values");
    std::size_t non_finite = 0;
    std::size_t first_bad = count;
    float batch_min = std::numeric_limits<float>::infinity();
    float batch_max = -std::numeric_limits<float>::infinity();
    for (std::size_t i = 0; i < count; ++i) {
      const float x = values[i];
      if (!std::isfinite(x)) {
        if (non_finite++ == 0) first_bad = i;
        continue;
      }
      batch_min = std::min(batch_min, x);
      batch_max = std::max(batch_max, x);
    }
    if (non_finite != 0)
      return make_error(ErrorCode::invalid_value,
                        "RangeObserver::observe: value at index " + std::to_string(first_bad) +
                            " of " + std::to_string(count) + " is " +
                            describe_non_finite(values[first_bad]) + " (" +
                            std::to_string(non_finite) +
                            " non-finite values in the batch); calibration data must be finite, "
                            "the batch was not recorded");

    const bool had_range = count_ != 0 && min_ < max_;
    const float earlier_value = min_;  // while !had_range, every value seen so far equals it
    if (count_ == 0) {
      min_ = batch_min;
      max_ = batch_max;
      hist_lo_ = hist_hi_ = batch_min;
    } else {
      min_ = std::min(min_, batch_min);
      max_ = std::max(max_, batch_max);
    }
    if (!had_range && min_ < max_) {
      // First time two distinct values are seen: the histogram spans exactly [min, max], and the
      // earlier values (all in bin 0 of the zero-width histogram) move to their bin in it.
      const std::uint64_t earlier = counts_[0];
      counts_[0] = 0;
      hist_lo_ = static_cast<double>(min_);
      hist_hi_ = static_cast<double>(max_);
      bin_width_ = (hist_hi_ - hist_lo_) / static_cast<double>(counts_.size());
      counts_[bin_of(static_cast<double>(earlier_value))] += earlier;
    } else if (had_range &&
               (static_cast<double>(min_) < hist_lo_ || static_cast<double>(max_) > hist_hi_)) {
      grow_to(static_cast<double>(min_), static_cast<double>(max_));
    }
    for (std::size_t i = 0; i < count; ++i) {
      ++counts_[bin_width_ > 0.0 ? bin_of(static_cast<double>(values[i])) : 0];
      zero_count_ += values[i] == 0.0f ? 1 : 0;
    }
    count_ += count;
    return Status::ok();
  }

  /// Adds every value of `values` (see the pointer form).
  Status observe(std::span<const float> values) { return observe(values.data(), values.size()); }

  /// Forgets every observed value; keeps the bin buffers.
  void reset() noexcept {
    std::fill(counts_.begin(), counts_.end(), std::uint64_t{0});
    count_ = zero_count_ = 0;
    min_ = max_ = 0.0f;
    hist_lo_ = hist_hi_ = bin_width_ = 0.0;
  }

  /// Number of values observed.
  std::uint64_t count() const noexcept { return count_; }
  /// Smallest and largest observed value (0 before any).
  float min() const noexcept { return min_; }
  float max() const noexcept { return max_; }
  /// Histogram bins: bin i counts the values in [lo + i * w, lo + (i + 1) * w), lo =
  /// histogram_lo(), w = (histogram_hi() - lo) / bin_count(), the last bin closed on the right.
  /// Until two distinct values have been seen the range has zero width and bin 0 holds them all.
  std::span<const std::uint64_t> bins() const noexcept { return counts_; }
  std::size_t bin_count() const noexcept { return counts_.size(); }
  double histogram_lo() const noexcept { return hist_lo_; }
  double histogram_hi() const noexcept { return hist_hi_; }

  /// Scale and zero point for codes [min_code, max_code] (symmetric: zero point as in
  /// choose_quant_params) from the values observed so far, by `method`; `percentile` is used by
  /// CalibrationMethod::percentile and checked whatever the method. Errors (invalid_value): no
  /// value observed, percentile outside (0, 100], min_code >= max_code or a code range that
  /// choose_quant_params cannot use, or a range too narrow for a positive float scale.
  /// Cost: min_max O(1); percentile O(bins); mse O(non-empty bins) for each of 274 candidate
  /// ranges (symmetric or one-signed data) or 1,667 (asymmetric, both signs).
  Expected<QuantParams> compute_params(CalibrationMethod method, std::int32_t min_code,
                                       std::int32_t max_code, bool symmetric,
                                       double percentile = 99.99) const {
    const std::string what = "RangeObserver::compute_params";
    if (count_ == 0)
      return make_error(ErrorCode::invalid_value,
                        what +
                            ": no value observed (the calibration set was empty); observe() "
                            "activations before computing quantisation parameters");
    if (!(percentile > 0.0 && percentile <= 100.0))
      return make_error(ErrorCode::invalid_value,
                        what + ": percentile " + format_value(percentile) + " is outside (0, 100]");
    // Appended piece by piece: GCC 12 reports a false -Wrestrict on "[" + std::to_string(...).
    std::string codes = "[";
    codes += std::to_string(min_code);
    codes += ", ";
    codes += std::to_string(max_code);
    codes += "]";
    if (min_code >= max_code)
      return make_error(ErrorCode::invalid_value, what + ": code range " + codes +
                                                      " is empty; min_code must be below max_code");
    // choose_quant_params computes max_code - min_code and max_code + 1 in int32.
    if (max_code == std::numeric_limits<std::int32_t>::max() ||
        std::int64_t{max_code} - min_code > std::numeric_limits<std::int32_t>::max())
      return make_error(ErrorCode::invalid_value,
                        what + ": code range " + codes + " is too wide for int32 arithmetic");
    if (symmetric &&
        !std::isfinite(choose_quant_params(-1.0f, 1.0f, min_code, max_code, true).scale))
      return make_error(ErrorCode::invalid_value,
                        what +
                            ": symmetric quantisation needs codes on both sides of the zero "
                            "point, and " +
                            codes + " has none on one side");

    QuantParams params;
    if (method == CalibrationMethod::min_max || !(min_ < max_)) {
      // With a single distinct value there is nothing to clip: every method gives min_max.
      params = choose_quant_params(min_, max_, min_code, max_code, symmetric);
    } else {
      const Distribution distribution(*this);
      if (method == CalibrationMethod::percentile)
        params = distribution.percentile_params(percentile / 100.0, min_code, max_code, symmetric);
      else
        params = distribution.mse_params(min_code, max_code, symmetric);
    }
    if (Status status = validate_quant_params(params, min_code, max_code,
                                              what + " (observed range [" +
                                                  format_value(static_cast<double>(min_)) + ", " +
                                                  format_value(static_cast<double>(max_)) + "])");
        !status)
      return status.error();
    return params;
  }

 private:
  static std::string format_value(double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", x);
    return text;
  }

  static std::string describe_non_finite(float x) {
    if (std::isnan(x)) return "NaN";
    return x > 0.0f ? "+inf" : "-inf";
  }

  std::size_t bin_of(double x) const noexcept {
    const double position = std::floor((x - hist_lo_) / bin_width_);
    const double last = static_cast<double>(counts_.size() - 1);
    return static_cast<std::size_t>(std::clamp(position, 0.0, last));
  }

  // Widens the histogram to cover [lo, hi] by multiplying the bin width by the smallest whole
  // factor k >= 2 that fits, and moving the origin down by a whole number of new bins. Each old
  // bin then lies inside exactly one new bin (k neighbours merge), so re-binning moves whole
  // integer counts: nothing is split or interpolated, and every value sits in the bin it would
  // have had if the wider histogram had been used from the start. PyTorch's HistogramObserver
  // instead spreads each old bin over the new ones proportionally, which blurs the counts a
  // little more on every growth. The price here: the observed range may cover only about half
  // of the bins (k = 2 when a batch stretches the range slightly).
  void grow_to(double lo, double hi) {
    lo = std::min(lo, hist_lo_);
    hi = std::max(hi, hist_hi_);
    const std::size_t bins = counts_.size();
    const double bin_count_d = static_cast<double>(bins);
    // With a shift of at most one new bin more than needed, (bins - 1) new bins must span the
    // range: this k fits in exact arithmetic; rounding may ask for the next one.
    double factor = std::max(2.0, std::ceil((hi - lo) / ((bin_count_d - 1.0) * bin_width_)));
    for (;; factor = std::max(factor + 1.0, std::ceil(factor * (1.0 + 1e-9)))) {
      const double new_width = factor * bin_width_;
      const double shift = std::ceil((hist_lo_ - lo) / new_width);  // whole new bins, >= 0
      const double new_lo = hist_lo_ - shift * new_width;
      const double new_hi = new_lo + bin_count_d * new_width;
      if (!(shift < bin_count_d && new_lo <= lo && new_hi >= hi)) continue;
      const std::size_t shift_bins = static_cast<std::size_t>(shift);
      std::fill(scratch_.begin(), scratch_.end(), std::uint64_t{0});
      for (std::size_t i = 0; i < bins; ++i) {
        const std::size_t merged = factor < bin_count_d ? i / static_cast<std::size_t>(factor) : 0;
        scratch_[std::min(shift_bins + merged, bins - 1)] += counts_[i];
      }
      counts_.swap(scratch_);
      hist_lo_ = new_lo;
      hist_hi_ = new_hi;
      bin_width_ = new_width;
      return;
    }
  }

  // The observed distribution as the histogram describes it: each bin's count spread uniformly
  // over the bin clipped to [min, max] (so the extremes are exact). For the mse score the exact
  // zeros are taken out of their bin as a point mass at 0, which every grid represents exactly:
  // after a ReLU they are often half the data, and spreading them over a bin would charge them
  // rounding noise they never get.
  class Distribution {
   public:
    explicit Distribution(const RangeObserver& observer)
        : observer_(observer),
          min_(static_cast<double>(observer.min_)),
          max_(static_cast<double>(observer.max_)),
          mass_below_bin_(observer.counts_.size() + 1, 0.0) {
      const std::size_t bins = observer.counts_.size();
      const std::size_t zero_bin = observer.bin_of(0.0);
      std::size_t non_empty = 0;
      for (std::size_t i = 0; i < bins; ++i) {
        mass_below_bin_[i + 1] = mass_below_bin_[i] + static_cast<double>(observer.counts_[i]);
        non_empty += observer.counts_[i] != 0 ? 1u : 0u;
      }
      pieces_.reserve(non_empty);
      for (std::size_t i = 0; i < bins; ++i) {
        std::uint64_t count = observer.counts_[i];
        if (i == zero_bin) count -= std::min(count, observer.zero_count_);
        if (count != 0) pieces_.push_back({bin_left(i), bin_right(i), static_cast<double>(count)});
      }
    }

    QuantParams percentile_params(double fraction, std::int32_t min_code, std::int32_t max_code,
                                  bool symmetric) const {
      const double total = mass_below_bin_.back();
      if (symmetric) {
        const double extent = std::max(-min_, max_);
        const double bound = fraction >= 1.0
                                 ? extent
                                 : invert([&](double t) { return mass_below(t) - mass_below(-t); },
                                          fraction * total, 0.0, extent);
        const float b = static_cast<float>(bound);
        return choose_quant_params(-b, b, min_code, max_code, true);
      }
      auto cumulative = [&](double t) { return mass_below(t); };
      const double lower =
          fraction >= 1.0 ? min_ : invert(cumulative, (1.0 - fraction) * total, min_, max_);
      const double upper =
          fraction >= 1.0 ? max_ : invert(cumulative, fraction * total, min_, max_);
      return choose_quant_params(static_cast<float>(lower), static_cast<float>(upper), min_code,
                                 max_code, false);
    }

    // Searches clipping ranges [lower, upper] = [a * min, b * max] (symmetric: [-b, b] * max|x|)
    // with a, b in [0, 1]: a coarse grid from 1 (the min_max range, tried first so that ties keep
    // it) down to 0, then zooms into +-1 step around the best with 8 times finer steps, down to
    // steps of 1/2048. 1-D (symmetric, or data of one sign): 257 + 17 candidates; 2-D: 33^2 +
    // 2 * 17^2. Each candidate is scored on its actual grid (choose_quant_params' scale and
    // rounded zero point) in O(non-empty bins).
    QuantParams mse_params(std::int32_t min_code, std::int32_t max_code, bool symmetric) const {
      const double lower_extent = symmetric ? 0.0 : std::min(min_, 0.0);
      const double upper_extent = symmetric ? std::max(-min_, max_) : std::max(max_, 0.0);
      const bool search_lower = lower_extent < 0.0;
      const bool search_upper = upper_extent > 0.0;
      auto params_for = [&](double lower_fraction, double upper_fraction) {
        const float upper = static_cast<float>(upper_extent * upper_fraction);
        if (symmetric) return choose_quant_params(-upper, upper, min_code, max_code, true);
        return choose_quant_params(static_cast<float>(lower_extent * lower_fraction), upper,
                                   min_code, max_code, false);
      };
      double best_lower = 1.0;
      double best_upper = 1.0;
      double best_error = std::numeric_limits<double>::infinity();
      // Fractions from - step * k, k in [0, count), inside [0, 1]; a side without extent has
      // the single candidate 1.
      auto search = [&](double lower_from, double upper_from, double step, int count) {
        for (int j = 0; j < (search_lower ? count : 1); ++j) {
          const double lower_fraction = search_lower ? lower_from - step * j : 1.0;
          if (lower_fraction < 0.0 || lower_fraction > 1.0) continue;
          for (int i = 0; i < (search_upper ? count : 1); ++i) {
            const double upper_fraction = search_upper ? upper_from - step * i : 1.0;
            if (upper_fraction < 0.0 || upper_fraction > 1.0) continue;
            const double error =
                expected_error(params_for(lower_fraction, upper_fraction), min_code, max_code);
            if (error < best_error) {
              best_error = error;
              best_lower = lower_fraction;
              best_upper = upper_fraction;
            }
          }
        }
      };
      constexpr int zoom = 8;
      constexpr double finest_step = 1.0 / 2048.0;
      const int coarse_steps = search_lower && search_upper ? 32 : 256;
      double step = 1.0 / coarse_steps;
      search(1.0, 1.0, step, coarse_steps + 1);
      while (step > finest_step) {
        const double lower_from = best_lower + step;
        const double upper_from = best_upper + step;
        step /= zoom;
        search(lower_from, upper_from, step, 2 * zoom + 1);
      }
      return params_for(best_lower, best_upper);
    }

   private:
    struct Piece {  // `count` values spread uniformly over [lo, hi]
      double lo;
      double hi;
      double count;
    };

    double bin_left(std::size_t i) const {
      const double edge = observer_.hist_lo_ + static_cast<double>(i) * observer_.bin_width_;
      return std::clamp(edge, min_, max_);
    }
    double bin_right(std::size_t i) const {
      const double edge = observer_.hist_lo_ + static_cast<double>(i + 1) * observer_.bin_width_;
      return std::clamp(edge, min_, max_);
    }

    // Number of values below t (piecewise linear in t).
    double mass_below(double t) const {
      if (t <= min_) return 0.0;
      if (t >= max_) return mass_below_bin_.back();
      const std::size_t i = observer_.bin_of(t);
      const double l = bin_left(i);
      const double r = bin_right(i);
      const double share = r > l ? (std::clamp(t, l, r) - l) / (r - l) : (t > l ? 1.0 : 0.0);
      return mass_below_bin_[i] + static_cast<double>(observer_.counts_[i]) * share;
    }

    // The t in [lo, hi] where the non-decreasing `mass` reaches `target`, by bisection down to
    // adjacent doubles (it returns the smallest such t where `mass` is flat over empty bins).
    template <class MassFunction>
    static double invert(MassFunction mass, double target, double lo, double hi) {
      while (lo < hi) {
        const double mid = lo + (hi - lo) / 2.0;
        if (mid <= lo || mid >= hi) break;
        if (mass(mid) < target)
          lo = mid;
        else
          hi = mid;
      }
      return hi;
    }

    // Integral over [0, u] of (w - nearest_integer(w))^2 dw: 1/12 per whole period plus the
    // cube of the distance travelled past the last integer.
    static double rounding_antiderivative(double u) {
      const double k = std::round(u);
      const double v = u - k;
      return k / 12.0 + v * v * v / 3.0;
    }

    // Total squared error of quantise-dequantise with `params` over the pieces: distance to the
    // nearest grid point inside the grid [grid_lo, grid_hi], to the nearest end outside it,
    // integrated exactly over each piece (the s^2 / 12 shortcut is wrong when the data are
    // narrower than a step, e.g. a bulk that all rounds to 0 beside far outliers).
    double expected_error(const QuantParams& params, std::int32_t min_code,
                          std::int32_t max_code) const {
      if (!(params.scale > 0.0f) || !std::isfinite(params.scale))
        return std::numeric_limits<double>::infinity();
      const double step = static_cast<double>(params.scale);
      const double grid_lo = static_cast<double>(std::int64_t{min_code} - params.zero_point) * step;
      const double grid_hi = static_cast<double>(std::int64_t{max_code} - params.zero_point) * step;
      auto cube = [](double x) { return x * x * x; };
      double total = 0.0;
      for (const Piece& piece : pieces_) {
        if (!(piece.lo < piece.hi)) {  // all the values of the piece are equal
          const double x = piece.lo;
          double distance = 0.0;
          if (x < grid_lo)
            distance = grid_lo - x;
          else if (x > grid_hi)
            distance = x - grid_hi;
          else
            distance = step * std::remainder((x - grid_lo) / step, 1.0);
          total += piece.count * distance * distance;
          continue;
        }
        double integral = 0.0;
        if (piece.lo < grid_lo)
          integral +=
              (cube(grid_lo - piece.lo) - cube(grid_lo - std::min(piece.hi, grid_lo))) / 3.0;
        if (piece.hi > grid_hi)
          integral +=
              (cube(piece.hi - grid_hi) - cube(std::max(piece.lo, grid_hi) - grid_hi)) / 3.0;
        const double inside_lo = std::max(piece.lo, grid_lo);
        const double inside_hi = std::min(piece.hi, grid_hi);
        if (inside_lo < inside_hi) {
          // Relative to a whole number of steps, so that the two antiderivatives stay small and
          // their difference keeps its precision.
          const double from = (inside_lo - grid_lo) / step;
          const double whole = std::floor(from);
          const double to = (inside_hi - grid_lo) / step;
          integral += cube(step) *
                      (rounding_antiderivative(to - whole) - rounding_antiderivative(from - whole));
        }
        total += piece.count * integral / (piece.hi - piece.lo);
      }
      return total;
    }

    const RangeObserver& observer_;
    double min_;
    double max_;
    std::vector<double> mass_below_bin_;  // [i]: number of values in bins [0, i)
    std::vector<Piece> pieces_;           // the non-empty bins, exact zeros taken out
  };

  std::vector<std::uint64_t> counts_;
  std::vector<std::uint64_t> scratch_;  // the re-binning target, swapped with counts_
  std::uint64_t count_ = 0;
  std::uint64_t zero_count_ = 0;
  float min_ = 0.0f;
  float max_ = 0.0f;
  double hist_lo_ = 0.0;
  double hist_hi_ = 0.0;
  double bin_width_ = 0.0;  // 0 until two distinct values have been seen
};

}  // namespace mote
