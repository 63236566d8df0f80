"""Contact points in a page: e-mail addresses and messenger handles. Contract in docs/signals.md (``emails``,
``handles``).

Offers :func:`find_contacts` (text, links -> :class:`Contacts`), and the checks :func:`is_valid_tox_id` and
:func:`is_session_id`.

What is found, and how sure it is:

- e-mail: plain ``name@domain.tld`` and the obfuscated ``name [at] domain [dot] com``, ``name(at)domain.com``,
  ``name AT domain DOT com`` (upper case only for the bare-word form), ``mailto:`` links; lowercased;
- ``xmpp``: Jabber/XMPP ids only when labelled (``jabber:``, ``xmpp:``, "Jabber: ...", "XMPP/OTR ...") or in an
  ``xmpp:`` link; such an id is not repeated among the e-mails;
- ``telegram``: ``t.me/<name>`` / ``telegram.me/<name>`` links and text, ``@name`` when labelled Telegram;
- ``session``: Session ids (66 hex digits starting ``05``), unlabelled (the shape is specific enough);
- ``tox``: Tox ids (76 hex digits) whose checksum holds (XOR of the 2-byte chunks of the first 72 digits equals the
  last 4), unlabelled;
- ``wickr``, ``threema``, ``signal``, ``whatsapp``, ``phone``: only when labelled as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from .caps import Capped
from .casing import lower_same_length

_SEPARATORS = r"[\s:\uff1a=\-\u2013>|]"  # what sits between a label and its value: colons, dashes, arrows
_LABEL_GAP = rf"{_SEPARATORS}*(?i:(?:id|me|address|handle|contact|channel|group|chat|user(?:name)?){_SEPARATORS}+)?"
_DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"
_LOCAL = r"[a-z0-9](?:[a-z0-9._%+-]{0,62}[a-z0-9_])?"
_LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-"

# Scanning a whole page with a pattern that opens with a look-behind or \b costs a match attempt at every
# character; so each search below starts from something cheap to find ("@", "[at]", a label found with str.find,
# a literal prefix) and boundaries are checked by hand.
_EMAIL = re.compile(rf"({_LOCAL})@({_DOMAIN})", re.IGNORECASE)
_DOMAIN_AFTER = re.compile(rf"({_DOMAIN})(?![a-z0-9-])", re.IGNORECASE)
_LOCAL_FULL = re.compile(_LOCAL, re.IGNORECASE)
_AT_MARK = re.compile(r"[\[({<]\s*at\s*[\])}>]", re.IGNORECASE)
_DOT = r"(?:\s*(?:\[\s*(?:dot|\.)\s*\]|\(\s*(?:dot|\.)\s*\)|\{\s*dot\s*\}|<\s*dot\s*>)\s*|\.)"
_OBFUSCATED_DOMAIN = re.compile(rf"\s*((?:[a-z0-9-]+{_DOT})+[a-z]{{2,24}})(?![a-z0-9-])", re.IGNORECASE)
_SHOUTED_DOMAIN = re.compile(r"((?:[A-Za-z0-9-]+ DOT )+[A-Za-z]{2,24})\b")
_SHOUTED_LOCAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_DOT_WORDS = re.compile(_DOT, re.IGNORECASE)
_NOT_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg", "css", "js", "ico", "html", "htm", "php", "txt"})

# At most four "/xmpp"-like words after a label: "jabber" + "/xmpp" * 20000 once made every label read the whole chain.
_XMPP_VALUE = re.compile(rf"(?:\s*/\s*(?:xmpp|jabber|otr|omemo)){{0,4}}{_LABEL_GAP}({_LOCAL}@{_DOMAIN})", re.IGNORECASE)
_TELEGRAM_LINK = re.compile(r"(?:t|telegram)\.me/(?:s/)?([a-z][a-z0-9_]{3,31})\b", re.IGNORECASE)
# A bare word after a label is a handle only after a separator ("Telegram: name"); "@name" needs none ("über
# Telegram schreiben" names no one).
_STRICT_GAP = rf"(?:{_LABEL_GAP}@|\s*[:\uff1a=\-\u2013>|]{_LABEL_GAP}@?)"
_TELEGRAM_VALUE = re.compile(rf"{_STRICT_GAP}([a-z][a-z0-9_]{{4,31}})\b", re.IGNORECASE)
_TELEGRAM_RESERVED = frozenset({"joinchat", "share", "proxy", "socks", "addstickers", "setlanguage", "iv", "contact"})
_SESSION = re.compile(r"05[0-9a-f]{64}", re.IGNORECASE)
_TOX = re.compile(r"[0-9a-fA-F]{76}")
# In a page: whole hex runs only, found from the literal "05" (a fast search) and checked on both sides at once. Tox
# ids are found by _TOX itself: an attempt reads at most 76 characters (linear; a look-behind first is slower).
_SESSION_IN_TEXT = re.compile(r"05(?<![0-9a-fA-F]05)[0-9a-fA-F]{64}(?![0-9a-fA-F])")
_HEX = frozenset("0123456789abcdefABCDEF")
# Latin-1 byte -> "h" for a hex digit, else a space (a text encoded to Latin-1 with "replace": one byte a character).
# A page without a run of 76 hex digits holds no Tox id, and bytes.find says so ten times faster than _TOX, which
# makes an attempt at every hex digit (every a-f letter of the prose).
_HEX_MASK = bytes(0x68 if chr(value) in _HEX else 0x20 for value in range(256))
_TOX_RUN = b"h" * 76
_WICKR_VALUE = re.compile(rf"(?:\s*me)?{_STRICT_GAP}([a-z0-9][a-z0-9_.-]{{2,31}})\b", re.IGNORECASE)
_THREEMA_VALUE = re.compile(rf"{_LABEL_GAP}([A-Z0-9*][A-Z0-9]{{7}})\b")
_PHONE_VALUE = re.compile(rf"{_LABEL_GAP}(\+?\d[\d ().-]{{6,20}}\d)")
_PHONE_LABELS = {
    "signal": "signal", "whatsapp": "whatsapp", "phone": "phone", "tel": "phone", "telephone": "phone",
    "téléphone": "phone", "telefoon": "phone", "telefon": "phone", "mobile": "phone", "sms": "phone", "call": "phone",
}  # fmt: skip
_WORDS_NOT_HANDLES = frozenset({"contact", "channel", "group", "support", "official", "here", "only", "username"})
# Every match is made within a window of the text (endpos): what a pattern can read from one place is bounded, so the
# scan is linear however the page repeats a label or a separator. A value that reaches the window's end is too long
# to be one and is dropped.
VALUE_WINDOW = 400  # after a label: separators, a label word, a local part (64) and a domain (253)
DOMAIN_WINDOW = 256  # after "@": a domain name is at most 253 characters


def _word_boundary(text: str, start: int, end: int) -> bool:
    """True when text[start:end] is not glued to letters or digits on either side."""
    return (start == 0 or not text[start - 1].isalnum()) and (end >= len(text) or not text[end].isalnum())


def _bounded_match(pattern: re.Pattern[str], text: str, position: int, window: int) -> re.Match[str] | None:
    """*pattern* matched at *position* within *window* characters; ``None`` when it reaches the window's end (a
    value that long is not one) or its first group (else the match) ends inside a word."""
    endpos = position + window
    match = pattern.match(text, position, endpos)
    if match is None or (match.end() >= endpos and endpos < len(text)):
        return None
    end = match.end(1) if match.re.groups else match.end()
    if end < len(text) and text[end].isalnum():
        return None
    return match


def _labelled(text: str, lowered: str, labels: Iterable[str], value: re.Pattern[str]) -> Iterator[tuple[str, str]]:
    """Yield (label, first group of *value*) for each whole-word *label* in *lowered* whose value follows it."""
    for label in labels:
        position = lowered.find(label)
        while position != -1:
            end = position + len(label)
            if _word_boundary(lowered, position, end):
                match = _bounded_match(value, text, end, VALUE_WINDOW)
                if match:
                    yield label, match.group(1)
            position = lowered.find(label, end)


@dataclass
class Contacts:
    """E-mail addresses (lowercased, distinct, in order) and ``{"network", "handle"}`` handles (distinct, in order),
    each at most the cap's number (``beyond`` counts the others)."""

    emails: Capped[str] = field(default_factory=Capped)
    handles: Capped[dict[str, str]] = field(default_factory=Capped)


