"""Crawl benchmark: darkcrawl through the private Tor lab against bare Scrapy, on a 2,000+ page fixture site.

    python bench/bench_crawl.py [--concurrency 4,8,16] [--repeat 3] [--no-direct] [--before TREE] [--json FILE]

Needs the lab up (``darkcrawl lab up``) and Elasticsearch running (``darkcrawl es start``; ``darkcrawl es init``).
It serves the ``bigmarket`` fixture site on loopback, publishes it as an extra onion service on the lab's onion-service
tor (stem, ephemeral, removed at the end), then for each concurrency level runs, each in its own process:

* ``bare-direct``: plain Scrapy, default handler, straight to the loopback server, no pipeline;
* ``bare-tor``: plain Scrapy through the lab's SOCKS port with the httpx handler, no pipeline (Tor's cost);
* ``darkcrawl``: ``darkcrawl crawl`` through the lab with every stage (routing, content policy, extraction, indexing),
  into indices of its own (a fresh prefix, set up by ``darkcrawl es init`` before the timed run).

It prints a table (pages, seconds, pages/s, CPU of the crawling process and its children, peak RSS, and the CPU
Elasticsearch and the lab's tor processes spent meanwhile) and the ratios darkcrawl/bare-tor (darkcrawl's own cost)
and bare-tor/bare-direct (Tor's); under each darkcrawl run, Elasticsearch's own indexing, refresh and merge time per
index of that run (``_stats``), where the node's share goes. Figures go in docs/performance.md.

On a shared machine a single pair says more about the neighbours' load than about darkcrawl: ``--repeat N`` runs N
rounds, each a bare-tor run right before the darkcrawl run(s) it is compared with, and prints each round's ratio and
the median. ``--before TREE`` also runs ``darkcrawl crawl`` from another checkout (an exported older commit) in every
round, right after this tree's, so a change's before and after are measured in one run. ``--no-direct`` skips the
bare-direct runs (Tor's own cost is not what a round compares).
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
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.config import load_settings  # noqa: E402
from crawler.lab.state import load_state  # noqa: E402
from crawler.paths import data_dir  # noqa: E402


def run_measured(
    command: list[str], env: dict[str, str] | None = None, cwd: Path = REPO
) -> tuple[str, float, float, float]:
    """Run *command*; return (stdout, seconds, peak RSS in MB of that process alone, CPU seconds).

    The CPU seconds (user + system, from ``wait4``) include the children the process waited for, such as
    extraction workers, so they count all the work done for the crawl whatever the machine's other load."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    stdout = process.stdout.read() if process.stdout else ""
    stderr = process.stderr.read() if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command[:4]} failed ({process.returncode}):\n{stderr[-2000:]}")
    return stdout, elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def es_cpu_seconds() -> float:
    """The Elasticsearch node's process CPU so far (``_nodes/stats/process``), summed over the nodes."""
    from crawler.es.client import es_sync_client

    client = es_sync_client(load_settings())
    try:
        nodes = client.nodes.stats(metric="process")["nodes"]
    finally:
        client.close()
    return sum(node["process"]["cpu"]["total_in_millis"] for node in nodes.values()) / 1000


def lab_cpu_seconds(lab_dir: Path) -> float:
    """CPU so far of the lab's processes (its tor nodes and fixture servers), from /proc."""
    from crawler.lab.state import find_members

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in find_members(lab_dir):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


