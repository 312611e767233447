#!/usr/bin/env python3
"""Median ratios for bench/run_ab.sh.

  ab_compare.py DIR ROUNDS BASE-NAME   prints, per benchmark, the median real time of base and
                                       candidate over run-{base,candidate}-N.json and their ratio
  ab_compare.py --merge DIR SIDE       prints one Google Benchmark JSON holding every round of
                                       SIDE, the input /usr/share/benchmark/compare.py expects
"""
import glob
import json
import os
import statistics
import sys


def runs(directory, side):
    """Every benchmark entry of every round of one side, in round order."""
    paths = sorted(glob.glob(os.path.join(directory, f"run-{side}-*.json")),
                   key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]))
    context, entries = None, []
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context = context or data.get("context", {})
        entries.extend(b for b in data.get("benchmarks", [])
                       if b.get("run_type", "iteration") == "iteration")
    return context, entries


def times_by_name(entries):
    by_name = {}
    for b in entries:
        by_name.setdefault(b["name"], []).append(float(b["real_time"]))
    return by_name


def compare(directory, rounds, base_name):
    _, base = runs(directory, "base")
    _, cand = runs(directory, "candidate")
    base_t, cand_t = times_by_name(base), times_by_name(cand)
    print(f"candidate vs base {base_name}: median real time, n={rounds}, same host")
    print(f"{'benchmark':50} {'base':>12} {'candidate':>12} {'ratio':>8}")
    for name in base_t:
        if name not in cand_t:
            print(f"{name:50} (only in base)")
            continue
        b, c = statistics.median(base_t[name]), statistics.median(cand_t[name])
        ratio = c / b if b else float("nan")
        print(f"{name:50} {b:12.1f} {c:12.1f} {ratio:7.2f}x  ({(ratio - 1) * 100:+.0f} %)")
    for name in cand_t:
        if name not in base_t:
            print(f"{name:50} (only in candidate)")


def merge(directory, side):
    context, entries = runs(directory, side)
    json.dump({"context": context, "benchmarks": entries}, sys.stdout, indent=1)


if __name__ == "__main__":
    if sys.argv[1] == "--merge":
        merge(sys.argv[2], sys.argv[3])
    else:
        compare(sys.argv[1], int(sys.argv[2]), sys.argv[3])
