"""crawler/lab/handler.py: every special lab site answers through LabHandler.send_page, served here in-process on
loopback: the nginx look, a Content-Length equal to the body, no body for HEAD, extra headers kept."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from crawler.lab.serve import special_handler
from crawler.lab.special import hostile


def request(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def serve(monkeypatch) -> Iterator:
    monkeypatch.setattr(hostile, "bomb", lambda encoding: b"small")  # not the 1 GiB bombs: their thread is not tested
    servers: list[ThreadingHTTPServer] = []

    def start(name: str) -> int:
        server = ThreadingHTTPServer(("127.0.0.1", 0), special_handler(name, {}))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return int(server.server_address[1])

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("name", ["hostile", "jsgate", "inspect", "inspect2", "safety"])
def test_every_special_site_answers_its_index_and_404_like_nginx(serve, name):
    port = serve(name)
    status, headers, body = request(port, "/")
    assert status == 200 and b"<a " in body
    assert headers["Server"].strip() == "nginx" and headers["Content-Length"] == str(len(body))
    assert headers["Content-Type"].startswith("text/html")
    status, headers, body = request(port, "/no/such/page")
    assert status == 404 and b"404" in body and headers["Content-Length"] == str(len(body))


@pytest.mark.parametrize("name", ["hostile", "inspect"])
def test_head_has_the_headers_and_no_body(serve, name):
    port = serve(name)
    _status, get_headers, get_body = request(port, "/")
    status, headers, body = request(port, "/", method="HEAD")
    assert status == 200 and body == b"" and headers["Content-Length"] == str(len(get_body)) != "0"
    assert headers["Content-Type"] == get_headers["Content-Type"]


def test_extra_headers_are_sent(serve):
    status, headers, _body = request(serve("hostile"), "/redirect/cycle-a")
    assert status == 302 and headers["Location"] == "/redirect/cycle-b"
    status, headers, body = request(serve("jsgate"), "/download/x.exe")
    assert status == 200 and body.startswith(b"MZ") and "attachment" in headers["Content-Disposition"]
    assert headers["Content-Type"] == "application/octet-stream"
    status, headers, body = request(serve("hostile"), "/bomb/gzip")
    assert status == 200 and headers["Content-Encoding"] == "gzip" and body == b"small"


def test_jsgate_log_keeps_one_request_a_line_under_concurrent_requests(serve, capsys):
    # tests read jsgate's log line by line; its server answers in threads
    port = serve("jsgate")
    paths = [f"/js?run=r{n}" for n in range(60)]
    threads = [threading.Thread(target=request, args=(port, path)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = capsys.readouterr().err.splitlines()
    assert sorted(lines) == sorted(f"jsgate: GET {path}" for path in paths)
