"""``darkcrawl kibana import`` against a local stub of Kibana's saved objects API: the HTTP shape of the request
(path, space, query, headers, multipart body), authentication, TLS verification against a CA file, how each kind of
answer is reported, and that secrets never reach the output. Kibana itself cannot run here (see deploy/README.md)."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.cli import main
from crawler.config import load_settings
from crawler.errors import ServiceError, UsageError
from crawler.kibana.importer import KibanaConfig, import_objects
from crawler.kibana.objects import render_ndjson
from tests.tls import make_server

API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="
PASSWORD = "s3cret-kibana-pw"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class StubKibana:
    """A local HTTP(S) server answering every request with ``status``/``body`` and recording what it got."""

    server: ThreadingHTTPServer
    url: str
    requests: list[Request] = field(default_factory=list)
    status: int = 200
    body: bytes = b'{"success":true,"successCount":20,"successResults":[]}'
    content_type: str = "application/json"

    def answer(self, status: int, body: object, content_type: str = "application/json") -> None:
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.content_type = content_type


def start_stub(tls: ssl.SSLContext | None = None) -> StubKibana:
    stub: StubKibana

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            parts = urlsplit(self.path)
            stub.requests.append(
                Request("POST", parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()},
                        self.rfile.read(length))
            )
            self.send_response(stub.status)
            self.send_header("Content-Type", stub.content_type)
            self.send_header("Content-Length", str(len(stub.body)))
            self.end_headers()
            self.wfile.write(stub.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls else "http"
    stub = StubKibana(server, f"{scheme}://127.0.0.1:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return stub


@pytest.fixture
def kibana() -> Iterator[StubKibana]:
    stub = start_stub()
    yield stub
    stub.server.shutdown()
    stub.server.server_close()


def config(url: str, **settings: str) -> KibanaConfig:
    return KibanaConfig.from_settings(load_settings(overrides=settings, environ={}), url=url)


def multipart_files(request: Request) -> dict[str, tuple[str | None, str, bytes]]:
    """The multipart body's parts: form name -> (filename, content type, content)."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    assert message.is_multipart()
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        parts[name] = (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
    return parts


def test_request_shape_with_api_key_and_overwrite(kibana):
    ndjson = render_ndjson()
    result = import_objects(config(kibana.url, DARKCRAWL_KIBANA_API_KEY=API_KEY), ndjson, overwrite=True)
    assert result.success and result.success_count == 20 and result.errors == []
    (request,) = kibana.requests
    assert request.method == "POST" and request.path == "/api/saved_objects/_import"
    assert request.query == {"overwrite": ["true"]}
    assert request.headers["kbn-xsrf"]
    assert request.headers["authorization"] == f"ApiKey {API_KEY}"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = multipart_files(request)
    assert list(parts) == ["file"]
    filename, content_type, content = parts["file"]
    assert filename == "darkcrawl.ndjson" and content_type == "application/ndjson"
    assert content.decode() == ndjson


def test_space_basic_auth_and_no_overwrite(kibana):
    result = import_objects(
        KibanaConfig.from_settings(
            load_settings(overrides={"DARKCRAWL_KIBANA_USERNAME": "analyst", "DARKCRAWL_KIBANA_PASSWORD": PASSWORD,
                                     "DARKCRAWL_KIBANA_SPACE": "cyber"}, environ={}),
            url=kibana.url + "/",
        ),
        '{"type":"index-pattern"}\n',
    )
    assert result.success
    (request,) = kibana.requests
    assert request.path == "/s/cyber/api/saved_objects/_import" and request.query == {}
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"analyst:{PASSWORD}".encode()).decode()


def test_api_key_wins_over_basic_auth(kibana):
    import_objects(config(kibana.url, DARKCRAWL_KIBANA_API_KEY=API_KEY, DARKCRAWL_KIBANA_USERNAME="u",
                          DARKCRAWL_KIBANA_PASSWORD=PASSWORD), "{}\n")
    assert kibana.requests[0].headers["authorization"] == f"ApiKey {API_KEY}"


