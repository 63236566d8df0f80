"""crawler.export.misp: MISP events from alert documents (PyMISP object templates), the feed directory, the push
(against tests/misp_double.py, a test double of MISP's REST API: MISP itself cannot run here), the API key kept out
of every message and log."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest
from pymisp import MISPEvent

from crawler.config import load_settings
from crawler.errors import DarkcrawlError, ServiceError, UsageError
from crawler.export import cases as c
from crawler.export.misp import (
    MispTarget,
    Producer,
    build_event,
    build_events,
    event_tags,
    push_events,
    tlp_level,
    write_feed,
)
from crawler.export.stix import build_bundle
from tests import export_samples as s
from tests.misp_double import server_context, start_misp_double
from tests.tls import make_server

API_KEY = "dcK3y0fTh3Part" + "n3rMISPxxxxxxxxxxxxxxxxxx"  # 40 characters, like a MISP auth key
PRODUCER = Producer("Example CERT")


def events(per: str = "alert", tlp: str = "amber", case: str | None = None, alerts=None) -> list[MISPEvent]:
    return [build_event(item, PRODUCER, tlp, s.pages()) for item in c.group_alerts(alerts or s.alerts(), per, case)]


def feed_json(event: MISPEvent) -> str:
    return json.dumps(event.to_feed(), sort_keys=True)


def objects_by_name(event: MISPEvent) -> dict[str, list]:
    found: dict[str, list] = {}
    for misp_object in event.objects:
        found.setdefault(misp_object.name, []).append(misp_object)
    return found


def relation_values(misp_object, relation: str) -> list[str]:
    return [attribute.value for attribute in misp_object.attributes if attribute.object_relation == relation]


def test_clone_alert_event_uses_misp_object_templates_and_links_the_clone_to_the_original():
    event = events()[0]
    assert event.uuid == c.stable_uuid("alert:" + s.ALERTS[0]["alert_id"])
    assert event.info.startswith("darkcrawl alert: watch 'Nocturne Market clones' (clone, high)")
    assert event.threat_level_id == 1 and event.analysis == 0 and event.published
    assert event.date.isoformat() == "2026-12-06" and event.Orgc.name == "Example CERT"
    objects = objects_by_name(event)
    onions = {relation_values(o, "address")[0]: o for o in objects["tor-hiddenservice"]}
    assert set(onions) == {s.CLONE, s.MARKET}
    assert relation_values(onions[s.CLONE], "title") == ["Nocturne Market"]
    urls = {relation_values(o, "url")[0]: o for o in objects["url"]}
    clone_url = urls[f"http://{s.CLONE}/login"]
    assert relation_values(clone_url, "host") == [s.CLONE] and relation_values(clone_url, "resource_path") == ["/login"]
    # the clone's page and site impersonate the original's
    references = {(ref.object_uuid, ref.referenced_uuid, ref.relationship_type)
                  for o in event.objects for ref in o.ObjectReference}
    assert (clone_url.uuid, urls[f"http://{s.MARKET}/login"].uuid, "impersonates") in references
    assert (onions[s.CLONE].uuid, onions[s.MARKET].uuid, "impersonates") in references
    coins = {(relation_values(o, "address") + relation_values(o, "address-xmr"))[0]: o
             for o in objects["coin-address"]}
    assert coins[s.BECH32].comment.startswith("payment address on the clone, not on the original")
    assert [a.type for a in coins[s.XMR].attributes if a.object_relation == "address-xmr"] == ["xmr"]
    assert coins[s.BECH32].first_seen.isoformat() == "2026-12-06T18:00:00+00:00"
    assert coins[s.BECH32].last_seen.isoformat() == "2026-12-06T19:00:00+00:00"
    (comment,) = [a for a in event.attributes if a.type == "comment"]
    assert s.ALERTS[0]["alert_id"] in comment.value and "SimHash distance 3" in comment.value
    assert not comment.to_ids


def test_wallet_alert_event_carries_the_page_signals_as_objects_and_attributes():
    event = events()[1]
    objects = objects_by_name(event)
    pgp = objects["pgp-meta"][0]
    assert relation_values(pgp, "key-id") == [s.FINGERPRINT, "F231550C4F47E38E"]
    assert relation_values(pgp, "user-id-email") == ["alice@openpgp.example"]
    assert relation_values(objects["telegram-account"][0], "username") == ["greywolf_shop"]
    vendor = objects["user-account"][0]
    assert relation_values(vendor, "username") == ["greywolf"]
    eth = next(o for o in objects["coin-address"] if relation_values(o, "symbol") == ["ETH"])
    assert relation_values(eth, "address-crypto") == [s.ETH.lower()]
    attributes = {(a.type, a.value) for a in event.attributes}
    assert ("email", "greywolf@example.com") in attributes
    assert ("jabber-id", "greywolf@jabber.example.net") in attributes
    assert event.threat_level_id == 1  # critical


def test_tags_tlp_severity_watch_and_case():
    (case,) = c.group_alerts(s.alerts(), "case", "Operation Nightjar")
    assert event_tags(case, "AMBER+STRICT") == [
        "tlp:amber+strict", 'darkcrawl:severity="critical"', 'darkcrawl:watch="Nocturne Market clones"',
        'darkcrawl:watch="Laundering wallet"', 'darkcrawl:watch="Fraud kits"', 'darkcrawl:watch-tag="phishing"',
        'darkcrawl:watch-tag="market"', 'darkcrawl:watch-tag="money-laundering"', 'darkcrawl:watch-tag="fraud"',
        'darkcrawl:case="Operation Nightjar"',
    ]
    assert tlp_level("white") == "clear"
    with pytest.raises(UsageError, match="TLP 'orange'"):
        tlp_level("orange")


def test_same_alerts_give_the_same_event_and_a_changed_alert_a_newer_timestamp_with_the_same_uuids():
    first = events(per="case")
    assert [feed_json(e) for e in first] == [feed_json(e) for e in events(per="case")]
    alerts = s.alerts()
    alerts[3]["last_seen"] = "2026-12-07T08:00:00.000Z"  # the fraud-kit page was seen again
    again = events(per="case", alerts=alerts)
    assert [e.uuid for e in again] == [e.uuid for e in first]
    assert feed_json(again[0]) == feed_json(first[0])
    changed_before, changed_after = first[2].to_feed()["Event"], again[2].to_feed()["Event"]
    assert int(changed_after["timestamp"]) > int(changed_before["timestamp"])
    uuids = lambda event: sorted(a["uuid"] for a in event.get("Attribute", [])) + sorted(  # noqa: E731
        o["uuid"] for o in event.get("Object", []))
    assert uuids(changed_after) == uuids(changed_before)  # MISP updates these attributes, it adds none


def test_a_malformed_alert_is_one_line_naming_it():
    alerts = s.alerts()
    alerts[1]["first_seen"] = "yesterday"
    with pytest.raises(DarkcrawlError, match=f"alert {alerts[1]['alert_id']} cannot be exported .*ValueError"):
        build_events(c.group_alerts(alerts, "alert"), PRODUCER)
    with pytest.raises(DarkcrawlError, match="cannot be exported"):
        build_bundle(c.group_alerts(alerts, "alert"), PRODUCER)


def test_acknowledged_alerts_make_an_ongoing_analysis():
    fraud = events(per="case")[2]
    assert fraud.analysis == 1 and fraud.threat_level_id == 2
    assert any("reported to the bank's fraud desk" in a.value for a in fraud.attributes if a.type == "comment")


def read_feed(directory: Path) -> tuple[dict, list[tuple[str, str]], dict[str, dict]]:
    manifest = json.loads((directory / "manifest.json").read_text())
    hashes = [tuple(line.split(",")) for line in (directory / "hashes.csv").read_text().splitlines()]
    files = {p.stem: json.loads(p.read_text()) for p in directory.glob("*.json") if p.name != "manifest.json"}
    return manifest, hashes, files


def assert_consistent_feed(directory: Path) -> dict[str, dict]:
    """What MISP's feed reader relies on: a manifest entry per event file, and hashes.csv holding the MD5 of every
    attribute value of every event, with its event's UUID."""
    manifest, hashes, files = read_feed(directory)
    assert set(manifest) == set(files)
    expected = set()
    for event_uuid, feed in files.items():
        event = feed["Event"]
        assert event["uuid"] == event_uuid
        assert manifest[event_uuid]["timestamp"] == int(event["timestamp"])
        assert manifest[event_uuid]["info"] == event["info"] and manifest[event_uuid]["Orgc"] == event["Orgc"]
        assert [t["name"] for t in manifest[event_uuid]["Tag"]] == [t["name"] for t in event["Tag"]]
        values = [a["value"] for a in event.get("Attribute", [])]
        values += [a["value"] for o in event.get("Object", []) for a in o["Attribute"]]
        expected |= {(hashlib.md5(v.encode()).hexdigest(), event_uuid) for v in values}
        loaded = MISPEvent()  # PyMISP, as a consumer, reads the file back
        loaded.load_file(str(directory / f"{event_uuid}.json"))
        assert loaded.uuid == event_uuid
    assert set(hashes) == expected
    return files


