"""E-mails and messenger handles: plain, obfuscated, labelled, and checksummed ids."""

from __future__ import annotations

import hashlib

import pytest

from pipelines.extract.contacts import find_contacts, is_session_id, is_valid_tox_id


def tox_id(seed: int) -> str:
    """A Tox id built per the Tox spec (public key 32, nospam 4, checksum 2 = XOR of the 2-byte chunks)."""
    body = hashlib.sha256(bytes([seed])).digest() + bytes([1, 2, 3, seed])
    checksum = 0
    for index in range(0, len(body), 2):
        checksum ^= int.from_bytes(body[index : index + 2], "big")
    return (body + checksum.to_bytes(2, "big")).hex().upper()


def handles(text: str, links: list[str] | None = None) -> set[tuple[str, str]]:
    return {(h["network"], h["handle"]) for h in find_contacts(text, links or []).handles}


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("write to John.Doe@Example.COM.", "john.doe@example.com"),
        ("jane [at] protonmail [dot] com", "jane@protonmail.com"),
        ("jane[at]protonmail[dot]com", "jane@protonmail.com"),
        ("bob(at)mail.ru", "bob@mail.ru"),
        ("bob (at) mail (dot) co (dot) uk", "bob@mail.co.uk"),
        ("alice {at} cock {dot} li", "alice@cock.li"),
        ("ALICE AT CTEMPLAR DOT COM", "alice@ctemplar.com"),
        ("sales@shop.onion.ly is our mirror", "sales@shop.onion.ly"),
    ],
)
def test_emails(text: str, email: str) -> None:
    assert find_contacts(text).emails == [email]


def test_email_edges() -> None:
    assert find_contacts("logo@2x.png and style@media.css").emails == []
    assert find_contacts("jane [at] proton [dot] me. Next sentence").emails == ["jane@proton.me"]
    assert find_contacts("no email at all, we meet at noon").emails == []
    assert find_contacts("", ["mailto:Sales@Shop.example?subject=hi"]).emails == ["sales@shop.example"]


def test_xmpp_only_when_labelled_and_not_repeated_as_email() -> None:
    found = find_contacts("Jabber: dealer@jabber.calyxinstitute.org\nXMPP/OTR - boss@xmpp.is\nmail: a@b.example")
    assert ("xmpp", "dealer@jabber.calyxinstitute.org") in {(h["network"], h["handle"]) for h in found.handles}
    assert ("xmpp", "boss@xmpp.is") in {(h["network"], h["handle"]) for h in found.handles}
    assert found.emails == ["a@b.example"]
    assert handles("", ["xmpp:ops@xmpp.jp"]) == {("xmpp", "ops@xmpp.jp")}


def test_telegram() -> None:
    assert handles("Telegram: @DarkVendor_Shop") == {("telegram", "darkvendor_shop")}
    assert handles("join https://t.me/another_one or t.me/joinchat/AbCdEf") == {("telegram", "another_one")}
    assert handles("", ["https://t.me/linkhandle"]) == {("telegram", "linkhandle")}
    assert handles("follow @someone on twitter") == set()


def test_session_and_tox() -> None:
    session = "05" + "ab" * 32
    assert is_session_id(session)
    assert handles(f"Session ID: {session}") == {("session", session)}
    good = tox_id(7)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert is_valid_tox_id(good) and not is_valid_tox_id(bad)
    assert handles(f"tox {good} or {bad}") == {("tox", good)}
    assert handles(f"sha256 {hashlib.sha256(b'x').hexdigest()}") == set()  # 64 hex: neither
    # the Tox id among non-Latin-1 text, at the page's edges, and glued to a longer hex run (not one)
    assert handles(f"密钥 — {good.lower()} ✓") == {("tox", good)}
    assert handles(good) == {("tox", good)} and handles(f"{good}\nΩ") == {("tox", good)}
    assert handles(f"{good}a") == set() and handles(f"é{good}é") == {("tox", good)}


def test_labelled_handles() -> None:
    found = handles("Wickr me: shadowfox\nThreema: ABCD1234\nSignal: +1 (555) 123-4567\nphone: 0612345678")
    assert found == {
        ("wickr", "shadowfox"),
        ("threema", "ABCD1234"),
        ("signal", "+15551234567"),
        ("phone", "0612345678"),
    }
    assert handles("we sold 1234567 units") == set()