def is_session_id(value: str) -> bool:
    """True when *value* has the shape of a Session id: 66 hex digits starting with ``05``."""
    return bool(_SESSION.fullmatch(value))


def is_valid_tox_id(value: str) -> bool:
    """True when *value* is 76 hex digits whose checksum holds: the XOR of the 2-byte chunks of the first 36 bytes
    (public key 32, nospam 4) equals the last 2 bytes."""
    if len(value) != 76 or not _TOX.fullmatch(value):
        return False
    raw = bytes.fromhex(value)
    checksum = 0
    for index in range(0, 36, 2):
        checksum ^= int.from_bytes(raw[index : index + 2], "big")
    return checksum == int.from_bytes(raw[36:38], "big") and any(raw[:32])


def _email_ok(local: str, domain: str) -> bool:
    tld = domain.rsplit(".", 1)[-1].lower()
    return tld not in _NOT_TLDS and ".." not in local and ".." not in domain


def _local_before(text: str, end: int, chars: Iterable[str] = _LOCAL_CHARS) -> str | None:
    """The e-mail local part that ends at *end* in *text*, or ``None`` (also when it would start inside a word:
    ``joségarcia@x.com`` has no local part ``garcia``)."""
    start = end
    floor = max(0, end - 64)
    while start > floor and text[start - 1] in chars:
        start -= 1
    while start < end and not text[start].isalnum():
        start += 1  # a local part starts with a letter or digit
    if start == end or (start > 0 and (text[start - 1] in chars or text[start - 1].isalnum())):
        return None
    local = text[start:end]
    return local if _LOCAL_FULL.fullmatch(local) else None


