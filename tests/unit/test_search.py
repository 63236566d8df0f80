from crawler.search import SearchFilters, build_search, format_hit, hit_summary


def test_query_with_filters():
    body = build_search("escrow bitcoin", SearchFilters(site="ABC.onion", language="FR", since="now-7d"), size=5)
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
    from pipelines.entities import ENTITY_KINDS

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
        return {"hits": {"total": {"value": 0}, "hits": []}}

    monkeypatch.setattr(search_command, "search_pages", answer)
    assert main(["search", "escrow", "--site", "a.onion", "--lang", "de", "--crawl", "c-7", "--json"]) == 0
    filters = bodies[0]["query"]["bool"]["filter"]
    assert {"term": {"crawl_id": "c-7"}} in filters and {"term": {"site": "a.onion"}} in filters
    assert {"term": {"language": "de"}} in filters
    assert '"total": 0' in capsys.readouterr().out
