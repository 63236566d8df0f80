"""The indexing stage at the end of a crawl (pipelines/indexing.py): a flush under way when the crawl closes keeps its
batch. Cancelling it half-way once dropped the crawl's last pages from the index (seen under load in CI). The real
Elasticsearch is exercised in tests/integration; here a client that answers slowly makes the timing certain."""

from __future__ import annotations

import asyncio

from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.items import PageItem
from pipelines.indexing import BulkConfig, ElasticsearchPipeline, PageSink


class SlowElasticsearch:
    """Answers mget and bulk like Elasticsearch, each after *delay* seconds; records the page ids it indexed (the
    updates of the pages alias; versions are written beside them)."""

    def __init__(self, delay: float = 0.3):
        self.delay = delay
        self.indexed: list[str] = []
        self.closed = False
        self.calls = 0

    async def mget(self, **kwargs):
        self.calls += 1
        await asyncio.sleep(self.delay)
        return {"docs": []}

    async def bulk(self, operations, **kwargs):
        await asyncio.sleep(self.delay)
        items = []
        for action in operations[::2]:
            if not action["update"]["_index"].endswith("-versions"):
                self.indexed.append(action["update"]["_id"])
            items.append({"update": {"status": 201}})
        return {"items": items}

    async def close(self):
        self.closed = True


def page(number: int) -> PageItem:
    return PageItem(url=f"http://x.onion/product/{number}", canonical_url=f"http://x.onion/product/{number}",
                    site="x.onion", status=200, fetched_at="2026-11-29T09:00:00Z", crawl_id="c", depth=1)


async def test_a_cancelled_flush_keeps_its_batch_for_the_next_one(tmp_path):
    client = SlowElasticsearch()
    stored: list[str] = []
    sink = PageSink(client, "pages", BulkConfig(500, 10**9, 60, 0, tmp_path / "dead.jsonl"), lambda key, n: None,
                    on_stored=stored.extend)
    for number in range(4):
        await sink.add({"url": f"http://x.onion/{number}"})
    flush = asyncio.get_running_loop().create_task(sink.flush())
    await asyncio.sleep(0.1)  # inside mget
    flush.cancel()
    await asyncio.gather(flush, return_exceptions=True)
    assert len(sink.buffer) == 4 and stored == []
    await sink.flush()
    assert len(client.indexed) == 4 and len(stored) == 4 and sink.buffer == []


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