def test_refused_objects_are_reported_one_by_one(kibana):
    kibana.answer(200, {"success": False, "successCount": 18, "errors": [
        {"id": "darkcrawl-dashboard-overview", "type": "dashboard", "title": "darkcrawl overview",
         "meta": {"title": "darkcrawl overview"}, "error": {"type": "conflict"}},
        {"id": "darkcrawl-lens-languages", "type": "lens", "meta": {"title": "languages"},
         "error": {"type": "missing_references", "references": [{"type": "index-pattern", "id": "gone"}]}},
    ]})
    result = import_objects(config(kibana.url), "{}\n")
    assert not result.success and result.success_count == 18
    lines = result.error_lines()
    assert lines[0] == "dashboard darkcrawl-dashboard-overview (darkcrawl overview): already exists in Kibana; " \
                       "rerun with --overwrite to replace it"
    assert "index-pattern gone" in lines[1]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"statusCode": 401, "error": "Unauthorized", "message": "[security_exception] unable to authenticate"},
         "refused the credentials (401): check DARKCRAWL_KIBANA_API_KEY"),
        (403, {"statusCode": 403, "message": "Unable to bulk_create dashboard"},
         "denied the import (403): the user needs the saved objects management privilege"),
        (404, {"statusCode": 404, "message": "Not Found"}, "no saved objects API at"),
        (413, {"statusCode": 413, "message": "Payload content length greater than maximum allowed"},
         "too large (413)"),
        (503, {"statusCode": 503, "message": "Kibana server is not ready yet"},
         "answered HTTP 503: Kibana server is not ready yet"),
        (200, b"<html>not kibana</html>", "answered 200 but not with a saved objects import result"),
        (200, {"hello": "world"}, "answered 200 but not with a saved objects import result"),
    ],
)
def test_bad_answers_are_one_line_service_errors(kibana, status, body, expected):
    kibana.answer(status, body, "text/html" if isinstance(body, bytes) else "application/json")
    with pytest.raises(ServiceError) as error:
        import_objects(config(kibana.url, DARKCRAWL_KIBANA_API_KEY=API_KEY), "{}\n")
    assert expected in str(error.value)
    assert "\n" not in str(error.value) and API_KEY not in str(error.value)


def test_unreachable_kibana():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
    with pytest.raises(ServiceError, match=r"Kibana at http://127.0.0.1:\d+ cannot be reached .*check the URL"):
        import_objects(config(f"http://127.0.0.1:{port}"), "{}\n", timeout=5)


def test_configuration_errors():
    settings = load_settings(environ={})
    with pytest.raises(UsageError, match="no Kibana URL"):
        KibanaConfig.from_settings(settings)
    with pytest.raises(UsageError, match="must look like"):
        KibanaConfig.from_settings(settings, url="kibana:5601")
    with pytest.raises(UsageError, match="contains credentials"):
        KibanaConfig.from_settings(settings, url=f"https://elastic:{PASSWORD}@kibana:5601")
    with pytest.raises(UsageError, match="not a space id"):
        KibanaConfig.from_settings(settings, url="https://kibana:5601", space="My Space")
    with pytest.raises(UsageError, match="DARKCRAWL_KIBANA_CA_CERTS"):
        config("https://kibana:5601", DARKCRAWL_KIBANA_CA_CERTS="/nonexistent/ca.pem")


# --- TLS: verified against the CA file --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> tuple[Path, Path]:
    """(good CA, server files) and a second, unrelated CA."""
    directory = tmp_path_factory.mktemp("tls")
    server = make_server(directory / "kibana", name="kibana", ca_name="kibana-ca")
    other = make_server(directory / "other", name="other", ca_name="other-ca")
    return server, other.ca


@pytest.fixture
def tls_kibana(certificates) -> Iterator[StubKibana]:
    server, _other = certificates
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server.cert, server.key)
    stub = start_stub(context)
    yield stub
    stub.server.shutdown()
    stub.server.server_close()


