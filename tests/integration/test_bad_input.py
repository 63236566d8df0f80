"""Bad input everywhere, through the real CLI: each case gives one clear line (``darkcrawl: error: ...``) naming what is
wrong, the documented exit code (2 bad input, 3 a service), never a traceback, and leaves what is stored untouched
(the pages already indexed under the prefix keep their count and their bytes).

One table; each row: the command line, the files it reads, extra environment, the exit code, and a fragment the error
must contain. ``{dir}`` in arguments, file contents and environment values is the case's own directory.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crawler.es.schema import index_names, init_schema
from crawler.es.templates import SCHEMA_VERSION
from crawler.identity import page_id
from crawler.items import PageItem
from crawler.sink.documents import page_document
from tests.integration.test_crawl import REPO

pytestmark = pytest.mark.integration

ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
SEED = f"http://{ONION}/"


@dataclass
class Case:
    name: str
    args: list[str]
    exit_code: int
    says: str  # a fragment the error line must contain
    files: dict[str, str | bytes] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    es: str = "good"  # "good": the test node, "dead": nothing listens, "wrong": an HTTP server that is not ES
    stream: str = "stderr"  # where the message goes; "any": a report rather than an error (es status)
    notes: tuple[str, ...] = ()  # fragments stderr must hold besides the error line (skipped seeds, warnings)


CASES = [
    # --- seeds
    Case("seeds: every line invalid", ["crawl", "{dir}/seeds.txt"], 2, "no valid seed to crawl",
         files={"seeds.txt": "not a url\nhttp://abc.onion/\nftp://x.example/\nhttp://" + "a" * 16 + ".onion/\n"}),
    Case("seeds: missing file", ["crawl", "{dir}/nope.txt"], 2, "does not exist"),
    Case("seeds: a directory", ["crawl", "{dir}"], 2, "Is a directory"),
    Case("seeds: binary junk", ["crawl", "{dir}/junk.bin"], 2, "no valid seed",
         files={"junk.bin": b"\xff\xfe\x00\x01"}),
    Case("seeds: empty file", ["crawl", "{dir}/empty.txt"], 2, "no valid seed", files={"empty.txt": ""}),
    Case("seeds: local hosts in every spelling, clearnet allowed", ["crawl", "--allow-clearnet", "{dir}/s.txt"], 2,
         "no valid seed", files={"s.txt": b"\xef\xbb\xbfhttp://2130706433/\nhttp://0x7f000001/\n127.1\n"
                                          b"http://localhost./\nhttp://0177.0.0.1/\nhttp://[::ffff:127.0.0.1]/\n"
                                          + f"http://{ONION}:0/\nhttp://{ONION}/a\x00b\n".encode()},
         notes=("line 1: 2130706433 is a loopback address (127.0.0.1)", "line 2: 0x7f000001 is a loopback",
                "line 3: 127.1 is a loopback", "line 4: localhost is a local name", "line 5: 0177.0.0.1 is a loopback",
                "line 6: ::ffff:127.0.0.1 is a loopback", "line 7: port 0", "line 8: control character")),
    Case("seeds: local host given with --url", ["crawl", "--allow-clearnet", "--url", "http://127.1:9200/"], 2,
         "no valid seed", notes=("127.1 is a loopback address",)),
    Case("seeds: a byte-order mark keeps line 1", ["crawl", "{dir}/bom.txt"], 3, "no usable Tor",
         files={"bom.txt": b"\xef\xbb\xbf" + SEED.encode() + b"\n"}),
    # --- command-line numbers
    Case("option: concurrency 0", ["crawl", "--url", SEED, "--concurrency", "0"], 2,
         "--concurrency must be at least 1"),
    Case("option: negative depth", ["crawl", "--url", SEED, "--depth", "-1"], 2, "--depth must be at least 0"),
    Case("option: negative budget", ["crawl", "--url", SEED, "--max-pages", "-3"], 2, "--max-pages must be at least 0"),
    Case("option: not a number", ["crawl", "--url", SEED, "--depth", "two"], 2, "invalid int value"),
    # --- search options (checked before Elasticsearch is asked)
    Case("search: -n negative", ["search", "x", "-n", "-1"], 2, "argument -n/--limit: -1: give 0 to 10000"),
    Case("search: -n beyond the result window", ["search", "x", "-n", "100000"], 2,
         "argument -n/--limit: 100000: give 0 to 10000"),
    Case("search: --since garbage", ["search", "x", "--since", "garbage"], 2, "--since 'garbage' is not a date"),
    Case("search: --changed-since garbage", ["search", "x", "--changed-since", "soon"], 2,
         "--changed-since 'soon' is not a date"),
    # --- config file
    Case("config: unknown key", ["--config", "{dir}/c.toml", "crawl", "--url", SEED], 2, "unknown key 'max_pagez'",
         files={"c.toml": "[darkcrawl]\nmax_pagez = 3\n"}),
    Case("config: wrong type", ["--config", "{dir}/c.toml", "crawl", "--url", SEED], 2,
         "DARKCRAWL_MAX_PAGES_PER_SITE must be a int", files={"c.toml": '[darkcrawl]\nmax_pages_per_site = "lots"\n'}),
    Case("config: list given a number", ["--config", "{dir}/c.toml", "crawl", "--url", SEED], 2,
         "DARKCRAWL_WATCHLISTS must be a list", files={"c.toml": "[darkcrawl]\nwatchlists = 3\n"}),
    Case("config: not TOML", ["--config", "{dir}/c.toml", "es", "init"], 2, "is not valid TOML",
         files={"c.toml": "[darkcrawl\nes_url = \n"}),
    Case("config: unknown table", ["--config", "{dir}/c.toml", "es", "init"], 2, "unknown table(s) ['crawler']",
         files={"c.toml": "[crawler]\ndepth = 1\n"}),
    Case("config: setting in the scrapy table", ["--config", "{dir}/c.toml", "es", "init"], 2, "belongs in [darkcrawl]",
         files={"c.toml": "[scrapy]\nDARKCRAWL_MAX_PAGES = 3\n"}),
    Case("config: missing file", ["--config", "{dir}/none.toml", "es", "init"], 2, "does not exist"),
    Case("config: a directory", ["--config", "{dir}", "search", "x"], 2, "is a directory"),
    Case("config: darkcrawl is a number", ["--config", "{dir}/c.toml", "search", "x"], 2,
         "darkcrawl must be a table", files={"c.toml": "darkcrawl = 5\n"}),
    Case("config: invalid UTF-8", ["--config", "{dir}/c.toml", "search", "x"], 2, "is not UTF-8 text (byte 0xff",
         files={"c.toml": b"[darkcrawl]\nmax_pages = 1\n# \xff\xfe\n"}),
    Case("config: nested too deeply", ["--config", "{dir}/c.toml", "search", "x"], 2,
         "nests arrays or tables too deeply",
         files={"c.toml": "x = " + "[" * 5000 + "]" * 5000 + "\n"}),
    Case("config: list of numbers", ["--config", "{dir}/c.toml", "crawl", "--url", SEED], 2,
         "DARKCRAWL_WATCHLISTS must be a list of strings, got 1",
         files={"c.toml": "[darkcrawl]\nwatchlists = [1, 2]\n"}),
    Case("config: negative number", ["--config", "{dir}/c.toml", "crawl", "--url", SEED], 2,
         "DARKCRAWL_MAX_PAGES_PER_SITE must be at least 0, got -1",
         files={"c.toml": "[darkcrawl]\nmax_pages_per_site = -1\n"}),
    Case("config: non-finite number", ["--config", "{dir}/c.toml", "crawl", "--url", SEED], 2,
         "DARKCRAWL_ES_FLUSH_INTERVAL must be a finite number, got inf",
         files={"c.toml": "[darkcrawl]\nes_flush_interval = inf\n"}),
    Case("config: negative Scrapy setting", ["--config", "{dir}/c.toml", "crawl", "--url", SEED], 2,
         "CONCURRENT_REQUESTS must be at least 1, got -4", files={"c.toml": "[scrapy]\nCONCURRENT_REQUESTS = -4\n"}),
    Case("config: a secret others can read", ["--config", "{dir}/secret.toml", "crawl", "--url", SEED], 3,
         "no usable Tor", files={"secret.toml": '[darkcrawl]\ntor_control_password = "hunter22"\n'},
         notes=("holds a secret (DARKCRAWL_TOR_CONTROL_PASSWORD) and can be read by others (mode 644)",
                "chmod 600 {dir}/secret.toml")),
    Case("config: from DARKCRAWL_CONFIG, unknown key", ["search", "x"], 2, "unknown key 'colour'",
         files={"c.toml": "[darkcrawl]\ncolour = 'red'\n"}, env={"DARKCRAWL_CONFIG": "{dir}/c.toml"}),
    # --- environment
    Case("environment: unknown variable", ["search", "x"], 2, "unknown variable DARKCRAWL_MAX_PAGEZ",
         env={"DARKCRAWL_MAX_PAGEZ": "1"}),
    Case("environment: wrong type", ["crawl", "--url", SEED], 2, "DARKCRAWL_MAX_PAGES must be a int",
         env={"DARKCRAWL_MAX_PAGES": "many"}),
    Case("environment: bad boolean", ["crawl", "--url", SEED], 2, "DARKCRAWL_ALLOW_CLEARNET must be a bool",
         env={"DARKCRAWL_ALLOW_CLEARNET": "perhaps"}),
    Case("environment: non-finite number", ["crawl", "--url", SEED], 2,
         "DARKCRAWL_RENDER_PAGE_TIMEOUT must be a finite number", env={"DARKCRAWL_RENDER_PAGE_TIMEOUT": "nan"}),
    Case("environment: negative number", ["crawl", "--url", SEED], 2,
         "DARKCRAWL_TOR_INSTANCES must be between 1 and 64",
         env={"DARKCRAWL_TOR_INSTANCES": "-2"}),
    # --- Elasticsearch: unreachable, wrong, refused
    Case("es: unreachable, init", ["es", "init"], 3, "cannot be reached", es="dead"),
    Case("es: unreachable, search", ["search", "escrow"], 3, "cannot be reached", es="dead"),
    Case("es: unreachable, crawl", ["crawl", "--url", SEED], 3, "cannot be reached", es="dead"),
    Case("es: unreachable, status", ["es", "status"], 1, "cannot be reached", es="dead", stream="any"),
    Case("es: not a URL", ["es", "init"], 2, "must start with http:// or https://",
         env={"DARKCRAWL_ES_URL": "es.local"}),
    Case("es: bad port", ["search", "x"], 2, "is not usable", env={"DARKCRAWL_ES_URL": "http://127.0.0.1:99999"}),
    Case("es: not Elasticsearch", ["es", "init"], 3, "", es="wrong"),
    Case("es: not Elasticsearch, crawl", ["crawl", "--url", SEED], 3, "", es="wrong"),
    Case("es: wrong password, init", ["es", "init"], 3, "401", env={"DARKCRAWL_ES_PASSWORD": "not-the-password"}),
    Case("es: wrong password, search", ["search", "escrow"], 3, "401",
         env={"DARKCRAWL_ES_PASSWORD": "not-the-password"}),
    Case("es: wrong password, crawl", ["crawl", "--url", SEED], 3, "401",
         env={"DARKCRAWL_ES_PASSWORD": "not-the-password"}),
    Case("es: wrong API key", ["search", "escrow"], 3, "401", env={"DARKCRAWL_ES_API_KEY": "bm90OmEta2V5"}),
    # --- operator files
    Case("watch list: invalid YAML, extract", ["extract", "--watchlist", "{dir}/w.yaml", "{dir}/page.html"], 2,
         "w.yaml:3: invalid YAML", files={"w.yaml": "- category: drugs\n  terms: [a, b\n", "page.html": "<p>x</p>"}),
    Case("watch list: invalid YAML, crawl", ["crawl", "--url", SEED], 2, "w.yaml:3: invalid YAML",
         files={"w.yaml": "- category: drugs\n  terms: [a, b\n"}, env={"DARKCRAWL_WATCHLISTS": "{dir}/w.yaml"}),
    Case("watch list: unknown key", ["crawl", "--url", SEED], 2, "unknown key 'categroy'",
         files={"w.yaml": "- categroy: drugs\n  term: x\n"}, env={"DARKCRAWL_WATCHLISTS": "{dir}/w.yaml"}),
    Case("vendor rules: invalid YAML", ["crawl", "--url", SEED], 2, "invalid YAML",
         files={"r.yaml": "sites: [\n"}, env={"DARKCRAWL_VENDOR_RULES": "{dir}/r.yaml"}),
    Case("blocklist: bad line", ["crawl", "--url", SEED], 2, "blocklist {dir}/b.txt:2:",
         files={"b.txt": "# list\nmd5:1234\n"}, env={"DARKCRAWL_BLOCKLIST_FILES": "{dir}/b.txt"}),
    Case("blocklist: missing file", ["crawl", "--url", SEED], 2, "cannot read it",
         env={"DARKCRAWL_BLOCKLIST_FILES": "{dir}/none.txt"}),
    Case("high-risk terms: invalid YAML", ["crawl", "--url", SEED], 2, "t.yaml:3: invalid YAML",
         files={"t.yaml": "- category: x\n  terms: [a\n"}, env={"DARKCRAWL_HIGH_RISK_TERMS": "{dir}/t.yaml"}),
]


class NotElasticsearch(http.server.BaseHTTPRequestHandler):
    """A web server that is not Elasticsearch (a wrong DARKCRAWL_ES_URL pointing at some other service)."""

    def do_GET(self) -> None:
        body = b"<html><body>It works!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET
    do_POST = do_GET
    do_PUT = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def wrong_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotElasticsearch)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def dead_url() -> Iterator[str]:
    import socket

    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def stored_pages(es_node, prefix: str) -> dict[str, dict]:
    client = es_node.client()
    alias = f"{prefix}-pages"
    client.indices.refresh(index=alias)
    hits = client.search(index=alias, size=1000, query={"match_all": {}})["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


@pytest.fixture(scope="module")
def stored(es_node) -> tuple[str, dict[str, dict]]:
    """A prefix with templates, indices and three pages already indexed: what bad input must not damage."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    client = es_node.client()
    init_schema(client, index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=prefix)), lambda _line: None)
    for number in range(3):
        item = PageItem(url=f"{SEED}page/{number}", canonical_url=f"{SEED}page/{number}", site=ONION, status=200,
                        fetched_at="2026-11-28T10:00:00.000Z", crawl_id="stored", text=f"escrow page {number}")
        document = page_document(item) | {"first_seen": item.fetched_at, "last_seen": item.fetched_at}
        client.index(index=f"{prefix}-pages", id=page_id(item.url), document=document)
    return prefix, stored_pages(es_node, prefix)


