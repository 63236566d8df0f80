"""Hostile responses (the lab's ``hostile`` onion, crawler/lab/special/hostile.py) against a real crawl through the
lab's Tor and into Elasticsearch: every case bounded by its limit, counted, logged once, the crawl finishes, and the
crawl process's memory stays under :data:`RSS_CEILING_MB` (docs/reliability.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import uuid

import pytest

from crawler.lab.special import hostile
from tests.integration.test_crawl import DARKCRAWL, REPO, crawl_env, indexed_pages, run_darkcrawl

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Peak RSS of the whole crawl process (Scrapy, extraction, the ES client) while it meets every hostile case with
# DOWNLOAD_MAXSIZE 5 MB; a normal crawl peaks at about 220 MB (docs/performance.md). A bomb inflated in memory
# would take 1 GiB, the 50 MB page 50 MB per copy.
RSS_CEILING_MB = 350
RESPONSE_MAX_TIME = 30  # seconds; the slowloris would otherwise hold its slot for DARKCRAWL_RESPONSE_MAX_TIME (180)
MAX_PAGES_PER_SITE = 150
EVERY_REASON = {
    "decompressed_too_large": 3,  # gzip, deflate, brotli
    "too_large": 2,  # the 50 MB page (announced), the endless response (received)
    "too_slow": 1,  # slowloris
    "redirect_loop": 1,  # cycle-a <-> cycle-b
    "too_many_redirects": 1,  # loop/0 -> loop/1 -> ...
    "redirect_refused": 1,  # to a clearnet host, in an onion-only crawl
    "url_too_long": 1,  # the 10,000-character link
    "link_trap": 1,  # the calendar
}


def run_measured(args: list[str], env: dict[str, str], timeout: float) -> tuple[int, str, str, float]:
    """Run darkcrawl; return (exit code, stdout, stderr, peak RSS in MB of the crawl process, from wait4)."""
    process = subprocess.Popen(DARKCRAWL + args, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:
        output[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(name, stream))
               for name, stream in (("out", process.stdout), ("err", process.stderr))]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.2)
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    return (process.returncode, output["out"].decode(errors="replace"), output["err"].decode(errors="replace"),
            usage.ru_maxrss / 1024)


@pytest.fixture(scope="module")
def hostile_crawl(tor_lab, es_node, tmp_path_factory):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path_factory.mktemp("hostile-data")
    config = data_dir / "fast.toml"
    config.write_text("[scrapy]\nDOWNLOAD_DELAY = 0\nCONCURRENT_REQUESTS_PER_DOMAIN = 4\n")
    env = crawl_env(tor_lab, es_node, prefix, data_dir, DARKCRAWL_RESPONSE_MAX_TIME=str(RESPONSE_MAX_TIME),
                    DARKCRAWL_MAX_PATTERN_CHAIN="3")
    started = time.monotonic()
    code, out, err, rss = run_measured(
        ["--config", str(config), "crawl", "--url", tor_lab.url("hostile"), "--depth", "8",
         "--max-pages-per-site", str(MAX_PAGES_PER_SITE), "--json"], env, timeout=600)
    return {"prefix": prefix, "code": code, "out": out, "err": err, "rss": rss,
            "elapsed": time.monotonic() - started}


def summary(crawl) -> dict:
    assert crawl["code"] == 0, crawl["err"][-3000:]
    return json.loads(crawl["out"][crawl["out"].index("{"):])


def test_hostile_site_is_crawled_to_the_end_within_memory(hostile_crawl):
    result = summary(hostile_crawl)
    assert result["finish_reason"] == "finished"
    print(f"hostile crawl: peak RSS {hostile_crawl['rss']:.0f} MB, {hostile_crawl['elapsed']:.0f} s")
    assert hostile_crawl["rss"] < RSS_CEILING_MB, f"peak RSS {hostile_crawl['rss']:.0f} MB"
    assert "Traceback" not in hostile_crawl["err"]


def test_every_hostile_case_is_counted_with_its_reason(hostile_crawl):
    counted = summary(hostile_crawl)["hostile"]
    for reason, at_least in EVERY_REASON.items():
        assert counted.get(reason, 0) >= at_least, (reason, counted)


def test_each_reason_is_logged_once(hostile_crawl):
    site = hostile_crawl_site(hostile_crawl)
    for reason in EVERY_REASON:
        lines = [line for line in hostile_crawl["err"].splitlines()
                 if f"hostile response from {site}: {reason}," in line]
        assert len(lines) == 1, (reason, lines)
    # Scrapy's own lines for the same events are replaced by ours
    scrapy_lines = [line for line in hostile_crawl["err"].splitlines() if " scrapy." in line]
    assert not [line for line in scrapy_lines if "download max size" in line or "during decompression" in line]


def hostile_crawl_site(crawl) -> str:
    match = re.search(r"hostile response from (\S+\.onion):", crawl["err"])
    assert match, crawl["err"][-2000:]
    return match.group(1)


def test_link_trap_is_bounded_by_the_page_budget(hostile_crawl, tor_lab, es_node):
    pages = indexed_pages(es_node.client(), hostile_crawl["prefix"])
    calendar = [page for page in pages if "/trap/calendar/" in page["url"]]
    assert 0 < len(calendar) < MAX_PAGES_PER_SITE
    assert len(pages) <= MAX_PAGES_PER_SITE


def test_hard_pages_are_indexed_with_their_text(hostile_crawl, tor_lab, es_node):
    client = es_node.client()
    client.indices.refresh(index=f"{hostile_crawl['prefix']}-pages")
    found = client.search(index=f"{hostile_crawl['prefix']}-pages", size=200, query={"match_all": {}},
                          source_includes=["url", "text", "emails", "title"])
    by_path = {hit["_source"]["url"].split(".onion", 1)[1]: hit["_source"] for hit in found["hits"]["hits"]}
    for path in ("/longline", "/deep", "/binary", *(f"/charset/{name}" for name in hostile.CHARSET_CASES)):
        assert path in by_path, f"{path} was not indexed: {sorted(by_path)[:20]}"
    assert hostile.LONG_LINE_EMAIL in json.dumps(by_path["/longline"])
    assert hostile.DEEP_SENTENCE in by_path["/deep"]["text"]
    assert "caf" in by_path["/charset/lying-utf8"]["text"]
    never = ("/bomb/gzip", "/bomb/deflate", "/bomb/br", "/big", "/endless", "/slowloris", "/redirect/loop/0")
    assert not [path for path in by_path if path in never or path.startswith("/long/")]


def test_redirect_to_clearnet_goes_through_tor_when_clearnet_is_allowed(tor_lab, es_node, tmp_path):
    from stem.control import Controller, EventType

    targets: list[str] = []

    def on_stream(event) -> None:
        targets.append(event.target_address or "")

    env = crawl_env(tor_lab, es_node, f"t{uuid.uuid4().hex[:8]}", tmp_path)
    with Controller.from_port(port=tor_lab.control_port) as controller:
        controller.authenticate()
        controller.add_event_listener(on_stream, EventType.STREAM)
        result = run_darkcrawl(["crawl", "--url", tor_lab.url("hostile", "/redirect/clearnet"), "--allow-clearnet",
                                "--depth", "0", "--no-index", "--json"], env, timeout=300)
        controller.remove_event_listener(on_stream)
    assert result.returncode == 0, result.stderr[-3000:]
    clearnet_host = hostile.CLEARNET_TARGET.split("/")[2]
    assert clearnet_host in targets, "the redirect to the clearnet host did not reach Tor"
    assert "redirect_refused" not in json.loads(result.stdout[result.stdout.index("{"):])["hostile"]
