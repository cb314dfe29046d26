#!/usr/bin/env python3
"""Sparse f32 crossover plot and table from a mote_bench JSON run (bench/mote_sparse.cpp).

Run mote_bench with the sparse cases and their dense references in the same run, e.g.

  OMP_NUM_THREADS=1 taskset -c 1 build/bench_sparse/bench/mote_bench \\
    --benchmark_filter='^W3b1/f32|^W1/f32' --benchmark_repetitions=3 \\
    --benchmark_report_aggregates_only=true --benchmark_format=json \\
    --benchmark_out=build/bench_sparse/sparse.json

then

  python3 tools/plot_sparsity.py build/bench_sparse/sparse.json [more runs...] [-o docs/sparsity_crossover.svg]

writes an SVG (no dependency: drawn by hand): x = sparsity %, y = speed-up against the dense
f32 case W3b1/f32/mote (its median CPU time / the case's), one line per layout (unstructured,
block 16x1, block 8x1), points for 2:4 and 1:4, a line at 1.0. It prints a markdown table of
every case (median CPU time, ratio to the dense mote case of its workload, weight bytes,
sparsity) and the crossover: the first sparsity level where each layout is faster than dense
(and, when it differs, the level from which every higher one is).
Medians come from the run's `median` aggregates (or, without them, the median of its
iterations' entries). Given several runs (a noisy machine), each case's time and speed-up are
the medians across the runs of its per-run values, each speed-up taken within its own run.
"""

import argparse
import json
import math
import re
import statistics
import sys
from collections import defaultdict

TITLE = "W3b1 (Dense 1024x1024, batch 1), single thread"
DENSE = {"W3b1": "W3b1/f32/mote", "W1": "W1/f32/mote"}
UNIT_TO_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
LINES = [  # (label, case-name pattern with the sparsity level as group 1, colour)
    ("unstructured", re.compile(r"^W3b1/f32-s(\d+)/mote$"), "#1f77b4"),
    ("block 16x1", re.compile(r"^W3b1/f32-b(\d+)-16x1/mote$"), "#d62728"),
    ("block 8x1", re.compile(r"^W3b1/f32-b(\d+)-8x1/mote$"), "#2ca02c"),
]
POINTS = [("2:4", "W3b1/f32-nm24/mote", 50, "#9467bd"), ("1:4", "W3b1/f32-nm14/mote", 75, "#ff7f0e")]


def load(path):
    """{case: {"us": median CPU time in µs, "bytes": weight_bytes, "sparsity": fraction}}."""
    with open(path) as f:
        data = json.load(f)
    medians, samples = {}, defaultdict(list)
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        us = b["cpu_time"] * UNIT_TO_US[b.get("time_unit", "ns")]
        entry = {"us": us, "bytes": b.get("weight_bytes"), "sparsity": b.get("sparsity")}
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = entry
        else:
            samples[name].append(entry)
    for name, entries in samples.items():
        if name not in medians:
            medians[name] = dict(entries[0], us=statistics.median(e["us"] for e in entries))
    return medians


def combine(runs):
    """Several runs as one: per case, the median across runs of its median time and of its
    speed-up (each computed within its own run, against that run's dense case)."""
    out = {}
    for name in set().union(*runs):
        present = [run for run in runs if name in run]
        speedups = [ratio(run, name) for run in present]
        out[name] = dict(present[0][name], us=statistics.median(run[name]["us"] for run in present), runs=len(present),
                         speedup=None if None in speedups else statistics.median(speedups))
    return out


def workload_of(name):
    return name.split("/", 1)[0]


def ratio(cases, name):
    if "speedup" in cases[name]:  # combined runs
        return cases[name]["speedup"]
    dense = cases.get(DENSE.get(workload_of(name), ""))
    return dense["us"] / cases[name]["us"] if dense else None


def series(cases):
    """[(label, colour, [(sparsity %, speed-up)])] for the lines."""
    out = []
    for label, pattern, colour in LINES:
        pts = []
        for name in cases:
            m = pattern.match(name)
            if m and ratio(cases, name) is not None:
                pts.append((float(m.group(1)), ratio(cases, name)))
        out.append((label, colour, sorted(pts)))
    return out


def crossover(pts):
    """The first level whose speed-up is above 1, and the first from which every level is."""
    first = next((x for x, r in pts if r > 1.0), None)
    stays = None
    for x, r in reversed(pts):
        if r <= 1.0:
            break
        stays = x
    return first, stays


def fmt_bytes(b):
    if b is None:
        return ""
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= size:
            return f"{b / size:.2f} {unit}"
    return f"{b:.0f} B"


def table(cases):
    order = sorted(cases, key=lambda n: (workload_of(n) != "W3b1", n not in DENSE.values(), n))
    rows = ["| case | median µs | speed-up vs dense f32 mote | weight bytes | sparsity |", "|---|---:|---:|---:|---:|"]
    for name in order:
        c = cases[name]
        r = ratio(cases, name)
        sp = "" if c["sparsity"] is None else f"{100 * c['sparsity']:.1f}%"
        rows.append(f"| {name} | {c['us']:.2f} | {'' if r is None else f'{r:.2f}x'} | {fmt_bytes(c['bytes'])} | {sp} |")
    return "\n".join(rows)