def fill(text: str, directory: Path) -> str:
    return text.replace("{dir}", str(directory))


def case_env(case: Case, es_node, prefix: str, directory: Path, urls: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env.update(es_node.env())
    if case.es != "good":
        env.update(DARKCRAWL_ES_URL=urls[case.es])
    env.update(
        DARKCRAWL_ES_INDEX_PREFIX=prefix,
        DARKCRAWL_DATA_DIR=str(directory / "data"),
        # if a case ever got as far as fetching, it would find no Tor (exit 3) rather than launch one
        DARKCRAWL_TOR_SOCKS=urls["dead"].removeprefix("http://"),
        DARKCRAWL_TOR_CONTROL="",
    )
    if "DARKCRAWL_ES_PASSWORD" in case.env or "DARKCRAWL_ES_API_KEY" in case.env:
        env.pop("DARKCRAWL_ES_API_KEY", None)
    env.update({key: fill(value, directory) for key, value in case.env.items()})
    return env


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_clear_line_and_damages_nothing(case, es_node, stored, dead_url, wrong_server, tmp_path):
    prefix, before = stored
    for name, content in case.files.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(fill(content, tmp_path))
        path.chmod(0o644)  # what an editor leaves with the usual umask
    env = case_env(case, es_node, prefix, tmp_path, {"dead": dead_url, "wrong": wrong_server})
    args = [fill(arg, tmp_path) for arg in case.args]
    result = subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=env, cwd=REPO, capture_output=True,
                            text=True, timeout=180)
    output = result.stdout + result.stderr
    assert result.returncode == case.exit_code, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    stream = output if case.stream == "any" else result.stderr
    errors = [line for line in stream.splitlines() if "error" in line.lower()]
    if case.stream == "stderr" and case.name.startswith("option: not a number"):
        assert errors and fill(case.says, tmp_path) in errors[-1]  # argparse: usage line, then the error
    elif case.stream == "stderr":
        assert len(errors) == 1 and errors[0].startswith("darkcrawl: error: "), stream[-3000:]
        assert fill(case.says, tmp_path) in errors[0], errors[0]
    else:
        assert fill(case.says, tmp_path) in stream, stream[-3000:]
    for note in case.notes:
        assert fill(note, tmp_path) in result.stderr, result.stderr[-3000:]
    assert stored_pages(es_node, prefix) == before, "stored pages changed"


