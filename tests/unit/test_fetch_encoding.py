"""crawler/fetch/encoding.py: responses decoded by extraction's function; ``response.text`` never raises."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse

from crawler.fetch.encoding import EncodingMiddleware, response_html
from pipelines.extract.text import decode_body

PAGE = "<html><head>{meta}<title>Boutique</title></head><body><p>Café crème</p></body></html>"


def respond(body: bytes, content_type: str = "text/html") -> HtmlResponse:
    url = "http://shop.example/"
    return HtmlResponse(url, body=body, headers={"Content-Type": content_type}, request=Request(url))


@pytest.mark.parametrize("label", ["rot13", "base64", "hex", "zlib", "bz2", "uu", "quopri", "punycode",
                                   "unicode_escape", "cp037"])
def test_codec_only_labels_no_longer_break_response_text(label: str) -> None:
    body = PAGE.format(meta=f'<meta charset="{label}">').encode()
    raw = respond(body)
    try:  # what Scrapy does on its own: raise, or decode garbage (the reason for the middleware)
        scrapy_text: str | None = raw.text
    except Exception:
        scrapy_text = None
    assert scrapy_text != body.decode()
    fixed = EncodingMiddleware().process_response(raw.request, raw)
    assert isinstance(fixed, TextResponse)
    assert fixed.text == response_html(raw) == body.decode()
    assert fixed.body is raw.body


@pytest.mark.parametrize(("body", "content_type"), [
    ("<p>Verkäufer</p>".encode("cp1252"), "text/html; charset=rot13"),
    ("<p>Продавец</p>".encode("koi8-r"), "text/html; charset=koi8-r"),
    ('<meta charset="gb2312"><p>商品</p>'.encode("gb18030"), "text/html"),
    (b"a\x80\xff", "text/html; charset=x-user-defined"),
    (b"<p>\x1b$)C</p>", "text/html; charset=iso-2022-kr"),
])
def test_response_text_and_response_html_agree(body: bytes, content_type: str) -> None:
    raw = respond(body, content_type)
    fixed = EncodingMiddleware().process_response(raw.request, raw)
    assert response_html(raw) == decode_body(body, content_type)
    assert isinstance(fixed.text, str)  # x-user-defined and replacement: Scrapy reads windows-1252, never raises
    if "x-user-defined" not in content_type and "iso-2022-kr" not in content_type:
        assert fixed.text == response_html(raw)
