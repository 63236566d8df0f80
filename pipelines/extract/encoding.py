"""Which character encoding a fetched body is in, decided as browsers decide it (the WHATWG Encoding Standard and
HTML's encoding sniffing). Contract in docs/signals.md ("Decoding").

Offers :func:`sniff_encoding` (bytes + Content-Type -> :class:`Sniffed`: the encoding's WHATWG name, its Python codec
and where the decision came from) and :func:`decode` (bytes -> str, never raises). Everything that reads a page's
text (extraction, the content policy, the spider's link reading) decodes with these, so all see the same text.

Only WHATWG labels are honoured (the table is the ``webencodings`` package's): a label that names a Python codec but
no web encoding (``rot13``, ``base64``, ``zlib``, ``punycode``, ``unicode_escape``, ``cp037`` ...) is ignored, as a
browser ignores it. The order: a byte-order mark; the HTTP ``charset``; ``<meta charset>`` or ``http-equiv`` in the
first 1024 bytes (HTML only); else UTF-8 when the bytes are valid UTF-8, else windows-1252. Two deliberate
deviations, both towards readable text: a UTF-16 claim over bytes with no NUL in their first 200 (ASCII markup) is
ignored, and the fallback checks UTF-8 validity instead of following a browser's locale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import webencodings

PRESCAN_BYTES = 1024  # HTML's prescan reads this much of the body for <meta charset>
# WHATWG's GBK decoder is its gb18030 decoder (Python's gbk codec refuses the four-byte sequences)
_CODECS = {"gbk": "gb18030"}
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xfe\xff", "utf-16be"), (b"\xff\xfe", "utf-16le"))
_UTF16 = ("utf-16be", "utf-16le")

_CT_CHARSET = re.compile(r"""charset\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;"']+))""", re.IGNORECASE)
_COMMENT = re.compile(rb"<!--.*?(?:-->|\Z)", re.DOTALL)
_META = re.compile(rb"<meta[\s/]([^>]*)", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""([^\s/>=]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?""")
_META_CONTENT_CHARSET = re.compile(rb"""charset\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;"']+))""", re.IGNORECASE)


@dataclass(frozen=True)
class Sniffed:
    """The encoding chosen for a body: ``name`` (WHATWG), ``codec`` (Python), ``source`` (``bom``, ``http``,
    ``meta``, ``utf-8`` or ``fallback``) and ``bom`` (bytes of byte-order mark to skip)."""

    name: str
    codec: str
    source: str
    bom: int = 0


def _lookup(label: str | bytes | None) -> webencodings.Encoding | None:
    """The web encoding *label* names, or ``None`` when it names none (whatever Python's codecs think of it)."""
    if label is None:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", errors="replace")
    return webencodings.lookup(label.strip().strip("\"'"))


def _sniffed(encoding: webencodings.Encoding, source: str, bom: int = 0) -> Sniffed:
    return Sniffed(encoding.name, _CODECS.get(encoding.name, encoding.codec_info.name), source, bom)


def http_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type value, unquoted, or ``None``."""
    if not content_type:
        return None
    match = _CT_CHARSET.search(content_type)
    return next((group for group in match.groups() if group is not None), None) if match else None


def prescan_meta(data: bytes) -> webencodings.Encoding | None:
    """The encoding a ``<meta charset>`` or ``<meta http-equiv=content-type content=...charset=...>`` in the first
    :data:`PRESCAN_BYTES` of *data* declares, skipping comments; ``None`` when none declares a web encoding."""
    head = _COMMENT.sub(b"", data[:PRESCAN_BYTES])
    for meta in _META.finditer(head):
        attributes: dict[bytes, bytes] = {}
        for attribute in _ATTRIBUTE.finditer(meta.group(1)):
            value = next((group for group in attribute.groups()[1:] if group is not None), b"")
            attributes.setdefault(attribute.group(1).lower(), value)
        label: bytes | None = attributes.get(b"charset")
        if label is None and attributes.get(b"http-equiv", b"").strip().lower() == b"content-type":
            content = _META_CONTENT_CHARSET.search(attributes.get(b"content", b""))
            label = next((group for group in content.groups() if group is not None), None) if content else None
        encoding = _lookup(label)
        if encoding is not None:
            return encoding
    return None


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff_encoding(data: bytes, content_type: str | None = None) -> Sniffed:
    """Decide the encoding of *data*, served with *content_type* (the HTTP header value, or ``None``)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _sniffed(webencodings.lookup(name), "bom", len(bom))
    nul_free = b"\x00" not in data[:200]  # a UTF-16 claim over such bytes is lying
    encoding = _lookup(http_charset(content_type))
    if encoding is not None and not (encoding.name in _UTF16 and nul_free):
        return _sniffed(encoding, "http")
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind != "text/plain":
        encoding = prescan_meta(data)
        if encoding is not None:
            if encoding.name in _UTF16:  # HTML: a <meta> that could be read as ASCII cannot mean UTF-16
                encoding = webencodings.lookup("utf-8")
            elif encoding.name == "x-user-defined":
                encoding = webencodings.lookup("windows-1252")
            return _sniffed(encoding, "meta")
    if _valid_utf8(data):
        return _sniffed(webencodings.lookup("utf-8"), "utf-8")
    return _sniffed(webencodings.lookup("windows-1252"), "fallback")


def decode(data: bytes, content_type: str | None = None) -> str:
    """*data* as text, in the encoding :func:`sniff_encoding` picks; undecodable bytes become U+FFFD. Never raises.
    The ``replacement`` encoding (labels such as ``iso-2022-kr``, which hide markup from filters) decodes a
    non-empty body to a single U+FFFD, as the standard says."""
    sniffed = sniff_encoding(data, content_type)
    if sniffed.name == "replacement":
        return "\ufffd" if data else ""
    body = memoryview(data)[sniffed.bom :] if sniffed.bom else data
    if sniffed.codec == "x-user-defined":
        return webencodings.lookup("x-user-defined").codec_info.decode(bytes(body), "replace")[0]
    return str(body, sniffed.codec, "replace")
