import json

import pytest

from crawler.search import (
    SearchFilters,
    build_search,
    format_hit,
    hit_summary,
    signals_brief,
    site_titles,
    site_titles_request,
)

SIGNALS = {
    "crypto_addresses": [{"currency": "BTC", "address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"},
                         {"currency": "XMR", "address": "4" + "A" * 94}],
    "pgp_keys": [{"fingerprint": "6E2D8D5C9B9E2F1A0C3B7A4D5E6F708192A3B4C5"}],
    "vendors": [{"name": "NightOwl", "source": "label"}],
    "keywords": [{"term": "cocaine", "category": "drugs", "count": 2}, {"term": "mdma", "category": "drugs"},
                 {"term": "cvv", "category": "fraud"}],
    "emails": [], "onions": [],
}


def test_query_with_filters():
    body = build_search("escrow bitcoin", SearchFilters(site="ABC.onion", language="FR", since="now-7d"), size=5)
    assert "sort" not in body  # relevance
    must = body["query"]["bool"]["must"][0]["simple_query_string"]
    assert must["query"] == "escrow bitcoin" and must["default_operator"] == "and"
    assert {"term": {"site": "abc.onion"}} in body["query"]["bool"]["filter"]
    assert {"term": {"language": "fr"}} in body["query"]["bool"]["filter"]
    assert {"range": {"last_seen": {"gte": "now-7d"}}} in body["query"]["bool"]["filter"]
    assert body["size"] == 5


def test_empty_query_matches_all():
    assert build_search("  ")["query"]["bool"]["must"] == [{"match_all": {}}]


def test_hit_rendering_strips_tags_for_tools():
    hit = {"_score": 1.5, "_source": {"url": "http://x.onion/", "title": "Market", "language": "en",
                                      "last_seen": "2026-11-29T00:00:00Z"},
           "highlight": {"text": ["pay with <em>bitcoin</em> here"]}}
    assert hit_summary(hit, plain=True)["highlight"] == "pay with bitcoin here"
    text = format_hit(1, hit, color=False)
    assert " 1. Market" in text and "http://x.onion/" in text and "pay with bitcoin here" in text
    assert "pay with \x1b[1mbitcoin\x1b[0m here" in format_hit(1, hit, color=True)


def test_highlights_are_plain_markers_and_page_control_characters_never_survive():
    """Elasticsearch marks matches with <em> in HTML-escaped text: a page's own "<em>", ESC or CSI (U+009B) is text,
    never a marker, and control characters are gone from the JSON highlight and the terminal lines alike."""
    assert build_search("x")["highlight"]["pre_tags"] == ["<em>"]
    assert build_search("x")["highlight"]["encoder"] == "html"
    hit = {"_source": {"url": "http://x.onion/\x1b]0;owned\x07", "title": "T\x9b2J\nfake line"},
           "highlight": {"text": ["&lt;em&gt;literal&lt;/em&gt; <em>escrow</em> \x1b[31mred\x9b2J &amp; more"]}}
    plain = hit_summary(hit, plain=True)["highlight"]
    assert plain == "<em>literal</em> escrow \ufffd[31mred\ufffd2J & more"
    shown = format_hit(1, hit, color=True)
    assert "\x9b" not in shown and "\x07" not in shown and "\n    fake line" not in shown
    assert shown.count("\x1b") == 2  # the bold and reset around the match, nothing from the page


def test_entity_kind_and_category_filters():
    body = build_search("x", SearchFilters(entity_kind="pgp_fingerprint", category="Drugs"))
    filters = body["query"]["bool"]["filter"]
    assert {"exists": {"field": "signals.pgp_keys.fingerprint"}} in filters
    nested = next(condition["nested"] for condition in filters if "nested" in condition)
    assert nested["path"] == "signals.keywords"
    assert nested["query"] == {"terms": {"signals.keywords.category": ["Drugs", "drugs"]}}


