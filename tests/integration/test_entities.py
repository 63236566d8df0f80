"""The entities index on the real node: the sink writes sightings and rolls entities up from them, so "which pages
mention address X / key F" is answered exactly, across sites, after a recrawl, with two sinks writing at once, and
after a replay from the spool."""

from __future__ import annotations

import asyncio

import pytest

from crawler.es.schema import entity_id
from crawler.sink.bulk import BulkConfig, PageSink, replay_spool
from crawler.sink.entities import CRYPTO, PGP, normalise
from crawler.sink.rollup import EntityRollup
from crawler.sink.spool import Spool

pytestmark = pytest.mark.integration

SITE_A = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
SITE_B = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
BTC = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
FINGERPRINT = "6E2D8D5C9B9E2F1A0C3B7A4D5E6F708192A3B4C5"


def page(site: str, number: int, fetched: str, addresses=(BTC,), keys=(FINGERPRINT,), crawl="c1") -> dict:
    return {
        "url": f"http://{site}/item/{number}", "canonical_url": f"http://{site}/item/{number}", "site": site,
        "status": 200, "fetched_at": fetched, "crawl_id": crawl, "title": f"item {number}", "text": "pay here",
        "content_sha256": f"{number:064x}",
        "signals": {
            "crypto_addresses": [{"currency": "BTC" if a.startswith("bc1") else "ETH", "address": a,
                                  "kind": "p2wpkh", "context": "", "ambiguous_with": [], "checksum": "verified"}
                                 for a in addresses],
            "pgp_keys": [{"fingerprint": k, "key_id": k[-16:], "version": 4, "algorithm": "RSA", "bits": 4096,
                          "created": "2024-01-02T03:04:05Z", "uids": ["NightOwl <n@example.org>"]} for k in keys],
            "emails": [], "handles": [{"network": "telegram", "handle": "nightowl_shop"}],
            "vendors": [{"name": "Night  Owl", "source": "heuristic:vendor"}],
            "onions": [SITE_A, SITE_B], "keywords": [],
        },
    }


def counter() -> tuple[dict[str, int], object]:
    counts: dict[str, int] = {}

    def count(key: str, value: int) -> None:
        counts[key] = counts.get(key, 0) + value

    return counts, count


def make_sink(es_node, es_names, tmp_path, spool=None, client=None, max_docs=20, retries=2):
    client = client or es_node.async_client()
    counts, count = counter()
    config = BulkConfig(max_docs=max_docs, max_bytes=10**7, flush_interval=60, max_retries=retries,
                        dead_letter_path=tmp_path / "dead.jsonl")
    sink = PageSink(client, es_names.pages, config, count, spool=spool,
                    rollup=EntityRollup(client, es_names.sightings, es_names.entities))
    return sink, counts



def entity(es_node, es_names, kind: str, value: str) -> dict:
    client = es_node.client()
    try:
        return client.get(index=es_names.entities, id=entity_id(kind, value))["_source"]
    finally:
        client.close()


async def index_all(sink: PageSink, documents: list[dict]) -> None:
    for document in documents:
        await sink.add(document)
    await sink.flush()


