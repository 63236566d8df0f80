"""The watches' reads of the real pages index: clone references and known sites (sync and async loaders), and
`darkcrawl watch test --url` on an indexed page. The crawl and the hunt that use them: test_watch_alerts.py."""

from __future__ import annotations

import json

import pytest

from crawler.cli import main
from crawler.es.schema import index_names, init_schema
from crawler.identity import page_id
from crawler.lab.sites import placeholder_onion
from crawler.watch.clone import MIN_TEXT, aload_clone_references, load_clone_references
from crawler.watch.newsite import aload_known_sites, load_known_sites
from tests.unit.watch_support import lab_docs

pytestmark = pytest.mark.integration

MARKET = placeholder_onion("market")
PHISHING = placeholder_onion("phishing")


@pytest.fixture
def indexed(es_node, es_prefix):
    """The market (first seen 2026-12-01) and its phishing clone (2026-12-05) in a fresh pages index."""
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    client = es_node.client()
    init_schema(client, names, lambda message: None)
    operations: list[dict] = []
    for site, seen in (("market", "2026-12-01T00:00:00.000Z"), ("phishing", "2026-12-05T00:00:00.000Z")):
        for document in lab_docs(site).values():
            operations += [{"index": {"_index": names.pages, "_id": page_id(document["url"])}},
                           document | {"first_seen": seen, "last_seen": seen}]
    result = client.bulk(operations=operations, refresh="wait_for")
    assert not result["errors"]
    yield names, client
    client.close()


async def test_loaders_read_the_pages_index(es_node, indexed, monkeypatch):
    names, client = indexed
    long_enough = sum(doc["signals"]["text_length"] >= MIN_TEXT for doc in lab_docs("market").values())
    references = load_clone_references(client, names, [MARKET])
    assert len(references) == long_enough > 30
    assert set(references.sites) == {MARKET}
    assert load_known_sites(client, names, before="2026-12-03").sites == {MARKET}
    assert load_known_sites(client, names).sites == {MARKET, PHISHING}
    monkeypatch.setattr("crawler.watch.newsite.PAGE_SIZE", 1)  # one site per request: the paging is what is read
    assert load_known_sites(client, names).sites == {MARKET, PHISHING}
    async_client = es_node.async_client()
    try:
        assert len(await aload_clone_references(async_client, names, [MARKET])) == long_enough
        assert (await aload_known_sites(async_client, names, before="2026-12-06")).sites == {MARKET, PHISHING}
    finally:
        await async_client.close()


def test_watch_test_on_an_indexed_page(es_node, es_prefix, indexed, tmp_path, monkeypatch, capsys):
    for name, value in (es_node.env() | {"DARKCRAWL_ES_INDEX_PREFIX": es_prefix,
                                         "DARKCRAWL_DATA_DIR": str(tmp_path / "data")}).items():
        monkeypatch.setenv(name, value)
    assert main(["watch", "add", "market clones", "--kind", "clone", "--site", MARKET, "--json"]) == 0
    watch_id = json.loads(capsys.readouterr().out)["id"]
    assert main(["watch", "test", watch_id, "--url", f"http://{PHISHING}/product/110", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fires"] and result["clone"]["of_url"] == f"http://{MARKET}/product/110"
    assert result["clone"]["addresses"]["this"] and result["clone"]["addresses"]["watched"]
    assert main(["watch", "test", watch_id, "--url", f"http://{MARKET}/product/110"]) == 0
    assert "would not fire" in capsys.readouterr().out  # the watched site itself
    assert main(["watch", "test", watch_id, "--url", f"http://{PHISHING}/nowhere"]) == 2
    assert "is not in the index" in capsys.readouterr().err
