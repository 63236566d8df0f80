"""Distributed crawl benchmark: pages/s with 1, 2 and 3 workers sharing one Redis frontier, against the lab's
``bigmarket`` site; and Redis memory per million seen URLs.

    python bench/bench_workers.py [--workers 1,2,3] [--max-pages 600] [--concurrency 8] [--index] [--json FILE]

Needs the lab up (``darkcrawl lab up``); with ``--index`` also Elasticsearch (``darkcrawl es start``). It starts its
own redis-server on a free loopback port, serves ``bigmarket`` and publishes it as an extra onion in the lab (as
bench/bench_crawl.py does), then for each worker count: resets the frontier, pushes the home page, starts the
workers (each its own process, on its own SOCKS port of the lab client, ``--concurrency`` each; per-site concurrency
= concurrency x workers, no delay, so politeness does not cap the scaling being measured) and times until all have
stopped (``--exit-when-idle 3``, subtracted). Then it adds one million synthetic URLs to a fresh Bloom filter at the
default error rate (sized for one million) and to a plain Redis set (scrapy-redis's filter, 100,000 URLs, scaled),
and reports Redis memory for both. Figures go in docs/performance.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_crawl import free_port, wait_http  # noqa: E402

from crawler.config import load_settings  # noqa: E402
from crawler.frontier.bloom import BloomParams  # noqa: E402
from crawler.frontier.store import Frontier  # noqa: E402
from crawler.lab.state import load_state  # noqa: E402
from crawler.paths import data_dir  # noqa: E402

IDLE_EXIT = 3.0


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "",
         "--appendonly", "no"], stdout=subprocess.DEVNULL,
    )
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return process, url
        except redis.RedisError:
            time.sleep(0.1)
    raise SystemExit("redis-server did not start")


def run_workers(count: int, onion: str, state: Any, redis_url: str, args: argparse.Namespace) -> dict[str, Any]:
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    ports = [state.socks_port, *state.extra_socks_ports][:count]
    if len(ports) < count:
        raise SystemExit(f"the lab has {len(ports)} SOCKS ports, {count} workers need {count}: raise "
                         "DARKCRAWL_LAB_EXTRA_SOCKS")
    config = Path(f"/tmp/darkcrawl-bench-workers-{os.getpid()}.toml")
    config.write_text(f"[scrapy]\nCONCURRENT_REQUESTS_PER_DOMAIN = {args.concurrency * count}\nDOWNLOAD_DELAY = 0\n")
    base = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    base.update(DARKCRAWL_REDIS_URL=redis_url, DARKCRAWL_REDIS_PREFIX=prefix, DARKCRAWL_PROGRESS_INTERVAL="60",
                DARKCRAWL_CONFIG=str(config), DARKCRAWL_ES_INDEX_PREFIX=prefix,
                DARKCRAWL_DATA_DIR=os.environ.get("DARKCRAWL_DATA_DIR", str(data_dir())))
    for name in ("DARKCRAWL_ES_URL", "DARKCRAWL_ES_USERNAME", "DARKCRAWL_ES_PASSWORD", "DARKCRAWL_ES_API_KEY"):
        if name in os.environ:
            base[name] = os.environ[name]
    command = [sys.executable, "-m", "crawler.cli", "worker", "--json", "--depth", "100",
               "--max-pages", str(args.max_pages), "--max-pages-per-site", "0", "--concurrency", str(args.concurrency),
               "--exit-when-idle", str(IDLE_EXIT)] + ([] if args.index else ["--no-index"])
    push = subprocess.run([*command[:4], "--push-only", "--url", f"http://{onion}/"], env=base, cwd=REPO,
                          capture_output=True, text=True)
    if push.returncode:
        raise SystemExit(push.stderr[-2000:])
    started = time.monotonic()
    processes = []
    for number, port in enumerate(ports):
        env = dict(base, DARKCRAWL_TOR_SOCKS=f"127.0.0.1:{port}", DARKCRAWL_WORKER_ID=f"bench-{number}",
                   DARKCRAWL_TOR_CONTROL=f"127.0.0.1:{state.control_port}" if port == state.socks_port else "",
                   DARKCRAWL_DATA_DIR=f"{base['DARKCRAWL_DATA_DIR']}/bench-worker-{number}")
        processes.append(subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
    pages = []
    for process in processes:
        out, err = process.communicate()
        if process.returncode:
            raise SystemExit(err[-2000:])
        pages.append(json.loads(out[out.index("{"):])["pages"])
    seconds = time.monotonic() - started - IDLE_EXIT
    config.unlink()
    return {"workers": count, "pages": sum(pages), "per_worker": pages, "seconds": round(seconds, 1),
            "pages_per_s": round(sum(pages) / seconds, 1)}


def bloom_memory(redis_url: str) -> dict[str, Any]:
    import redis

    client = redis.Redis.from_url(redis_url)
    params = BloomParams.for_capacity(1_000_000, 1e-6)
    frontier = Frontier(client, f"mem{uuid.uuid4().hex[:6]}", params)
    before = int(client.info("memory")["used_memory"])
    started = time.monotonic()
    for start in range(0, 1_000_000, 20_000):
        frontier.mark_seen(hashlib.sha1(f"http://s{n % 5000}.onion/p/{n}".encode()).digest()
                           for n in range(start, start + 20_000))
    seconds = time.monotonic() - started
    after = int(client.info("memory")["used_memory"])
    key = int(client.memory_usage(frontier.key("seen")))
    sample = frontier.key("set")
    with client.pipeline(transaction=False) as pipe:
        for n in range(100_000):
            pipe.sadd(sample, hashlib.sha1(f"u{n}".encode()).hexdigest())
        pipe.execute()
    set_bytes = int(client.memory_usage(sample, samples=0)) * 10
    return {"bloom_error_rate": params.error_rate, "bloom_bits": params.bits, "bloom_hashes": params.hashes,
            "bloom_key_bytes_per_million": key, "used_memory_growth": after - before,
            "insert_seconds_per_million": round(seconds, 1), "redis_set_bytes_per_million": set_bytes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--max-pages", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--index", action="store_true", help="index into Elasticsearch too")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    settings = load_settings()
    lab_dir = Path(settings.get("DARKCRAWL_LAB_DIR") or data_dir(settings) / "lab")
    state = load_state(lab_dir)
    if state is None or not state.ready:
        raise SystemExit(f"the lab is not up in {lab_dir}: run `darkcrawl lab up` first")
    import tempfile

    from stem.control import Controller

    from crawler.lab.network import fetch_through_socks

    results: dict[str, Any] = {"runs": []}
    with tempfile.TemporaryDirectory() as scratch:
        redis_process, redis_url = start_redis(Path(scratch))
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "crawler.lab.serve", "--site", "bigmarket", "--port",
                                   str(port)], cwd=REPO)
        try:
            wait_http(f"http://127.0.0.1:{port}/")
            with Controller.from_port(port=state.onion_control_port) as controller:
                controller.authenticate()
                service = controller.create_ephemeral_hidden_service(
                    {80: f"127.0.0.1:{port}"}, key_type="NEW", key_content="ED25519-V3", await_publication=True)
                onion = f"{service.service_id}.onion"
                try:
                    for socks in [state.socks_port, *state.extra_socks_ports]:
                        fetch_through_socks(socks, onion, "/", timeout=120)  # warm each port's rendezvous circuit
                    for count in [int(value) for value in args.workers.split(",")]:
                        results["runs"].append(run_workers(count, onion, state, redis_url, args))
                        print(results["runs"][-1], file=sys.stderr)
                finally:
                    controller.remove_ephemeral_hidden_service(service.service_id)
            results["memory"] = bloom_memory(redis_url)
        finally:
            server.terminate()
            server.wait()
            redis_process.terminate()
            redis_process.wait()
    print(f"{'workers':>7} {'pages':>6} {'s':>7} {'pages/s':>8}  per worker")
    for run in results["runs"]:
        print(f"{run['workers']:>7} {run['pages']:>6} {run['seconds']:>7} {run['pages_per_s']:>8}  {run['per_worker']}")
    memory = results["memory"]
    print(f"Bloom filter at 1e-6: {memory['bloom_key_bytes_per_million'] / 2**20:.2f} MiB per million URLs "
          f"(used_memory +{memory['used_memory_growth'] / 2**20:.2f} MiB, {memory['insert_seconds_per_million']} s "
          f"to add them); a Redis set of SHA-1 fingerprints: {memory['redis_set_bytes_per_million'] / 2**20:.1f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