def test_feed_directory_is_what_misp_reads_and_a_second_export_rewrites_it_identically(tmp_path):
    feed = tmp_path / "feed"
    report = write_feed(events(), feed)
    assert len(report.written) == 4 and report.kept == report.removed == 0
    files = assert_consistent_feed(feed)
    assert sorted(files) == sorted(e.uuid for e in events())
    before = {p.name: p.read_bytes() for p in feed.iterdir()}
    write_feed(events(), feed)
    assert {p.name: p.read_bytes() for p in feed.iterdir()} == before


def test_feed_keeps_earlier_events_prunes_on_request_and_rebuilds_a_lost_manifest(tmp_path):
    feed = tmp_path / "feed"
    write_feed(events(), feed)
    only_wallet = [events()[1]]
    report = write_feed(only_wallet, feed)
    assert report.kept == 3 and len(read_feed(feed)[0]) == 4
    assert_consistent_feed(feed)
    (feed / "manifest.json").unlink()
    (feed / "hashes.csv").write_text("")
    write_feed(only_wallet, feed)  # the other events' entries are rebuilt from their files
    assert len(assert_consistent_feed(feed)) == 4
    (feed / "notes.json").write_text("{}")  # not an event file: never touched
    report = write_feed(only_wallet, feed, prune=True)
    assert report.removed == 3 and set(read_feed(feed)[0]) == {only_wallet[0].uuid}
    assert (feed / "notes.json").exists()


