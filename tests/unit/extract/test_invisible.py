"""Invisible characters and word boundaries (issue #13, item 4): format characters are removed before any finder
reads a page, so they can neither hide a value nor cut it; and a value is never read from inside a word.

Unit cases from the issue, then hypothesis properties over pages holding real values: format characters sprinkled
anywhere reveal the same values as the clean page, and no reported value starts or ends inside a word.
"""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.extract import default_config, extract_signals
from pipelines.extract.invisible import INVISIBLE_RANGES, strip_invisible
from pipelines.extract.text import normalise_text
from tests.hostile import TOKENS
from tests.vectors import load_vectors

ONION = load_vectors("onion")["valid"][0]  # pg6mmjiy...scryd.onion
LABEL = ONION[: -len(".onion")]
BTC = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
# Default_Ignorable_Code_Point that are not category Cf (DerivedCoreProperties.txt, Unicode 15).
DEFAULT_IGNORABLE_NOT_CF = [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0, *range(0x180B, 0x180E),
                            *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0), 0xE0000, 0xE0FFF]  # fmt: skip
FORMAT = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202e", "\u2060", "\u2066", "\ufeff",
          "\u034f", "\u180e", "\ufe0f", "\U000e0041"]  # fmt: skip


def signals(text: str) -> dict:
    return extract_signals(text, content_type="text/plain", config=default_config()).to_dict()


def test_every_format_and_default_ignorable_character_is_invisible() -> None:
    cf = [c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    every = "".join(chr(c) for c in [*cf, *DEFAULT_IGNORABLE_NOT_CF])
    assert strip_invisible(f"a{every}b") == "ab"
    assert INVISIBLE_RANGES.startswith("\u00ad")


def test_visible_text_is_left_alone() -> None:
    text = "Grüße, naïve café — 東京 \U0001f600 x\u00a0y"
    assert strip_invisible(text) == text
    assert strip_invisible("plain ascii") == "plain ascii"
    assert strip_invisible("caf\u00e9 Stra\u00adße \u00ad") == "café Straße "  # Latin-1 text: the soft hyphen only


def test_the_cleaned_text_and_title_carry_no_format_characters() -> None:
    html = f"<html><head><title>Sh\u200bop</title></head><body><p>Pay to {BTC[:9]}\u00ad{BTC[9:]} now</p></body></html>"
    result = extract_signals(html, content_type="text/html", config=default_config())
    assert result.title == "Shop"
    assert "\u00ad" not in result.text
    assert result.crypto_addresses[0]["context"] == f"Pay to {BTC} now"
    assert normalise_text("a\u202eb\u200fc") == "abc"


@pytest.mark.parametrize("mark", FORMAT)
def test_a_format_character_inside_a_value_hides_nothing(mark: str) -> None:
    page = (
        f"mirror {LABEL[:20]}{mark}{LABEL[20:]}.onion\n"
        f"pay {BTC[:10]}{mark}{BTC[10:]}\n"
        f"mail ad{mark}min@example.com"
    )
    found = signals(page)
    assert found["onions"] == [ONION]
    assert [a["address"] for a in found["crypto_addresses"]] == [BTC]
    assert found["emails"] == ["admin@example.com"]


def test_zero_width_space_inside_an_email_gives_the_whole_address() -> None:
    assert signals("contact ad\u200bmin@x.com")["emails"] == ["admin@x.com"]


@pytest.mark.parametrize(
    "page",
    [
        "joségarcia@x.com",
        "write to joségarcia@x.com today",
        "ÿbob [at] example [dot] com",
        "Ωalice AT example DOT com",
        "x@mail.exämple.com",
        "jabber: bob@chat.exämple.org",
    ],
)
def test_an_email_never_starts_or_ends_inside_a_word(page: str) -> None:
    found = signals(page)
    assert found["emails"] == [] and found["handles"] == []


def test_a_57_letter_label_ending_in_a_valid_onion_names_none() -> None:
    assert signals(f"see a{LABEL}.onion")["onions"] == []
    assert signals(f"see é{LABEL}.onion")["onions"] == []
    assert signals(f"see {LABEL}.onion")["onions"] == [ONION]
    assert signals(f"see ab cd {LABEL[:28]} {LABEL[28:]}.onion")["onions"] == [ONION]  # split by the layout
    assert signals(f"see x{LABEL[:28]} {LABEL[28:]}.onion")["onions"] == []


def test_an_address_glued_to_a_letter_is_not_reported() -> None:
    assert signals(f"é{BTC}")["crypto_addresses"] == []
    assert signals(f"{BTC}ü")["crypto_addresses"] == []
    assert [a["address"] for a in signals(f"«{BTC}»")["crypto_addresses"]] == [BTC]


def test_a_vendor_name_is_a_whole_word() -> None:
    assert signals("Vendor: " + "a" * 60)["vendors"] == []
    assert signals("Vendor: greywolf.")["vendors"] == [{"name": "greywolf", "source": "heuristic:vendor"}]


VALUES_PAGE = f"Shop mirror: {ONION} pay {BTC} mail admin@example.com jabber: bob@chat.example.org"
WORDS = st.text(alphabet="abz27é .:\n-@", max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(FORMAT)), max_size=12))
def test_format_characters_anywhere_change_nothing_but_reveal_values(marks: list[tuple[int, str]]) -> None:
    page = VALUES_PAGE
    for position, mark in marks:
        at = position % (len(page) + 1)
        page = page[:at] + mark + page[at:]
    assert signals(page) | {"content_sha256": "", "simhash": ""} == signals(VALUES_PAGE) | {
        "content_sha256": "",
        "simhash": "",
    }


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, min_size=8, max_size=8))
def test_no_reported_value_is_part_of_a_longer_word(glue: list[str]) -> None:
    """Random letters, spaces and punctuation glued right before and after each value: a value is reported only
    where it stands as a whole word."""
    page = (
        f"{glue[0]}{ONION}{glue[1]} pay {glue[2]}{BTC}{glue[3]} mail {glue[4]}admin@example.com{glue[5]} "
        f"jabber: {glue[6]}bob@chat.example.org{glue[7]}"
    )
    result = extract_signals(page, content_type="text/plain", config=default_config())
    found, text = result.to_dict(), result.text.lower()
    values = [
        *found["emails"],
        *(h["handle"] for h in found["handles"]),
        *(o[: -len(".onion")] for o in found["onions"]),
        *(a["address"].lower() for a in found["crypto_addresses"]),
    ]
    for value in values:
        starts = [i for i in range(len(text)) if text.startswith(value, i)]
        assert starts, value
        end = len(value)
        whole = [i for i in starts if not text[i - 1 : i].isalnum() and not text[i + end : i + end + 1].isalnum()]
        assert whole, f"{value!r} is only found inside a longer word in {text!r}"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=80), st.integers(min_value=1, max_value=40))
def test_a_token_soup_reads_the_same_with_or_without_its_format_characters(tokens: list[str], repeat: int) -> None:
    page = "".join(tokens) * repeat
    assert signals(page) == signals(strip_invisible(page))
