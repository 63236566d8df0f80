"""Watches and alerts on the real parts: the alerts index on the real Elasticsearch node (create once, a 409 moves
only last_seen, ack and dismiss with who and why), and a crawl of the shared Tor lab that fires the expected alerts,
none again on a recrawl or a hunt, the hunt making the same alert ids as the crawl."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crawler.alerts.documents import alert_document
from crawler.alerts.store import AlertFilters, AlertRecorder, AlertWriter, change_state, get_alert, search_alerts
from crawler.errors import UsageError
from crawler.es.schema import IndexNames, init_schema
from crawler.watch.model import Watch, WatchMatch
from pipelines.spool import Spool

pytestmark = pytest.mark.integration

PAGE = {"url": "http://example.onion/p/1", "site": "example.onion", "title": "Listing", "content_sha256": "c" * 64,
        "language": "en", "crawl_id": "crawl-1"}


def make_alert(watch_id: str = "w-aaaaaa", content: str = "c" * 64, now: str = "2026-12-06T18:00:00.000Z") -> dict:
    watch = Watch(watch_id, f"watch {watch_id}", "term", {"terms": ["escrow"]}, severity="high",
                  created_at="2026-12-01T00:00:00.000Z")
    match = WatchMatch(watch, [{"kind": "term", "value": "escrow", "entity_kind": None, "context": "… escrow …",
                                "rule": None}])
    return alert_document(match, PAGE | {"content_sha256": content}, "a" * 64, "crawl", now, crawl_id="crawl-1")


class Outbox:
    """Records what the recorder hands to notification (the real outbox is tested by test_notify)."""

    def __init__(self) -> None:
        self.enqueued: list[str] = []

    def enqueue(self, alert_doc: dict[str, Any], watch: Any) -> list[str]:
        self.enqueued.append(alert_doc["alert_id"])
        return []


@pytest.fixture
def alerts_index(es_node, es_prefix):
    client = es_node.client()
    names = IndexNames(es_prefix)
    init_schema(client, names, lambda message: None)
    yield client, names.alerts
    client.close()


def write(es_node, alias: str, documents: list[dict], outbox: Outbox | None = None, spool: Spool | None = None):
    async def go():
        client = es_node.async_client()
        try:
            recorder = AlertRecorder(AlertWriter(client, alias, max_retries=1), outbox,
                                     lambda watch_id: Watch(watch_id, "w", "term", {}), spool=spool)
            return await recorder.record(documents)
        finally:
            await client.close()

    return asyncio.run(go())


def test_an_alert_is_created_once_and_a_conflict_moves_only_last_seen(es_node, alerts_index):
    client, alias = alerts_index
    outbox = Outbox()
    first = make_alert()
    result = write(es_node, alias, [first], outbox)
    assert [doc["alert_id"] for doc in result.new] == [first["alert_id"]] and result.existing == 0
    change_state(client, alias, first["alert_id"], "acknowledged", "ana", "on it")
    again = make_alert(now="2026-12-07T09:00:00.000Z")
    result = write(es_node, alias, [again], outbox)
    assert result.new == [] and result.existing == 1
    assert outbox.enqueued == [first["alert_id"]], "an existing alert was notified again"
    stored = client.get(index=alias, id=first["alert_id"])["_source"]
    assert stored["first_seen"] == "2026-12-06T18:00:00.000Z" and stored["last_seen"] == "2026-12-07T09:00:00.000Z"
    assert stored["state"] == "acknowledged" and stored["state_changed_by"] == "ana"  # the crawl never resets it
    client.indices.refresh(index=alias)
    assert client.count(index=alias)["count"] == 1


def test_changed_content_is_a_new_alert(es_node, alerts_index):
    _client, alias = alerts_index
    result = write(es_node, alias, [make_alert(content="c" * 64), make_alert(content="d" * 64)])
    assert len(result.new) == 2


def test_ack_then_dismiss_keeps_the_history(es_node, alerts_index):
    client, alias = alerts_index
    alert = make_alert()
    write(es_node, alias, [alert])
    client.indices.refresh(index=alias)  # a prefix is looked up by search (the full id needs no refresh)
    change_state(client, alias, alert["alert_id"][:10], "acknowledged", "ana", "checking the vendor")
    changed = change_state(client, alias, alert["alert_id"], "dismissed", "bob", "same vendor, known")
    stored = get_alert(client, alias, alert["alert_id"][:12])
    assert stored["state"] == changed["state"] == "dismissed"
    assert (stored["state_changed_by"], stored["state_note"]) == ("bob", "same vendor, known")
    assert [(entry["state"], entry["by"], entry["note"]) for entry in stored["history"]] == [
        ("new", "darkcrawl", None), ("acknowledged", "ana", "checking the vendor"),
        ("dismissed", "bob", "same vendor, known")]
    client.indices.refresh(index=alias)
    assert search_alerts(client, alias, AlertFilters(state="new"), 10)[0] == 0
    total, found = search_alerts(client, alias, AlertFilters(state="dismissed", severity="high"), 10)
    assert total == 1 and found[0]["alert_id"] == alert["alert_id"]


def test_unknown_or_ambiguous_ids_are_usage_errors(es_node, alerts_index):
    client, alias = alerts_index
    with pytest.raises(UsageError, match="not an alert id"):
        get_alert(client, alias, "xyz")
    with pytest.raises(UsageError, match="no alert id starts with"):
        get_alert(client, alias, "0123456789")
    with pytest.raises(UsageError, match="acknowledged or dismissed"):
        change_state(client, alias, "0" * 64, "new", "ana", None)


def test_alerts_elasticsearch_did_not_take_are_spooled_then_replayed(es_node, alerts_index, tmp_path):
    from elasticsearch import AsyncElasticsearch

    client, alias = alerts_index
    spool = Spool(tmp_path / "alerts.jsonl", 0)
    outbox = Outbox()
    alert = make_alert()

    async def record_unreachable():
        unreachable = AsyncElasticsearch("http://127.0.0.1:9", request_timeout=2, max_retries=0)
        try:
            recorder = AlertRecorder(AlertWriter(unreachable, alias, max_retries=0), outbox, lambda _id: None,
                                     spool=spool)
            return await recorder.record([alert])
        finally:
            await unreachable.close()

    result = asyncio.run(record_unreachable())
    assert result.spooled == 1 and result.new == [] and spool.count() == 1

    async def replay():
        async_client = es_node.async_client()
        try:
            recorder = AlertRecorder(AlertWriter(async_client, alias), outbox,
                                     lambda watch_id: Watch(watch_id, "w", "term", {}), spool=spool)
            return await recorder.replay()
        finally:
            await async_client.close()

    assert asyncio.run(replay()) == 1
    assert outbox.enqueued == [alert["alert_id"]] and spool.count() == 0
    assert client.get(index=alias, id=alert["alert_id"])["found"]
