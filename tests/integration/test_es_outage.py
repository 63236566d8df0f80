"""Elasticsearch goes away in the middle of a lab crawl (its own node, stopped and started by the test): nothing is
lost and nothing is counted twice. Pages wait in the fsynced spool; after a restart they are replayed (by the crawl
when Elasticsearch answers again, by the next start, or by ``es replay``), each page is in the index once, entities
match the fixture ground truth, and the spool is empty. The same after ``kill -9`` of the crawler while pages sit in
the spool. The session node is never touched: this module starts a small node of its own."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from crawler.es.node import read_credentials, start, stop
from crawler.sink.spool import Spool
from tests.integration.fixtures_es import EsNode, _free_port, instance_for_tests, private_node_dir
from tests.integration.test_crawl import (
    DARKCRAWL,
    REPO,
    crawl_env,
    expected_urls,
    indexed_pages,
    run_darkcrawl,
    seed_args,
)
from tests.integration.test_entities_lab import check_entities, truth_index

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def own_node():
    root = private_node_dir("darkcrawl-es-outage-")
    instance = instance_for_tests(root, _free_port(9290))
    try:
        start(instance, lambda message: None)
        credentials = read_credentials(instance)
        yield EsNode(url=instance.url, username=credentials.username, password=credentials.password,
                     instance=instance)
    finally:
        stop(instance)
        shutil.rmtree(root, ignore_errors=True)


def restart_if_down(node: EsNode) -> None:
    assert node.instance is not None
    start(node.instance, lambda message: None)


def wait_for_pages(node: EsNode, prefix: str, count: int, process: subprocess.Popen, timeout: float = 180) -> None:
    client = node.client()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the crawl ended before Elasticsearch could be stopped"
            if client.indices.exists(index=f"{prefix}-pages"):
                client.indices.refresh(index=f"{prefix}-pages")
                if client.count(index=f"{prefix}-pages")["count"] >= count:
                    return
            time.sleep(0.3)
    finally:
        client.close()
    raise AssertionError(f"fewer than {count} pages indexed after {timeout}s")


def spool_of(data_dir: Path) -> Spool:
    return Spool(data_dir / "spool" / "pages.jsonl", 0)


def outage_env(tor_lab, node: EsNode, prefix: str, data_dir: Path) -> dict[str, str]:
    # few retries and a short flush interval: an outage is met within seconds and the crawl goes on
    return crawl_env(tor_lab, node, prefix, data_dir, DARKCRAWL_ES_MAX_RETRIES="1", DARKCRAWL_ES_BULK_DOCS="10",
                     DARKCRAWL_ES_FLUSH_INTERVAL="0.5")


def check_index(node: EsNode, prefix: str, tor_lab) -> None:
    client = node.client()
    try:
        urls = [page["url"] for page in indexed_pages(client, prefix)]
        assert len(urls) == len(set(urls)), "a page was indexed twice"
        assert set(urls) == expected_urls(tor_lab)
        check_entities(client, prefix, truth_index(tor_lab))
    finally:
        client.close()


def test_elasticsearch_stopped_mid_crawl_loses_nothing(tor_lab, own_node, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    env = outage_env(tor_lab, own_node, prefix, tmp_path)
    crawl = subprocess.Popen([*DARKCRAWL, "crawl", *seed_args(tor_lab), "--depth", "10", "--json"], env=env,
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_pages(own_node, prefix, 10, crawl)
        assert own_node.instance is not None
        stop(own_node.instance)
        time.sleep(3)
        restart_if_down(own_node)
        stdout, stderr = crawl.communicate(timeout=600)
    finally:
        if crawl.poll() is None:
            crawl.kill()
        restart_if_down(own_node)
    assert crawl.returncode == 0, stderr[-3000:]
    summary = json.loads(stdout)
    assert summary["pages"] == len(expected_urls(tor_lab))
    assert "Elasticsearch unreachable" in stderr  # the outage was met, not slept through
    # what the crawl could not replay itself (it may end before the node is back) goes in at the next start
    replay = run_darkcrawl(["es", "replay"], env)
    assert replay.returncode == 0, replay.stderr
    assert spool_of(tmp_path).count() == 0
    check_index(own_node, prefix, tor_lab)
    client = own_node.client()
    try:
        client.indices.refresh(index=f"{prefix}-crawls")
        record = client.get(index=f"{prefix}-crawls", id=summary["crawl_id"])["_source"]
        assert record["status"] == "finished" and record["pages_fetched"] == summary["pages"]
    finally:
        client.close()


def test_kill_9_with_pages_in_the_spool_then_the_next_start_replays_them(tor_lab, own_node, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    env = outage_env(tor_lab, own_node, prefix, tmp_path)
    crawl = subprocess.Popen([*DARKCRAWL, "crawl", *seed_args(tor_lab), "--depth", "10"], env=env, cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    spool = spool_of(tmp_path)
    try:
        wait_for_pages(own_node, prefix, 10, crawl)
        assert own_node.instance is not None
        stop(own_node.instance)
        deadline = time.monotonic() + 120
        while spool.count() < 5 and time.monotonic() < deadline and crawl.poll() is None:
            time.sleep(0.2)
        crawl.send_signal(signal.SIGKILL)
        crawl.wait(timeout=30)
    finally:
        if crawl.poll() is None:
            crawl.kill()
        restart_if_down(own_node)
    spooled = spool.count()
    assert spooled >= 5, "the crawl ended or stalled before pages reached the spool"

    result = run_darkcrawl(["crawl", *seed_args(tor_lab), "--depth", "10", "--json"], env)  # the next start
    assert result.returncode == 0, result.stderr[-3000:]
    assert spool.count() == 0
    check_index(own_node, prefix, tor_lab)
    client = own_node.client()
    try:
        record = client.get(index=f"{prefix}-crawls", id=json.loads(result.stdout)["crawl_id"])["_source"]
    finally:
        client.close()
    assert record["stats"]["darkcrawl/index/replayed"] == spooled
