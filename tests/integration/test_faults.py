"""Faults during a crawl: its tor killed (launched by darkcrawl: restarted; external: waited for, then the crawl
stops), the crawler killed with SIGKILL and restarted on its job directory. Every tor killed here is one this
module launched on the lab network, never the lab's shared client. The spool on a full disk is in
tests/unit/sink/test_spool_disk_full.py; Elasticsearch down in test_index_spool.py (docs/reliability.md)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid

import pytest

from crawler.lab.sites.truth import all_pages
from crawler.tor.launcher import launch_instances, restart_instance, stop_instances
from tests.integration.test_crawl import DARKCRAWL, REPO, crawl_env, indexed_pages, lab_network_lines, run_darkcrawl

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# one request at a time on one site, 0.4 s apart: slow enough to be interrupted half-way
SLOW = "[scrapy]\nCONCURRENT_REQUESTS_PER_DOMAIN = 1\nDOWNLOAD_DELAY = 0.4\nDOWNLOAD_DELAY_JITTER = 0\n"


def free_base_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1] + 1


def market_urls(tor_lab) -> set[str]:
    return {f"http://{tor_lab.onions['market']}{path}" for path in all_pages(tor_lab.onions)["market"]}


def start_crawl(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(DARKCRAWL + args, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for_pages(process: subprocess.Popen[str], pages: int, seen: list[str], timeout: float = 240) -> None:
    """Read the crawl's stderr (kept in *seen*) until its progress line shows *pages* pages."""
    deadline = time.monotonic() + timeout
    assert process.stderr is not None
    for line in process.stderr:
        seen.append(line)
        match = re.search(r"progress: (\d+) pages", line)
        if match and int(match.group(1)) >= pages:
            return
        assert time.monotonic() < deadline, "the crawl never got going:\n" + "".join(seen[-30:])
    raise AssertionError("the crawl ended before it could be interrupted:\n" + "".join(seen[-30:]))


def finish(process: subprocess.Popen[str], seen: list[str], timeout: float = 400) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, "".join(seen) + err


def summary(out: str) -> dict:
    return json.loads(out[out.index("{"):])


def why_lost(expected: set[str], urls: list[str], out: str, err: str) -> str:
    """What the crawl said about the pages missing from the index: the summary and its warnings and errors."""
    missing = sorted(expected - set(urls))
    said = [line for line in err.splitlines() if " WARNING " in line or " ERROR " in line or "failed" in line]
    return f"missing {missing}\nsummary {out.strip()[-1500:]}\n" + "\n".join(said[-40:])


