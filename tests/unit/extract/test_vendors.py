"""Vendor names: heuristics (labels in four languages, profile URLs) and operator rules (CSS, XPath, matching)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.errors import UsageError
from pipelines.extract.text import parse_document
from pipelines.extract.vendors import VendorRules, default_rules_path, find_vendors, load_vendor_rules


def vendors(page: str, url: str = "http://market.example/item/1", rules: VendorRules | None = None) -> list[tuple]:
    parsed = parse_document(page, url)
    found = find_vendors(
        parsed.text, parsed.hrefs, url=url, tree=parsed.tree, html=parsed.html, generator=parsed.generator,
        rules=rules or VendorRules(),
    )  # fmt: skip
    return [(v["name"], v["source"]) for v in found]


@pytest.mark.parametrize(
    ("line", "name", "label"),
    [
        ("Vendor: DrWhite", "DrWhite", "vendor"),
        ("Sold by GreenLeaf_NL", "GreenLeaf_NL", "sold by"),
        ("Seller: @crypto.king", "crypto.king", "seller"),
        ("Verkoper: Tulpen-Shop", "Tulpen-Shop", "verkoper"),
        ("Vendeur : Lapin_Noir", "Lapin_Noir", "vendeur"),
        ("Verkäufer: Schwarzwald", "Schwarzwald", "verkäufer"),
        ("Vendu par MonsieurX", "MonsieurX", "vendu par"),
        ("Verkauft von BerlinBeste", "BerlinBeste", "verkauft von"),
    ],
)
def test_labels(line: str, name: str, label: str) -> None:
    assert vendors(f"<html><body><p>{line}</p></body></html>") == [(name, f"heuristic:{label}")]


def test_not_names_and_unlabelled_words() -> None:
    assert vendors("<html><body><p>Vendor: the best in town. Become a vendor today.</p></body></html>") == []


def test_profile_urls() -> None:
    page = (
        '<html><body><a href="/vendor/CryptoKing">k</a><a href="/user/alice/">a</a><a href="/profile/12345">n</a>'
        '<a href="/vendor/CryptoKing?tab=reviews">again</a></body></html>'
    )
    assert vendors(page, "http://market.example/vendor/SelfName") == [
        ("SelfName", "heuristic:/vendor/"),
        ("CryptoKing", "heuristic:/vendor/"),
        ("alice", "heuristic:/user/"),
    ]


RULES = """
rules:
  - id: acme-generator
    match:
      generator: "^AcmeMarket"
    vendor:
      - css: ".seller-box .name"
      - css: "a.vendor-link"
        attribute: data-vendor
  - id: by-host
    match:
      hosts: [shop.example]
    vendor:
      xpath: "//td[@class='v']/text()"
      pattern: "^seller-(\\\\w+)$"
  - id: by-class
    match:
      selector: "body.theme-x"
    vendor: "span.who"
"""


def test_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    rules = load_vendor_rules([path])
    assert len(rules) == 3
    acme = (
        '<html><head><meta name="generator" content="AcmeMarket 3.1"></head><body>'
        '<div class="seller-box"><span class="name"> Big  Boss </span></div>'
        '<a class="vendor-link" data-vendor="Shadow" href="/x">x</a><p>Sold by: Big Boss</p></body></html>'
    )
    assert vendors(acme, rules=rules) == [("Big Boss", "rule:acme-generator"), ("Shadow", "rule:acme-generator")]
    other_generator = acme.replace("AcmeMarket", "OtherMarket")
    assert vendors(other_generator, rules=rules) == [("Big", "heuristic:sold by")]  # labels read one word
    table = "<html><body><table><tr><td class='v'>seller-Tom</td><td class='v'>nobody</td></tr></table></body></html>"
    assert vendors(table, "http://shop.example/p", rules=rules) == [("Tom", "rule:by-host")]
    assert vendors(table, "http://elsewhere.example/p", rules=rules) == []
    themed = "<html><body class='theme-x'><span class='who'>Zed</span></body></html>"
    assert vendors(themed, rules=rules) == [("Zed", "rule:by-class")]


def test_shipped_rules_load() -> None:
    assert default_rules_path().is_file()
    assert len(load_vendor_rules()) >= 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [\n", "invalid YAML"),
        ("something: else\n", ":1: expected a top-level 'rules:' list"),
        ("rules:\n  - id: a\n    vendor: {css: x}\n", "needs a 'match'"),
        ("rules:\n  - id: a\n    match: {generator: '('}\n    vendor: {css: x}\n", ":3: bad regular expression"),
        ("rules:\n  - id: a\n    match: {hosts: [h]}\n    vendor:\n      - css: 'a[[['\n", ":5: bad CSS selector"),
        ("rules:\n  - id: a\n    match: {hosts: [h]}\n    vendor:\n      - xpath: '//a[('\n", ":5: bad XPath"),
        ("rules:\n  - id: a\n    match: {hosts: [h]}\n    vendor: {css: x, xpath: y}\n", "exactly one of css or xpath"),
        ("rules:\n  - id: a\n    match: {colour: red}\n    vendor: {css: x}\n", "unknown match key"),
        ("rules:\n  - id: a\n    match: {hosts: [h]}\n", "has no 'vendor'"),
        (
            "rules:\n  - id: a\n    match: {hosts: [h]}\n    vendor: {css: x}\n"
            "  - id: a\n    match: {hosts: [h]}\n    vendor: {css: x}\n",
            ":5: duplicate rule id 'a'",
        ),
    ],
)
def test_bad_rule_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_vendor_rules([path])
    assert str(path) in str(caught.value) and message in str(caught.value)
