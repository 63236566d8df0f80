"""HTML/text to clean text, title and links; charsets; broken input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extract.text import decode_body, looks_like_html, parse_document


def test_scripts_styles_and_templates_are_dropped() -> None:
    page = (
        "<html><head><title> Shop &amp; More </title><style>.x{color:red}</style>"
        "<script>var secret='bc1q';</script></head><body><noscript>enable js</noscript>"
        "<template><p>hidden</p></template><p>Visible <b>bold</b>text</p></body></html>"
    )
    parsed = parse_document(page)
    assert parsed.is_html
    assert parsed.title == "Shop & More"
    assert parsed.text == "Visible boldtext"


def test_blocks_and_br_become_lines_and_spaces_collapse() -> None:
    parsed = parse_document("<body><div>one</div><div>two<br>three</div><p>a \t\u00a0  b</p><li>four</li></body>")
    assert parsed.text.split("\n") == ["one", "two", "three", "a b", "four"]


def test_links_are_absolute_deduplicated_without_fragments() -> None:
    page = (
        '<html><head><base href="/forum/"></head><body>'
        '<a href="t/1#post2">a</a><a href="t/1">b</a><a href="http://other.example/x">c</a>'
        '<a href="javascript:void(0)">d</a><a href="#top">e</a><a href="mailto:a@b.example">f</a>'
        '<area href="/map"></body></html>'
    )
    parsed = parse_document(page, "http://site.example/index.html")
    assert parsed.hrefs == [
        "http://site.example/forum/t/1",
        "http://other.example/x",
        "mailto:a@b.example",
        "http://site.example/map",
    ]


def test_charset_from_http_header_and_meta() -> None:
    text = "Verkäufer liefert schnell"
    assert decode_body(text.encode("iso-8859-1"), "text/html; charset=ISO-8859-1") == text
    meta = b'<html><head><meta charset="windows-1252"></head><body>' + text.encode("cp1252") + b"</body></html>"
    assert text in parse_document(meta).text
    assert decode_body(text.encode("utf-8")) == text
    assert decode_body(b"\xef\xbb\xbf" + text.encode("utf-8")) == text  # BOM
    assert decode_body(text.encode("cp1252")) == text  # not UTF-8: falls back to Windows-1252
    assert decode_body(text.encode("utf-8"), "text/html; charset=bogus-charset") == text


def test_html_or_text() -> None:
    assert looks_like_html("<!DOCTYPE html><p>x")
    assert looks_like_html("anything", "text/html; charset=utf-8")
    assert not looks_like_html("<p>shown as text</p>", "text/plain")
    assert not looks_like_html("a plain paste 1 < 2 > 0")
    plain = parse_document("line one\n\n\n   line two   ", content_type="text/plain")
    assert not plain.is_html and plain.text == "line one\nline two" and plain.tree is None


def test_broken_html_does_not_raise() -> None:
    for page in ["<html><body><div><p>unclosed <b>tags", "<<<>>><a href='http://[::1'>x</a>", "<p\x00>nul</p>", ""]:
        parse_document(page, "http://site.example/")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from([None, "text/html", "text/plain; charset=utf-16", "x/y;charset=zz"]))
def test_arbitrary_bytes_never_raise(body: bytes, content_type: str | None) -> None:
    parsed = parse_document(body, "http://site.example/a", content_type)
    assert isinstance(parsed.text, str)


def test_hostile_nesting_is_read_without_the_parser() -> None:
    # lexbor needs ~20 s for 100,000 nested <div>s (quadratic); such a page is read by regular expressions instead.
    page = "<div>" * 100_000 + "<script>x()</script>deep text <a href='/in'>link</a>" + "</div>" * 100_000
    parsed = parse_document(page, "http://site.example/")
    assert parsed.tree is None and parsed.is_html
    assert parsed.text == "deep text link"
    assert parsed.hrefs == ["http://site.example/in"]
    normal = parse_document("<div>" * 50 + "<p>fine</p>" + "</div>" * 50 + "<div>x</div>" * 6000)
    assert normal.tree is not None  # many block tags, shallow: the parser is used


def test_block_tags_match_in_any_case_as_with_ignorecase() -> None:
    """The block-tag pattern spells case by classes (faster than re.IGNORECASE): it must match exactly the same."""
    import re
    import sys

    from pipelines.extract.text import _BLOCK_TAG, _FOLDED_EXTRA, BLOCK_TAG_PATTERN, _without_ignorecase

    letters = "abcdefghijklmnopqrstuvwxyz"
    folded = re.compile("[a-z]", re.IGNORECASE)
    for code in range(sys.maxunicode + 1):  # every character IGNORECASE matches for some ASCII letter
        char = chr(code)
        if folded.fullmatch(char):
            for letter in letters:
                cased = re.compile(_without_ignorecase(letter))
                assert bool(re.fullmatch(letter, char, re.IGNORECASE)) == bool(cased.fullmatch(char)), (letter, char)
    assert set("".join(_FOLDED_EXTRA.values())) <= {chr(c) for c in range(128, sys.maxunicode + 1)}
    reference = re.compile(BLOCK_TAG_PATTERN, re.IGNORECASE)
    names = ("DIV", "Div", "d\u0130v", "\u017fection", "TEXTAREA", "t\u0131tle", "br", "BR", "span", "h7", "H1")
    page = "".join(f"x<{slash}{name}{end}y" for slash in ("", "/") for end in (" ", ">", "/", "z") for name in names)
    assert reference.subn("\n<", page) == _BLOCK_TAG.subn("\n<", page)