def test_every_entity_kind_has_a_page_field_that_is_mapped():
    from crawler.es.templates import mapped_fields, page_mappings
    from crawler.search import ENTITY_KIND_FIELDS
    from crawler.sink.entities import ENTITY_KINDS

    assert set(ENTITY_KIND_FIELDS) == set(ENTITY_KINDS)
    fields = mapped_fields(page_mappings())
    assert all(fields[field] == "keyword" for field in ENTITY_KIND_FIELDS.values())


def test_crawl_filter_keeps_one_crawls_pages():
    filters = build_search("escrow", SearchFilters(crawl_id="c-42"))["query"]["bool"]["filter"]
    assert filters == [{"term": {"crawl_id": "c-42"}}]
    assert build_search("escrow")["query"]["bool"]["filter"] == []


def test_search_command_passes_every_filter_to_the_query(monkeypatch, capsys):
    from crawler.cli import main
    from crawler.cli import search as search_command

    bodies = []

    def answer(settings, body):
        bodies.append(body)
        return {"hits": {"total": {"value": 0}, "hits": []}}, {}

    monkeypatch.setattr(search_command, "search_pages", answer)
    assert main(["search", "escrow", "--site", "a.onion", "--lang", "de", "--crawl", "c-7", "--json"]) == 0
    filters = bodies[0]["query"]["bool"]["filter"]
    assert {"term": {"crawl_id": "c-7"}} in filters and {"term": {"site": "a.onion"}} in filters
    assert {"term": {"language": "de"}} in filters
    assert '"total": 0' in capsys.readouterr().out


def test_query_reaches_the_language_and_folded_subfields_and_favours_the_pages_own_language():
    body = build_search("passeport")
    fields = body["query"]["bool"]["must"][0]["simple_query_string"]["fields"]
    for sub in ("folded", "french", "dutch", "german", "english"):
        assert any(field.startswith(f"text.{sub}") for field in fields)
        assert any(field.startswith(f"title.{sub}") for field in fields)
    assert "title^3" in fields and "text" in fields and "url" in fields
    assert body["query"]["bool"]["must"][0]["simple_query_string"]["boost"] < 1  # recall: any stemmer matches
    exact, *own_language = body["query"]["bool"]["should"]
    assert exact["simple_query_string"]["fields"] == ["title^3", "title.folded^3", "text", "text.folded", "url"]
    french = next(clause["bool"] for clause in own_language if clause["bool"]["filter"] == [
        {"term": {"language": "fr"}}])
    assert french["must"][0]["simple_query_string"]["fields"] == ["title.french^3", "text.french"]
    assert set(body["highlight"]["fields"]["text"]["matched_fields"]) >= {"text", "text.folded", "text.french"}


def test_new_and_changed_since_and_date_sort():
    new = build_search("x", SearchFilters(new_since="2026-12-05T00:00:00Z"), sort="date")
    assert {"range": {"first_seen": {"gte": "2026-12-05T00:00:00Z"}}} in new["query"]["bool"]["filter"]
    assert new["sort"][0] == {"first_seen": {"order": "desc", "missing": "_last"}}
    changed = build_search("x", SearchFilters(changed_since="2026-12-05T00:00:00Z"), sort="date")
    condition = changed["query"]["bool"]["filter"][0]["bool"]["filter"]
    assert {"range": {"content_changed_at": {"gte": "2026-12-05T00:00:00Z"}}} in condition
    assert {"range": {"first_seen": {"lt": "2026-12-05T00:00:00Z"}}} in condition  # known before: not new
    assert changed["sort"][0] == {"content_changed_at": {"order": "desc", "missing": "_last"}}
    both = build_search("x", SearchFilters(new_since="2026-12-05", changed_since="2026-12-05"), sort="date")
    assert both["sort"][0] == {"content_changed_at": {"order": "desc", "missing": "_last"}}
    either = both["query"]["bool"]["filter"][0]["bool"]
    assert either["minimum_should_match"] == 1 and len(either["should"]) == 2
    assert build_search("x", sort="date")["sort"][0] == {"last_seen": {"order": "desc", "missing": "_last"}}


