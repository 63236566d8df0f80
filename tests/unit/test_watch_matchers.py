"""WatchSet: every kind in one pass over a page, in the order the watches were added, a failing kind losing only
its own matches."""

from __future__ import annotations

from crawler.watch.entity import EntityMatcher, entity_spec
from crawler.watch.matchers import WatchSet
from crawler.watch.model import ENTITY, REGEX, TERM
from crawler.watch.regex import regex_spec
from crawler.watch.term import term_spec
from tests.unit.watch_support import page_doc, watch

PAGE = "<p>Escrow only. Pay to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq, order #12345.</p>"


def test_kinds_fire_together_in_the_order_added():
    watches = [watch(REGEX, regex_spec(r"#\d{5}")), watch(TERM, term_spec(["escrow"])),
               watch(ENTITY, entity_spec("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")),
               watch(TERM, term_spec(["absent"]))]
    found = WatchSet.compile(watches).evaluate(page_doc(PAGE))
    assert [match.watch.id for match in found] == [w.id for w in watches[:3]]
    assert all(match.clone is None for match in found)


def test_a_failing_kind_loses_only_its_own_matches(monkeypatch, caplog):
    term = watch(TERM, term_spec(["escrow"]))
    entity = watch(ENTITY, entity_spec("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"))

    def broken(self, page):
        raise ValueError("hostile page")

    monkeypatch.setattr(EntityMatcher, "evaluate", broken)
    found = WatchSet.compile([term, entity]).evaluate(page_doc(PAGE))
    assert [match.watch.id for match in found] == [term.id]
    assert "EntityMatcher failed" in caplog.text


def test_a_page_without_text_or_signals_fires_nothing():
    watches = [watch(TERM, term_spec(["escrow"])), watch(ENTITY, entity_spec("a@example.org"))]
    flagged = {"url": "http://x.onion/", "site": "x.onion", "review": {"reason": "high-risk terms"}}
    assert WatchSet.compile(watches).evaluate(flagged) == []