def svg(cases, lines, note):
    width, height = 760, 480
    left, right, top, bottom = 70, 170, 50, 60
    pw, ph = width - left - right, height - top - bottom
    values = [r for _, _, pts in lines for _, r in pts]
    values += [ratio(cases, n) for _, n, _, _ in POINTS if n in cases and ratio(cases, n) is not None]
    values = [v for v in values if v and v > 0] or [1.0]
    lo = 2.0 ** math.floor(math.log2(min(min(values), 1.0) * 0.95))
    hi = 2.0 ** math.ceil(math.log2(max(max(values), 1.0) * 1.05))

    def X(pct):
        return left + pw * pct / 100.0

    def Y(r):
        return top + ph * (1.0 - (math.log2(r) - math.log2(lo)) / (math.log2(hi) - math.log2(lo)))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left + pw / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">{TITLE}</text>',
        f'<text x="{left + pw / 2}" y="40" text-anchor="middle" font-size="11" fill="#555">{note}</text>',
    ]
    # Grid and ticks.
    for pct in range(0, 101, 10):
        out.append(f'<line x1="{X(pct):.1f}" y1="{top}" x2="{X(pct):.1f}" y2="{top + ph}" stroke="#eee"/>')
        out.append(f'<text x="{X(pct):.1f}" y="{top + ph + 16}" text-anchor="middle">{pct}</text>')
    r = lo
    while r <= hi * 1.0001:
        out.append(f'<line x1="{left}" y1="{Y(r):.1f}" x2="{left + pw}" y2="{Y(r):.1f}" stroke="#eee"/>')
        label = f"{r:g}x"
        out.append(f'<text x="{left - 6}" y="{Y(r) + 4:.1f}" text-anchor="end">{label}</text>')
        r *= 2
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>')
    # Dense = 1.0.
    out.append(f'<line x1="{left}" y1="{Y(1):.1f}" x2="{left + pw}" y2="{Y(1):.1f}" stroke="black" '
               'stroke-dasharray="6,4"/>')
    out.append(f'<text x="{left + pw - 4}" y="{Y(1) + 15:.1f}" text-anchor="end">dense f32 (W3b1/f32/mote)</text>')
    # Axis labels.
    out.append(f'<text x="{left + pw / 2}" y="{height - 18}" text-anchor="middle">sparsity (% of weights zero)</text>')
    out.append(f'<text transform="translate(20,{top + ph / 2}) rotate(-90)" text-anchor="middle">'
               'speed-up vs dense f32 (dense time / sparse time, log scale)</text>')
    # Lines.
    legend = []
    for label, colour, pts in lines:
        if not pts:
            continue
        coords = " ".join(f"{X(x):.1f},{Y(r):.1f}" for x, r in pts)
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, r in pts:
            out.append(f'<circle cx="{X(x):.1f}" cy="{Y(r):.1f}" r="3" fill="{colour}"/>')
        legend.append((label, colour, "line"))
    for label, name, pct, colour in POINTS:
        if name in cases and ratio(cases, name) is not None:
            cx, cy = X(pct), Y(ratio(cases, name))
            out.append(f'<rect x="{cx - 5:.1f}" y="{cy - 5:.1f}" width="10" height="10" fill="{colour}"/>')
            legend.append((f"{label} (N:M)", colour, "point"))
    # Legend, right of the plot.
    lx, ly = left + pw + 15, top + 10
    for i, (label, colour, kind) in enumerate(legend):
        y = ly + 20 * i
        if kind == "line":
            out.append(f'<line x1="{lx}" y1="{y}" x2="{lx + 24}" y2="{y}" stroke="{colour}" stroke-width="2"/>')
            out.append(f'<circle cx="{lx + 12}" cy="{y}" r="3" fill="{colour}"/>')
        else:
            out.append(f'<rect x="{lx + 7}" y="{y - 5}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 30}" y="{y + 4}">{label}</text>')
    y = ly + 20 * len(legend)
    out.append(f'<line x1="{lx}" y1="{y}" x2="{lx + 24}" y2="{y}" stroke="black" stroke-dasharray="6,4"/>')
    out.append(f'<text x="{lx + 30}" y="{y + 4}">dense = 1.0</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", nargs="*", default=["build/bench_sparse/sparse.json"],
                        help="one or more runs (several: the median across runs, see combine)")
    parser.add_argument("-o", "--out", default="docs/sparsity_crossover.svg")
    args = parser.parse_args()
    runs = [load(path) for path in args.json]
    for path, run in zip(args.json, runs):
        if DENSE["W3b1"] not in run:
            sys.exit(f"{path}: no {DENSE['W3b1']} case: run the dense reference in the same run")
    cases = runs[0] if len(runs) == 1 else combine(runs)
    lines = series(cases)
    with open(args.out, "w") as f:
        runs_note = "one run" if len(runs) == 1 else f"median of {len(runs)} runs"
        f.write(svg(cases, lines, f"median CPU time per forward pass, {runs_note}"))
    print(table(cases))
    print()
    print("Crossover (first sparsity level where the layout beats W3b1/f32/mote):")
    for label, _, pts in lines:
        first, stays = crossover(pts)
        if first is None:
            print(f"- {label}: none measured")
        else:
            tail = "" if stays == first else f" (above 1 at every level from {stays:g}%)" if stays else ""
            print(f"- {label}: {first:g}%{tail}")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