async def test_address_and_key_across_two_sites_and_a_recrawl(es_node, es_names, tmp_path):
    sink, counts = make_sink(es_node, es_names, tmp_path)
    first = [page(SITE_A, n, "2026-11-20T10:00:00.000Z") for n in range(3)]
    first += [page(SITE_B, n, "2026-11-21T10:00:00.000Z", keys=()) for n in range(2)]
    first.append(page(SITE_B, 99, "2026-11-21T11:00:00.000Z", addresses=(), keys=()))  # neither signal
    try:
        await index_all(sink, first)
        address = entity(es_node, es_names, CRYPTO, BTC)
        assert address["counts"] == {"pages": 5, "sites": 2}
        assert set(address["sites"]) == {SITE_A, SITE_B}
        assert address["sites"][0] == SITE_B  # most recent first
        assert sorted(address["pages"]) == sorted(document["url"] for document in first[:5])
        assert address["first_seen"].startswith("2026-11-20T10:00") and address["last_seen"].startswith("2026-11-21")
        assert address["attributes"]["currency"] == "BTC"
        key = entity(es_node, es_names, PGP, FINGERPRINT)
        assert key["counts"] == {"pages": 3, "sites": 1} and key["sites"] == [SITE_A]

        # recrawl: the same pages fetched again (no double counting); one no longer shows the address, which stays
        # a sighting (history is kept), with its last date that of the earlier fetch
        again = [page(SITE_A, n, "2026-11-25T10:00:00.000Z", crawl="c2") for n in range(2)]
        again.append(page(SITE_A, 2, "2026-11-25T10:00:00.000Z", addresses=(), crawl="c2"))
        again.append(page(SITE_B, 0, "2026-11-25T10:00:00.000Z", keys=(), crawl="c2"))
        await index_all(sink, again)
        address = entity(es_node, es_names, CRYPTO, BTC)
        assert address["counts"] == {"pages": 5, "sites": 2}
        assert address["first_seen"].startswith("2026-11-20T10:00") and address["last_seen"].startswith("2026-11-25")
        key = entity(es_node, es_names, PGP, FINGERPRINT)
        assert key["counts"] == {"pages": 3, "sites": 1}
        assert key["first_seen"].startswith("2026-11-20") and key["last_seen"].startswith("2026-11-25")
        vendor = entity(es_node, es_names, "vendor", "night owl")
        assert vendor["label"] == "Night Owl" and vendor["counts"]["pages"] == 6  # page 99 too
        # a site's own onion is not a sighting of it: SITE_A is mentioned by SITE_B's pages only
        assert entity(es_node, es_names, "onion", SITE_A)["counts"] == {"pages": 3, "sites": 1}
        assert counts.get("darkcrawl/index/indexed") == 10 and not (tmp_path / "dead.jsonl").exists()
    finally:
        await sink.client.close()


async def test_ethereum_address_in_any_case_is_one_entity(es_node, es_names, tmp_path):
    sink, _counts = make_sink(es_node, es_names, tmp_path)
    try:
        await index_all(sink, [page(SITE_A, 1, "2026-11-20T10:00:00.000Z", addresses=(ETH,), keys=()),
                               page(SITE_B, 2, "2026-11-20T10:00:00.000Z", addresses=(ETH.lower(),), keys=())])
    finally:
        await sink.client.close()
    stored = entity(es_node, es_names, CRYPTO, normalise(CRYPTO, ETH.upper().replace("0X", "0x")) or "")
    assert stored["counts"] == {"pages": 2, "sites": 2} and stored["value"] == ETH.lower()


async def test_two_sinks_updating_the_same_entity_at_once_stay_exact(es_node, es_names, tmp_path):
    """Two writers (their own clients, as two crawler processes) index disjoint pages that share one address and
    one key, in small interleaved batches: the entity ends with every page counted once."""
    one, _ = make_sink(es_node, es_names, tmp_path, max_docs=3)
    two, _ = make_sink(es_node, es_names, tmp_path, max_docs=3)
    pages_one = [page(SITE_A, n, f"2026-11-20T10:{n:02d}:00.000Z") for n in range(30)]
    pages_two = [page(SITE_B, n, f"2026-11-20T11:{n:02d}:00.000Z") for n in range(30)]
    try:
        await asyncio.gather(index_all(one, pages_one), index_all(two, pages_two),
                             index_all(one, pages_one[:6]))  # and a repeat of pages already written
    finally:
        await one.client.close()
        await two.client.close()
    assert one.rollup.conflicts + two.rollup.conflicts > 0  # the writers did collide (10-24 times in runs here)
    address = entity(es_node, es_names, CRYPTO, BTC)
    assert address["counts"] == {"pages": 60, "sites": 2}
    assert address["last_seen"].startswith("2026-11-20T11:29")
    assert entity(es_node, es_names, PGP, FINGERPRINT)["counts"] == {"pages": 60, "sites": 2}
    client = es_node.client()
    try:
        client.indices.refresh(index=es_names.sightings)
        assert client.count(index=es_names.sightings, query={"term": {"value": BTC}})["count"] == 60
    finally:
        client.close()


