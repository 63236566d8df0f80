"""Watches and alerts on the real parts: the alerts index on the real Elasticsearch node (create once, a 409 moves
only last_seen, ack and dismiss with who and why), and a crawl of the shared Tor lab that fires the expected alerts,
none again on a recrawl or a hunt, the hunt making the same alert ids as the crawl."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from crawler.alerts.documents import alert_document
from crawler.alerts.store import AlertFilters, AlertRecorder, AlertWriter, change_state, get_alert, search_alerts
from crawler.errors import UsageError
from crawler.es.schema import IndexNames
from crawler.sink.spool import Spool
from crawler.watch.model import Watch, WatchMatch

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
    """The alerts template and index alone, as es init makes them (the other kinds are not needed here)."""
    from crawler.es.templates import index_template

    client = es_node.client()
    names = IndexNames(es_prefix)
    client.indices.put_index_template(name=names.template("alerts"), body=index_template("alerts", es_prefix))
    client.indices.create(index=names.first_index("alerts"), aliases={names.alerts: {"is_write_index": True}})
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


def test_the_alerts_command(es_node, es_prefix, alerts_index, monkeypatch, capsys):
    import json

    from crawler.cli import main

    client, alias = alerts_index
    alert = make_alert()
    write(es_node, alias, [alert, make_alert(watch_id="w-bbbbbb")])
    client.indices.refresh(index=alias)
    for name, value in (es_node.env() | {"DARKCRAWL_ES_INDEX_PREFIX": es_prefix}).items():
        monkeypatch.setenv(name, value)
    assert main(["alerts", "list", "--watch", "w-aaaaaa", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["total"] == 1 and listed["alerts"][0]["alert_id"] == alert["alert_id"]
    assert main(["alerts", "ack", alert["alert_id"][:8], "--by", "ana", "--note", "case 7"]) == 0
    assert f"alert {alert['alert_id'][:12]}: acknowledged by ana" in capsys.readouterr().out
    assert main(["alerts", "show", alert["alert_id"][:8]]) == 0
    shown = capsys.readouterr().out
    assert "acknowledged by ana: case 7" in shown and "escrow" in shown
    assert main(["alerts", "list", "--since", "not a date"]) == 2
    assert "is not a date" in capsys.readouterr().err


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


# --- a crawl of the shared lab -------------------------------------------------------------------------------------

QUIETSTORM_KEY = "34C2681A1A8EA4205E36E7026B5BD27090407D5B"  # on the market, the phishing clone and a paste
PHISHING_REGEX = r"nocturne_official_\w+"  # the Telegram handle only the phishing clone shows
YARA_RULE = 'rule official_mirror { strings: $a = "Official Mirror" condition: $a }\n'  # the clone's title
TERM = "escrow"


def lab_watches(tor_lab, data_dir: Path) -> list[Watch]:
    """One watch of each kind the issue names, on what the lab's sites are known to show."""
    from crawler.items import utc_timestamp
    from crawler.watch.clone import clone_spec
    from crawler.watch.entity import entity_spec
    from crawler.watch.regex import regex_spec
    from crawler.watch.term import term_spec
    from crawler.watch.yara import yara_spec

    rules = data_dir / "official_mirror.yar"
    rules.write_text(YARA_RULE)
    specs = [
        ("escrow", "term", term_spec([TERM])),
        ("quietstorm key", "entity", entity_spec(QUIETSTORM_KEY)),
        ("market clones", "clone", clone_spec(tor_lab.onions["market"])),
        ("phishing support", "regex", regex_spec(PHISHING_REGEX)),
        ("mirror rule", "yara", yara_spec(rules, data_dir / "watch" / "rules")),
    ]
    return [Watch(f"w-{number:06x}", name, kind, spec, owner="test", severity="high",
                  created_at=utc_timestamp()) for number, (name, kind, spec) in enumerate(specs, start=1)]


def lab_alerts(client, prefix: str) -> dict[str, dict]:
    client.indices.refresh(index=f"{prefix}-alerts")
    response = client.search(index=f"{prefix}-alerts", size=10_000, query={"match_all": {}})
    return {hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]}


def pages_by_url(client, prefix: str) -> dict[str, dict]:
    client.indices.refresh(index=f"{prefix}-pages")
    response = client.search(index=f"{prefix}-pages", size=10_000, query={"match_all": {}},
                             source=["url", "site", "title", "text", "content_sha256"])
    return {hit["_source"]["url"]: hit["_source"] | {"_id": hit["_id"]} for hit in response["hits"]["hits"]}


