"""Distributed crawl on the lab: several `darkcrawl worker` processes share one frontier in a real redis-server, each
through its own Tor SOCKS port, and index into the real Elasticsearch node. Every fixture page is fetched exactly
once between them; a worker killed with SIGKILL mid-crawl loses no request."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.integration.test_crawl import DARKCRAWL, REPO, crawl_env, expected_urls, indexed_pages, seed_args

pytestmark = pytest.mark.integration


def worker_env(tor_lab, es_node, redis_server, es_prefix: str, frontier: str, data_dir: Path, socks_port: int,
               worker_id: str, **extra: str) -> dict[str, str]:
    env = crawl_env(
        tor_lab, es_node, es_prefix, data_dir,
        DARKCRAWL_REDIS_URL=redis_server.url,
        DARKCRAWL_REDIS_PREFIX=frontier,
        DARKCRAWL_TOR_SOCKS=f"127.0.0.1:{socks_port}",
        DARKCRAWL_TOR_CONTROL=f"127.0.0.1:{tor_lab.control_port}" if socks_port == tor_lab.socks_port else "",
        DARKCRAWL_WORKER_ID=worker_id,
        DARKCRAWL_WORKER_IDLE_EXIT="4",
        DARKCRAWL_REDIS_LEASE_TIMEOUT="6",
    )
    env.update(extra)
    return env


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*DARKCRAWL, "worker", "--json", "--depth", "10", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def summary(process: subprocess.Popen[str], timeout: float = 400) -> dict:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out[out.index("{"):])


def prepare(tor_lab, es_node, env: dict[str, str]) -> None:
    init = subprocess.run([*DARKCRAWL, "es", "init"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr[-2000:]
    push = subprocess.run([*DARKCRAWL, "worker", "--push-only", *seed_args(tor_lab)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert push.returncode == 0, push.stderr[-2000:]
    assert "pushed 5 seeds" in push.stderr or "pushed" in push.stderr


def test_two_workers_fetch_every_fixture_page_exactly_once(tor_lab, es_node, redis_server, tmp_path):
    es_prefix, frontier = f"t{uuid.uuid4().hex[:8]}", f"f{uuid.uuid4().hex[:8]}"
    ports = [tor_lab.socks_port, tor_lab.extra_socks_ports[0]]
    envs = [worker_env(tor_lab, es_node, redis_server, es_prefix, frontier, tmp_path / f"w{n}", port, f"w{n}")
            for n, port in enumerate(ports)]
    prepare(tor_lab, es_node, envs[0])
    again = subprocess.run([*DARKCRAWL, "worker", "--push-only", *seed_args(tor_lab)], env=envs[1], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert "pushed 0 seeds" in again.stderr, "seeds pushed twice must be queued once"
    workers = [start_worker(env) for env in envs]
    summaries = [summary(process) for process in workers]

    expected = expected_urls(tor_lab)
    fetched = [s["pages"] for s in summaries]
    assert sum(fetched) == len(expected), summaries
    assert all(count > 0 for count in fetched), f"one worker did all the work: {fetched}"
    assert sum(s["indexed"] for s in summaries) == len(expected)
    pages = indexed_pages(es_node.client(), es_prefix)
    urls = [page["url"] for page in pages]
    assert len(urls) == len(set(urls)) and set(urls) == expected
    assert all(page["first_seen"] == page["last_seen"] for page in pages), "a page was indexed twice"
    assert {page["tor_instance"] for page in pages} == {0}
    status = json.loads(subprocess.run([*DARKCRAWL, "worker", "--status", "--json"], env=envs[0], cwd=REPO,
                                       capture_output=True, text=True, timeout=60).stdout)
    assert status["queued"] == 0 and status["leased"] == 0 and status["workers_alive"] == []


@pytest.mark.slow
def test_a_worker_killed_mid_crawl_loses_no_request(tor_lab, es_node, redis_server, tmp_path):
    import redis

    es_prefix, frontier = f"t{uuid.uuid4().hex[:8]}", f"f{uuid.uuid4().hex[:8]}"
    config = tmp_path / "slow.toml"
    # slow enough that the victim holds leases for a while
    config.write_text("[scrapy]\nCONCURRENT_REQUESTS_PER_DOMAIN = 2\nDOWNLOAD_DELAY = 0.3\n")
    envs = [worker_env(tor_lab, es_node, redis_server, es_prefix, frontier, tmp_path / f"w{n}", port, name,
                       DARKCRAWL_CONFIG=str(config))
            for n, (port, name) in enumerate([(tor_lab.socks_port, "victim"),
                                              (tor_lab.extra_socks_ports[0], "survivor")])]
    prepare(tor_lab, es_node, envs[0])
    client = redis.Redis.from_url(redis_server.url)
    victim = start_worker(envs[0])
    survivor = start_worker(envs[1])
    deadline = time.monotonic() + 240
    held = 0
    while time.monotonic() < deadline:
        acked = client.hlen(f"{frontier}:leases")
        held = client.scard(f"{frontier}:held:victim")
        done = int(client.get(f"{frontier}:seq") or 0) - client.zcard(f"{frontier}:queue") - acked
        if held >= 2 and done >= 15:
            break
        assert victim.poll() is None, "the victim finished before it could be killed"
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=30)
    assert held >= 2, "the victim never held requests: the test would prove nothing"
    result = summary(survivor)
    assert result["frontier"].get("requeued", 0) >= 1, result

    expected = expected_urls(tor_lab)
    pages = indexed_pages(es_node.client(), es_prefix)
    urls = [page["url"] for page in pages]
    assert len(urls) == len(set(urls))
    missing = expected - set(urls)
    assert not missing, f"{len(missing)} pages lost with the killed worker: {sorted(missing)[:5]}"
    assert client.zcard(f"{frontier}:queue") == 0 and client.hlen(f"{frontier}:leases") == 0
