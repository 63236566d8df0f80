"""Decoding as browsers decode (pipelines/extract/encoding.py): WHATWG labels only, BOM, HTTP, <meta> prescan,
fallbacks; the codec-only labels of issue #13 fall back instead of blinding extraction."""

from __future__ import annotations

import pytest

from pipelines.extract import extract_signals
from pipelines.extract.encoding import decode, sniff_encoding
from pipelines.extract.text import parse_document

TITLE = "Vendeur fiable"
TEXT = "Café crème, livraison rapide. Contact: shop-owner@example.org"
PAGE = f"<html><head>{{meta}}<title>{TITLE}</title></head><body><p>{TEXT}</p></body></html>"
# labels that name a Python codec but no web encoding: honouring them decodes nothing, or garbage
CODEC_ONLY = ("rot13", "base64", "hex", "zlib", "bz2", "uu", "quopri", "punycode", "unicode_escape", "cp037",
              "rot_13", "base64_codec", "utf-7", "idna", "cp500", "mbcs", "undefined")


@pytest.mark.parametrize("label", CODEC_ONLY)
def test_codec_only_meta_charset_is_ignored(label: str) -> None:
    body = PAGE.format(meta=f'<meta charset="{label}">').encode()
    assert sniff_encoding(body).name == "utf-8"
    signals = extract_signals(body, "http://shop.example/")
    assert signals.title == TITLE
    assert TEXT in signals.text
    assert signals.emails == ["shop-owner@example.org"]


@pytest.mark.parametrize("label", CODEC_ONLY)
def test_codec_only_http_charset_is_ignored(label: str) -> None:
    body = PAGE.format(meta="").encode("cp1252")  # not UTF-8: the fallback is windows-1252
    sniffed = sniff_encoding(body, f"text/html; charset={label}")
    assert (sniffed.name, sniffed.source) == ("windows-1252", "fallback")
    assert TEXT in parse_document(body, content_type=f"text/html; charset={label}").text


@pytest.mark.parametrize(
    ("label", "name", "codec"),
    [
        ("ISO-8859-1", "windows-1252", "cp1252"),  # latin1 and ascii mean windows-1252 on the web
        ("us-ascii", "windows-1252", "cp1252"),
        ("gb2312", "gbk", "gb18030"),
        ("Shift_JIS", "shift_jis", "cp932"),
        ("euc-kr", "euc-kr", "cp949"),
        ("big5", "big5", "big5hkscs"),
        (" koi8-r ", "koi8-r", "koi8-r"),
        ('"utf-8"', "utf-8", "utf-8"),
        ("unicode-1-1-utf-8", "utf-8", "utf-8"),
    ],
)
def test_whatwg_labels_are_honoured(label: str, name: str, codec: str) -> None:
    sniffed = sniff_encoding(b"<p>x</p>", f"text/html; charset={label}")
    assert (sniffed.name, sniffed.codec, sniffed.source) == (name, codec, "http")


def test_order_bom_then_http_then_meta_then_utf8_then_windows_1252() -> None:
    word = "Verkäufer"
    meta = f'<meta charset="koi8-r"><p>{word}</p>'
    assert sniff_encoding(b"\xef\xbb\xbf" + meta.encode(), "text/html; charset=iso-8859-7").source == "bom"
    assert decode(b"\xef\xbb\xbf" + meta.encode(), "text/html; charset=iso-8859-7") == meta
    assert decode("\ufeff<p>Ω</p>".encode("utf-16-le")) == "<p>Ω</p>"
    assert decode("\ufeff<p>Ω</p>".encode("utf-16-be")) == "<p>Ω</p>"
    assert sniff_encoding(meta.encode("cp1252"), "text/html; charset=windows-1250").source == "http"
    russian = '<meta charset="koi8-r"><p>Продавец</p>'
    assert sniff_encoding(russian.encode("koi8-r"), "text/html").name == "koi8-r"
    assert decode(russian.encode("koi8-r"), "text/html") == russian
    assert sniff_encoding(f"<p>{word}</p>".encode()).source == "utf-8"
    assert decode(f"<p>{word}</p>".encode("cp1252")) == f"<p>{word}</p>"


def test_meta_prescan_reads_http_equiv_skips_comments_and_stops_at_1024_bytes() -> None:
    equiv = b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-5">'
    assert sniff_encoding(equiv).name == "iso-8859-5"
    assert sniff_encoding(b"<META CONTENT='text/html;charset=koi8-u' HTTP-EQUIV=content-type>").name == "koi8-u"
    commented = b'<!-- <meta charset="koi8-r"> --><meta charset=rot13><meta charset="iso-8859-2">'
    assert sniff_encoding(commented).name == "iso-8859-2"  # the commented one and the non-label are skipped
    late = b" " * 1024 + b'<meta charset="koi8-r">'
    assert sniff_encoding(late).source == "utf-8"
    assert sniff_encoding(b'<meta charset="koi8-r">', "text/plain").source == "utf-8"  # no prescan of plain text


def test_utf16_claims_x_user_defined_and_replacement() -> None:
    ascii_page = b"<html><body>plain ascii words</body></html>"
    assert decode(ascii_page, "text/html; charset=utf-16") == ascii_page.decode()  # lying: no NUL in the bytes
    assert decode("<p>ok</p>".encode("utf-16-le"), "text/html; charset=utf-16le") == "<p>ok</p>"
    assert sniff_encoding(b'<meta charset="utf-16">' + ascii_page).name == "utf-8"  # <meta> cannot mean UTF-16
    assert decode(b"a\x80\xff", "text/html; charset=x-user-defined") == "a\uf780\uf7ff"
    assert sniff_encoding(b'<meta charset="x-user-defined">').name == "windows-1252"
    # ISO-2022-KR and friends map to the replacement encoding: the body is one U+FFFD, nothing hides in it
    assert decode(b"<p>\x1b$)Chidden</p>", "text/html; charset=iso-2022-kr") == "\ufffd"
    assert decode(b"", "text/html; charset=iso-2022-kr") == ""


def test_gbk_decodes_gb18030_four_byte_sequences() -> None:
    text = "商品 \U00020000"
    assert decode(text.encode("gb18030"), "text/html; charset=gbk") == text


def test_decode_never_raises_on_garbage() -> None:
    for body, content_type in ((bytes(range(256)) * 4, "text/html; charset=utf-8"),
                               (b"\xff\xfe\x00", None), (b"<meta charset='\x80\xff'>\x80", "text/html; charset=\xff")):
        assert isinstance(decode(body, content_type), str)
