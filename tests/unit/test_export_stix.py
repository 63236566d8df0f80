"""crawler.export.stix: the STIX 2.1 bundle of alert documents, checked by stix2-validator (in the test too)."""

from __future__ import annotations

import json

import pytest
from stix2validator import ValidationOptions, validate_string

from crawler.errors import DarkcrawlError
from crawler.export import cases as c
from crawler.export.misp import Producer
from crawler.export.stix import CRYPTO_EXTENSION, PGP_EXTENSION, build_bundle, bundle_json, validate
from tests import export_samples as s

PRODUCER = Producer("Example CERT")
TLP_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"  # STIX 2.1 spec, section 7.2.1.4


def bundle(per: str = "alert", tlp: str = "amber", case: str | None = None, alerts=None) -> dict:
    cases = c.group_alerts(alerts or s.alerts(), per, case)
    return json.loads(bundle_json(build_bundle(cases, PRODUCER, tlp, s.pages())))


def by_type(data: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for item in data["objects"]:
        found.setdefault(item["type"], []).append(item)
    return found


def test_bundle_passes_stix2_validator_with_no_error():
    text = json.dumps(bundle())
    results = validate_string(text, ValidationOptions(version="2.1"))
    assert results.is_valid, [str(e) for r in results.object_results for e in r.errors]
    warnings = validate(text)
    # what remains are warnings: deterministic (UUIDv5) ids and messenger account types outside the vocabulary
    assert warnings and all("{103}" in w or "{244}" in w for w in warnings)


def test_reports_observed_data_notes_and_indicators_per_alert():
    objects = by_type(bundle())
    assert len(objects["report"]) == 4 and len(objects["observed-data"]) == 4 and len(objects["note"]) == 4
    report = next(r for r in objects["report"] if "Laundering wallet" in r["name"])
    assert report["id"] == f"report--{c.stable_uuid('alert:' + s.ALERTS[1]['alert_id'])}"  # the MISP event's UUID
    assert report["labels"] == ["critical", "money-laundering"]
    assert report["external_references"][0]["external_id"] == s.ALERTS[1]["alert_id"]
    ids = {item["id"]: item for item in bundle()["objects"]}
    assert all(ref in ids for r in objects["report"] for ref in r["object_refs"])
    patterns = {i["pattern"] for i in objects["indicator"]}
    assert f"[x-darkcrawl-crypto-address:address = '{s.BTC}']" in patterns
    assert f"[x-darkcrawl-pgp-key:fingerprint = '{s.FINGERPRINT}']" in patterns
    assert f"[domain-name:value = '{s.CLONE}']" in patterns
    assert f"[url:value = 'http://{s.MARKET}/login']" in patterns
    assert "[email-addr:value = 'greywolf@example.com']" in patterns
    crypto = {o["address"]: o for o in objects["x-darkcrawl-crypto-address"]}
    assert crypto[s.XMR]["currency"] == "XMR" and CRYPTO_EXTENSION in crypto[s.XMR]["extensions"]
    (pgp,) = objects["x-darkcrawl-pgp-key"]
    assert pgp["key_id"] == "F231550C4F47E38E" and PGP_EXTENSION in pgp["extensions"]
    assert {e["id"] for e in objects["extension-definition"]} == {CRYPTO_EXTENSION, PGP_EXTENSION}
    logins = {(u["account_type"], u["account_login"]) for u in objects["user-account"]}
    assert ("telegram", "greywolf_shop") in logins and ("darknet-market-vendor", "greywolf") in logins
    note = next(n for n in objects["note"] if s.ALERTS[2]["alert_id"] in n["abstract"])
    assert "fresh fullz with CVV" in note["content"] and "reported to the bank's fraud desk" in note["content"]
    observed = next(o for o in objects["observed-data"] if o["id"] == note["object_refs"][0])
    assert observed["first_observed"] == "2026-12-06T18:10:00Z" and observed["last_observed"] == "2026-12-06T18:40:00Z"


def test_every_object_but_the_definitions_carries_the_tlp_marking_and_the_producer():
    data = bundle()
    for item in data["objects"]:
        if item["type"] in ("marking-definition", "extension-definition") or item["id"].startswith("identity--"):
            continue
        assert item["object_marking_refs"] == [TLP_AMBER], item["id"]
        if item["type"] in ("report", "indicator", "note", "observed-data"):
            assert item["created_by_ref"] == f"identity--{PRODUCER.uuid}"
    (producer,) = [i for i in by_type(data)["identity"] if i["name"] == "Example CERT"]
    assert producer["identity_class"] == "organization"


def test_amber_strict_adds_a_statement_and_clear_is_tlp_white():
    strict = bundle(tlp="amber+strict")
    markings = {m["id"]: m for m in by_type(strict)["marking-definition"]}
    statement = next(m for m in markings.values() if m.get("name") == "TLP:AMBER+STRICT")
    assert "own organisation" in statement["definition"]["statement"]
    report = by_type(strict)["report"][0]
    assert report["object_marking_refs"] == [TLP_AMBER, statement["id"]]
    validate(json.dumps(strict))
    clear = by_type(bundle(tlp="clear"))
    assert [m["name"] for m in clear["marking-definition"]] == ["TLP:WHITE"]


def test_same_alerts_same_bundle_and_a_changed_alert_only_newer_modified_times():
    assert bundle(per="case") == bundle(per="case")
    alerts = s.alerts()
    alerts[1]["last_seen"] = "2026-12-07T08:00:00.000Z"
    changed = bundle(per="case", alerts=alerts)
    before = {item["id"]: item for item in bundle(per="case")["objects"]}
    after = {item["id"]: item for item in changed["objects"]}
    assert set(before) == set(after)
    newer = {i for i in after if after[i].get("modified") != before[i].get("modified")}
    assert newer and all(after[i]["modified"] > before[i]["modified"] for i in newer)
    assert all(after[i]["created"] == before[i]["created"] for i in after if "created" in after[i])


def test_named_case_is_one_report_and_an_empty_export_is_still_a_valid_bundle():
    objects = by_type(bundle(per="case", case="Operation Nightjar"))
    (report,) = objects["report"]
    assert report["name"].startswith("darkcrawl case 'Operation Nightjar': 4 alert(s)")
    empty = json.loads(bundle_json(build_bundle([], PRODUCER)))
    validate(json.dumps(empty))
    assert "report" not in by_type(empty)


def test_a_bundle_the_validator_refuses_is_not_written():
    broken = bundle()
    broken["objects"][0]["created"] = "yesterday"
    with pytest.raises(DarkcrawlError, match="failed stix2-validator"):
        validate(json.dumps(broken))


def test_alerts_made_by_the_alerts_code_export_to_valid_stix_and_misp():
    """The contract with crawler.alerts: documents written by its own alert_document, not by hand."""
    from crawler.alerts.documents import alert_document
    from crawler.export.misp import build_event
    from crawler.watch.model import Watch, WatchMatch

    watch = Watch("w-c10e01", "Nocturne clones", "clone", {"site": s.MARKET, "max_distance": 8}, owner="cert",
                  severity="high", tags=["phishing"], targets=["mailto://user:secret@mail.example"])
    clone = {"of_site": s.MARKET, "of_url": f"http://{s.MARKET}/login", "distance": 2,
             "addresses": {"this": [s.BECH32], "watched": [s.BTC]}}
    matches = [{"kind": "clone", "value": clone["of_url"], "entity_kind": None, "context": "SimHash 2 bit(s)",
                "rule": None},
               {"kind": "clone", "value": s.BECH32, "entity_kind": "crypto_address", "context": "pay here",
                "rule": None}]
    page = {"url": f"http://{s.CLONE}/login", "site": s.CLONE, "title": "Nocturne", "content_sha256": "ab" * 32,
            "language": "en"}
    alert = alert_document(WatchMatch(watch, matches, clone), page, "page-1", "crawl", "2026-12-06T18:00:00.000Z")
    (case,) = c.group_alerts([alert], "alert")
    data = json.loads(bundle_json(build_bundle([case], PRODUCER)))
    validate(json.dumps(data))
    assert "secret" not in json.dumps(data)  # the watch's notification targets never leave with the alert
    event = build_event(case, PRODUCER)
    assert {o.name for o in event.objects} == {"url", "tor-hiddenservice", "coin-address"}
    assert "secret" not in json.dumps(event.to_feed())
