"""Watch lists: matching rules, the shipped list, and clear errors for bad files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from crawler.errors import UsageError
from pipelines.extract.keywords import Watchlist, WatchTerm, default_watchlist_path, fold, load_watchlists


def listing(*terms: tuple[str, str]) -> Watchlist:
    return Watchlist(WatchTerm(term, category, "any", "test") for term, category in terms)


def counts(watchlist: Watchlist, text: str) -> dict[str, int]:
    return {entry["term"]: entry["count"] for entry in watchlist.find(text)}


def test_whole_words_case_and_accents() -> None:
    watch = listing(("meth", "drugs"), ("kokain", "drugs"), ("fake passport", "documents"), ("cocaïne", "drugs"))
    text = "METH, meth! method methods Kokaín KOKAIN fake  passport\nFAKE PASSPORT fakepassport cocaine"
    assert counts(watch, text) == {"meth": 2, "kokain": 2, "fake passport": 2, "cocaïne": 1}


def test_categories_and_duplicates() -> None:
    watch = listing(("ammo", "weapons"), ("ammo", "weapons"), ("ammo", "hunting"))
    found = watch.find("ammo for sale")
    assert sorted((e["term"], e["category"], e["count"]) for e in found) == [
        ("ammo", "hunting", 1),
        ("ammo", "weapons", 1),
    ]


def test_fold() -> None:
    assert fold("Verkäufer  GROSSE\tStraße") == "verkaufer grosse strasse"


def test_shipped_list_is_realistic() -> None:
    watch = load_watchlists()
    assert len(watch) > 200
    by_category = Counter(term.category for term in watch.terms)
    assert set(by_category) == {
        "drugs", "weapons", "fraud/carding", "counterfeit documents", "phishing kits", "money laundering",
        "hacking services",
    }  # fmt: skip
    assert min(by_category.values()) >= 24
    assert {term.language for term in watch.terms} == {"en", "fr", "nl", "de"}
    found = {e["term"]: e["category"] for e in watch.find("Vendeur de faux passeport et cocaïne; Geldwäsche ohne KYC")}
    assert found["faux passeport"] == "counterfeit documents"
    assert found["geldwäsche"] == "money laundering"
    assert found["cocaine"] == "drugs"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "list.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_both_entry_forms_and_terms_mapping(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "terms:\n  - term: vacuum sealed\n    category: drugs\n  - category: fraud\n    language: en\n"
        "    terms: [fullz, cvv]\n",
    )
    watch = load_watchlists([path])
    assert [(t.term, t.category, t.language) for t in watch.terms] == [
        ("vacuum sealed", "drugs", "any"),
        ("fullz", "fraud", "en"),
        ("cvv", "fraud", "en"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- term: [unclosed\n", ":2: invalid YAML"),
        ("- term: cocaine\n", ":1: entry has no 'category'"),
        ("- category: drugs\n", ":1: entry has no 'term' or 'terms'"),
        ("- term: x\n  category: drugs\n- term: y\n  category: drugs\n  colour: red\n", ":5: unknown key 'colour'"),
        ("- term: ''\n  category: drugs\n", ":1: term must be a non-empty string"),
        ("- category: drugs\n  terms: cocaine\n", ":2: 'terms' must be a list"),
        ("just a string\n", ":1: expected a list of entries"),
        ("- category: drugs\n  terms: [ok, {a: b}]\n", ":2: each term must be a non-empty string"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        load_watchlists([path])
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        load_watchlists([tmp_path / "nope.yaml"])


def test_default_path_exists() -> None:
    assert default_watchlist_path().is_file()
