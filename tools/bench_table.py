#!/usr/bin/env python3
"""Markdown tables for docs/benchmarks.md from one mote_bench JSON run.

    tools/bench.sh --benchmark_filter='^(W(1|2|3b1|3b64|4|5)/f32/|peak/)' \\
      --benchmark_enable_random_interleaving=true \\
      --benchmark_format=json --benchmark_out=build/bench/f32.json
    python3 tools/bench_table.py build/bench/f32.json [--precision f32]

Prints the summary (mote against the best peer of the same run) and one table per workload:
median CPU time, GFLOP/s (the case's counter), time over the fastest peer's, and the fraction of
the run's own `peak/f32-fma/<isa>` (the widest one measured). The run must have repetitions
(tools/bench.sh runs 5): tables use the medians; the summary also compares the fastest repetition
of each case, which on a shared, noisy machine is the least disturbed one.
"""

import argparse
import json
import sys

WORKLOADS = ["W1", "W2", "W3b1", "W3b64", "W4", "W5"]
PEERS = ["eigen", "xnnpack", "onednn"]


def medians(path):
    with open(path) as f:
        data = json.load(f)
    result, fastest = {}, {}
    for b in data["benchmarks"]:
        name = b["run_name"]
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b["time_unit"]]
        if b.get("run_type") == "iteration":
            fastest[name] = min(fastest.get(name, float("inf")), b["cpu_time"] * scale)
        elif b.get("aggregate_name") == "median":
            result[name] = {"us": b["cpu_time"] * scale, "gflops": b.get("GFLOPS", 0.0)}
    for name, c in result.items():
        c["fastest_us"] = fastest.get(name, c["us"])
    return data.get("context", {}), result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json")
    parser.add_argument("--precision", default="f32")
    args = parser.parse_args()
    context, cases = medians(args.json)
    peaks = {name: c["gflops"] for name, c in cases.items() if name.startswith("peak/f32-fma/")}
    if not peaks:
        sys.exit("bench_table.py: no peak/f32-fma case in the run: add '|peak/' to the filter")
    peak_name, peak = max(peaks.items(), key=lambda item: item[1])
    print(f"Run: {context.get('date', '?')}, {context.get('num_cpus', '?')} CPUs at "
          f"{context.get('mhz_per_cpu', '?')} MHz; FMA peak `{peak_name}` = {peak:.1f} GFLOP/s\n")

    print("| workload | mote µs | best peer | peer µs | mote / best peer | fastest repetitions: mote / best peer | mote % of FMA peak |")
    print("|---|---:|---|---:|---:|---:|---:|")
    details = []
    for w in WORKLOADS:
        prefix = f"{w}/{args.precision}/"
        mote = cases.get(prefix + "mote")
        peers = {p: cases[prefix + p] for p in PEERS if prefix + p in cases}
        if mote is None or not peers:
            continue
        best_name, best = min(peers.items(), key=lambda item: item[1]["us"])
        ratio = mote["us"] / best["us"]
        quiet_name, quiet = min(peers.items(), key=lambda item: item[1]["fastest_us"])
        quiet_ratio = mote["fastest_us"] / quiet["fastest_us"]
        print(f"| {w} | {mote['us']:,.2f} | {best_name} | {best['us']:,.2f} | **{ratio:.2f}** | "
              f"{quiet_ratio:.2f} ({quiet_name}) | {100 * mote['gflops'] / peak:.1f} % |")
        rows = [("mote", mote)] + list(peers.items())
        table = [f"**{w}**: mote / best peer = **{ratio:.2f}** (best peer: {best_name})", "",
                 "| impl | µs | GFLOP/s | time / fastest peer | % of FMA peak |", "|---|---:|---:|---:|---:|"]
        for name, c in rows:
            table.append(f"| {name} | {c['us']:,.2f} | {c['gflops']:.1f} | {c['us'] / best['us']:.2f} | "
                         f"{100 * c['gflops'] / peak:.1f} % |")
        details.append("\n".join(table))
    print()
    print("\n\n".join(details))


if __name__ == "__main__":
    main()
