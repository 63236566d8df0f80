"""The page sink (crawler/sink/bulk.py) without Elasticsearch: a client that answers slowly makes the timing of a
cancelled flush certain; a client that rejects a document shows the dead-letter file. The real Elasticsearch is
exercised in tests/integration (test_index_spool.py, test_es_outage.py, test_entities.py)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from crawler.sink.bulk import BulkConfig, PageSink


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


class RejectingElasticsearch:
    """Takes every page but the one whose URL ends with ``/bad``, which it rejects as a mapping error."""

    async def mget(self, **kwargs: Any) -> dict[str, Any]:
        return {"docs": []}

    async def bulk(self, operations: list[Any], **kwargs: Any) -> dict[str, Any]:
        items = []
        for line in operations[1::2]:
            document = json.loads(line)  # the sink sends its body lines serialised
            if document["doc"]["url"].endswith("/bad"):
                items.append({"update": {"status": 400, "error": {"type": "mapper_parsing_exception",
                                                                  "reason": "failed to parse"}}})
            else:
                items.append({"update": {"status": 201}})
        return {"items": items}


async def test_a_rejected_page_is_dead_lettered_with_its_reason_and_counted(tmp_path):
    counted: dict[str, int] = {}
    dead = tmp_path / "dead-letter" / "pages.jsonl"
    sink = PageSink(RejectingElasticsearch(), "t-pages", BulkConfig(500, 10**9, 60, 0, dead),
                    lambda key, n: counted.__setitem__(key, counted.get(key, 0) + n))
    for url in ("http://x.onion/good", "http://x.onion/bad"):
        await sink.add({"url": url})
    await sink.flush()
    (record,) = [json.loads(line) for line in dead.read_text().splitlines()]
    assert record["index"] == "t-pages" and record["document"]["url"] == "http://x.onion/bad"
    assert record["error"]["type"] == "mapper_parsing_exception" and record["failed_at"].endswith("Z")
    assert counted == {"darkcrawl/index/indexed": 1, "darkcrawl/index/failed": 1}


class RecordingElasticsearch:
    """Takes everything; keeps the bulk body lines as the client would send them."""

    def __init__(self) -> None:
        self.lines: list[Any] = []

    async def mget(self, **kwargs: Any) -> dict[str, Any]:
        return {"docs": []}

    async def bulk(self, operations: list[Any], **kwargs: Any) -> dict[str, Any]:
        self.lines += operations
        return {"items": [{"update": {"status": 201}} for _ in operations[::2]]}


async def test_a_pages_text_is_serialised_once_and_lands_intact_in_each_line_that_holds_it(tmp_path):
    """The text is turned into JSON once and put in the page's doc, its upsert and its version: each must read back
    as the page's own text, whatever it holds (quotes, backslashes, line breaks, JSON-looking text, non-ASCII)."""
    from crawler.sink import bulk

    text = 'He said "pay" \\ now\nline two\u2028é 中文 {"doc": 1} ' + bulk._TEXT_MARK[:12] + "\t<script>"
    client = RecordingElasticsearch()
    sink = PageSink(client, "t-pages", BulkConfig(500, 10**9, 60, 0, tmp_path / "dead.jsonl"), lambda key, n: None,
                    versions="t-versions")
    document = {"url": "http://x.onion/a", "title": "T", "text": text, "content_sha256": "ab" * 32}
    await sink.add(document)
    await sink.flush()
    _page_action, page_body, version_action, version_body = client.lines
    page, version = json.loads(page_body), json.loads(version_body)
    assert page["doc"]["text"] == page["upsert"]["text"] == version["upsert"]["text"] == text
    assert page["doc"]["url"] == page["upsert"]["url"] == document["url"] and version_action["update"]["_index"] == (
        "t-versions")
    assert bulk._TEXT_MARK not in page_body + version_body
    assert document["text"] == text  # the caller's document is left as it was (spool, dead letters)
    # the size estimate that cuts batches stays close to the JSON the page makes
    assert abs(bulk._json_size(document) - len(bulk._dumps(document))) <= 8  # the six escapes of quotes, tab, backslash
