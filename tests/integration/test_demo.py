"""`darkcrawl demo`, the README's first command, end to end: on the session's lab (reused, as a second `demo` reuses
a running lab) and Elasticsearch node (through ``DARKCRAWL_ES_URL``, as with a cluster of one's own)."""

from __future__ import annotations

import re
import uuid

import pytest

from crawler.lab.sites import SITE_NAMES
from tests.integration.test_crawl import crawl_env, expected_urls, indexed_pages, run_darkcrawl

pytestmark = pytest.mark.integration

STALE_SITE = "stalexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion"


def test_demo_crawls_the_fixture_onions_through_tor_and_answers_a_search_on_that_crawl(tor_lab, es_node, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    env = crawl_env(tor_lab, es_node, prefix, tmp_path / "data", DARKCRAWL_LAB_DIR=str(tor_lab.lab_dir),
                    DARKCRAWL_LAB_BASE_PORT=str(tor_lab.base_port))
    for key in ("DARKCRAWL_TOR_SOCKS", "DARKCRAWL_TOR_CONTROL"):  # the demo finds Tor in its lab
        env.pop(key)
    init = run_darkcrawl(["es", "init"], env, timeout=120)
    assert init.returncode == 0, init.stderr[-2000:]
    # an earlier crawl's page (an earlier lab had other onion addresses): the demo's sample search must not show it
    client = es_node.client()
    client.index(index=f"{prefix}-pages", id="stale", refresh=True, document={
        "url": f"http://{STALE_SITE}/escrow", "site": STALE_SITE, "title": "Old escrow page",
        "text": "bitcoin escrow bitcoin escrow", "crawl_id": "an-earlier-crawl",
        "first_seen": "2026-01-01T00:00:00Z", "last_seen": "2026-01-01T00:00:00Z"})

    result = run_darkcrawl(["demo"], env, timeout=600)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "using the Elasticsearch cluster at" in result.stderr  # it did not start a node of its own
    expected = expected_urls(tor_lab)
    crawled = re.search(r"crawled (\d+) pages through Tor in \d+s \(finished\)", result.stdout)
    assert crawled and int(crawled.group(1)) == len(expected), result.stdout
    assert f"indexed {len(expected)} pages from {len(SITE_NAMES)} sites:" in result.stdout, result.stdout
    urls = [page["url"] for page in indexed_pages(client, prefix) if page["site"] != STALE_SITE]
    assert sorted(urls) == sorted(expected)
    search = re.search(r"sample search 'bitcoin escrow' in this crawl: (\d+) pages; best:\n((?:.*\n)*?)\n",
                       result.stdout)
    assert search and int(search.group(1)) > 0, result.stdout
    shown = re.findall(r"http://([a-z2-7]{56}\.onion)/\S*", search.group(2))
    assert shown and set(shown) <= {tor_lab.onions[name] for name in SITE_NAMES}, search.group(2)
    assert STALE_SITE not in result.stdout
    assert tor_lab.state().ready, "the demo left the lab it reused unusable"