def es_init(es_node, prefix: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """``darkcrawl es init`` on the test node with *prefix*, free of the caller's DARKCRAWL_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env.update(es_node.env(), DARKCRAWL_ES_INDEX_PREFIX=prefix, DARKCRAWL_DATA_DIR=str(data_dir))
    return subprocess.run([sys.executable, "-m", "crawler.cli", "es", "init"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=180)


def test_old_template_version_is_upgraded_in_place_and_keeps_every_page(es_node, tmp_path):
    """An index made by an older darkcrawl: `es init` upgrades the templates and the write index's mapping in place
    (one line per action, exit 0); every stored page is still there, unchanged."""
    assert SCHEMA_VERSION >= 2, "no older version to test against"
    prefix = f"t{uuid.uuid4().hex[:8]}"
    client = es_node.client()
    init_schema(client, index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=prefix)), lambda _line: None,
                version=SCHEMA_VERSION - 1)
    item = PageItem(url=f"{SEED}old", canonical_url=f"{SEED}old", site=ONION, status=200,
                    fetched_at="2026-11-28T10:00:00.000Z", crawl_id="old", text="stored by an older darkcrawl")
    client.index(index=f"{prefix}-pages", id=page_id(item.url), document=page_document(item))
    before = stored_pages(es_node, prefix)
    result = es_init(es_node, prefix, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"upgraded from version {SCHEMA_VERSION - 1} to {SCHEMA_VERSION}" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert stored_pages(es_node, prefix) == before


def test_newer_template_version_is_left_alone_with_a_message(es_node, tmp_path):
    """Templates written by a newer darkcrawl are never downgraded: `es init` says so and changes nothing."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    client = es_node.client()
    names = index_names(es_node.settings(DARKCRAWL_ES_INDEX_PREFIX=prefix))
    init_schema(client, names, lambda _line: None, version=SCHEMA_VERSION + 1)
    template_before = json.dumps(dict(client.indices.get_index_template(name=names.template("pages"))), sort_keys=True)
    result = es_init(es_node, prefix, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"newer than this darkcrawl's {SCHEMA_VERSION}" in result.stdout + result.stderr
    template_after = json.dumps(dict(client.indices.get_index_template(name=names.template("pages"))), sort_keys=True)
    assert template_after == template_before


def test_an_index_where_the_alias_should_be_is_refused_and_kept(es_node, tmp_path):
    """Someone created a plain index named like darkcrawl's alias: one line (exit 3), the index and its documents
    are left as they were."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    client = es_node.client()
    client.indices.create(index=f"{prefix}-pages")
    client.index(index=f"{prefix}-pages", id="keep", document={"note": "someone else's"}, refresh=True)
    result = es_init(es_node, prefix, tmp_path)
    assert result.returncode == 3, result.stderr[-3000:]
    assert "is an index, not an alias" in result.stderr and "Traceback" not in result.stderr
    assert client.get(index=f"{prefix}-pages", id="keep")["_source"] == {"note": "someone else's"}