def test_signals_brief_counts_each_kind_with_its_first_values():
    brief = signals_brief(SIGNALS)
    assert brief.startswith("2 crypto_addresses (BTC bc1qar0srr...wf5mdq, XMR 4AAAAAAAAA...AAAAAA)")
    assert "1 pgp_keys (6E2D8D5C9B...A3B4C5)" in brief and "1 vendors (NightOwl)" in brief
    assert "keywords drugs:2, fraud:1" in brief and "emails" not in brief
    assert signals_brief({}) == signals_brief(None) == ""


def test_hit_shows_site_title_and_signals_and_json_carries_signals():
    hit = {"_score": 2.0, "_source": {"url": "http://x.onion/p", "title": "Listing", "site": "x.onion",
                                      "language": "fr", "signals": SIGNALS}}
    titles = {"x.onion": "Nocturne Market"}
    text = format_hit(1, hit, color=False, titles=titles)
    assert "site: x.onion (Nocturne Market)" in text and "signals: 2 crypto_addresses" in text
    summary = hit_summary(hit, plain=True, titles=titles)
    assert summary["site_title"] == "Nocturne Market" and summary["signals"] == SIGNALS
    json.dumps(summary)


def test_site_titles_from_the_shallowest_page_of_each_site():
    request = site_titles_request(["a.onion", "b.onion"])
    assert request["query"]["bool"]["filter"][0] == {"terms": {"site": ["a.onion", "b.onion"]}}
    response = {"aggregations": {"sites": {"buckets": [
        {"key": "a.onion", "home": {"hits": {"hits": [{"_source": {"title": "Home A", "url": "http://a.onion/"}}]}}},
        {"key": "b.onion", "home": {"hits": {"hits": []}}}]}}}
    assert site_titles(response) == {"a.onion": "Home A"}


@pytest.mark.parametrize(("args", "says"), [
    (["-n", "-1"], "argument -n/--limit: -1: give 0 to 10000"),
    (["-n", "100000"], "argument -n/--limit: 100000: give 0 to 10000"),
    (["--since", "garbage"], "--since 'garbage' is not a date"), (["--new-since", "soon"], "--new-since 'soon'"),
    (["--changed-since", "2026-02-30"], "--changed-since '2026-02-30' is not a date"),
])
def test_bad_options_exit_2_with_one_line_naming_the_option(monkeypatch, capsys, args, says):
    from crawler.cli import main
    from crawler.cli import search as search_command

    def never(settings, body):
        raise AssertionError("Elasticsearch must not be asked")

    monkeypatch.setattr(search_command, "search_pages", never)
    try:
        code = main(["search", "x", *args])
    except SystemExit as exc:  # argparse's errors (-n) exit from parse_args
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"darkcrawl: error: {says}"), err
    assert code == 2


def test_argparse_errors_are_one_line_too(capsys):
    from crawler.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["search", "x", "--sort", "newest"])
    assert caught.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("darkcrawl: error: argument --sort: invalid choice: 'newest'")
    assert err[0].endswith("(see darkcrawl search --help)")


def test_dates_reach_the_query_as_absolute_utc(monkeypatch):
    from crawler.cli import main
    from crawler.cli import search as search_command

    bodies = []
    monkeypatch.setattr(search_command, "search_pages", lambda settings, body: (bodies.append(body) or (
        {"hits": {"total": {"value": 0}, "hits": []}}, {})))
    assert main(["search", "x", "--since", "2026-11-01", "--new-since", "2026-11-02T10:00:00+02:00", "--sort",
                 "date", "--json"]) == 0
    filters = bodies[0]["query"]["bool"]["filter"]
    assert {"range": {"last_seen": {"gte": "2026-11-01T00:00:00Z"}}} in filters
    assert {"range": {"first_seen": {"gte": "2026-11-02T08:00:00Z"}}} in filters
    assert bodies[0]["sort"][0] == {"first_seen": {"order": "desc", "missing": "_last"}}
