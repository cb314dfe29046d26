#pragma once
// What every implementation (mote, Eigen, XNNPACK, oneDNN) provides to the benchmark driver
// (main.cpp): a Runner per workload, built once outside the timing, whose run() is the timed
// forward pass.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>

#include "workloads.hpp"

namespace mote_bench {

/// One implementation of one workload, with its weights set and its buffers allocated.
class Runner {
 public:
  virtual ~Runner() = default;
  /// One forward pass over the workload's input (the whole batch): the timed part.
  virtual void run() = 0;
  /// The result of the last run(): batch x output_size floats, channels-last.
  virtual std::span<const float> output() const = 0;
  /// Shown next to the case in the report (e.g. which kernel a peer picked); may be empty.
  virtual std::string label() const { return {}; }
};

/// An implementation: `<workload>/f32/<name>` cases exist for the workloads it supports.
struct Impl {
  const char* name;
  std::string version;  ///< shown in the report's context
  bool (*supports)(WorkloadId);
  std::unique_ptr<Runner> (*make)(const Workload&);
};

Impl mote_impl();
#if MOTE_BENCH_HAS_EIGEN
Impl eigen_impl();
#endif
#if MOTE_BENCH_HAS_XNNPACK
Impl xnnpack_impl();
#endif
#if MOTE_BENCH_HAS_ONEDNN
Impl onednn_impl();
#endif

/// mote's output for the workload (computed once): what every peer is checked against.
std::span<const float> reference_output(WorkloadId id);

/// max |got - expected| / max |expected| (infinite for a size mismatch, a NaN or an all-zero
/// reference): how far a quantised case's output is from the f32 one.
inline double relative_error(std::span<const float> got, std::span<const float> expected) {
  if (got.size() != expected.size()) return INFINITY;
  double magnitude = 0, worst = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    magnitude = std::max(magnitude, std::abs(static_cast<double>(expected[i])));
    const double diff = std::abs(static_cast<double>(got[i]) - static_cast<double>(expected[i]));
    worst = std::isnan(diff) ? INFINITY : std::max(worst, diff);
  }
  return magnitude == 0 ? INFINITY : worst / magnitude;
}

/// relative_error of a quantised case's first output against the f32 output; a case above 0.1
/// (garbage, not quantisation noise) aborts the run rather than timing a wrong computation.
inline double checked_error_vs_f32(const std::string& name, std::span<const float> got, WorkloadId id) {
  const double error = relative_error(got, reference_output(id));
  if (!(error <= 0.1)) {
    std::fprintf(stderr, "mote_bench: %s is far from the f32 output (max |difference| %g of max |output|). Aborting.\n",
                 name.c_str(), error);
    std::exit(EXIT_FAILURE);
  }
  return error;
}

/// The peak/... cases (peak.cpp).
void register_peak_cases();

}  // namespace mote_bench