def test_feed_directory_that_cannot_be_written_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot write the MISP feed in"):
        write_feed(events(), blocker / "feed")


def settings(**values):
    return load_settings(overrides=values, environ={})


def test_target_settings_and_their_errors(tmp_path):
    key_file = tmp_path / "misp.key"
    key_file.write_text(API_KEY + "\n")
    target = MispTarget.from_settings(settings(DARKCRAWL_MISP_URL="https://misp.example/", DARKCRAWL_MISP_API_KEY="k"),
                                      api_key_file=str(key_file))
    assert (target.url, target.api_key) == ("https://misp.example", API_KEY)
    assert API_KEY not in repr(target)
    assert MispTarget.from_settings(settings(DARKCRAWL_MISP_API_KEY="k2"), url="http://127.0.0.1:8443").api_key == "k2"
    cases = [
        ({}, {}, "no MISP URL"),
        ({"DARKCRAWL_MISP_URL": "ftp://misp"}, {}, "must look like https://"),
        ({"DARKCRAWL_MISP_URL": "https://user:pw@misp.example"}, {}, "contains credentials"),
        ({"DARKCRAWL_MISP_URL": "http://misp.example"}, {}, "plain HTTP"),
        ({"DARKCRAWL_MISP_URL": "https://misp.example"}, {}, "no MISP API key"),
        ({"DARKCRAWL_MISP_URL": "https://misp.example"}, {"api_key_file": str(tmp_path / "none")}, "does not exist"),
        ({"DARKCRAWL_MISP_URL": "https://misp.example", "DARKCRAWL_MISP_API_KEY": "k",
          "DARKCRAWL_MISP_CA_CERTS": str(key_file)}, {}, "not a readable PEM CA certificate"),
    ]
    for values, options, message in cases:
        with pytest.raises(UsageError, match=message):
            MispTarget.from_settings(settings(**values), **options)
    key_file.write_text("two words\n")
    with pytest.raises(UsageError, match="must hold the key alone"):
        MispTarget.from_settings(settings(DARKCRAWL_MISP_URL="https://misp.example"), api_key_file=str(key_file))


