"""Benchmark of the extraction chain (``extract_signals``) on hostile pages: every pathological pattern of
tests/hostile.py (the reproductions of issue #13, those found by the sweep of the other finders, mixed pages) at
~100 KB and ~1 MB.

Run: ``.venv/bin/python bench/bench_hostile.py [--sizes 100000 1000000] [--runs 3] [--only NAME ...] [--json]``.
For each page it reports the best CPU time of *runs* extractions (``time.process_time``: fair on a shared machine),
seconds per MB at each size and the ratio of the large to the small time: about 10 for ten times the input when the
chain is linear, about 100 when something is quadratic. Results go in docs/performance.md ("Hostile input").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.extract import default_config, extract_signals
from pipelines.extract.signals import STAGES
from tests.hostile import PATTERNS, build


def measure(page: str, runs: int) -> tuple[float, dict[str, float]]:
    """Best CPU seconds of *runs* extractions of *page*, and the stage timings (wall) of that run."""
    config = default_config()
    content_type = "text/html" if page.startswith("<") else "text/plain"
    best, best_timings = float("inf"), {}
    for _ in range(runs):
        timings: dict[str, float] = {}
        started = time.process_time()
        extract_signals(page, content_type=content_type, config=config, timings=timings)
        elapsed = time.process_time() - started
        if elapsed < best:
            best, best_timings = elapsed, timings
    return best, best_timings


def main(argv: list[str] | None = None) -> int:
    """Run every pattern at every size, print the table (or JSON); returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[100_000, 1_000_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=sorted(PATTERNS), help="these patterns only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    small, large = args.sizes
    default_config()  # loading the watch list and language profiles is not extraction
    rows: list[dict[str, Any]] = []
    for name in args.only or list(PATTERNS):
        small_page, large_page = build(name, small), build(name, large)
        small_seconds, _ = measure(small_page, args.runs)
        large_seconds, timings = measure(large_page, args.runs)
        rows.append(
            {
                "pattern": name,
                "small_chars": len(small_page),
                "large_chars": len(large_page),
                "small_seconds": round(small_seconds, 4),
                "large_seconds": round(large_seconds, 4),
                "seconds_per_mb_large": round(large_seconds / (len(large_page) / 1e6), 3),
                "ratio": round(large_seconds / max(small_seconds, 1e-3), 1),
                "slowest_stage": max(STAGES, key=lambda stage: timings.get(stage, 0.0)),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"extraction of hostile pages, best of {args.runs} (CPU time), {small:,} and {large:,} characters")
    print(f"{'pattern':22} {'small s':>8} {'large s':>8} {'s/MB':>7} {'ratio':>6}  slowest stage")
    for row in rows:
        print(
            f"{row['pattern']:22} {row['small_seconds']:8.3f} {row['large_seconds']:8.3f} "
            f"{row['seconds_per_mb_large']:7.3f} {row['ratio']:6.1f}  {row['slowest_stage']}"
        )
    worst = max(rows, key=lambda row: row["seconds_per_mb_large"])
    print(f"slowest: {worst['pattern']} at {worst['seconds_per_mb_large']:.3f} s/MB; highest ratio "
          f"{max(row['ratio'] for row in rows):.1f} (linear ~10, quadratic ~100)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
