"""Elasticsearch unreachable: pages go to the spool and nothing is lost; replayed into the real node exactly once."""

from __future__ import annotations

import pytest
from elasticsearch import AsyncElasticsearch

from crawler.es.schema import index_names, init_schema
from crawler.sink.bulk import BulkConfig, PageSink, replay_spool
from crawler.sink.spool import Spool

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


async def test_a_rejected_document_goes_to_the_dead_letter_file_and_the_rest_is_indexed(es_node, es_prefix, tmp_path):
    import json

    from crawler.sink.rollup import EntityRollup

    client = es_node.client()
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    init_schema(client, names, lambda message: None)
    config = BulkConfig(max_docs=100, max_bytes=10**6, flush_interval=60, max_retries=1,
                        dead_letter_path=tmp_path / "dead-letter" / "pages.jsonl")
    counts: dict[str, int] = {}
    live = es_node.async_client()
    sink = PageSink(live, names.pages, config, lambda key, value: counts.__setitem__(key, counts.get(key, 0) + value),
                    rollup=EntityRollup(live, names.sightings, names.entities))
    documents = [page(number) | {"signals": {"emails": [f"seller{number}@example.org"]}} for number in range(5)]
    documents[2] = documents[2] | {"status": "two hundred"}  # not a short: a mapping error
    documents[3] = documents[3] | {"unmapped_field": 1}  # strict mapping: refused
    try:
        for document in documents:
            await sink.add(document)
        await sink.flush()
    finally:
        await live.close()
    assert counts["darkcrawl/index/indexed"] == 3 and counts["darkcrawl/index/failed"] == 2
    records = [json.loads(line) for line in config.dead_letter_path.read_text().splitlines()]
    assert sorted(record["document"]["url"] for record in records) == [documents[2]["url"], documents[3]["url"]]
    reasons = {record["document"]["url"]: record["error"] for record in records}
    assert reasons[documents[2]["url"]]["type"] == "document_parsing_exception"
    assert "status" in reasons[documents[2]["url"]]["reason"]
    assert "unmapped_field" in reasons[documents[3]["url"]]["reason"]
    client.indices.refresh(index=names.pages)
    indexed = {hit["_source"]["url"] for hit in client.search(index=names.pages, size=10)["hits"]["hits"]}
    assert indexed == {documents[n]["url"] for n in (0, 1, 4)}
    client.indices.refresh(index=names.entities)
    # the signals of a rejected page were still seen: its sightings and entities are written
    assert client.count(index=names.entities, query={"term": {"kind": "email"}})["count"] == 5
    client.close()


async def test_crawl_record_is_spooled_when_elasticsearch_is_away_and_replayed_later(es_node, es_prefix, tmp_path):
    from types import SimpleNamespace

    from scrapy.utils.test import get_crawler

    from crawler.config import load_settings
    from crawler.sink.crawlrecord import CrawlRecordExtension, crawl_spool, replay_crawl_spool

    client = es_node.client()
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=es_prefix))
    init_schema(client, names, lambda message: None)
    away = load_settings(overrides={"DARKCRAWL_ES_URL": "http://127.0.0.1:1", "DARKCRAWL_DATA_DIR": str(tmp_path),
                                    "DARKCRAWL_ES_INDEX_PREFIX": es_prefix}, environ={})
    crawler = get_crawler(settings_dict=away.copy_to_dict())
    extension = CrawlRecordExtension.from_crawler(crawler)
    spider = SimpleNamespace(crawl_id="c42", seeds=[SimpleNamespace(url="http://a.onion/", site="a.onion")])
    await extension.spider_opened(spider)
    assert crawler.stats is not None
    crawler.stats.set_value("darkcrawl/pages", 7)
    await extension.spider_closed(spider, "finished")
    spool = crawl_spool(away)
    assert spool.count() == 2  # the opening and the closing record, in order

    live = es_node.async_client()
    try:
        assert await replay_crawl_spool(live, names.crawls, spool, tmp_path / "dead.jsonl") == 2
    finally:
        await live.close()
    assert spool.count() == 0
    record = client.get(index=names.crawls, id="c42")["_source"]
    assert record["status"] == "finished" and record["pages_fetched"] == 7 and record["seeds"] == ["http://a.onion/"]
    assert record["started_at"] <= record["finished_at"]
    client.close()