@pytest.fixture(scope="module")
def watched_crawl(tor_lab, es_node, tmp_path_factory):
    """The market crawled alone first (so the clone watch has its pages, and they are unchanged later), then the
    watches added, then every lab site crawled, then everything crawled again."""
    from crawler.watch.store import WatchStore
    from tests.integration.test_crawl import crawl_env, run_darkcrawl, seed_args

    prefix = f"t{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path_factory.mktemp("watch-data")
    env = crawl_env(tor_lab, es_node, prefix, data_dir)
    client = es_node.client()
    try:
        market = run_darkcrawl(["crawl", "--url", f"http://{tor_lab.onions['market']}/", "--depth", "10"], env)
        assert market.returncode == 0, market.stderr[-3000:]
        watches = lab_watches(tor_lab, data_dir)
        with WatchStore.from_settings(es_node.settings(DARKCRAWL_DATA_DIR=str(data_dir))) as store:
            for watch in watches:
                store.add(watch)
        first = run_darkcrawl(["crawl", *seed_args(tor_lab), "--depth", "10"], env)
        assert first.returncode == 0, first.stderr[-3000:]
        after_first = lab_alerts(client, prefix)
        again = run_darkcrawl(["crawl", *seed_args(tor_lab), "--depth", "10"], env)
        assert again.returncode == 0, again.stderr[-3000:]
        yield {"prefix": prefix, "env": env, "data_dir": data_dir, "watches": {w.name: w for w in watches},
               "first": after_first, "again": lab_alerts(client, prefix), "pages": pages_by_url(client, prefix),
               "logs": first.stderr + again.stderr}
    finally:
        for index in client.indices.get(index=f"{prefix}-*", expand_wildcards="all"):
            client.indices.delete(index=index, ignore_unavailable=True)
        for template in client.indices.get_index_template(name=f"{prefix}-*")["index_templates"]:
            client.indices.delete_index_template(name=template["name"])
        client.close()


def alerted_urls(alerts: dict[str, dict], watch: Watch) -> set[str]:
    return {alert["page"]["url"] for alert in alerts.values() if alert["watch"]["id"] == watch.id}


def test_the_crawl_fires_each_watch_on_the_expected_pages(watched_crawl, tor_lab):
    from crawler.lab.sites import SITE_NAMES
    from crawler.lab.sites.truth import expected_signals

    alerts, pages, watches = watched_crawl["first"], watched_crawl["pages"], watched_crawl["watches"]
    whole_word = re.compile(rf"(?<!\w){TERM}(?!\w)", re.IGNORECASE)
    seen = lambda page: f"{page['title']}\n{page['text']}"  # noqa: E731 (what the text watches read)
    assert alerted_urls(alerts, watches["escrow"]) == {
        url for url, page in pages.items() if whole_word.search(seen(page))} != set()
    regex = re.compile(PHISHING_REGEX)
    assert alerted_urls(alerts, watches["phishing support"]) == {
        url for url, page in pages.items() if regex.search(seen(page))} != set()
    assert alerted_urls(alerts, watches["mirror rule"]) == {
        url for url, page in pages.items() if "Official Mirror" in seen(page)} != set()
    key_pages = {f"http://{tor_lab.onions[name]}{path}" for name in SITE_NAMES
                 for path, truth in expected_signals(name, tor_lab.onions).items()
                 if QUIETSTORM_KEY in truth["pgp_fingerprints"]}
    assert len(key_pages) == 4 and alerted_urls(alerts, watches["quietstorm key"]) == key_pages
    for alert in alerts.values():
        assert alert["source"] == "crawl" and alert["state"] == "new"
        assert alert["page"]["content_sha256"] == pages[alert["page"]["url"]]["content_sha256"]
        assert alert["page"]["id"] == pages[alert["page"]["url"]]["_id"]
        assert all(match["value"] for match in alert["matches"])
    for alert in alerts.values():
        if alert["watch"]["id"] == watches["quietstorm key"].id:
            (match,) = alert["matches"]
            assert (match["entity_kind"], match["value"]) == ("pgp_fingerprint", QUIETSTORM_KEY)
        if alert["watch"]["id"] == watches["phishing support"].id:
            assert {match["value"] for match in alert["matches"]} == {"nocturne_official_help"}
        if alert["watch"]["id"] == watches["mirror rule"].id:
            assert alert["matches"][0]["rule"] == "official_mirror"