@pytest.fixture
def misp(tmp_path):
    files = make_server(tmp_path / "tls")
    double = start_misp_double(API_KEY, server_context(str(files.cert), str(files.key)))
    yield double, str(files.ca)
    double.stop()


def test_push_adds_then_updates_by_uuid_over_verified_tls(misp):
    double, ca = misp
    target = MispTarget(double.url, API_KEY, ca)
    first = push_events(target, events())
    assert len(first.added) == 4 and not first.updated and not first.refused
    second = push_events(target, events())
    assert second.updated == first.added and not second.added
    assert len(double.events) == 4 and len(double.paths("POST")) == 8
    assert [p for p in double.paths("POST") if p.startswith("/events/edit/")] == [
        f"/events/edit/{uuid}" for uuid in first.added]
    assert all(r.headers["Authorization"] == API_KEY for r in double.requests)
    stored = double.events[first.added[1]]
    assert stored["published"] is False and stored["distribution"] == "0"  # the partner's analysts publish
    assert {t["name"] for t in stored["Tag"]} >= {"tlp:amber", 'darkcrawl:severity="critical"'}
    assert {o["name"] for o in stored["Object"]} >= {"coin-address", "pgp-meta", "url", "tor-hiddenservice"}
    assert events()[1].published  # the feed's copy is not changed by the push


def test_an_event_misp_refuses_is_reported_and_the_others_are_pushed(misp):
    double, ca = misp
    refused = events()[2].uuid
    double.refuse.add(refused)
    report = push_events(MispTarget(double.url, API_KEY, ca), events())
    assert len(report.added) == 3 and refused not in double.events
    (line,) = report.refused
    assert line.startswith(f"{refused}: ") and "Info cannot be empty" in line


def test_push_errors_are_one_line_and_never_show_the_key(misp, caplog):
    double, ca = misp
    caplog.set_level(logging.DEBUG)
    wrong = "WRONG" + API_KEY[5:]
    with pytest.raises(ServiceError, match="refused the API key") as refused:
        push_events(MispTarget(double.url, wrong, ca), events())
    with pytest.raises(ServiceError, match="TLS failed, its certificate is not trusted") as untrusted:
        push_events(MispTarget(double.url, API_KEY, ""), events())
    with pytest.raises(ServiceError, match="cannot be reached"):
        push_events(MispTarget("https://127.0.0.1:9", API_KEY, ca), events())
    for text in (str(refused.value), str(untrusted.value), caplog.text):
        assert API_KEY not in text and wrong not in text
        assert "\n" not in text or text is caplog.text


def test_mask_replaces_the_key_in_what_a_server_says():
    target = MispTarget("https://misp.example", API_KEY)
    assert target.mask(f"bad key {API_KEY}! Authorization: {API_KEY[:20]}") == "bad key ***! Authorization: ***"


def test_feed_files_get_the_modes_the_umask_gives(tmp_path):
    import os

    previous = os.umask(0o027)
    try:
        write_feed(events()[:1], tmp_path / "feed")
    finally:
        os.umask(previous)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "feed").iterdir()}
    assert set(modes.values()) == {0o640} and len(modes) == 3