def test_launched_tor_killed_mid_crawl_is_restarted_and_the_crawl_finishes(tor_lab, es_node, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    config = tmp_path / "slow.toml"
    config.write_text(SLOW)
    env = crawl_env(tor_lab, es_node, prefix, tmp_path / "data", DARKCRAWL_TOR_SOCKS="", DARKCRAWL_TOR_CONTROL="",
                    DARKCRAWL_TOR_BASE_PORT=str(free_base_port()), DARKCRAWL_PROGRESS_INTERVAL="1",
                    DARKCRAWL_TOR_CHECK_INTERVAL="3", DARKCRAWL_TOR_EXTRA_CONFIG=json.dumps(lab_network_lines(tor_lab)))
    process = start_crawl(["--config", str(config), "crawl", "--url", tor_lab.url("market"), "--depth", "10",
                           "--json"], env)
    seen: list[str] = []
    wait_for_pages(process, 8, seen)
    pid_file = tmp_path / "data" / "tor" / "0" / "tor.pid"
    tor_pid = int(pid_file.read_text())
    os.kill(tor_pid, signal.SIGKILL)
    code, out, err = finish(process, seen)
    assert code == 0, err[-3000:]
    assert "crawl paused" in err and "crawl resumed" in err
    result = summary(out)
    assert result["finish_reason"] == "finished"
    assert result["tor"].get("0/restarts") == 1, result["tor"]
    assert result["tor"].get("pauses", 0) >= 1
    pages = indexed_pages(es_node.client(), prefix)
    urls = [page["url"] for page in pages]
    assert len(urls) == len(set(urls))
    assert set(urls) == market_urls(tor_lab), "pages were lost while tor was down: " + why_lost(
        market_urls(tor_lab), urls, out, err)
    assert result["indexed"] == result["pages"] == len(urls), result
    assert not pid_file.exists(), "the restarted tor did not end with the crawl"  # tor removes it when it exits


@pytest.fixture
def own_tor(tor_lab, tmp_path):
    """A tor this test launched on the lab network (not the lab's shared client), with its torrc to restart it."""
    instances = launch_instances(1, tmp_path / "own-tor", free_base_port(), timeout=240,
                                 extra_config=lab_network_lines(tor_lab))
    yield instances[0]
    stop_instances(instances)


def test_external_tor_killed_pauses_the_crawl_until_it_is_back(own_tor, tor_lab, es_node, tmp_path):
    endpoint = own_tor.endpoint
    prefix = f"t{uuid.uuid4().hex[:8]}"
    config = tmp_path / "slow.toml"
    config.write_text(SLOW)
    env = crawl_env(tor_lab, es_node, prefix, tmp_path / "data", DARKCRAWL_TOR_SOCKS=endpoint.socks_address,
                    DARKCRAWL_TOR_CONTROL=f"127.0.0.1:{endpoint.control_port}", DARKCRAWL_PROGRESS_INTERVAL="1",
                    DARKCRAWL_TOR_CHECK_INTERVAL="3", DARKCRAWL_TOR_WAIT="180")
    process = start_crawl(["--config", str(config), "crawl", "--url", tor_lab.url("market"), "--depth", "10",
                           "--json"], env)
    seen: list[str] = []
    wait_for_pages(process, 8, seen)
    own_tor.process.kill()
    own_tor.process.wait()
    time.sleep(8)  # the crawl notices and pauses; nothing can be fetched meanwhile
    own_tor.process, own_tor.owner = restart_instance(own_tor.config, endpoint, timeout=240)
    code, out, err = finish(process, seen)
    assert code == 0, err[-3000:]
    assert "crawl paused" in err and "crawl resumed" in err
    result = summary(out)
    assert result["tor"].get("pauses", 0) >= 1 and "0/restarts" not in result["tor"]
    urls = [page["url"] for page in indexed_pages(es_node.client(), prefix)]
    assert len(urls) == len(set(urls))
    assert set(urls) == market_urls(tor_lab), why_lost(market_urls(tor_lab), urls, out, err)
    assert result["indexed"] == result["pages"] == len(urls), result


def test_external_tor_that_stays_dead_stops_the_crawl_after_the_wait(own_tor, tor_lab, es_node, tmp_path):
    endpoint = own_tor.endpoint
    config = tmp_path / "slow.toml"
    config.write_text(SLOW)
    env = crawl_env(tor_lab, es_node, f"t{uuid.uuid4().hex[:8]}", tmp_path / "data", DARKCRAWL_PROGRESS_INTERVAL="1",
                    DARKCRAWL_TOR_SOCKS=endpoint.socks_address,
                    DARKCRAWL_TOR_CONTROL=f"127.0.0.1:{endpoint.control_port}",
                    DARKCRAWL_TOR_CHECK_INTERVAL="3", DARKCRAWL_TOR_WAIT="10")
    process = start_crawl(["--config", str(config), "crawl", "--url", tor_lab.url("market"), "--depth", "10",
                           "--no-index"], env)
    seen: list[str] = []
    wait_for_pages(process, 5, seen)
    own_tor.process.kill()
    killed = time.monotonic()
    code, _out, err = finish(process, seen, timeout=180)
    assert code == 3, err[-3000:]
    assert "crawl paused" in err and "DARKCRAWL_TOR_WAIT=10" in err
    assert "the crawl stopped because Tor became unusable" in err
    assert "Traceback" not in err
    assert time.monotonic() - killed < 10 + 60


def test_crawler_killed_with_sigkill_resumes_from_its_jobdir_and_indexes_every_page_once(tor_lab, es_node, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    config = tmp_path / "slow.toml"
    config.write_text(SLOW)
    env = crawl_env(tor_lab, es_node, prefix, tmp_path / "data", DARKCRAWL_PROGRESS_INTERVAL="1")
    args = ["--config", str(config), "crawl", "--url", tor_lab.url("market"), "--depth", "10",
            "--jobdir", str(tmp_path / "job")]
    process = start_crawl(args, env)
    seen: list[str] = []
    wait_for_pages(process, 10, seen)
    process.kill()  # SIGKILL: no clean stop, Scrapy saves nothing, the indexing buffer is lost
    process.communicate(timeout=60)
    first = {page["url"] for page in indexed_pages(es_node.client(), prefix)}
    assert len(first) < len(market_urls(tor_lab)), "the crawl was not killed half-way; the test would prove nothing"
    assert (tmp_path / "job" / "darkcrawl.running").exists()

    result = run_darkcrawl(args, env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "did not stop cleanly" in result.stderr
    urls = [page["url"] for page in indexed_pages(es_node.client(), prefix)]
    assert len(urls) == len(set(urls))
    assert set(urls) == market_urls(tor_lab)
    assert not (tmp_path / "job" / "darkcrawl.running").exists()


def test_site_whose_circuits_keep_failing_gets_newnym_on_its_tor(own_tor, tor_lab, es_node, tmp_path):
    from crawler.lab.sites import placeholder_onion

    endpoint = own_tor.endpoint
    missing = placeholder_onion("never-published")  # a valid v3 address no lab service publishes: every try fails
    config = tmp_path / "retry.toml"
    config.write_text("[scrapy]\nRETRY_TIMES = 4\n")
    env = crawl_env(tor_lab, es_node, f"t{uuid.uuid4().hex[:8]}", tmp_path / "data",
                    DARKCRAWL_TOR_SOCKS=endpoint.socks_address,
                    DARKCRAWL_TOR_CONTROL=f"127.0.0.1:{endpoint.control_port}",
                    DARKCRAWL_TOR_NEW_CIRCUIT_AFTER="1", DARKCRAWL_TOR_NEWNYM_AFTER="2")
    result = run_darkcrawl(["--config", str(config), "crawl", "--url", f"http://{missing}/", "--depth", "0",
                            "--no-index", "--json"], env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    tor = summary(result.stdout)["tor"]
    assert tor.get("0/circuit_errors", 0) >= 4, tor
    assert tor.get("0/newnym", 0) >= 1, tor  # tor accepted at least one; a second within 10 s may be refused
    assert tor.get("0/newnym", 0) + tor.get("0/newnym_refused", 0) >= 2, tor
