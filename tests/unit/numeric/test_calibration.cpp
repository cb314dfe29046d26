// RangeObserver: streaming min/max and growing histogram, and the three calibration methods,
// judged by the quantise-dequantise error they give on the calibration data itself.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mote/numeric/calibration.hpp>
#include <numeric>
#include <random>
#include <vector>

namespace {

using mote::CalibrationMethod;
using mote::QuantParams;
using mote::RangeObserver;

constexpr std::int32_t int8_min = -128;
constexpr std::int32_t int8_max = 127;
constexpr std::int32_t uint8_min = 0;
constexpr std::int32_t uint8_max = 255;

/// Mean squared error of dequantize(quantize(x)) over `data`, computed by quantization.hpp.
double quantization_mse(const std::vector<float>& data, const QuantParams& params,
                        std::int32_t min_code, std::int32_t max_code) {
  double sum = 0.0;
  for (const float x : data) {
    const float back = mote::dequantize(mote::quantize(x, params, min_code, max_code), params);
    const double error = static_cast<double>(back) - static_cast<double>(x);
    sum += error * error;
  }
  return sum / static_cast<double>(data.size());
}

/// Observes `data` in batches of `batch` values.
RangeObserver observe_all(const std::vector<float>& data, std::size_t batch = 1000,
                          std::size_t bin_count = 2048) {
  RangeObserver observer(bin_count);
  for (std::size_t start = 0; start < data.size(); start += batch) {
    const std::size_t n = std::min(batch, data.size() - start);
    REQUIRE(observer.observe(data.data() + start, n).is_ok());
  }
  return observer;
}

std::vector<float> gaussian(std::size_t n, std::uint32_t seed, float mean = 0.0f,
                            float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(mean, sigma);
  std::vector<float> data(n);
  for (float& x : data) x = normal(rng);
  return data;
}

std::vector<float> uniform(std::size_t n, std::uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> data(n);
  for (float& x : data) x = dist(rng);
  return data;
}

QuantParams params_of(const RangeObserver& observer, CalibrationMethod method,
                      std::int32_t min_code, std::int32_t max_code, bool symmetric,
                      double percentile = 99.99) {
  auto result = observer.compute_params(method, min_code, max_code, symmetric, percentile);
  INFO(result.status().message());
  REQUIRE(result.has_value());
  REQUIRE(mote::validate_quant_params(*result, min_code, max_code, "calibrated").is_ok());
  return *result;
}

struct CodeRange {
  std::int32_t min_code;
  std::int32_t max_code;
  bool symmetric;
};
constexpr CodeRange code_ranges[] = {{int8_min, int8_max, true},
                                     {int8_min, int8_max, false},
                                     {uint8_min, uint8_max, true},
                                     {uint8_min, uint8_max, false}};

}  // namespace

