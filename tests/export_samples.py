"""Alert and page documents of the shape docs/schema.md gives (the alerts index), for the export tests: a phishing
clone of a market, a watched laundering wallet, and a fraud-kit term watch with two alerts (one acknowledged). The
addresses, onions and the PGP key are valid ones from the shared test vectors."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

MARKET = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
CLONE = "sp3k262uwy4r2k3ycr5awluarykdpag6a7y33jxop4cs2lu5uz5sseqd.onion"
BTC = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
BECH32 = "bc1qvyq0cc6rahyvsazfdje0twl7ez82ndmuac2lhv"
XMR = "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H"
ETH = "0x52908400098527886E0F7030069857D2E4169EE7"
FINGERPRINT = "EB85BB5FA33A75E15E944E63F231550C4F47E38E"


def _id(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _alert(watch: dict[str, Any], page: dict[str, Any], matches: list[dict[str, Any]], first: str, last: str,
           **extra: Any) -> dict[str, Any]:
    return {
        "alert_id": _id(watch["id"], page["id"], page["content_sha256"]),
        "watch": watch, "page": page, "matches": matches, "first_seen": first, "last_seen": last, "state": "new",
        "state_changed_by": None, "state_changed_at": None, "state_note": None, "source": "crawl",
        "crawl_id": "crawl-1", "created_at": first, **extra,
    }


CLONE_WATCH = {"id": "w-c10e01", "name": "Nocturne Market clones", "kind": "clone", "severity": "high",
               "owner": "cert-team", "tags": ["phishing", "market"]}
WALLET_WATCH = {"id": "w-0a11e7", "name": "Laundering wallet", "kind": "entity", "severity": "critical",
                "owner": "aml-desk", "tags": ["money-laundering"]}
TERM_WATCH = {"id": "w-7e4a01", "name": "Fraud kits", "kind": "term", "severity": "medium", "owner": "fraud-unit",
              "tags": ["fraud"]}

CLONE_PAGE = {"id": _id("clone-page"), "url": f"http://{CLONE}/login", "site": CLONE, "title": "Nocturne Market",
              "content_sha256": _id("clone-content"), "language": "en"}
WALLET_PAGE = {"id": _id("wallet-page"), "url": f"http://{MARKET}/vendor/greywolf", "site": MARKET,
               "title": "greywolf | Nocturne Market", "content_sha256": _id("wallet-content"), "language": "en"}
TERM_PAGE_1 = {"id": _id("term-page-1"), "url": f"http://{CLONE}/shop/fullz", "site": CLONE, "title": "Fullz shop",
               "content_sha256": _id("term-content-1"), "language": "fr"}
TERM_PAGE_2 = {"id": _id("term-page-2"), "url": f"http://{MARKET}/listing/42", "site": MARKET, "title": "Listing 42",
               "content_sha256": _id("term-content-2"), "language": "en"}

ALERTS = [
    _alert(CLONE_WATCH, CLONE_PAGE,
           [{"kind": "clone", "value": f"http://{MARKET}/login", "entity_kind": None,
             "context": "SimHash 3 bit(s) from the watched page; payment addresses differ: 1 here only, 1 there only",
             "rule": None},
            {"kind": "clone", "value": BECH32, "entity_kind": "crypto_address", "context": f"Deposit to {BECH32} now",
             "rule": None}],
           "2026-12-06T18:00:00.000Z", "2026-12-06T19:00:00.000Z",
           clone={"of_site": MARKET, "of_url": f"http://{MARKET}/login", "distance": 3,
                  "addresses": {"this": [BECH32], "watched": [XMR]}}),
    _alert(WALLET_WATCH, WALLET_PAGE,
           [{"kind": "entity", "value": BTC, "entity_kind": "crypto_address",
             "context": "Direct deal address BTC: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 XMR:", "rule": None}],
           "2026-12-06T18:05:00.000Z", "2026-12-06T18:05:00.000Z"),
    _alert(TERM_WATCH, TERM_PAGE_1,
           [{"kind": "term", "value": "fullz", "entity_kind": None, "context": "fresh fullz with CVV, 10 EUR each",
             "rule": None}],
           "2026-12-06T18:10:00.000Z", "2026-12-06T18:40:00.000Z",
           state="acknowledged", state_changed_by="analyst", state_changed_at="2026-12-06T18:45:00.000Z",
           state_note="reported to the bank's fraud desk"),
    _alert(TERM_WATCH, TERM_PAGE_2,
           [{"kind": "term", "value": "fullz", "entity_kind": None, "context": "fullz and bank logs", "rule": None}],
           "2026-12-06T18:20:00.000Z", "2026-12-06T18:20:00.000Z"),
]
DISMISSED = _alert(TERM_WATCH, {**TERM_PAGE_2, "id": _id("term-page-3"), "content_sha256": _id("t3")},
                   [{"kind": "term", "value": "fullz", "entity_kind": None, "context": "a novel about fullz",
                     "rule": None}],
                   "2026-12-06T18:30:00.000Z", "2026-12-06T18:30:00.000Z", state="dismissed")

# the wallet alert's page as indexed: its other signals enrich the export
WALLET_PAGE_DOC = {
    "url": WALLET_PAGE["url"], "site": MARKET, "title": WALLET_PAGE["title"],
    "signals": {
        "crypto_addresses": [
            {"currency": "BTC", "address": BTC, "kind": "p2pkh", "context": "Direct deal address BTC",
             "ambiguous_with": [], "checksum": "verified"},
            {"currency": "ETH", "address": ETH.lower(), "kind": "eip55", "context": "ETH: 0x5290...",
             "ambiguous_with": [], "checksum": "verified"},
        ],
        "pgp_keys": [{"fingerprint": FINGERPRINT, "key_id": "F231550C4F47E38E", "version": 4, "algorithm": "EdDSA",
                      "bits": 255, "created": "2019-01-22T11:56:25Z",
                      "uids": ["Alice Lovelace <alice@openpgp.example>"]}],
        "emails": ["greywolf@example.com"],
        "handles": [{"network": "xmpp", "handle": "greywolf@jabber.example.net"},
                    {"network": "telegram", "handle": "greywolf_shop"}],
        "vendors": [{"name": "greywolf", "source": "rule:shadowstall"}],
    },
}


def alerts() -> list[dict[str, Any]]:
    """Fresh copies (tests may change them)."""
    return copy.deepcopy(ALERTS)


def pages() -> dict[str, dict[str, Any]]:
    return {WALLET_PAGE["id"]: copy.deepcopy(WALLET_PAGE_DOC)}