def test_tls_verified_against_the_ca_file(tls_kibana, certificates):
    server, _other = certificates
    result = import_objects(config(tls_kibana.url, DARKCRAWL_KIBANA_CA_CERTS=str(server.ca)), "{}\n")
    assert result.success and len(tls_kibana.requests) == 1


@pytest.mark.parametrize("which", ["other CA", "system CAs"])
def test_untrusted_certificate_is_a_clear_error(tls_kibana, certificates, which):
    _server, other_ca = certificates
    settings = {"DARKCRAWL_KIBANA_CA_CERTS": str(other_ca)} if which == "other CA" else {}
    with pytest.raises(ServiceError, match=r"TLS certificate is not trusted .*set DARKCRAWL_KIBANA_CA_CERTS"):
        import_objects(config(tls_kibana.url, **settings), "{}\n")
    assert tls_kibana.requests == []


def test_a_ca_file_that_is_not_pem_is_a_usage_error(tmp_path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(UsageError, match="not a readable PEM CA certificate"):
        import_objects(config("https://127.0.0.1:1", DARKCRAWL_KIBANA_CA_CERTS=str(bogus)), "{}\n")


# --- the command ------------------------------------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("DARKCRAWL_") and not name.startswith("DARKCRAWL_TEST_"):
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_environment")
def test_command_imports_and_never_shows_secrets(kibana, monkeypatch, capsys):
    monkeypatch.setenv("DARKCRAWL_KIBANA_API_KEY", API_KEY)
    monkeypatch.setenv("DARKCRAWL_KIBANA_PASSWORD", PASSWORD)
    monkeypatch.setenv("DARKCRAWL_KIBANA_USERNAME", "analyst")
    assert main(["-v", "kibana", "import", "--url", kibana.url, "--prefix", "teamb", "--overwrite"]) == 0
    out, err = capsys.readouterr()
    total = render_ndjson("teamb").count("\n")
    assert f"Kibana imported 20 of {total} objects" in out
    (request,) = kibana.requests
    assert request.query == {"overwrite": ["true"]}
    filename, _type, content = multipart_files(request)["file"]
    assert filename == "teamb.ndjson" and content.decode() == render_ndjson("teamb")
    kibana.answer(401, {"statusCode": 401, "message": "unable to authenticate"})
    assert main(["-v", "kibana", "import", "--url", kibana.url]) == 3
    out2, err2 = capsys.readouterr()
    assert "darkcrawl: error: Kibana at" in err2 and "refused the credentials (401)" in err2
    for text in (out, err, out2, err2):
        assert API_KEY not in text and PASSWORD not in text
        assert base64.b64encode(f"analyst:{PASSWORD}".encode()).decode() not in text


@pytest.mark.usefixtures("clean_environment")
def test_command_reports_refused_objects_and_fails(kibana, capsys):
    kibana.answer(200, {"success": False, "successCount": 19, "errors": [
        {"id": "darkcrawl-dashboard-overview", "type": "dashboard", "meta": {"title": "darkcrawl overview"},
         "error": {"type": "conflict"}}]})
    assert main(["kibana", "import", "--url", kibana.url]) == 1
    _out, err = capsys.readouterr()
    assert "rerun with --overwrite" in err
    total = render_ndjson().count("\n")
    assert err.strip().endswith(f"darkcrawl: error: Kibana imported 19 of {total} objects; 1 refused (listed above)")


@pytest.mark.usefixtures("clean_environment")
def test_render_writes_the_file_for_a_prefix(tmp_path, capsys):
    target = tmp_path / "objects.ndjson"
    assert main(["kibana", "render", "--prefix", "teamb", "-o", str(target)]) == 0
    assert target.read_text() == render_ndjson("teamb")
    assert main(["kibana", "render", "--prefix", "Bad Prefix"]) == 2
    assert "not a valid index prefix" in capsys.readouterr().err