class _Collector:
    def __init__(self) -> None:
        self.emails: dict[str, int] = {}  # address -> first position in the text (-1: from a link)
        self.handles: dict[tuple[str, str], None] = {}

    def email(self, local: str, domain: str, position: int = -1) -> None:
        if _email_ok(local, domain):
            address = f"{local}@{domain}".lower()
            self.emails[address] = min(self.emails.get(address, position), position)

    def handle(self, network: str, handle: str) -> None:
        self.handles.setdefault((network, handle), None)


def _phone(raw: str) -> str | None:
    digits = re.sub(r"\D", "", raw)
    if not 7 <= len(digits) <= 15:
        return None
    return ("+" if raw.strip().startswith("+") else "") + digits


def _from_links(links: Iterable[str], out: _Collector) -> None:
    for link in links:
        lowered = link.lower()
        if lowered.startswith("mailto:"):
            address = unquote(link[len("mailto:") :].split("?", 1)[0]).strip()
            match = _EMAIL.fullmatch(address)
            if match:
                out.email(match.group(1), match.group(2))
        elif lowered.startswith("xmpp:"):
            jid = unquote(link[len("xmpp:") :].split("?", 1)[0]).strip().lower()
            if _EMAIL.fullmatch(jid):
                out.handle("xmpp", jid)
        elif "t.me/" in lowered or "telegram.me/" in lowered:
            try:
                parts = urlsplit(link)
            except ValueError:
                continue
            if (parts.hostname or "") in ("t.me", "telegram.me", "www.t.me"):
                match = _TELEGRAM_LINK.search(f"t.me{parts.path}")
                if match and match.group(1).lower() not in _TELEGRAM_RESERVED:
                    out.handle("telegram", match.group(1).lower())


