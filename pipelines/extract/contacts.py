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
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

_SEPARATORS = r"[\s:\uff1a=\-\u2013>|]"  # what sits between a label and its value: colons, dashes, arrows
_LABEL_GAP = rf"{_SEPARATORS}*(?:(?:id|me|address|handle|contact|channel|group|chat|user(?:name)?){_SEPARATORS}+)?"
_DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"
_LOCAL = r"[a-z0-9](?:[a-z0-9._%+-]{0,62}[a-z0-9_])?"

_EMAIL = re.compile(rf"(?<![a-z0-9._%+-])({_LOCAL})@({_DOMAIN})(?![a-z0-9-])", re.IGNORECASE)
_AT = r"\s*(?:\[\s*at\s*\]|\(\s*at\s*\)|\{\s*at\s*\}|<\s*at\s*>)\s*"
_DOT = r"(?:\s*(?:\[\s*(?:dot|\.)\s*\]|\(\s*(?:dot|\.)\s*\)|\{\s*dot\s*\}|<\s*dot\s*>)\s*|\.)"
_OBFUSCATED_EMAIL = re.compile(
    rf"(?<![a-z0-9._%+-])({_LOCAL}){_AT}((?:[a-z0-9-]+{_DOT})+[a-z]{{2,24}})(?![a-z0-9-])", re.IGNORECASE
)
_SHOUTED_EMAIL = re.compile(r"\b([A-Za-z0-9._-]{2,64}) AT ((?:[A-Za-z0-9-]+ DOT )+[A-Za-z]{2,24})\b")
_DOT_WORDS = re.compile(_DOT, re.IGNORECASE)
_NOT_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg", "css", "js", "ico", "html", "htm", "php", "txt"})

_JID = rf"({_LOCAL}@{_DOMAIN})"
_XMPP = re.compile(rf"(?:\b(?:jabber|xmpp|jid)(?:\s*/\s*(?:xmpp|jabber|otr|omemo))*{_LABEL_GAP}){_JID}", re.IGNORECASE)
_TELEGRAM_LINK = re.compile(r"\b(?:t|telegram)\.me/(?:s/)?([a-z][a-z0-9_]{3,31})\b", re.IGNORECASE)
_TELEGRAM_LABEL = re.compile(rf"\b(?:telegram|tg){_LABEL_GAP}@?([a-z][a-z0-9_]{{4,31}})\b", re.IGNORECASE)
_TELEGRAM_RESERVED = frozenset({"joinchat", "share", "proxy", "socks", "addstickers", "setlanguage", "iv", "contact"})
_SESSION = re.compile(r"(?<![0-9a-f])(05[0-9a-f]{64})(?![0-9a-f])", re.IGNORECASE)
_TOX = re.compile(r"(?<![0-9a-f])([0-9a-f]{76})(?![0-9a-f])", re.IGNORECASE)
_WICKR = re.compile(rf"\bwickr(?:\s*me)?{_LABEL_GAP}@?([a-z0-9][a-z0-9_.-]{{2,31}})\b", re.IGNORECASE)
_THREEMA = re.compile(rf"\b(?i:threema){_LABEL_GAP}([A-Z0-9*][A-Z0-9]{{7}})\b")
_PHONE = re.compile(
    rf"\b(signal|whatsapp|phone|tel|telephone|téléphone|telefoon|telefon|mobile|sms|call){_LABEL_GAP}"
    r"(\+?\d[\d ().-]{6,20}\d)",
    re.IGNORECASE,
)
_PHONE_NETWORK = {"signal": "signal", "whatsapp": "whatsapp"}
_WORDS_NOT_HANDLES = frozenset({"contact", "channel", "group", "support", "official", "here", "only", "username"})


@dataclass
class Contacts:
    """E-mail addresses (lowercased, distinct, in order) and ``{"network", "handle"}`` handles (distinct, in order)."""

    emails: list[str] = field(default_factory=list)
    handles: list[dict[str, str]] = field(default_factory=list)


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


class _Collector:
    def __init__(self) -> None:
        self.emails: dict[str, None] = {}
        self.handles: dict[tuple[str, str], None] = {}

    def email(self, local: str, domain: str) -> None:
        if _email_ok(local, domain):
            self.emails.setdefault(f"{local}@{domain}".lower(), None)

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


def find_contacts(text: str, links: Iterable[str] = ()) -> Contacts:
    """Return the e-mail addresses and handles in *text* and in the link targets *links* (``mailto:``, ``xmpp:``,
    ``t.me`` URLs). Never raises."""
    out = _Collector()
    _from_links(links, out)
    lowered = text.lower()
    if "jabber" in lowered or "xmpp" in lowered or "jid" in lowered:
        for match in _XMPP.finditer(text):
            out.handle("xmpp", match.group(1).lower())
    if "@" in text:
        for match in _EMAIL.finditer(text):
            out.email(match.group(1), match.group(2))
    if "at" in lowered:
        for match in _OBFUSCATED_EMAIL.finditer(text):
            out.email(match.group(1), _DOT_WORDS.sub(".", match.group(2)))
        for match in _SHOUTED_EMAIL.finditer(text):
            out.email(match.group(1), match.group(2).replace(" DOT ", "."))
    if ".me/" in lowered:
        for match in _TELEGRAM_LINK.finditer(text):
            if match.group(1).lower() not in _TELEGRAM_RESERVED:
                out.handle("telegram", match.group(1).lower())
    if "telegram" in lowered or "tg" in lowered:
        for match in _TELEGRAM_LABEL.finditer(text):
            name = match.group(1).lower()
            if name not in _TELEGRAM_RESERVED and name not in _WORDS_NOT_HANDLES:
                out.handle("telegram", name)
    if "05" in text:
        for match in _SESSION.finditer(text):
            out.handle("session", match.group(1).lower())
    for match in _TOX.finditer(text):
        if is_valid_tox_id(match.group(1)):
            out.handle("tox", match.group(1).upper())
    if "wickr" in lowered:
        for match in _WICKR.finditer(text):
            if match.group(1).lower() not in _WORDS_NOT_HANDLES:
                out.handle("wickr", match.group(1).lower())
    if "threema" in lowered:
        for match in _THREEMA.finditer(text):
            out.handle("threema", match.group(1))
    for match in _PHONE.finditer(text):
        number = _phone(match.group(2))
        if number:
            out.handle(_PHONE_NETWORK.get(match.group(1).lower(), "phone"), number)
    xmpp_ids = {handle for network, handle in out.handles if network == "xmpp"}
    return Contacts(
        emails=[email for email in out.emails if email not in xmpp_ids],
        handles=[{"network": network, "handle": handle} for network, handle in out.handles],
    )
