"""The lab crawl through the real Tor network into the real node: the entities index answers "which pages mention
address X / key F" exactly as the fixture sites' ground truth says, across sites, and a recrawl counts nothing twice.
The crawl's record is in the crawls index with its stats."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest

from crawler.es.schema import entity_id
from crawler.lab.sites import SITE_NAMES
from crawler.lab.sites.truth import expected_signals
from crawler.sink.entities import CRYPTO, PGP, normalise
from tests.integration.test_crawl import crawl_env, expected_urls, run_darkcrawl, seed_args

pytestmark = pytest.mark.integration


def truth_index(tor_lab) -> dict[tuple[str, str], set[str]]:
    """(kind, value) -> URLs of the fixture pages that show it."""
    where: dict[tuple[str, str], set[str]] = defaultdict(set)
    for name in SITE_NAMES:
        for path, signals in expected_signals(name, tor_lab.onions).items():
            url = f"http://{tor_lab.onions[name]}{path}"
            for address in signals["crypto_addresses"]:
                where[(CRYPTO, normalise(CRYPTO, address["address"]) or address["address"])].add(url)
            for fingerprint in signals["pgp_fingerprints"]:
                where[(PGP, fingerprint)].add(url)
    return where


@pytest.fixture(scope="module")
def lab_crawl(tor_lab, es_node, tmp_path_factory):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    env = crawl_env(tor_lab, es_node, prefix, tmp_path_factory.mktemp("entities-data"))
    result = run_darkcrawl(["crawl", *seed_args(tor_lab), "--depth", "10", "--json"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return prefix, env, result


def sightings_of(client, prefix: str, kind: str, value: str) -> set[str]:
    client.indices.refresh(index=f"{prefix}-sightings")
    query = {"term": {"entity_id": entity_id(kind, value)}}
    hits = client.search(index=f"{prefix}-sightings", size=10_000, query=query)
    return {hit["_source"]["url"] for hit in hits["hits"]["hits"]}


def check_entities(client, prefix: str, truth: dict[tuple[str, str], set[str]]) -> int:
    across_sites = 0
    for (kind, value), urls in truth.items():
        assert sightings_of(client, prefix, kind, value) == urls, (kind, value)
        stored = client.get(index=f"{prefix}-entities", id=entity_id(kind, value))["_source"]
        sites = {url.split("/")[2] for url in urls}
        assert stored["counts"] == {"pages": len(urls), "sites": len(sites)}, (kind, value)
        assert set(stored["sites"]) == sites
        assert set(stored["pages"]) <= urls and len(stored["pages"]) == min(len(urls), 100)
        across_sites += len(sites) > 1
    return across_sites


def test_entities_answer_which_pages_mention_an_address_or_key(lab_crawl, tor_lab, es_node):
    prefix, _env, _result = lab_crawl
    truth = truth_index(tor_lab)
    assert any(kind == CRYPTO for kind, _ in truth) and any(kind == PGP for kind, _ in truth)
    client = es_node.client()
    try:
        assert check_entities(client, prefix, truth) > 0, "the fixture should share some value across sites"
    finally:
        client.close()


def test_crawl_record_has_the_runs_stats(lab_crawl, tor_lab, es_node):
    import json

    prefix, _env, result = lab_crawl
    summary = json.loads(result.stdout)
    client = es_node.client()
    try:
        record = client.get(index=f"{prefix}-crawls", id=summary["crawl_id"])["_source"]
    finally:
        client.close()
    assert record["status"] == "finished" and record["finish_reason"] == "finished"
    assert record["pages_fetched"] == summary["pages"] == len(expected_urls(tor_lab))
    assert record["pages_indexed"] == summary["indexed"]
    assert record["requests"] >= record["responses"] >= record["pages_fetched"] and record["bytes"] > 0
    assert record["statuses"]["200"] >= record["pages_fetched"]
    assert set(record["sites"]) == {tor_lab.onions[name] for name in SITE_NAMES}
    assert record["options"]["depth_limit"] == 10
    assert record["started_at"] < record["finished_at"] and record["elapsed_seconds"] > 0
    assert record["stats"]["darkcrawl/pages"] == record["pages_fetched"]


def test_recrawl_counts_nothing_twice(lab_crawl, tor_lab, es_node):
    prefix, env, _ = lab_crawl
    result = run_darkcrawl(["crawl", *seed_args(tor_lab), "--depth", "10"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    client = es_node.client()
    try:
        check_entities(client, prefix, truth_index(tor_lab))
        client.indices.refresh(index=f"{prefix}-crawls")
        assert client.count(index=f"{prefix}-crawls")["count"] == 2
    finally:
        client.close()
