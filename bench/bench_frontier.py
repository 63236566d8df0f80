"""Redis frontier ceiling: how many frontier operations per second one redis-server serves, and how many a crawl
worker spends per page, so docs/distributed.md can say how many workers one Redis serves.

    python bench/bench_frontier.py [--clients 1,2,4,8] [--ops 20000] [--pages 2000] [--links 13] [--acquires 7]
                                   [--crawl] [--json FILE]

It starts its own redis-server (Debian's, on a free loopback port, data in a temporary directory, no persistence) and
drives :class:`crawler.frontier.store.Frontier` itself (the Lua scripts a worker runs) from 1, 2, 4 and 8 client
processes, each its own worker id and connection, all started together. For each client count, three phases of
``--ops`` operations in all, split over the clients:

* ``push-new``: queue a request never seen (Bloom test and set, budgets, the request stored and queued);
* ``push-dup``: queue an already-seen request (the Bloom test only: most links a page yields);
* ``page``: everything a worker asks of Redis for one page, as counted by ``--crawl`` in a real worker (defaults:
  ``--links 13``: one new link and twelve already seen, ``--acquires 7``: site-token calls of the cross-worker
  politeness, which polls while a site's delay runs): lease, the token calls and its give-back, the pushes, ack;
* ``lease+ack``: lease one request (``pop(1)``) and acknowledge it (``ack``): the least a page costs; one op = both.

Reported per phase: operations per second of all clients together, p50/p99 latency of one operation as a client sees
it, and Redis's own CPU time per operation (``INFO cpu``): ``1 / cpu per op`` is the ceiling of one Redis core
whatever the clients' machine, since Redis runs the scripts on one thread.

``--crawl`` also counts the Redis commands a real worker sends per page: one ``darkcrawl worker`` (``--no-index``)
crawls the lab's five fixture sites through the lab's Tor (needs ``darkcrawl lab up``) against this Redis while
``MONITOR`` records every command; script calls are told apart by their SHA-1. Figures go in docs/distributed.md and
docs/performance.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import pickle
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.frontier.bloom import BloomParams  # noqa: E402
from crawler.frontier.store import Frontier  # noqa: E402

BLOOM = BloomParams.for_capacity(10_000_000, 1e-6)  # the defaults (DARKCRAWL_REDIS_BLOOM_*)
SITES = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: run ./setup.sh (it installs Debian's redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "", "--appendonly",
         "no", "--daemonize", "no", "--logfile", str(directory / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 20
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return process, url
        except redis.RedisError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"redis-server did not start on port {port}") from None
            time.sleep(0.1)


def payload(url: str) -> bytes:
    """A request serialized as the worker's queue does it (scrapy-redis: ``request.to_dict``, pickle)."""
    from scrapy import Request

    request = Request(url, meta={"depth": 3, "darkcrawl_seed": "http://seed.onion/", "download_timeout": 120})
    return pickle.dumps(request.to_dict(), protocol=-1)


def url_for(number: int) -> str:
    return f"http://site{number % SITES:03d}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion/listing/{number}"


def client_run(url: str, prefix: str, phase: str, numbers: range, barrier: Any, out: Any,
               page: dict[str, int]) -> None:
    """One client process: *phase* on its share *numbers*; puts (start, end, latencies in seconds) into *out*.
    *page*: for the ``page`` phase, ``links`` and ``acquires`` per page and ``seen`` (where already-seen URLs start)."""
    import redis

    from crawler.frontier.politeness import ACQUIRE

    client = redis.Redis.from_url(url)
    frontier = Frontier(client, prefix, BLOOM, worker_id=f"bench-{os.getpid()}")
    frontier.seen_keys()  # the bitmap exists (allocated once per frontier): not part of any measured operation
    frontier.heartbeat()
    bodies = {number: payload(url_for(number)) for number in numbers} if phase != "lease+ack" else {}
    acquire = client.register_script(ACQUIRE)
    latencies = []
    barrier.wait()
    started = time.perf_counter()
    if phase == "page":
        for number in numbers:
            begin = time.perf_counter()
            leased = frontier.pop(1)
            site = url_for(number)[7:75]
            tokens, token = f"{prefix}:site:{site}:tokens", uuid.uuid4().hex
            for _ in range(page["acquires"]):  # the polls of a request waiting for its site's token
                acquire(keys=[tokens, f"{prefix}:site:{site}:next"], args=[token, 1000, 0, 180_000])
            for nth in range(page["links"] - 1):  # links already seen (the page's navigation)
                seen = url_for(page["seen"] + (number * 7 + nth) % page["seen_count"])
                frontier.push(bodies[number], hashlib.sha1(seen.encode()).digest(), site)
            new = url_for(number)
            frontier.push(bodies[number], hashlib.sha1(new.encode()).digest(), site)  # one new link a page
            client.zrem(tokens, token)  # the token given back with the response
            frontier.ack([lease_id for lease_id, _ in leased])
            latencies.append(time.perf_counter() - begin)
            if not leased:
                raise SystemExit("the queue ran dry: push-new must queue at least as many requests as clients")
    elif phase.startswith("push"):
        for number in numbers:
            link = url_for(number)
            begin = time.perf_counter()
            frontier.push(bodies[number], hashlib.sha1(link.encode()).digest(), link[7:75])
            latencies.append(time.perf_counter() - begin)
    else:
        for _ in numbers:
            begin = time.perf_counter()
            leased = frontier.pop(1)
            frontier.ack([lease_id for lease_id, _ in leased])
            latencies.append(time.perf_counter() - begin)
            if not leased:
                raise SystemExit("the queue ran dry: push-new must queue at least --ops requests")
    out.put((started, time.perf_counter(), latencies))


