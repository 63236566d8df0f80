"""Elasticsearch unreachable: pages go to the spool and nothing is lost; replayed into the real node exactly once."""

from __future__ import annotations

import pytest
from elasticsearch import AsyncElasticsearch

from crawler.es.schema import index_names, init_schema
from pipelines.indexing import BulkConfig, PageSink, replay_spool
from pipelines.spool import Spool

pytestmark = pytest.mark.integration


def page(number: int) -> dict:
    return {"url": f"http://example{number}.onion/", "site": f"example{number}.onion", "status": 200,
            "fetched_at": "2026-11-29T00:00:00.000Z", "crawl_id": "c", "canonical_url": f"http://example{number}.onion/",
            "content_sha256": f"{number:064x}", "title": f"page {number}", "text": "text"}


async def test_unreachable_elasticsearch_spools_then_replay_indexes_each_page_once(es_node, es_prefix, tmp_path):
    client = es_node.client()
    settings = es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix)
    names = index_names(settings)
    init_schema(client, names, lambda message: None)
    spool = Spool(tmp_path / "spool" / "pages.jsonl", max_bytes=0)
    config = BulkConfig(max_docs=3, max_bytes=10**6, flush_interval=60, max_retries=0,
                        dead_letter_path=tmp_path / "dead.jsonl")
    counts: dict[str, int] = {}

    def count(key: str, value: int) -> None:
        counts[key] = counts.get(key, 0) + value

    dead = AsyncElasticsearch(hosts=["http://127.0.0.1:1"], request_timeout=2, max_retries=0)
    sink = PageSink(dead, names.pages, config, count, spool=spool)
    for number in range(7):
        await sink.add(page(number))
    await sink.flush()
    await dead.close()
    assert counts.get("darkcrawl/index/spooled") == 7 and spool.count() == 7

    live = es_node.async_client()
    try:
        replay_sink = PageSink(live, names.pages, config, count, spool=spool)
        assert await replay_spool(replay_sink) == 7
        assert await replay_spool(replay_sink) == 0  # nothing twice
    finally:
        await live.close()
    assert spool.count() == 0
    client.indices.refresh(index=names.pages)
    hits = client.search(index=names.pages, size=100, query={"match_all": {}})["hits"]["hits"]
    assert sorted(hit["_source"]["url"] for hit in hits) == sorted(page(n)["url"] for n in range(7))
    assert not (tmp_path / "dead.jsonl").exists()
    client.close()
