"""The context a match carries: at most 300 characters around the value, format characters removed."""

from __future__ import annotations

import sys
import unicodedata

from crawler.watch.context import FORMAT_CHARACTERS, context_around
from crawler.watch.model import CONTEXT_CHARS


def test_format_characters_are_unicodes():
    expected = {chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"}
    listed = {chr(code) for code in range(sys.maxunicode + 1) if FORMAT_CHARACTERS.fullmatch(chr(code))}
    assert listed == expected


def test_context_is_centred_bounded_and_clean():
    text = "a" * 1000 + " the\u200b VALUE\u202e here " + "b" * 1000
    start = text.index("VALUE")
    context = context_around(text, start, start + 5)
    assert "VALUE" in context and len(context) <= CONTEXT_CHARS
    assert "\u200b" not in context and "\u202e" not in context
    assert abs(context.index("VALUE") - CONTEXT_CHARS // 2) < 20


def test_short_text_is_kept_whole():
    assert context_around("pay  to\n\nbc1q", 9, 13) == "pay to bc1q"
