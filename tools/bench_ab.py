#!/usr/bin/env python3
"""A/B timing of mote_bench builds on a noisy host: runs each binary in turn, ROUNDS times, on one
pinned core (3 repetitions per round), and prints per case the minimum and the median CPU time
over every repetition of each binary, so that two builds (or a build and its peers) are compared
under the same conditions. Used for docs/benchmarks.md's before/after figures.

  tools/bench_ab.py FILTER ROUNDS BINARY [BINARY ...]
  tools/bench_ab.py '^W(4|5)/int8/(mote|onednn)$' 4 /tmp/old/mote_bench build/bench/bench/mote_bench
"""
import collections
import json
import os
import statistics
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    case_filter, rounds, binaries = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    times = collections.defaultdict(lambda: collections.defaultdict(list))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cpu = os.environ.get("MOTE_BENCH_CPU", "1")
    for _ in range(rounds):
        for binary in binaries:
            run = subprocess.run(["taskset", "-c", cpu, binary, "--benchmark_filter=" + case_filter,
                                  "--benchmark_repetitions=3", "--benchmark_min_time=0.1",
                                  "--benchmark_format=json"], capture_output=True, text=True, env=env)
            if run.returncode != 0:
                print(f"{binary} failed ({run.returncode}): {run.stderr.strip()}", file=sys.stderr)
                return 1
            for case in json.loads(run.stdout)["benchmarks"]:
                if case.get("run_type") == "iteration":
                    times[case["run_name"]][binary].append(case["cpu_time"] / 1000.0)
    for case, per_binary in sorted(times.items()):
        cells = [f"{b}: min {min(v):9.2f} med {statistics.median(v):9.2f}" for b, v in per_binary.items()]
        print(f"{case:30} " + "  ".join(cells) + "  (us)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
