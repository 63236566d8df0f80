"""The indexing stage at the end of a crawl (pipelines/indexing.py): a flush under way when the crawl closes keeps its
batch. Cancelling it half-way once dropped the crawl's last pages from the index (seen under load in CI). The real
Elasticsearch is exercised in tests/integration; here a client that answers slowly makes the timing certain."""

from __future__ import annotations

import asyncio

from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.items import PageItem
from pipelines.indexing import ElasticsearchPipeline
from tests.unit.sink.test_bulk import SlowElasticsearch


def page(number: int) -> PageItem:
    return PageItem(url=f"http://x.onion/product/{number}", canonical_url=f"http://x.onion/product/{number}",
                    site="x.onion", status=200, fetched_at="2026-11-29T09:00:00Z", crawl_id="c", depth=1)


async def test_closing_while_the_timer_flushes_indexes_every_page(tmp_path):
    settings = load_settings(environ={}, overrides={
        "DARKCRAWL_ES_URL": "http://127.0.0.1:9", "DARKCRAWL_ES_USERNAME": "elastic", "DARKCRAWL_ES_PASSWORD": "x",
        "DARKCRAWL_DATA_DIR": str(tmp_path), "DARKCRAWL_ES_FLUSH_INTERVAL": 1,
    })
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    crawler.stats.open_spider()
    pipeline = ElasticsearchPipeline.from_crawler(crawler)
    await pipeline.client.close()
    client = SlowElasticsearch(delay=0.4)
    pipeline.client = pipeline.sink.client = client
    pipeline.sink.rollup = None  # pages only: the roll-up has tests of its own
    await pipeline.open_spider()
    for number in range(5):
        await pipeline.process_item(page(number))
    while not client.calls:  # wait until the timer's flush is under way
        await asyncio.sleep(0.05)
    await pipeline.process_item(page(5))  # one more page arrives meanwhile
    await pipeline.close_spider()
    assert len(client.indexed) == 6, client.indexed
    assert crawler.stats.get_value("darkcrawl/index/indexed") == 6
    assert crawler.stats.get_value("darkcrawl/index/unaccounted") is None
    assert client.closed


async def test_pages_that_never_became_durable_are_counted_and_logged(tmp_path, caplog):
    settings = load_settings(environ={}, overrides={
        "DARKCRAWL_ES_URL": "http://127.0.0.1:9", "DARKCRAWL_ES_USERNAME": "elastic", "DARKCRAWL_ES_PASSWORD": "x",
        "DARKCRAWL_DATA_DIR": str(tmp_path),
    })
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    crawler.stats.open_spider()
    pipeline = ElasticsearchPipeline.from_crawler(crawler)
    pipeline.received, pipeline.stored = 7, 4
    pipeline._account()
    assert crawler.stats.get_value("darkcrawl/index/unaccounted") == 3
    assert "3 of the 7 pages handed to indexing were neither indexed, spooled nor dead-lettered" in caplog.text
    await pipeline.client.close()