class OthersCpu:
    """The CPU that Elasticsearch and the lab spend during one measured run (the crawl's own is from ``wait4``)."""

    def __init__(self, lab_dir: Path) -> None:
        self.lab_dir = lab_dir

    def __enter__(self) -> OthersCpu:
        self.es_start, self.lab_start = es_cpu_seconds(), lab_cpu_seconds(self.lab_dir)
        return self

    def __exit__(self, *exc: object) -> None:
        self.es = es_cpu_seconds() - self.es_start
        self.lab = lab_cpu_seconds(self.lab_dir) - self.lab_start


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", default="4,8,16")
    parser.add_argument("--json", metavar="FILE", help="also write the results here")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per concurrency level (bare-tor, darkcrawl)")
    parser.add_argument("--no-direct", action="store_true", help="skip the bare-direct runs")
    parser.add_argument("--before", metavar="TREE", type=Path, help="also run darkcrawl from this checkout")
    args = parser.parse_args()
    levels = [int(value) for value in args.concurrency.split(",")]

    settings = load_settings()
    lab_dir = Path(settings.get("DARKCRAWL_LAB_DIR") or data_dir(settings) / "lab")
    state = load_state(lab_dir)
    if state is None or not state.ready:
        raise SystemExit(f"the lab is not up in {lab_dir}: run `darkcrawl lab up` first")

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "crawler.lab.serve", "--site", "bigmarket", "--port", str(port)], cwd=REPO
    )
    from stem.control import Controller

    try:
        wait_http(f"http://127.0.0.1:{port}/")
        with Controller.from_port(port=state.onion_control_port) as controller:
            controller.authenticate()
            print("publishing the bigmarket onion in the lab ...", file=sys.stderr)
            service = controller.create_ephemeral_hidden_service(
                {80: f"127.0.0.1:{port}"}, key_type="NEW", key_content="ED25519-V3", await_publication=True
            )
            onion = f"{service.service_id}.onion"
            try:
                results = run_all(levels, port, onion, state, args.repeat, not args.no_direct, args.before)
            finally:
                controller.remove_ephemeral_hidden_service(service.service_id)
    finally:
        server.terminate()
        server.wait()
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def run_all(
    levels: list[int], port: int, onion: str, state: Any, repeat: int = 1, direct: bool = True,
    before: Path | None = None,
) -> list[dict[str, Any]]:
    results = []
    socks = f"127.0.0.1:{state.socks_port}"
    bare = [sys.executable, str(REPO / "bench" / "bare_spider.py")]
    # warm the onion's rendezvous circuit (one page) so the first measured run does not pay for it
    from crawler.lab.network import fetch_through_socks

    fetch_through_socks(state.socks_port, onion, "/", timeout=120)
    trees = [("darkcrawl", REPO)] + ([("darkcrawl-before", before.resolve())] if before else [])
    for level in levels:
        for round_number in range(1, repeat + 1):
            runs = [("bare-direct", f"http://127.0.0.1:{port}/", [])] if direct and round_number == 1 else []
            runs.append(("bare-tor", f"http://{onion}/", ["--socks", socks]))
            for name, url, extra in runs:
                with OthersCpu(Path(state.lab_dir)) as others:
                    out, seconds, rss, cpu = run_measured([*bare, url, "--concurrency", str(level), *extra])
                pages = json.loads(out.strip().splitlines()[-1])["pages"]
                results.append(row(name, level, pages, seconds, rss, cpu, round=round_number, es_cpu_s=round(
                    others.es, 1), lab_cpu_s=round(others.lab, 1)))
                print(results[-1], file=sys.stderr)
            for name, tree in trees:
                results.append(run_darkcrawl(name, tree, level, onion, socks, state, round_number))
                print(results[-1], file=sys.stderr)
    return results


