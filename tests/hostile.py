"""Pathological inputs for the extractors (issue #13): each builds a page of about *size* characters that once made a
finder slow down with the square of its size. Shared by tests/unit/extract/test_linear_time.py and
bench/bench_hostile.py, so that the test and the benchmark measure the same pages.

Offers :data:`PATTERNS` (name -> builder ``size -> str``), :func:`build` and :data:`TOKENS` (the pieces random
adversarial pages are made of).
"""

from __future__ import annotations

from collections.abc import Callable

BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
END = "-----END PGP PUBLIC KEY BLOCK-----\n"
# A valid v3 onion label and Bitcoin address (tests/fixtures/vectors), to fill pages with real values.
ONION_LABEL = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd"
BTC = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"


def _repeat(unit: str, size: int, head: str = "", tail: str = "") -> str:
    return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail


PATTERNS: dict[str, Callable[[int], str]] = {
    # the reproductions
    "pgp_dashes": lambda size: _repeat("-", size, head="PGP "),
    "pgp_base64_tail": lambda size: _repeat("A", size, head=BEGIN, tail="!\n" + END),
    "pgp_begin_no_end": lambda size: _repeat(BEGIN, size),
    "xmpp_labels": lambda size: _repeat("/xmpp", size, head="jabber"),
    "at_marks": lambda size: _repeat("x [at] ", size),
    "open_divs": lambda size: _repeat("<div ", size, head="<html><body>"),
    # found by the sweep of the other finders
    "pgp_words": lambda size: _repeat("begin  PGP public KEY block pgp pgp ", size),
    "pgp_end_lines": lambda size: _repeat(END, size),
    "pgp_blocks": lambda size: _repeat(BEGIN + "mQ" + "A" * 200 + "\n" + END, size),
    # (an opening <div> in each unit nests them deep enough for the parser-less reading of text.py)
    "open_anchors": lambda size: _repeat("<div><a ", size, head="<html><body>"),
    "open_scripts": lambda size: _repeat("<div><script>x", size, head="<html><body>"),
    "unquoted_href": lambda size: _repeat('<div><a href="x ', size, head="<html><body>"),
    "shouted_at": lambda size: _repeat("ab AT ", size),
    "dot_labels": lambda size: _repeat("a.", size, head="x@"),
    "obfuscated_dots": lambda size: _repeat("a [dot] ", size, head="x [at] "),
    "telegram_separators": lambda size: _repeat("tg: - ", size),
    "vendor_labels": lambda size: _repeat("vendor: ", size),
    "watchlist_terms": lambda size: _repeat("cocaine fake passport kokain weed cachets ", size),
    "hex_runs": lambda size: _repeat("0" * 75 + " ", size),
    "session_runs": lambda size: _repeat("05", size),
    "onion_words": lambda size: _repeat("a.onion ", size),
    "onion_split_label": lambda size: _repeat("abcd ", size, tail=".onion"),
    "base58_runs": lambda size: _repeat("1" * 40 + " ", size),
    "bech32_heads": lambda size: _repeat("bc1", size),
    "format_characters": lambda size: _repeat("a\u200b@\u00ad", size),
    # mixed hostile pages
    "mixed_markup": lambda size: _repeat(
        "<div><a href='x [at] y [dot] z'>jabber/xmpp/xmpp x [at] </a><script>-----BEGIN PGP PUBLIC KEY BLOCK-----",
        size,
        head="<html><body>" + "<div>" * 5100,  # the parser-less reading at either size
    ),
    "mixed_text": lambda size: _repeat(
        "x [at] y jabber/xmpp/xmpp -----BEGIN PGP PUBLIC KEY BLOCK----- AAAA! ab AT c DOT tg: - vendor: a.onion "
        "0505 \u200b\u00ad ",
        size,
    ),
    "mixed_values": lambda size: _repeat(f"{ONION_LABEL}.onion {BTC} me@example.com tg: @handle_name vendor: x ", size),
}

# What the finders look for, to build random adversarial pages from (hypothesis tests).
TOKENS = [
    "-", "-----", "=", "@", " [at] ", "(at)", " AT ", " DOT ", "[dot]", ".", ". onion", ".onion", "onion", " ",
    "\n", "/", "/xmpp", "jabber", "xmpp:", "tg:", "telegram", "vendor:", "sold by", "wickr", "phone:", "05", "0" * 20,
    "abcdef2345", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "bc1q", "0x", "QmFzZTY0", "AAAA", "mQINBF", "BEGIN PGP PUBLIC",
    "-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----END PGP PUBLIC KEY BLOCK-----", "KEY BLOCK", "<div ", "<a href=\"",
    "<script>", "</script>", ">", "<", "\u200b", "\u00ad", "\u202e", "\u034f", "é", "%3A", "bitcoin:", "?address=",
]  # fmt: skip


def build(name: str, size: int) -> str:
    """The page of pattern *name*, about *size* characters long."""
    return PATTERNS[name](size)