def redis_cpu(client: Any) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def run_phase(url: str, prefix: str, phase: str, clients: int, ops: int, offset: int,
              page: dict[str, int]) -> dict[str, Any]:
    import redis

    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients + 1)
    out = context.Queue()
    share = ops // clients
    processes = [
        context.Process(target=client_run,
                        args=(url, prefix, phase, range(offset + n * share, offset + (n + 1) * share), barrier, out,
                              page))
        for n in range(clients)
    ]
    for process in processes:
        process.start()
    client = redis.Redis.from_url(url)
    cpu_before = redis_cpu(client)
    barrier.wait()
    results = [out.get() for _ in processes]
    cpu = redis_cpu(client) - cpu_before
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a client of {phase} failed (exit {process.exitcode})")
    latencies = sorted(latency for _, _, values in results for latency in values)
    seconds = max(end for _, end, _ in results) - min(start for start, _, _ in results)
    done = len(latencies)
    return {
        "phase": phase, "clients": clients, "ops": done, "seconds": round(seconds, 3),
        "ops_per_s": round(done / seconds), "p50_ms": round(statistics.median(latencies) * 1000, 3),
        "p99_ms": round(latencies[int(0.99 * (done - 1))] * 1000, 3),
        "redis_cpu_us_per_op": round(cpu / done * 1e6, 1),
        "one_core_ceiling_ops_per_s": round(done / cpu) if cpu > 0 else None,
    }


def ceiling(
    url: str, client_counts: list[int], ops: int, pages: int, links: int, acquires: int
) -> list[dict[str, Any]]:
    rows = []
    for clients in client_counts:
        prefix = f"bench{uuid.uuid4().hex[:6]}"
        offset = clients * 10_000_000  # fresh URLs for every run
        page = {"links": links, "acquires": acquires, "seen": offset, "seen_count": ops}
        phases = (("push-new", offset, ops), ("push-dup", offset, ops), ("page", offset + 5_000_000, pages),
                  ("lease+ack", 0, ops))
        for phase, start, count in phases:
            row = run_phase(url, prefix, phase, clients, count, start, page)
            rows.append(row)
            print(row, file=sys.stderr)
        import redis

        Frontier(redis.Redis.from_url(url), prefix, BLOOM).reset()
    return rows


# --- per-page commands of a real worker ---------------------------------------------------------------------------
def script_names() -> dict[str, str]:
    """SHA-1 of each Lua script a worker runs -> its name (EVALSHA calls name the script only by it)."""
    from crawler.frontier import politeness, store

    scripts = {name: getattr(store, name) for name in ("PUSH", "SEEN", "POP", "ACK", "RELEASE", "REAP")}
    scripts["politeness ACQUIRE"] = politeness.ACQUIRE
    return {hashlib.sha1(text.encode()).hexdigest(): name for name, text in scripts.items()}


