// mote_bench: mote and its peers on the same workloads, single-threaded, in one run.
// Cases are named <workload>/<precision>/<impl> (e.g. W1/f32/mote, W1/f32/xnnpack), plus
// peak/... cases measuring this core's FMA throughput and read bandwidth. See docs/benchmarks.md.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

namespace mote_bench {
namespace {

/// Aborts the run unless `got` matches mote's output within 1e-3 of the output's magnitude.
void check_output(const Workload& w, const std::string& case_name, std::span<const float> got) {
  const std::span<const float> expected = reference_output(w.id);
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "mote_bench: %s does not compute what mote computes: %s. Aborting.\n",
                 case_name.c_str(), why.c_str());
    std::exit(EXIT_FAILURE);
  };
  if (got.size() != expected.size())
    fail(std::to_string(got.size()) + " outputs instead of " + std::to_string(expected.size()));
  double magnitude = 0, worst = 0;
  std::size_t worst_at = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    magnitude = std::max(magnitude, std::abs(static_cast<double>(expected[i])));
    const double diff = std::abs(static_cast<double>(got[i]) - static_cast<double>(expected[i]));
    if (!(diff <= worst)) {  // also catches NaN
      worst = std::isnan(diff) ? INFINITY : diff;
      worst_at = i;
    }
  }
  if (magnitude == 0) fail("mote's output is all zeros, so the comparison would prove nothing");
  if (!(worst <= 1e-3 * magnitude))
    fail("output " + std::to_string(worst_at) + " is " + std::to_string(got[worst_at]) +
         ", mote's is " + std::to_string(expected[worst_at]) + " (max |difference| " +
         std::to_string(worst) + " > 1e-3 x max |output| " + std::to_string(magnitude) + ")");
}

void register_case(const Impl& impl, WorkloadId id) {
  const Workload& w = workload(id);
  const std::string name = w.name + "/f32/" + impl.name;
  // Built on the first call (not at registration, so a --benchmark_filter skips the setup of
  // every case it excludes) and kept for the repetitions.
  auto runner = std::make_shared<std::unique_ptr<Runner>>();
  const bool is_reference = std::string(impl.name) == "mote";
  benchmark::RegisterBenchmark(
      name.c_str(), [runner, impl, id, name, is_reference](benchmark::State& state) {
        const Workload& w = workload(id);
        if (!*runner) {
          *runner = impl.make(w);
          (*runner)->run();
          if (!is_reference) check_output(w, name, (*runner)->output());
        }
        Runner& r = **runner;
        for (auto _ : state) {
          r.run();
          benchmark::ClobberMemory();
        }
        state.counters["GFLOPS"] =
            benchmark::Counter(w.flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
        state.counters["weight_bytes"] =
            benchmark::Counter(static_cast<double>(w.weight_bytes()), benchmark::Counter::kDefaults,
                               benchmark::Counter::kIs1024);
        const std::string label = r.label();
        if (!label.empty()) state.SetLabel(label);
      });
}

}  // namespace
}  // namespace mote_bench

int main(int argc, char** argv) {
  using namespace mote_bench;
  std::vector<Impl> impls{mote_impl()};
#if MOTE_BENCH_HAS_EIGEN
  impls.push_back(eigen_impl());
#endif
#if MOTE_BENCH_HAS_XNNPACK
  impls.push_back(xnnpack_impl());
#endif
#if MOTE_BENCH_HAS_ONEDNN
  impls.push_back(onednn_impl());
#endif
  std::string peers;
  for (const Impl& impl : impls)
    peers += std::string(peers.empty() ? "" : ", ") + impl.name + " " + impl.version;
  benchmark::AddCustomContext("implementations", peers);

  for (WorkloadId id : all_workloads)
    for (const Impl& impl : impls)
      if (impl.supports(id)) register_case(impl, id);
  register_peak_cases();

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
