"""crawler.export.cases: alerts grouped into cases, the values each alert carries, deterministic UUIDs."""

from __future__ import annotations

import uuid

import pytest

from crawler.export import cases as c
from tests import export_samples as s


def test_one_case_per_alert_with_uuids_derived_from_the_alert_ids():
    alerts = s.alerts()
    cases = c.group_alerts(alerts, "alert")
    assert [case.alerts for case in cases] == [[alert] for alert in alerts]
    assert [case.uuid for case in cases] == [str(uuid.uuid5(c.NAMESPACE, f"alert:{a['alert_id']}")) for a in alerts]
    assert [case.uuid for case in c.group_alerts(s.alerts(), "alert")] == [case.uuid for case in cases]
    assert len({case.uuid for case in cases}) == len(cases)
    assert cases[0].title.startswith("darkcrawl alert: watch 'Nocturne Market clones' (clone, high) matched http://")


def test_per_case_groups_by_watch_or_puts_everything_in_the_named_case():
    by_watch = c.group_alerts(s.alerts(), "case")
    assert [case.key for case in by_watch] == ["watch:w-c10e01", "watch:w-0a11e7", "watch:w-7e4a01"]
    fraud = by_watch[2]
    assert len(fraud.alerts) == 2 and fraud.title == "darkcrawl watch 'Fraud kits' (term): 2 alert(s) on 2 site(s)"
    assert fraud.first_seen == "2026-12-06T18:10:00.000Z" and fraud.last_seen == "2026-12-06T18:40:00.000Z"
    assert fraud.modified == "2026-12-06T18:45:00.000Z"  # acknowledged after it was last seen
    assert fraud.states == ["acknowledged", "new"]
    (named,) = c.group_alerts(s.alerts(), "case", "Operation Nightjar")
    assert named.key == "case:Operation Nightjar" and len(named.alerts) == 4
    assert named.severity == "critical" and named.tags == ["phishing", "market", "money-laundering", "fraud"]
    assert c.group_alerts([], "case", "empty") == []
    with pytest.raises(ValueError, match="per='site'"):
        c.group_alerts(s.alerts(), "site")


def test_clone_alert_values_name_the_original_and_the_swapped_payment_addresses():
    values = {value.value: value for value in c.alert_values(s.alerts()[0])}
    assert values[s.CLONE].kind == c.ONION and values[s.CLONE].role == c.ALERTED_SITE
    assert values[f"http://{s.CLONE}/login"].kind == c.URL and values[f"http://{s.CLONE}/login"].role == c.ALERTED_PAGE
    assert values[s.MARKET].role == c.CLONED_SITE and "SimHash distance 3" in values[s.MARKET].context
    # the clone watch's matches: the original page (with the watch's context) and the clone's own address
    original = values[f"http://{s.MARKET}/login"]
    assert original.kind == c.URL and original.role == c.CLONED_PAGE and original.context.startswith("SimHash 3 bit")
    # the currency comes from the address's own checksum (extraction's validator), not from a guess
    assert values[s.BECH32].role == c.CLONE_PAYMENT and values[s.BECH32].detail["currency"] == "BTC"
    assert values[s.BECH32].context == f"Deposit to {s.BECH32} now"
    assert values[s.XMR].role == c.ORIGINAL_PAYMENT and values[s.XMR].detail["currency"] == "XMR"
    # matched and named in the clone's addresses too: once each
    assert [value.value for value in c.alert_values(s.alerts()[0])].count(s.BECH32) == 1


def test_entity_match_and_page_signals_become_values_once_each():
    alert = s.alerts()[1]
    values = c.alert_values(alert, s.pages()[alert["page"]["id"]])
    by_key = {value.key: value for value in values}
    matched = by_key[(c.CRYPTO, s.BTC)]
    assert matched.role == c.MATCHED and "Direct deal address" in matched.context
    assert matched.first_seen == matched.last_seen == "2026-12-06T18:05:00.000Z"
    assert by_key[(c.CRYPTO, s.ETH.lower())].role == c.ON_PAGE
    assert by_key[(c.PGP, s.FINGERPRINT)].detail["key_id"] == "F231550C4F47E38E"
    assert (c.EMAIL, "greywolf@example.com") in by_key
    assert by_key[(c.HANDLE, "telegram:greywolf_shop")].detail["network"] == "telegram"
    assert (c.VENDOR, "greywolf") in by_key
    assert len(values) == len(by_key)  # the matched address is also on the page: still once
    assert [value.key for value in c.alert_values(alert)] == [(c.CRYPTO, s.BTC), (c.URL, s.WALLET_PAGE["url"]),
                                                             (c.ONION, s.MARKET)]


def test_term_matches_are_context_not_indicators_and_case_values_merge_dates():
    (fraud,) = [case for case in c.group_alerts(s.alerts(), "case") if case.key == "watch:w-7e4a01"]
    values = c.case_values(fraud)
    term = [value for value in values if value.kind == c.TERM]
    assert len(term) == 1 and term[0].value == "fullz" and term[0].detail["watch_kind"] == "term"
    assert term[0].first_seen == "2026-12-06T18:10:00.000Z" and term[0].last_seen == "2026-12-06T18:40:00.000Z"
    assert term[0].context == "fresh fullz with CVV, 10 EUR each"


def test_pgp_user_ids_split_into_names_and_emails():
    assert c.pgp_uid_parts(["Alice Lovelace <Alice@OpenPGP.example>", "bob (work)", "<x@y.z>"]) == (
        ["Alice Lovelace", "bob (work)"], ["alice@openpgp.example", "x@y.z"])
