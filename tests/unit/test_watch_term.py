"""Term watches: accent- and case-insensitive whole words in the four languages, one automaton for every watch."""

from __future__ import annotations

import pytest

from crawler.errors import UsageError
from crawler.watch.matchers import WatchSet
from crawler.watch.model import TERM
from crawler.watch.term import term_spec
from tests.unit.watch_support import page_doc, watch


def fired(watches, page):
    return {match.watch.id: match for match in WatchSet.compile(watches).evaluate(page)}


@pytest.mark.parametrize(("term", "text"), [
    ("carte bancaire volée", "Vends CARTE BANCAIRE VOLEE avec code, livraison rapide."),  # fr, accents dropped
    ("Kokaïne", "Beste kokaine van Nederland, discrete verzending."),  # nl, diaeresis in the watch only
    ("Überweisung", "Bezahlung per UEBERWEISUNG oder ueberweisung? Nein: per überweisung."),  # de
    ("Geldwäsche", "Schnelle GELDWASCHE über Krypto, keine Fragen."),  # de, umlaut in the watch only
    ("Straße", "Abholung in der Hauptstrasse, nicht per Post. STRASSE 5."),  # de, ß folds to ss
    ("witwassen", "Snel WITWASSEN via crypto, geen vragen."),  # nl
    ("money mule", "We are hiring a Money   Mule for cash-out jobs."),  # en, spaces collapsed
    ("cafe", "Le Café du coin accepte le bitcoin."),
])
def test_term_matches_across_accents_case_and_languages(term, text):
    page = page_doc(f"<html><body><p>{text}</p></body></html>")
    term_watch = watch(TERM, term_spec([term]))
    found = fired([term_watch], page)
    assert term_watch.id in found
    match = found[term_watch.id].matches[0]
    assert match["kind"] == TERM and match["value"] == " ".join(term.split())
    assert match["rule"] is None and match["entity_kind"] is None


def test_context_quotes_the_original_text_around_the_term():
    page = page_doc("<p>" + "préambule " * 60 + "Ici la Résine de CANNABIS à vendre." + " épilogue" * 60 + "</p>")
    term_watch = watch(TERM, term_spec(["resine de cannabis"]))
    context = fired([term_watch], page)[term_watch.id].matches[0]["context"]
    assert "Résine de CANNABIS" in context and len(context) <= 300


def test_context_has_no_format_characters():
    page = page_doc("<p>buy fullz\u200b here, fresh\u200e fullz dumps</p>")
    term_watch = watch(TERM, term_spec(["fullz"]))
    context = fired([term_watch], page)[term_watch.id].matches[0]["context"]
    assert "\u200b" not in context and "\u200e" not in context and "fullz" in context


@pytest.mark.parametrize("text", [
    "The method is simple.",  # "meth" inside a word
    "Nothing to see here.",
])
def test_term_needs_whole_words(text):
    term_watch = watch(TERM, term_spec(["meth", "see here now"]))
    assert fired([term_watch], page_doc(f"<p>{text}</p>")) == {}


def test_title_counts():
    term_watch = watch(TERM, term_spec(["escrow"]))
    assert term_watch.id in fired([term_watch], page_doc("<title>Escrow service</title><p>hello</p>"))


def test_languages_restrict_the_pages():
    french = page_doc("<p>Le blanchiment d'argent est un crime grave, disent les banques françaises.</p>")
    assert french["language"] == "fr"
    only_de = watch(TERM, term_spec(["blanchiment"], ["de"]))
    only_fr = watch(TERM, term_spec(["blanchiment"], ["FR"]))
    found = fired([only_de, only_fr], french)
    assert set(found) == {only_fr.id}


def test_two_watches_share_a_term_and_both_fire():
    first, second = watch(TERM, term_spec(["cvv"])), watch(TERM, term_spec(["CVV", "dumps"]))
    found = fired([first, second], page_doc("<p>fresh cvv and dumps</p>"))
    assert set(found) == {first.id, second.id}
    assert [m["value"] for m in found[second.id].matches] == ["CVV", "dumps"]


def test_a_thousand_term_watches_fire_exactly():
    watches = [watch(TERM, term_spec([f"codeword{i:04d}", f"mot {i:04d} secret"])) for i in range(1000)]
    page = page_doc("<p>Order codeword0007, then codeword0999 and MOT 0500 SECRET; not codeword10000.</p>")
    found = fired(watches, page)
    assert {w.name for w in watches if w.id in found} == {"term watch"}
    assert sorted(found) == sorted([watches[7].id, watches[999].id, watches[500].id])


def test_paused_watches_do_not_fire():
    paused = watch(TERM, term_spec(["escrow"]), state="paused")
    assert fired([paused], page_doc("<p>escrow</p>")) == {}


@pytest.mark.parametrize("terms", [[], ["  "], ["\u0301"]])
def test_empty_terms_are_refused(terms):
    with pytest.raises(UsageError):
        term_spec(terms)


def test_context_positions_survive_characters_whose_folding_changes_length():
    """ß folds to ss (120 of them before the term here): the context is still centred on the term in the original."""
    text = "Große Straße, Maße und Fuße: " * 30 + "Hier KOKAIN kaufen. " + "Weiß und groß. " * 30
    page = page_doc(f"<p>{text}</p>")
    term_watch = watch(TERM, term_spec(["kokain kaufen"]))
    context = fired([term_watch], page)[term_watch.id].matches[0]["context"]
    assert "Hier KOKAIN kaufen." in context and "Weiß" in context
    assert abs(context.index("KOKAIN kaufen") - (300 - len("KOKAIN kaufen")) // 2) <= 3  # centred on it


def test_position_map_through_expanding_and_vanishing_characters():
    from crawler.watch.term import _original_positions
    from pipelines.extract.keywords import fold

    text = "a\u0301ßb \ufb01nal"  # a lone combining accent, sharp s, the fi ligature
    folded = fold(text, normalised=True)
    assert folded == "assb final"
    original = _original_positions(text, folded)
    assert original is not None
    assert [original(index) for index in (0, 1, 3, 4, 5, 7, len(folded))] == [0, 2, 3, 4, 5, 6, len(text)]


def test_inflected_forms_in_the_watchs_language():
    """The watch lists' inflection rules: a French watch finds the plural, a Dutch one the declined plural; a watch
    of one language makes its forms in that language only."""
    page = page_doc("<p>Vends faux passeports et valse paspoorten, livraison rapide.</p>")
    french, dutch = watch(TERM, term_spec(["faux passeport"], ["fr"])), watch(TERM, term_spec(["vals paspoort"]))
    found = WatchSet.compile([french, dutch]).evaluate(page | {"language": "fr"})
    assert {match.watch.id for match in found} == {french.id, dutch.id}
    assert found[0].matches[0]["value"] == "faux passeport"  # the term as the watch writes it