def test_the_phishing_clone_is_found_with_its_swapped_addresses(watched_crawl, tor_lab):
    from crawler.lab.sites.data import MARKET_ESCROW, PHISHING_ESCROW, VENDORS

    alerts, watches = watched_crawl["first"], watched_crawl["watches"]
    clones = [alert for alert in alerts.values() if alert["watch"]["id"] == watches["market clones"].id]
    assert {alert["page"]["site"] for alert in clones} == {tor_lab.onions["phishing"]}
    assert all(alert["clone"]["of_site"] == tor_lab.onions["market"] for alert in clones)
    market = {address for vendor in VENDORS for _currency, address in vendor.market_addresses}
    vendor_pages = 0
    for alert in clones:
        name = alert["page"]["url"].rpartition("/vendor/")[2]
        vendor = next((vendor for vendor in VENDORS if vendor.name == name), None)
        if vendor is None:
            continue
        vendor_pages += 1
        this, watched = set(alert["clone"]["addresses"]["this"]), set(alert["clone"]["addresses"]["watched"])
        assert {address for _currency, address in vendor.phishing_addresses} <= this
        assert {address for _currency, address in vendor.market_addresses} <= watched
        assert not this & market
        swapped = {match["value"] for match in alert["matches"] if match["entity_kind"] == "crypto_address"}
        assert swapped == {address for _currency, address in vendor.phishing_addresses}
    assert vendor_pages >= 1, "no vendor page of the clone was found"
    (payment,) = [alert for alert in clones if alert["page"]["url"].endswith("/payment")]
    this, watched = set(payment["clone"]["addresses"]["this"]), set(payment["clone"]["addresses"]["watched"])
    assert {address for _currency, _kind, address in PHISHING_ESCROW} <= this
    assert {address for _currency, _kind, address in MARKET_ESCROW} <= watched


def test_a_recrawl_of_unchanged_content_makes_no_alert(watched_crawl):
    first, again = watched_crawl["first"], watched_crawl["again"]
    assert set(again) == set(first)
    for alert_id, alert in first.items():
        assert again[alert_id]["first_seen"] == alert["first_seen"]
        assert again[alert_id]["last_seen"] > alert["last_seen"], "the content is still online: last_seen moves"


def test_a_hunt_makes_the_same_alert_ids_and_a_rerun_none(watched_crawl, es_node):
    from crawler.alerts.hunt import run_hunt
    from crawler.es.schema import init_schema

    prefix, watches = watched_crawl["prefix"], list(watched_crawl["watches"].values())
    settings = es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=prefix, DARKCRAWL_DATA_DIR=str(watched_crawl["data_dir"]))
    ids = [watch.id for watch in watches]
    rerun = run_hunt(settings, ids, None, lambda message: None)
    assert rerun.new == 0 and rerun.existing == len(watched_crawl["again"])
    client = es_node.client()
    try:
        client.indices.delete(index=f"{prefix}-alerts-000001")
        init_schema(client, IndexNames(prefix), lambda message: None)
        fresh = run_hunt(settings, ids, None, lambda message: None)
        assert set(fresh.new_alert_ids) == set(watched_crawl["again"])
        # listable as soon as the hunt returns (no refresh here): `alerts list` right after a hunt shows them
        assert client.count(index=f"{prefix}-alerts")["count"] == len(fresh.new_alert_ids)
        hunted = lab_alerts(client, prefix)
        assert all(alert["source"] == "hunt" for alert in hunted.values())
    finally:
        client.close()


def test_a_hunt_since_a_date_reads_only_pages_seen_since(watched_crawl, es_node):
    from crawler.alerts.hunt import run_hunt

    settings = es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=watched_crawl["prefix"],
                                DARKCRAWL_DATA_DIR=str(watched_crawl["data_dir"]))
    escrow = watched_crawl["watches"]["escrow"].id
    assert run_hunt(settings, [escrow], "now+1d", lambda message: None).pages == 0
    recent = run_hunt(settings, [escrow], "now-1d", lambda message: None)
    assert recent.pages == len(watched_crawl["pages"]) and recent.new == 0
    with pytest.raises(UsageError, match="is not a date"):
        run_hunt(settings, [escrow], "yesterday-ish", lambda message: None)
    with pytest.raises(UsageError):
        run_hunt(settings, ["w-ffffff"], None, lambda message: None)