TEST_CASE("min_max reproduces choose_quant_params exactly", "[calibration]") {
  for (const std::vector<float>& data :
       {gaussian(10'000, 1, 0.3f, 2.0f), uniform(5'000, 2, 0.5f, 7.0f),
        uniform(5'000, 3, -3.0f, -1.0f)}) {
    const RangeObserver observer = observe_all(data, 777);
    const auto [lo, hi] = std::minmax_element(data.begin(), data.end());
    CHECK(observer.min() == *lo);
    CHECK(observer.max() == *hi);
    CHECK(observer.count() == data.size());
    for (const CodeRange& codes : code_ranges) {
      const QuantParams expected =
          mote::choose_quant_params(*lo, *hi, codes.min_code, codes.max_code, codes.symmetric);
      const QuantParams got = params_of(observer, CalibrationMethod::min_max, codes.min_code,
                                        codes.max_code, codes.symmetric);
      CHECK(got.scale == expected.scale);
      CHECK(got.zero_point == expected.zero_point);
      // The 100th percentile clips nothing: the same range.
      const QuantParams full = params_of(observer, CalibrationMethod::percentile, codes.min_code,
                                         codes.max_code, codes.symmetric, 100.0);
      CHECK(full.scale == expected.scale);
      CHECK(full.zero_point == expected.zero_point);
    }
  }
}

TEST_CASE("histogram growth merges whole bins", "[calibration]") {
  RangeObserver observer(8);
  const float first[] = {0.0f, 8.0f, 1.5f, 3.5f};  // range [0, 8], bins of width 1
  REQUIRE(observer.observe(first, 4).is_ok());
  CHECK(observer.histogram_lo() == 0.0);
  CHECK(observer.histogram_hi() == 8.0);
  CHECK(std::vector<std::uint64_t>(observer.bins().begin(), observer.bins().end()) ==
        std::vector<std::uint64_t>{1, 1, 0, 1, 0, 0, 0, 1});
  // [-3, 11] needs bins of width 2; the origin moves down by two of them to -4, so old bin i
  // lands in new bin 2 + i / 2.
  const float second[] = {-3.0f, 11.0f};
  REQUIRE(observer.observe(second, 2).is_ok());
  CHECK(observer.histogram_lo() == -4.0);
  CHECK(observer.histogram_hi() == 12.0);
  CHECK(std::vector<std::uint64_t>(observer.bins().begin(), observer.bins().end()) ==
        std::vector<std::uint64_t>{1, 0, 2, 1, 0, 1, 0, 1});
  CHECK(observer.count() == 6);
}

TEST_CASE("histogram growth keeps every count in the right bin", "[calibration]") {
  // Batches whose extremes keep growing on both sides, by small and by huge factors.
  const std::vector<std::vector<float>> batches = {{0.25f, 0.75f},  // first batch with a range
                                                   uniform(3'000, 11, 0.0f, 1.0f),
                                                   uniform(3'000, 12, -2.5f, 0.5f),
                                                   gaussian(3'000, 13, 4.0f, 3.0f),
                                                   uniform(3'000, 14, -700.0f, 30.0f),
                                                   {1.0e6f, -3.0e5f},
                                                   uniform(3'000, 15, -10.0f, 10.0f)};
  RangeObserver observer;
  std::vector<float> all;
  for (const std::vector<float>& batch : batches) {
    REQUIRE(observer.observe(batch.data(), batch.size()).is_ok());
    all.insert(all.end(), batch.begin(), batch.end());
    const auto bins = observer.bins();
    CHECK(std::accumulate(bins.begin(), bins.end(), std::uint64_t{0}) == all.size());
    CHECK(observer.count() == all.size());
    CHECK(observer.histogram_lo() <= static_cast<double>(observer.min()));
    CHECK(observer.histogram_hi() >= static_cast<double>(observer.max()));
    // Growth by powers of two keeps the observed range over more than half of the bins.
    const double width = (observer.histogram_hi() - observer.histogram_lo()) /
                         static_cast<double>(observer.bin_count());
    CHECK(width * static_cast<double>(observer.bin_count() - 1) <
          2.0 * (static_cast<double>(observer.max()) - static_cast<double>(observer.min())));
  }
  // Every value sits in the bin the final range assigns it, as if that range had been used from
  // the start (values exactly on the final upper edge go to the last bin).
  const double lo = observer.histogram_lo();
  const double width = (observer.histogram_hi() - lo) / static_cast<double>(observer.bin_count());
  std::vector<std::uint64_t> expected(observer.bin_count(), 0);
  for (const float x : all) {
    const double bin = std::floor((static_cast<double>(x) - lo) / width);
    ++expected[static_cast<std::size_t>(
        std::clamp(bin, 0.0, static_cast<double>(expected.size() - 1)))];
  }
  CHECK(std::vector<std::uint64_t>(observer.bins().begin(), observer.bins().end()) == expected);
}

TEST_CASE("percentile and mse clip rare outliers that min_max keeps", "[calibration]") {
  // Clipping an outlier M costs M^2 / N of mean squared error, while keeping it costs every
  // value step^2 / 12 with step = M / 127 (int8): clipping wins when outliers are rarer than
  // about 1 in 190,000 values. So: two outliers among a million Gaussian values.
  std::vector<float> data = gaussian(1'000'000, 21);
  data[1'234] = 60.0f;
  data[765'432] = -45.0f;
  const RangeObserver observer = observe_all(data, 65'536);

  for (const CodeRange& codes : code_ranges) {
    INFO("codes [" << codes.min_code << ", " << codes.max_code << "], symmetric "
                   << codes.symmetric);
    auto evaluate = [&](CalibrationMethod method) {
      const QuantParams p =
          params_of(observer, method, codes.min_code, codes.max_code, codes.symmetric);
      const double mse = quantization_mse(data, p, codes.min_code, codes.max_code);
      UNSCOPED_INFO("method " << static_cast<int>(method) << ": scale " << p.scale
                              << ", zero point " << p.zero_point << ", quantisation mse " << mse);
      return std::pair{p, mse};
    };
    const auto [min_max, min_max_mse] = evaluate(CalibrationMethod::min_max);
    const auto [percentile, percentile_mse] = evaluate(CalibrationMethod::percentile);
    const auto [mse, mse_mse] = evaluate(CalibrationMethod::mse);
    // Percentile ends a few sigma out; mse further (about 16: clipping the outliers a little
    // less costs less than the added rounding noise), but far below the outliers.
    const auto upper_end = [&](const QuantParams& p) {
      return mote::dequantize(codes.max_code, p);
    };
    CHECK(upper_end(min_max) >= 59.0f);
    CHECK(upper_end(percentile) < 6.0f);
    CHECK(upper_end(mse) < 30.0f);
    CHECK(percentile_mse < 0.5 * min_max_mse);
    CHECK(mse_mse < 0.5 * min_max_mse);
    CHECK(mse_mse <= 1.05 * percentile_mse);
  }
}

TEST_CASE("mse keeps outliers whose clipping would cost more than their rounding noise",
          "[calibration]") {
  // 40 among 20,000 values: clipping it at 4 costs 36^2 / 20,000 = 0.065, keeping it 0.008.
  std::vector<float> data = gaussian(20'000, 31);
  data[7] = 40.0f;
  const RangeObserver observer = observe_all(data);
  // Oracle: the best symmetric int8 bound by brute force over the actual quantise-dequantise.
  double best = std::numeric_limits<double>::infinity();
  float best_bound = 0.0f;
  for (int i = 1; i <= 300; ++i) {
    const float bound =
        i <= 160 ? 0.05f * static_cast<float>(i) : 8.0f + 0.25f * static_cast<float>(i - 160);
    const double mse =
        quantization_mse(data, mote::choose_quant_params(-bound, bound, int8_min, int8_max, true),
                         int8_min, int8_max);
    if (mse < best) {
      best = mse;
      best_bound = bound;
    }
  }
  const QuantParams p = params_of(observer, CalibrationMethod::mse, int8_min, int8_max, true);
  const double got = quantization_mse(data, p, int8_min, int8_max);
  INFO("mse bound " << p.scale * 127.0f << " (error " << got << "), best bound " << best_bound
                    << " (error " << best << ")");
  CHECK(p.scale * 127.0f > 30.0f);
  CHECK(got < 1.05 * best);
}

TEST_CASE("mse keeps about the min_max range on uniform data", "[calibration]") {
  SECTION("symmetric, both signs") {
    const std::vector<float> data = uniform(100'000, 41, -1.0f, 1.0f);
    const RangeObserver observer = observe_all(data);
    const QuantParams full =
        params_of(observer, CalibrationMethod::min_max, int8_min, int8_max, true);
    const QuantParams best = params_of(observer, CalibrationMethod::mse, int8_min, int8_max, true);
    CHECK(best.scale == Approx(full.scale).epsilon(0.02));
    CHECK(quantization_mse(data, best, int8_min, int8_max) <=
          1.02 * quantization_mse(data, full, int8_min, int8_max));
  }
  SECTION("asymmetric, non-negative (after a ReLU)") {
    std::vector<float> data = uniform(100'000, 42, 0.0f, 6.0f);
    for (std::size_t i = 0; i < data.size(); i += 2) data[i] = 0.0f;  // half exact zeros
    const RangeObserver observer = observe_all(data);
    const QuantParams full =
        params_of(observer, CalibrationMethod::min_max, uint8_min, uint8_max, false);
    const QuantParams best =
        params_of(observer, CalibrationMethod::mse, uint8_min, uint8_max, false);
    CHECK(best.zero_point == 0);
    CHECK(best.scale == Approx(full.scale).epsilon(0.02));
    CHECK(quantization_mse(data, best, uint8_min, uint8_max) <=
          1.02 * quantization_mse(data, full, uint8_min, uint8_max));
  }
}

TEST_CASE("non-finite values reject the batch and leave the observer unchanged", "[calibration]") {
  const std::vector<float> good = uniform(1'000, 51, -2.0f, 3.0f);
  RangeObserver observer(64);
  REQUIRE(observer.observe(good.data(), good.size()).is_ok());
  const std::vector<std::uint64_t> bins_before(observer.bins().begin(), observer.bins().end());
  const QuantParams params_before =
      params_of(observer, CalibrationMethod::mse, int8_min, int8_max, false);

  for (const float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
        -std::numeric_limits<float>::infinity()}) {
    std::vector<float> batch = uniform(10, 52, -100.0f, 100.0f);  // would widen the range
    batch[3] = bad;
    batch[8] = bad;
    const mote::Status status = observer.observe(batch.data(), batch.size());
    REQUIRE_FALSE(status.is_ok());
    CHECK(status.error().code == mote::ErrorCode::invalid_value);
    CHECK_THAT(status.message(),
               Catch::Contains("index 3 of 10") && Catch::Contains("2 non-finite"));
    CHECK(observer.count() == good.size());
    CHECK(observer.min() == *std::min_element(good.begin(), good.end()));
    CHECK(observer.max() == *std::max_element(good.begin(), good.end()));
    CHECK(std::vector<std::uint64_t>(observer.bins().begin(), observer.bins().end()) ==
          bins_before);
    const QuantParams params_after =
        params_of(observer, CalibrationMethod::mse, int8_min, int8_max, false);
    CHECK(params_after.scale == params_before.scale);
    CHECK(params_after.zero_point == params_before.zero_point);
  }
  CHECK_THAT(observer.observe(nullptr, 3).message(), Catch::Contains("null"));
  CHECK(observer.observe(nullptr, 0).is_ok());
  CHECK(observer.count() == good.size());
}

TEST_CASE("compute_params rejects an empty observer, a bad percentile and an empty code range",
          "[calibration]") {
  RangeObserver observer;
  for (const CalibrationMethod method :
       {CalibrationMethod::min_max, CalibrationMethod::percentile, CalibrationMethod::mse}) {
    const auto result = observer.compute_params(method, int8_min, int8_max, false);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == mote::ErrorCode::invalid_value);
    CHECK_THAT(result.error().message, Catch::Contains("empty"));
  }

  const std::vector<float> data = gaussian(1'000, 61);
  REQUIRE(observer.observe(data).is_ok());
  for (const double percentile : {0.0, -1.0, 100.5, std::numeric_limits<double>::quiet_NaN()}) {
    const auto result = observer.compute_params(CalibrationMethod::percentile, int8_min, int8_max,
                                                true, percentile);
    REQUIRE_FALSE(result.has_value());
    CHECK_THAT(result.error().message, Catch::Contains("percentile"));
  }
  CHECK(observer.compute_params(CalibrationMethod::percentile, int8_min, int8_max, true, 100.0)
            .has_value());
  CHECK(observer.compute_params(CalibrationMethod::percentile, int8_min, int8_max, true, 1e-3)
            .has_value());

  for (const auto& [lo, hi] : {std::pair{5, 5}, std::pair{127, -128}}) {
    const auto result = observer.compute_params(CalibrationMethod::min_max, lo, hi, false);
    REQUIRE_FALSE(result.has_value());
    CHECK_THAT(result.error().message, Catch::Contains("min_code must be below max_code"));
  }
  // Two codes, both on one side of the symmetric zero point.
  CHECK_FALSE(observer.compute_params(CalibrationMethod::min_max, 0, 1, true).has_value());
  CHECK_FALSE(observer
                  .compute_params(CalibrationMethod::mse, std::numeric_limits<std::int32_t>::min(),
                                  std::numeric_limits<std::int32_t>::max(), false)
                  .has_value());

  observer.reset();
  CHECK(observer.count() == 0);
  CHECK_FALSE(
      observer.compute_params(CalibrationMethod::min_max, int8_min, int8_max, false).has_value());
}

TEST_CASE("symmetric and asymmetric parameters", "[calibration]") {
  // Mostly in [0, 1], one rare large negative value.
  std::vector<float> data = uniform(100'000, 71, 0.0f, 1.0f);
  data[500] = -50.0f;
  const RangeObserver observer = observe_all(data);

  for (const CalibrationMethod method :
       {CalibrationMethod::min_max, CalibrationMethod::percentile, CalibrationMethod::mse}) {
    INFO("method " << static_cast<int>(method));
    CHECK(params_of(observer, method, int8_min, int8_max, true).zero_point == 0);
    CHECK(params_of(observer, method, uint8_min, uint8_max, true).zero_point == 128);
  }
  // min_max: symmetric covers [-50, 50], asymmetric [-50, 1].
  const QuantParams sym = params_of(observer, CalibrationMethod::min_max, int8_min, int8_max, true);
  const QuantParams asym =
      params_of(observer, CalibrationMethod::min_max, int8_min, int8_max, false);
  CHECK(sym.scale == Approx(50.0 / 127.0));
  CHECK(asym.scale == Approx(51.0 / 255.0).epsilon(1e-4));
  CHECK(mote::dequantize(int8_min, asym) == Approx(-50.0).margin(asym.scale));

  // Percentile, symmetric: of |x|, so the bound ends near 1 and the outlier is clipped.
  const QuantParams sym_percentile =
      params_of(observer, CalibrationMethod::percentile, int8_min, int8_max, true, 99.9);
  CHECK(sym_percentile.scale * 127.0f == Approx(1.0).epsilon(0.05));
  // Percentile, asymmetric: the lower end clips the outlier to about 0, within the bin that
  // holds 0 (the range [-50, 1] grew once, so bins are about 0.05 wide), and so the zero point
  // sits near the lowest code.
  const QuantParams asym_percentile =
      params_of(observer, CalibrationMethod::percentile, uint8_min, uint8_max, false, 99.9);
  CHECK(mote::dequantize(uint8_min, asym_percentile) > -0.05f);
  CHECK(asym_percentile.scale * 255.0f == Approx(1.0).epsilon(0.05));
}

TEST_CASE("a single repeated value gives a valid scale", "[calibration]") {
  for (const float value : {0.0f, 2.5f, -0.75f}) {
    RangeObserver observer;
    const std::vector<float> batch(100, value);
    REQUIRE(observer.observe(batch).is_ok());
    REQUIRE(observer.observe(batch).is_ok());
    CHECK(observer.bins()[0] == 200);
    for (const CodeRange& codes : code_ranges) {
      for (const CalibrationMethod method :
           {CalibrationMethod::min_max, CalibrationMethod::percentile, CalibrationMethod::mse}) {
        const QuantParams p =
            params_of(observer, method, codes.min_code, codes.max_code, codes.symmetric);
        CHECK(std::isfinite(p.scale));
        CHECK(p.scale > 0.0f);
        CHECK(mote::dequantize(mote::quantize(0.0f, p, codes.min_code, codes.max_code), p) == 0.0f);
        CHECK(mote::dequantize(mote::quantize(value, p, codes.min_code, codes.max_code), p) ==
              Approx(value).margin(p.scale));
      }
    }
  }
  // The zero-width histogram becomes a real one when a second value arrives.
  RangeObserver observer(4);
  const std::vector<float> zeros(10, 0.0f);
  REQUIRE(observer.observe(zeros).is_ok());
  const float four = 4.0f;
  REQUIRE(observer.observe(&four, 1).is_ok());
  CHECK(std::vector<std::uint64_t>(observer.bins().begin(), observer.bins().end()) ==
        std::vector<std::uint64_t>{10, 0, 0, 1});
}
