"""The crawl's watching stage (pipelines/watching.py) on a stand-in Elasticsearch client: pages are batched, one mget
decides which are new, changed or unchanged, unchanged pages meet only watches added since their last fetch, and a
page moves on only once its alerts are written; when they cannot be kept, the page is dropped and the crawl stops.
The stage against the real node and the real lab: tests/integration/test_watch_alerts.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.exceptions import DropItem
from scrapy.settings import Settings
from scrapy.statscollectors import StatsCollector

import crawler.settings as defaults
from crawler.alerts.evaluation import WatchInputs
from crawler.alerts.store import AlertRecorder, AlertWriter
from crawler.identity import page_id
from crawler.items import PageItem
from crawler.sink.spool import SpoolFullError
from crawler.watch.model import Watch
from pipelines.watching import WatchingPipeline

OLD = "2026-12-01T00:00:00.000Z"
NEW = "2026-12-05T00:00:00.000Z"


class Client:
    """mget answers from *stored*; bulk creates (409 when the id exists) and records every call."""

    def __init__(self, stored: dict[str, dict[str, Any]]) -> None:
        self.stored = stored
        self.alerts: dict[str, dict[str, Any]] = {}
        self.mgets = 0
        self.fail = False

    async def mget(self, index: str, ids: list[str], source_includes: list[str]) -> dict[str, Any]:
        self.mgets += 1
        return {"docs": [{"_id": i, "found": i in self.stored, "_source": self.stored.get(i, {})} for i in ids]}

    async def search(self, index: str, size: int, source: list[str], query: dict[str, Any]) -> dict[str, Any]:
        ids, hashes = (clause["terms"] for clause in query["bool"]["filter"])
        return {"hits": {"hits": [{"_id": alert_id, "_source": alert} for alert_id, alert in self.alerts.items()
                                  if alert["page"]["id"] in ids["page.id"]
                                  and alert["page"]["content_sha256"] in hashes["page.content_sha256"]]}}

    async def bulk(self, operations: list[Any], refresh: bool) -> dict[str, Any]:
        if self.fail:
            raise ConnectionError("Elasticsearch away")
        items = []
        for action, body in zip(operations[::2], operations[1::2], strict=True):
            op, meta = next(iter(action.items()))
            if op == "create":
                status = 409 if meta["_id"] in self.alerts else 201
                self.alerts.setdefault(meta["_id"], body)
            else:
                self.alerts[meta["_id"]].update(body["doc"])
                status = 200
            items.append({op: {"_id": meta["_id"], "status": status}})
        return {"items": items, "errors": False}


class FullSpool:
    path = "alerts.jsonl"

    def append(self, documents: list[dict[str, Any]]) -> None:
        raise SpoolFullError("the alert spool is full")


def term_watch(watch_id: str, created_at: str) -> Watch:
    return Watch(watch_id, watch_id, "term", {"terms": ["escrow"], "languages": []}, created_at=created_at)


def page(url: str, text: str = "pay through escrow only") -> PageItem:
    return PageItem(url=url, canonical_url=url, site="example.onion", status=200, fetched_at=NEW, crawl_id="c1",
                    text=text, content_sha256=f"sha-{text}")


def stage(watches: list[Watch], client: Client, spool: Any = None, batch: int = 10) -> WatchingPipeline:
    settings = Settings({key: getattr(defaults, key) for key in dir(defaults) if key.isupper()})
    settings.set("DARKCRAWL_ALERTS_BATCH", batch)
    settings.set("DARKCRAWL_ALERTS_BATCH_WAIT", 0.05)
    stopped: list[str] = []
    engine = SimpleNamespace(spider=object(), _slot=SimpleNamespace(closing=False),
                             close_spider_async=lambda reason: _record(stopped, reason))
    stats = StatsCollector(SimpleNamespace(settings=settings))  # type: ignore[arg-type]
    crawler = SimpleNamespace(settings=settings, stats=stats, engine=engine)
    pipeline = WatchingPipeline(crawler, watches)  # type: ignore[arg-type]
    pipeline.client = client
    pipeline.pages_alias = "p-pages"
    pipeline.inputs = WatchInputs()
    pipeline.watch_set = pipeline._compile()
    pipeline.recorder = AlertRecorder(AlertWriter(client, "p-alerts", max_retries=0), None, lambda _id: None,
                                      spool=spool, stats=pipeline.stats.inc_value)
    pipeline.stopped = stopped  # type: ignore[attr-defined]
    return pipeline


async def _record(stopped: list[str], reason: str) -> None:
    stopped.append(reason)


def run(pipeline: WatchingPipeline, items: list[PageItem]) -> list[Any]:
    async def go() -> list[Any]:
        results = await asyncio.gather(*(pipeline.process_item(item) for item in items), return_exceptions=True)
        await asyncio.sleep(0)
        return list(results)

    return asyncio.run(go())


def test_new_changed_and_unchanged_pages_in_one_batch():
    old, new = term_watch("w-000001", OLD), term_watch("w-000002", NEW)
    fresh, changed, unchanged = page("http://x.onion/1"), page("http://x.onion/2"), page("http://x.onion/3")
    client = Client({
        page_id(changed.url): {"content_sha256": "before", "last_seen": "2026-12-06T00:00:00.000Z"},
        page_id(unchanged.url): {"content_sha256": unchanged.content_sha256, "last_seen": "2026-12-03T00:00:00.000Z"},
    })
    pipeline = stage([old, new], client)
    assert run(pipeline, [fresh, changed, unchanged]) == [fresh, changed, unchanged]
    assert client.mgets == 1, "one mget per batch"
    fired = sorted((alert["page"]["url"], alert["watch"]["id"]) for alert in client.alerts.values())
    assert fired == [(fresh.url, "w-000001"), (fresh.url, "w-000002"), (changed.url, "w-000001"),
                     (changed.url, "w-000002"), (unchanged.url, "w-000002")]  # the old watch saw page 3 already


def test_a_page_unchanged_since_every_watch_is_not_evaluated_and_makes_no_alert():
    item = page("http://x.onion/1")
    client = Client({page_id(item.url): {"content_sha256": item.content_sha256, "last_seen": NEW}})
    pipeline = stage([term_watch("w-000001", OLD)], client)
    assert run(pipeline, [item]) == [item]
    assert client.alerts == {}
    assert pipeline.stats.get_value("darkcrawl/alerts/pages_unchanged") == 1


def test_alerts_of_an_unchanged_page_are_seen_again():
    client = Client({})
    item = page("http://x.onion/1")
    pipeline = stage([term_watch("w-000001", OLD)], client)
    run(pipeline, [item])
    (alert,) = client.alerts.values()
    first = alert["last_seen"]
    client.stored[page_id(item.url)] = {"content_sha256": item.content_sha256, "last_seen": first}
    run(pipeline, [page("http://x.onion/1")])
    assert len(client.alerts) == 1 and alert["first_seen"] == first and alert["last_seen"] > first
    assert pipeline.stats.get_value("darkcrawl/alerts/seen_again") == 1


def test_the_same_page_twice_makes_one_alert():
    client = Client({})
    pipeline = stage([term_watch("w-000001", OLD)], client, batch=1)
    run(pipeline, [page("http://x.onion/1")])
    run(pipeline, [page("http://x.onion/1")])
    assert len(client.alerts) == 1
    assert pipeline.stats.get_value("darkcrawl/alerts/existing") == 1


def test_alerts_that_cannot_be_kept_drop_the_page_and_stop_the_crawl():
    client = Client({})
    client.fail = True
    pipeline = stage([term_watch("w-000001", OLD)], client, spool=FullSpool())
    (result,) = run(pipeline, [page("http://x.onion/1")])
    assert isinstance(result, DropItem)
    assert pipeline.stopped == ["spool_full"]  # type: ignore[attr-defined]


def test_flagged_pages_and_other_items_pass_untouched():
    client = Client({})
    pipeline = stage([term_watch("w-000001", OLD)], client)
    flagged = page("http://x.onion/1")
    flagged.review = {"reason": "high_risk"}
    other = {"not": "a page"}
    assert run(pipeline, [flagged, other]) == [flagged, other]  # type: ignore[list-item]
    assert client.mgets == 0


@pytest.mark.parametrize("enabled, es, reason", [(False, True, "DARKCRAWL_ALERTS_ENABLED"),
                                                  (True, False, "DARKCRAWL_ES_ENABLED")])
def test_off_without_alerts_or_index(enabled, es, reason):
    from scrapy.exceptions import NotConfigured

    settings = Settings({"DARKCRAWL_ALERTS_ENABLED": enabled, "DARKCRAWL_ES_ENABLED": es})
    with pytest.raises(NotConfigured, match=reason):
        WatchingPipeline.from_crawler(SimpleNamespace(settings=settings))  # type: ignore[arg-type]


def test_a_yara_watch_whose_rules_are_gone_is_left_out_and_the_others_still_watch(tmp_path, caplog):
    missing = str(tmp_path / "gone.yar")
    yara = Watch("w-0000aa", "rules", "yara", {"rules_path": missing, "rules_sha256": "0" * 64, "rules_copy": missing},
                 created_at=OLD)
    client = Client({})
    pipeline = stage([term_watch("w-000001", OLD), yara], client)
    assert pipeline.watch_set is not None and list(pipeline.watch_set.watches) == ["w-000001"]
    assert "YARA watches are off" in caplog.text
