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


def found(watchlist: Watchlist, text: str) -> set[str]:
    return {hit["term"] for hit in watchlist.find(text)}


def test_terms_are_found_in_their_inflected_forms_in_their_language() -> None:
    shipped = load_watchlists()
    assert {"faux passeport", "vals paspoort"} <= found(shipped, "Faux passeports et valse paspoorten, livraison 48h")
    assert "gefälschter reisepass" in found(shipped, "Gefälschte Reisepässe aus Polen")
    assert "fausse carte d'identité" in found(shipped, "Fausses cartes d'identité belges")
    assert "mailer" not in found(shipped, "send a mail to the admin")  # English: plurals only, never a shorter word
    terms = Watchlist([WatchTerm("pil", "drugs", "nl", "t:1"), WatchTerm("pistolet", "weapons", "fr", "t:2"),
                       WatchTerm("bank log", "fraud", "en", "t:3"), WatchTerm("cheval", "x", "fr", "t:4")])
    assert found(terms, "pillen, pistolets et des chevaux; bank logs") == {"pil", "pistolet", "bank log", "cheval"}
    assert found(terms, "pills, pistol, bank logging") == set()  # nl forms are not English ones; whole words only


def test_any_language_terms_take_every_languages_forms() -> None:
    terms = Watchlist([WatchTerm("paspoort", "docs", "any", "t:1")])
    assert found(terms, "paspoorten") == found(terms, "paspoorts") == {"paspoort"}


def test_ambiguous_terms_count_only_next_to_an_unambiguous_term_of_their_category() -> None:
    terms = Watchlist([
        WatchTerm("speed", "drugs", "en", "t:1", ambiguous=True),
        WatchTerm("crystal", "drugs", "en", "t:2", ambiguous=True),
        WatchTerm("ketamine", "drugs", "en", "t:3"),
        WatchTerm("glock", "weapons", "en", "t:4"),
    ])
    assert found(terms, "Speed and crystal clear water: a sports report.") == set()
    assert found(terms, "glock, speed") == {"glock"}  # another category is no context
    assert found(terms, "speed, crystal and ketamine, stealth shipping") == {"speed", "crystal", "ketamine"}
    far = "speed " + "filler text " * 30 + "ketamine"
    assert found(terms, far) == {"ketamine"}
    assert found(terms, "ketamine " + "x" * 150 + " speed") == {"ketamine", "speed"}


def test_the_shipped_ambiguous_words_need_context() -> None:
    shipped = load_watchlists()
    assert found(shipped, "Der Speed des Zuges und ein Crystal-Display; Gras im Garten, Pilze im Wald.") == set()
    assert {"crystal", "kokain"} <= found(shipped, "Crystal und Kokain, diskreter Versand")


def test_ambiguous_must_be_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("- {term: speed, category: drugs, ambiguous: maybe}\n")
    with pytest.raises(UsageError, match=r"w.yaml:1: 'ambiguous' must be true or false"):
        load_watchlists([path])
    path.write_text("- {term: speed, category: drugs, ambiguous: true}\n")
    assert load_watchlists([path]).terms[0].ambiguous is True


def test_a_term_whose_written_form_is_another_terms_inflection_is_kept() -> None:
    terms = Watchlist([WatchTerm("pistool", "weapons", "nl", "t:1"), WatchTerm("pistole", "weapons", "de", "t:2")])
    assert [term.term for term in terms.terms] == ["pistool", "pistole"]
    assert found(terms, "Pistolen und Munition") in ({"pistool"}, {"pistole"})  # one form, one term a category


def test_baseline_without_inflections_finds_written_forms_only() -> None:
    terms = [WatchTerm("faux passeport", "docs", "fr", "t:1")]
    assert found(Watchlist(terms, inflect=False), "faux passeports") == set()
    assert found(Watchlist(terms), "faux passeports") == {"faux passeport"}


def test_latin1_accent_stripping_is_unicodedatas() -> None:
    """The Latin-1 fast path of fold gives what NFKD and the removal of combining marks give."""
    import random
    import re
    import unicodedata

    from pipelines.extract.keywords import _strip_accents

    combining = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

    def reference(text: str) -> str:
        return combining.sub("", unicodedata.normalize("NFKD", text))

    latin1 = [chr(n) for n in range(256)]
    assert [_strip_accents(char) for char in latin1] == [reference(char) for char in latin1]
    rng = random.Random(11)
    alphabet = [*latin1, "\u0301", "\u0327", "Ω", "ǅ", "\u2014", "ﬁ"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert _strip_accents(text) == reference(text), text
    assert fold("Café  Déjà-vu ½ Straße") == "cafe deja-vu 1\u20442 strasse"