def _spaces_before(text: str, end: int) -> int:
    """*end* moved back over the whitespace before it (at most 64 characters)."""
    floor = max(0, end - 64)
    while end > floor and text[end - 1].isspace():
        end -= 1
    return end


def find_contacts(text: str, links: Iterable[str] = (), *, limit: int | None = None) -> Contacts:
    """Return the e-mail addresses and handles in *text* and in the link targets *links* (``mailto:``, ``xmpp:``,
    ``t.me`` URLs), at most *limit* of each (the others counted in ``beyond``). Never raises; linear time."""
    out = _Collector()
    _from_links(links, out)
    lowered = lower_same_length(text)
    for _label, jid in _labelled(text, lowered, ("jabber", "xmpp", "jid"), _XMPP_VALUE):
        out.handle("xmpp", jid.lower())
    at = text.find("@")
    while at != -1:
        local = _local_before(text, at)
        domain = _bounded_match(_DOMAIN_AFTER, text, at + 1, DOMAIN_WINDOW) if local else None
        if local and domain:
            out.email(local, domain.group(1), at)
        at = text.find("@", at + 1)
    for mark in _AT_MARK.finditer(text):
        local = _local_before(text, _spaces_before(text, mark.start()))
        domain = _bounded_match(_OBFUSCATED_DOMAIN, text, mark.end(), VALUE_WINDOW) if local else None
        if local and domain:
            out.email(local, _DOT_WORDS.sub(".", domain.group(1)), mark.start())
    shouted = text.find(" AT ")
    while shouted != -1:
        local = _local_before(text, shouted, _SHOUTED_LOCAL)
        match = _bounded_match(_SHOUTED_DOMAIN, text, shouted + 4, VALUE_WINDOW) if local else None
        if local and len(local) >= 2 and match:
            out.email(local, match.group(1).replace(" DOT ", "."), shouted)
        shouted = text.find(" AT ", shouted + 4)
    if ".me/" in lowered:
        for match in _TELEGRAM_LINK.finditer(text):
            if (match.start() == 0 or not text[match.start() - 1].isalnum()) and (
                match.group(1).lower() not in _TELEGRAM_RESERVED
            ):
                out.handle("telegram", match.group(1).lower())
    for _label, name in _labelled(text, lowered, ("telegram", "tg"), _TELEGRAM_VALUE):
        name = name.lower()
        if name not in _TELEGRAM_RESERVED and name not in _WORDS_NOT_HANDLES:
            out.handle("telegram", name)
    if "05" in text:
        for match in _SESSION_IN_TEXT.finditer(text):
            out.handle("session", match.group(0).lower())
    tox_possible = text.encode("latin-1", "replace").translate(_HEX_MASK).find(_TOX_RUN) != -1
    for match in _TOX.finditer(text) if tox_possible else ():
        if _hex_bounded(text, match.start(), match.end()) and is_valid_tox_id(match.group(0)):
            out.handle("tox", match.group(0).upper())
    for _label, name in _labelled(text, lowered, ("wickr",), _WICKR_VALUE):
        if name.lower() not in _WORDS_NOT_HANDLES:
            out.handle("wickr", name.lower())
    for _label, name in _labelled(text, lowered, ("threema",), _THREEMA_VALUE):
        out.handle("threema", name)
    for label, raw in _labelled(text, lowered, _PHONE_LABELS, _PHONE_VALUE):
        number = _phone(raw)
        if number:
            out.handle(_PHONE_LABELS[label], number)
    xmpp_ids = {handle for network, handle in out.handles if network == "xmpp"}
    emails = (email for email in sorted(out.emails, key=out.emails.__getitem__) if email not in xmpp_ids)
    return Contacts(
        emails=Capped.of(emails, limit),
        handles=Capped.of(({"network": network, "handle": handle} for network, handle in out.handles), limit),
    )


def _hex_bounded(text: str, start: int, end: int) -> bool:
    """True when text[start:end] is a whole hex run (no hex digit just before or after)."""
    return (start == 0 or text[start - 1] not in _HEX) and (end >= len(text) or text[end] not in _HEX)