def run_darkcrawl(
    name: str, tree: Path, level: int, onion: str, socks: str, state: Any, round_number: int
) -> dict[str, Any]:
    """One ``darkcrawl crawl`` of the onion with every stage, from the code in *tree*."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(tree),
        DARKCRAWL_TOR_SOCKS=socks,
        DARKCRAWL_TOR_CONTROL=f"127.0.0.1:{state.control_port}",
        DARKCRAWL_ES_INDEX_PREFIX=f"bench{uuid.uuid4().hex[:6]}",
        DARKCRAWL_PROGRESS_INTERVAL="30",
    )
    config = Path(f"/tmp/darkcrawl-bench-{os.getpid()}.toml")
    # same politeness as the bare runs: the site's own concurrency, no delay
    config.write_text(f"[scrapy]\nCONCURRENT_REQUESTS_PER_DOMAIN = {level}\nDOWNLOAD_DELAY = 0\n")
    command = [
        sys.executable,
        "-m",
        "crawler.cli",
        "--config",
        str(config),
        "crawl",
        "--url",
        f"http://{onion}/",
        "--json",
        "--concurrency",
        str(level),
        "--depth",
        "100",
        "--max-pages-per-site",
        "0",
    ]
    try:
        # the run's fresh indices are made first, untimed, as `darkcrawl es init` makes them once for a deployment:
        # creating seven indices is not a cost of each crawl (on a busy node it took 10-15 s)
        subprocess.run([sys.executable, "-m", "crawler.cli", "es", "init"], env=env, cwd=tree, check=True,
                       capture_output=True)
        with OthersCpu(Path(state.lab_dir)) as others:
            out, seconds, rss, cpu = run_measured(command, env=env, cwd=tree)
        es_times = index_times(env["DARKCRAWL_ES_INDEX_PREFIX"])
    finally:
        config.unlink()
        drop_indices(env["DARKCRAWL_ES_INDEX_PREFIX"])
    summary = json.loads(out[out.index("{") :])
    return row(name, level, summary["pages"], seconds, rss, cpu, indexed=summary["indexed"], round=round_number,
               es_cpu_s=round(others.es, 1), lab_cpu_s=round(others.lab, 1), es=es_times)


def index_times(prefix: str) -> dict[str, dict[str, float]]:
    """Elasticsearch's own time per index of one run (seconds of indexing, refresh and merge, from ``_stats``).

    Where a crawl's indexing cost lies on the node; these are thread times, a rough share of the node's CPU."""
    from crawler.es.client import es_sync_client

    settings = load_settings(overrides={"DARKCRAWL_ES_INDEX_PREFIX": prefix})
    client = es_sync_client(settings)
    try:
        stats = client.indices.stats(index=f"{prefix}-*", metric="indexing,refresh,merge,flush")["indices"]
    finally:
        client.close()
    times = {}
    for index, entry in sorted(stats.items()):
        total = entry["total"]
        times[index.removeprefix(f"{prefix}-")] = {
            "docs": total["indexing"]["index_total"],
            "index_s": total["indexing"]["index_time_in_millis"] / 1000,
            "refresh_s": total["refresh"]["total_time_in_millis"] / 1000,
            "merge_s": total["merges"]["total_time_in_millis"] / 1000,
        }
    return times


def drop_indices(prefix: str) -> None:
    """Delete the indices and templates of one run's prefix (the shared node keeps no benchmark data)."""
    from crawler.es.client import es_sync_client
    from crawler.es.schema import KINDS, index_names

    settings = load_settings(overrides={"DARKCRAWL_ES_INDEX_PREFIX": prefix})
    names = index_names(settings)
    client = es_sync_client(settings)
    try:
        for index in client.indices.get(index=f"{prefix}-*"):
            client.indices.delete(index=index)
        for kind in KINDS:
            client.options(ignore_status=404).indices.delete_index_template(name=names.template(kind))
    finally:
        client.close()


def row(name: str, level: int, pages: int, seconds: float, rss: float, cpu: float, **extra: Any) -> dict[str, Any]:
    return {
        "run": name,
        "concurrency": level,
        "pages": pages,
        "seconds": round(seconds, 1),
        "pages_per_s": round(pages / seconds, 1),
        "cpu_s": round(cpu, 1),
        "cpu_ms_per_page": round(1000 * cpu / max(pages, 1), 1),
        "peak_rss_mb": round(rss),
        **extra,
    }


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        f"{'run':<17} {'round':>5} {'conc':>4} {'pages':>6} {'s':>7} {'pages/s':>8} {'CPU s':>7} {'CPU ms/p':>8} "
        f"{'peak MB':>8} {'ES CPU s':>8} {'lab CPU s':>9}"
    )
    for result in results:
        print(
            f"{result['run']:<17} {result.get('round', 1):>5} {result['concurrency']:>4} {result['pages']:>6} "
            f"{result['seconds']:>7} {result['pages_per_s']:>8} {result['cpu_s']:>7} {result['cpu_ms_per_page']:>8} "
            f"{result['peak_rss_mb']:>8} {result.get('es_cpu_s', '-'):>8} {result.get('lab_cpu_s', '-'):>9}"
        )
        for index, times in result.get("es", {}).items():
            print(f"    {index:<28} " + "  ".join(f"{key} {value:g}" for key, value in times.items()))
    by_key = {(result["run"], result["concurrency"], result.get("round", 1)): result for result in results}
    for level in sorted({result["concurrency"] for result in results}):
        direct = by_key.get(("bare-direct", level, 1))
        tor = by_key.get(("bare-tor", level, 1))
        if direct and tor:
            print(f"concurrency {level}: bare-tor/bare-direct = {tor['pages_per_s'] / direct['pages_per_s']:.3f}")
        for name in ("darkcrawl", "darkcrawl-before"):
            ratios = []
            for (run, run_level, round_number), result in sorted(by_key.items()):
                tor = by_key.get(("bare-tor", level, round_number))
                if run == name and run_level == level and tor:
                    ratios.append(result["pages_per_s"] / tor["pages_per_s"])
            if ratios:
                print(
                    f"concurrency {level}: {name}/bare-tor = {statistics.median(ratios):.2f} (median of "
                    f"{len(ratios)}: {', '.join(f'{ratio:.2f}' for ratio in ratios)})"
                )


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    sys.exit(main())
