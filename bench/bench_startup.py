"""Benchmark of the CLI's start: ``darkcrawl --help`` and ``darkcrawl extract PAGE``, each a fresh process.

Run: ``.venv/bin/python bench/bench_startup.py [--runs 20] [--page FILE] [--tree DIR ...] [--json]``. Each command
runs *runs* times as the ``darkcrawl`` console script runs it (``from crawler.cli import main``), in a subprocess,
and the report gives its wall time (median and p90) and its CPU time (user + system, worker included; median). With
``--tree`` given more than once (e.g. a checkout of the code before a change, then this one) the trees' runs are
interleaved, so that they see the same machine, and the outputs of ``extract`` are checked to be the same. Byte-code
caches are written by one untimed run first, as an installed darkcrawl has them (``PYTHONDONTWRITEBYTECODE`` is
dropped). The machine's load average is reported: on a shared machine, wall time is the figure that suffers.
Results go in docs/performance.md ("Startup").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ENTRY = "import sys; from crawler.cli import main; sys.exit(main())"  # what the console script does


def commands(page: Path) -> dict[str, list[str]]:
    return {"--help": ["--help"], f"extract {page.name}": ["extract", str(page)]}


def run_once(tree: Path, args: list[str]) -> tuple[float, float, bytes]:
    """Wall seconds, CPU seconds (of the process and its children) and stdout of one run."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", ENTRY, *args], env=env, cwd=tree, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"darkcrawl {' '.join(args)} in {tree} failed ({result.returncode}): {result.stderr[-500:]!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stdout


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[8] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs of each command (default 20)")
    parser.add_argument("--page", type=Path, default=REPO / "docs" / "examples" / "vendor-page.html",
                        help="the page extract reads (default docs/examples/vendor-page.html)")
    parser.add_argument("--tree", type=Path, action="append",
                        help="a darkcrawl source tree to run (repeatable; default this one)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    args = parser.parse_args()
    trees = [tree.resolve() for tree in (args.tree or [REPO])]
    page = args.page.resolve()
    timed = commands(page)
    outputs: dict[tuple[str, str], bytes] = {}
    for tree in trees:  # untimed: byte-code caches written, the page and the profiles in the page cache
        for name, command in timed.items():
            outputs[str(tree), name] = run_once(tree, command)[2]
    load_before = os.getloadavg()[0]
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {key: [] for key in outputs}
    for _ in range(args.runs):
        for tree in trees:
            for name, command in timed.items():
                wall, cpu, _stdout = run_once(tree, command)
                samples[str(tree), name].append((wall, cpu))
    load_after = os.getloadavg()[0]
    extract_name = f"extract {page.name}"
    same_output = len({outputs[str(tree), extract_name] for tree in trees}) == 1
    report: dict[str, Any] = {
        "runs": args.runs, "page": str(page), "page_bytes": page.stat().st_size, "cores": os.cpu_count(),
        "load_average": [round(load_before, 2), round(load_after, 2)], "same_extract_output": same_output,
        "results": [
            {
                "tree": tree, "command": f"darkcrawl {name}",
                "wall_median_s": round(statistics.median(wall for wall, _ in values), 3),
                "wall_p90_s": round(p90([wall for wall, _ in values]), 3),
                "cpu_median_s": round(statistics.median(cpu for _, cpu in values), 3),
            }
            for (tree, name), values in samples.items()
        ],
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{args.runs} runs each, {report['cores']} cores, load average {load_before:.2f} -> {load_after:.2f}; "
          f"page {page.name} ({report['page_bytes']} bytes)")
    if len(trees) > 1:
        print(f"extract output the same in every tree: {'yes' if same_output else 'NO'}")
    print(f"{'command':<36} {'wall median':>11} {'wall p90':>9} {'CPU median':>10}  tree")
    for row in report["results"]:
        print(f"{row['command']:<36} {row['wall_median_s']:>10.3f}s {row['wall_p90_s']:>8.3f}s "
              f"{row['cpu_median_s']:>9.3f}s  {row['tree']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