def crawl_commands(url: str) -> dict[str, Any]:
    """Run one worker over the lab's fixture sites while MONITOR counts what it sends; return counts per page."""
    import redis

    from crawler.config import load_settings
    from crawler.lab.sites import SITE_NAMES
    from crawler.lab.state import load_state
    from crawler.paths import data_dir

    settings = load_settings()
    lab_dir = Path(os.environ.get("DARKCRAWL_TEST_LAB_DIR") or settings.get("DARKCRAWL_LAB_DIR")
                   or data_dir(settings) / "lab")
    state = load_state(lab_dir)
    if state is None or not state.ready:
        raise SystemExit(f"the lab is not up in {lab_dir}: run `darkcrawl lab up` first (or leave out --crawl)")
    names = script_names()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    counts: Counter[tuple[str, str]] = Counter()
    stop = threading.Event()

    def monitor() -> None:
        """Count what MONITOR shows: commands clients send (one round trip each; a script call is one) and the
        commands scripts run inside Redis (``[0 lua]``). Lines are ASCII: Redis escapes binary arguments."""
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"MONITOR\r\n")
            lines = sock.makefile("rb")
            lines.readline()  # +OK
            for raw in lines:
                if stop.is_set():
                    return
                line = raw.decode("ascii", "replace")
                parts = line.split('"')
                if len(parts) < 2:
                    continue
                command = parts[1].upper()
                if command == "EVALSHA" and len(parts) > 3:
                    command = f"EVALSHA {names.get(parts[3], 'other script')}"
                counts[("script" if " lua]" in line else "client", command)] += 1

    prefix = f"crawl{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory() as scratch:
        env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
        env.update(DARKCRAWL_REDIS_URL=url, DARKCRAWL_REDIS_PREFIX=prefix, DARKCRAWL_DATA_DIR=scratch,
                   DARKCRAWL_TOR_SOCKS=f"127.0.0.1:{state.socks_port}",
                   DARKCRAWL_TOR_CONTROL=f"127.0.0.1:{state.control_port}", DARKCRAWL_PROGRESS_INTERVAL="60")
        command = [sys.executable, "-m", "crawler.cli", "worker", "--json", "--no-index", "--depth", "10"]
        seeds = [argument for site in SITE_NAMES for argument in ("--url", f"http://{state.onions[site]}/")]
        push = subprocess.run([*command, "--push-only", *seeds], env=env, cwd=REPO, capture_output=True, text=True)
        if push.returncode:
            raise SystemExit(push.stderr[-2000:])
        thread = threading.Thread(target=monitor, daemon=True)
        thread.start()
        time.sleep(0.5)
        worker = subprocess.run([*command, "--exit-when-idle", "3"], env=env, cwd=REPO, capture_output=True,
                                text=True)
        stop.set()
        redis.Redis.from_url(url).ping()  # one more command, so the monitor sees the stop
        thread.join(10)
    if worker.returncode:
        raise SystemExit(worker.stderr[-2000:])
    summary = json.loads(worker.stdout[worker.stdout.index("{"):])
    pages = int(summary["pages"])
    counts.pop(("client", "PING"), None)
    client = Counter({command: count for (source, command), count in counts.items() if source == "client"})
    inside = sum(count for (source, _), count in counts.items() if source == "script")
    return {"pages": pages, "sites": len(seeds) // 2, "client_commands": dict(client.most_common()),
            "per_page": {name: round(count / pages, 2) for name, count in client.most_common()},
            "round_trips_per_page": round(sum(client.values()) / pages, 2),
            "script_commands_per_page": round(inside / pages, 1), "frontier": summary.get("frontier")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1,2,4,8", help="client process counts (comma-separated)")
    parser.add_argument("--ops", type=int, default=20_000, help="operations per phase and client count, in all")
    parser.add_argument("--pages", type=int, default=2000, help="pages of the page phase per client count, in all")
    parser.add_argument("--links", type=int, default=13, help="links a page yields (one new, the others seen)")
    parser.add_argument("--acquires", type=int, default=7, help="politeness token calls per page (0: politeness off)")
    parser.add_argument("--crawl", action="store_true", help="also count a real worker's commands per page (lab)")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    results: dict[str, Any] = {"cores": os.cpu_count(), "load_average": os.getloadavg()[0],
                               "bloom": {"bits": BLOOM.bits, "hashes": BLOOM.hashes},
                               "page": {"links": args.links, "acquires": args.acquires}}
    with tempfile.TemporaryDirectory() as scratch:
        process, url = start_redis(Path(scratch))
        try:
            import redis

            results["redis_version"] = redis.Redis.from_url(url).info("server")["redis_version"]
            results["ceiling"] = ceiling(url, [int(value) for value in args.clients.split(",")], args.ops, args.pages,
                                         args.links, args.acquires)
            if args.crawl:
                results["crawl"] = crawl_commands(url)
        finally:
            process.terminate()
            process.wait(timeout=20)
    print(f"redis-server {results['redis_version']} on {results['cores']} cores, clients on the same machine, load "
          f"average {results['load_average']:.1f} at the start; page = lease, {args.acquires} token calls, "
          f"{args.links} pushes (1 new), token back, ack")
    print(f"{'phase':<10} {'clients':>7} {'ops/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'redis CPU us/op':>15} "
          f"{'1-core ceiling/s':>16}")
    for row in results["ceiling"]:
        print(f"{row['phase']:<10} {row['clients']:>7} {row['ops_per_s']:>8} {row['p50_ms']:>7} {row['p99_ms']:>7} "
              f"{row['redis_cpu_us_per_op']:>15} {row['one_core_ceiling_ops_per_s']!s:>16}")
    if "crawl" in results:
        crawl = results["crawl"]
        print(f"a worker over the lab's {crawl['sites']} fixture sites: {crawl['pages']} pages, "
              f"{crawl['round_trips_per_page']} commands (round trips) per page, and inside the scripts "
              f"{crawl['script_commands_per_page']} more:")
        for name, per_page in crawl["per_page"].items():
            print(f"  {per_page:>7} {name}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