async def test_spooled_pages_replay_into_entities_once(es_node, es_names, tmp_path):
    from elasticsearch import AsyncElasticsearch

    spool = Spool(tmp_path / "spool" / "pages.jsonl", max_bytes=0)
    dead = AsyncElasticsearch(hosts=["http://127.0.0.1:1"], request_timeout=2, max_retries=0)
    sink, counts = make_sink(es_node, es_names, tmp_path, spool=spool, client=dead, retries=0)
    documents = [page(SITE_A, n, "2026-11-20T10:00:00.000Z") for n in range(4)]
    await index_all(sink, documents)
    await dead.close()
    assert spool.count() == 4 and counts["darkcrawl/index/spooled"] == 4

    live, _ = make_sink(es_node, es_names, tmp_path, spool=spool)
    try:
        assert await replay_spool(live) == 4
        spool.append(documents[:2])  # the same pages spooled a second time (a replay cut short, then rerun)
        assert await replay_spool(live) == 2
    finally:
        await live.client.close()
    assert spool.count() == 0
    assert entity(es_node, es_names, CRYPTO, BTC)["counts"] == {"pages": 4, "sites": 1}


def run_cli(es_node, prefix: str, *args: str):
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env |= es_node.env() | {"DARKCRAWL_ES_INDEX_PREFIX": prefix}
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


async def test_pivot_and_search_filters_from_the_command_line(es_node, es_names, tmp_path):
    import json

    sink, _counts = make_sink(es_node, es_names, tmp_path)
    documents = [page(SITE_A, n, f"2026-11-2{n}T10:00:00.000Z") for n in range(3)]
    documents.append(page(SITE_B, 7, "2026-11-26T10:00:00.000Z", keys=(), addresses=(ETH,)))
    documents[0]["signals"]["keywords"] = [{"term": "cvv", "category": "fraud", "count": 2}]
    try:
        await index_all(sink, documents)
    finally:
        await sink.client.close()
    es = es_node.client()
    es.indices.refresh(index=es_names.pages)
    es.close()

    spaced = " ".join(FINGERPRINT[i : i + 4] for i in range(0, 40, 4)).lower()  # as a key server prints it
    result = run_cli(es_node, es_names.prefix, "pivot", spaced, "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    [key] = answer["entities"]
    assert (key["kind"], key["value"]) == (PGP, FINGERPRINT)
    assert key["counts"] == {"pages": 3, "sites": 1} and key["attributes"]["algorithm"] == "RSA"
    assert [p["url"] for p in key["pages"]] == [documents[n]["url"] for n in (2, 1, 0)]  # most recent first
    assert key["first_seen"].startswith("2026-11-20") and key["last_seen"].startswith("2026-11-22")
    assert key["sites"] == [{"site": SITE_A, "pages": 3, "first_seen": key["first_seen"],
                             "last_seen": key["last_seen"]}]

    result = run_cli(es_node, es_names.prefix, "pivot", ETH.upper().replace("0X", "0x"))  # any case: one address
    assert result.returncode == 0, result.stderr
    assert "seen on 1 page(s) of 1 site(s)" in result.stdout and documents[3]["url"] in result.stdout
    result = run_cli(es_node, es_names.prefix, "pivot", "telegram:@NightOwl_Shop", "--json")
    assert json.loads(result.stdout)["entities"][0]["counts"] == {"pages": 4, "sites": 2}
    result = run_cli(es_node, es_names.prefix, "pivot", "nobody@example.org", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["entities"] == []

    def search(*args: str) -> set[str]:
        result = run_cli(es_node, es_names.prefix, "search", "", "--json", *args)
        assert result.returncode == 0, result.stderr
        return {hit["url"] for hit in json.loads(result.stdout)["hits"]}

    assert search("--category", "fraud") == {documents[0]["url"]}
    assert search("--entity-kind", "pgp_fingerprint") == {document["url"] for document in documents[:3]}
    assert search("--entity-kind", "crypto_address", "--site", SITE_B) == {documents[3]["url"]}
    assert search("--category", "weapons") == set()


def test_pivot_and_search_say_clearly_when_elasticsearch_is_down(es_node, tmp_path):
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env |= {"DARKCRAWL_ES_URL": "http://127.0.0.1:1", "DARKCRAWL_DATA_DIR": str(tmp_path)}
    for args in (["pivot", BTC], ["search", "x", "--entity-kind", "email"]):
        result = subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 3 and "cannot be reached" in result.stderr and "Traceback" not in result.stderr
