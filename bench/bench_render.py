"""Rendering benchmark: pages rendered per second through the Tor lab, and the browser's memory, at a few concurrency
levels, beside the plain fetch of the same pages.

    python bench/bench_render.py [--pages 60] [--concurrency 1,2,4] [--json FILE]

Needs the lab up (``darkcrawl lab up``; its ``jsgate`` special site and two extra SOCKS ports). For each level it runs
``darkcrawl crawl --no-index --depth 0`` on *pages* URLs of the jsgate site's JavaScript page (``/js?n=<i>``, the
same small page written by a script), in its own process:

* ``plain``: the plain Tor handler (what a crawl without rendering costs);
* ``render``: every page rendered in Chromium through the lab's extra SOCKS ports, ``DARKCRAWL_RENDER_MAX_PAGES`` and
  Scrapy's concurrency set to the level, settle wait 0 (``DARKCRAWL_RENDER_SETTLE``) so that the figure is the
  browser's, not a fixed wait.

Memory is sampled every 0.25 s: the crawl process's RSS, and the proportional set size (PSS) of its descendants (the
Playwright driver and Chromium's processes: PSS does not count their shared pages once per process). Pages/s divide by
the crawl's own elapsed time, which includes the browser's start. Figures go in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.lab.state import load_state  # noqa: E402
from crawler.paths import data_dir  # noqa: E402

MIB = 1024 * 1024


def tree_memory(pid: int) -> tuple[int, int]:
    """(RSS of *pid*, PSS of its descendants), in bytes; zeros for processes that are gone."""
    try:
        process = psutil.Process(pid)
        own = process.memory_info().rss
        children = process.children(recursive=True)
    except psutil.Error:
        return 0, 0
    total = 0
    for child in children:
        with suppress(psutil.Error):
            info = child.memory_full_info()
            total += getattr(info, "pss", info.rss)
    return own, total


def run_crawl(urls: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run one crawl, sampling memory while it runs; return its JSON summary plus the peaks."""
    command = [sys.executable, "-m", "crawler.cli", "crawl", "--no-index", "--depth", "0", "--json", "-"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=REPO)
    peaks = {"crawler_mb": 0.0, "browser_mb": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            own, browser = tree_memory(process.pid)
            peaks["crawler_mb"] = max(peaks["crawler_mb"], own / MIB)
            peaks["browser_mb"] = max(peaks["browser_mb"], browser / MIB)
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate("\n".join(urls) + "\n")
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"crawl failed ({process.returncode}):\n{stderr[-2000:]}")
    summary = json.loads(stdout[stdout.index("{"):])
    summary.update(peaks)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--concurrency", default="1,2,4")
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    args = parser.parse_args()
    levels = [int(value) for value in args.concurrency.split(",")]
    lab_dir = Path(os.environ.get("DARKCRAWL_LAB_DIR") or data_dir() / "lab")
    state = load_state(lab_dir)
    if state is None or not state.ready or "jsgate" not in state.onions or not state.extra_socks_ports:
        raise SystemExit(f"no ready lab with the jsgate site and extra SOCKS ports in {lab_dir}: `darkcrawl lab up`")
    onion = state.onions["jsgate"]
    urls = [f"http://{onion}/js?n={index}" for index in range(args.pages)]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-render-") as scratch:
        for level in levels:
            config = Path(scratch) / f"c{level}.toml"
            config.write_text(
                f"[scrapy]\nCONCURRENT_REQUESTS = {level}\nCONCURRENT_REQUESTS_PER_DOMAIN = {level}\n"
                "DOWNLOAD_DELAY = 0\n"
            )
            base = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
            base.update(
                DARKCRAWL_DATA_DIR=scratch,
                DARKCRAWL_CONFIG=str(config),
                DARKCRAWL_TOR_SOCKS=f"127.0.0.1:{state.socks_port}",
                DARKCRAWL_TOR_CONTROL=f"127.0.0.1:{state.control_port}",
                DARKCRAWL_ES_ENABLED="0",
                DARKCRAWL_PROGRESS_INTERVAL="600",
            )
            for mode in ("plain", "render"):
                env = dict(base)
                if mode == "render":
                    env.update(
                        DARKCRAWL_RENDER="1",
                        DARKCRAWL_RENDER_SITES=onion,
                        DARKCRAWL_RENDER_SOCKS=",".join(f"127.0.0.1:{port}" for port in state.extra_socks_ports),
                        DARKCRAWL_RENDER_MAX_PAGES=str(level),
                        DARKCRAWL_RENDER_SETTLE="0",
                    )
                summary = run_crawl(urls, env)
                pages = summary["pages"]
                elapsed = summary["elapsed_seconds"]
                row = {
                    "mode": mode, "concurrency": level, "pages": pages, "errors": sum(summary["errors"].values()),
                    "seconds": elapsed, "pages_per_s": round(pages / elapsed, 2) if elapsed else 0.0,
                    "crawler_peak_mb": round(summary["crawler_mb"]), "browser_peak_mb": round(summary["browser_mb"]),
                }
                results.append(row)
                print(
                    f"{mode:6} c={level:<2} {pages:4d} pages {row['errors']:2d} errors {elapsed:6.1f} s "
                    f"{row['pages_per_s']:6.2f} pages/s  crawler {row['crawler_peak_mb']:4d} MB  "
                    f"browser {row['browser_peak_mb']:4d} MB",
                    flush=True,
                )
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
