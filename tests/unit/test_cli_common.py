"""crawler/cli/common.py and the one crawl summary: the subcommands answer the same way (text or ``--json``) and turn
Elasticsearch failures into the same one-line errors; ``crawl --json`` and ``worker --json`` print the same keys, the
ones docs/crawling.md and the README list."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawler.cli import crawl as crawl_cli
from crawler.cli import main
from crawler.cli import worker as worker_cli
from crawler.cli.common import es_session, print_answer
from crawler.config import load_settings
from crawler.crawl import CrawlResult
from crawler.errors import ServiceError

REPO = Path(__file__).resolve().parents[2]
ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
STATS = {
    "darkcrawl/pages": 7,
    "darkcrawl/index/indexed": 6,
    "darkcrawl/errors/TimeoutError": 1,
    "darkcrawl/refused/blocklisted": 2,
    "darkcrawl/hostile/too_large": 3,
    "darkcrawl/tor/pauses": 1,
    "darkcrawl/tor/0/restarts": 1,
    "darkcrawl/skipped/extension": 4,
    "darkcrawl/safety/flagged": 1,
    "darkcrawl/frontier/requeued": 2,
    "finish_reason": "finished",
}


def documented_summary_keys() -> list[str]:
    text = (REPO / "docs" / "crawling.md").read_text(encoding="utf-8")
    section = text.split("## The summary", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)


def test_the_summary_groups_the_stats_by_what_they_count():
    summary = CrawlResult("c1", "finished", dict(STATS), 12.34).as_summary(["line 3: not an onion"])
    assert summary["pages"] == 7 and summary["indexed"] == 6
    assert summary["errors"] == {"TimeoutError": 1} and summary["refused"] == {"blocklisted": 2}
    assert summary["hostile"] == {"too_large": 3} and summary["skipped"] == {"extension": 4}
    assert summary["tor"] == {"pauses": 1, "0/restarts": 1}
    assert summary["frontier"] == {"requeued": 2} and summary["flagged_for_review"] == 1
    assert summary["skipped_seeds"] == ["line 3: not an onion"] and summary["elapsed_seconds"] == 12.3
    assert CrawlResult("c2", "finished").as_summary()["frontier"] == {}


def test_the_documented_keys_are_the_summary_keys():
    keys = list(CrawlResult("c1", "finished").as_summary())
    assert documented_summary_keys() == keys
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    listed = readme.split("`crawl --json` and `worker --json` print the same summary object:", 1)[1].split("each", 1)[0]
    assert re.findall(r"`([a-z_]+)`", listed) == keys


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("DARKCRAWL_"):
            monkeypatch.delenv(name)


def test_crawl_and_worker_print_the_same_summary(clean_env, monkeypatch, capsys, tmp_path):
    """The two commands share the summary: run each through the real entry point, with the crawl itself replaced
    (the real crawls are tests/integration/test_crawl.py and test_workers.py)."""

    def fake_run_crawl(settings, seeds, say):
        return CrawlResult("c1", "finished", dict(STATS), 3.0)

    monkeypatch.setattr(crawl_cli, "run_crawl", fake_run_crawl)
    monkeypatch.setattr(worker_cli, "run_crawl", fake_run_crawl)
    monkeypatch.setenv("DARKCRAWL_DATA_DIR", str(tmp_path))
    seed_args = ["--url", f"http://{ONION}/", "--url", "ftp://nowhere/", "--no-index", "--json"]
    assert main(["crawl", *seed_args]) == 0
    crawled = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("DARKCRAWL_REDIS_URL", "redis://127.0.0.1:1/0")  # never contacted: the crawl is replaced
    assert main(["worker", *seed_args]) == 0
    worked = json.loads(capsys.readouterr().out)
    assert crawled == worked
    assert list(crawled) == documented_summary_keys()
    assert crawled["hostile"] == {"too_large": 3} and crawled["tor"]["0/restarts"] == 1
    assert len(crawled["skipped_seeds"]) == 1 and "ftp://nowhere/" in crawled["skipped_seeds"][0]


def test_print_answer_prints_json_or_the_text_lines(capsys):
    print_answer(True, {"b": 1, "when": object()}, lambda: ["unused"], default=lambda value: "x")
    assert json.loads(capsys.readouterr().out) == {"b": 1, "when": "x"}
    print_answer(False, {"b": 1}, lambda: ["one", "two"])
    assert capsys.readouterr().out == "one\ntwo\n"
    print_answer(False, {"b": 1}, lambda: "one line")
    assert capsys.readouterr().out == "one line\n"


@pytest.fixture
def dead_es(clean_env, monkeypatch) -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, then closed: nothing listens there
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("DARKCRAWL_ES_URL", url)
    monkeypatch.setenv("DARKCRAWL_ES_USERNAME", "elastic")
    monkeypatch.setenv("DARKCRAWL_ES_PASSWORD", "x")
    return url


@pytest.mark.parametrize(
    "argv",
    [["search", "escrow"], ["pivot", "telegram:@someone"], ["crawl", "--from-index", "--no-index"],
     ["evidence", f"http://{ONION}/"]],
    ids=["search", "pivot", "crawl-from-index", "evidence"],
)
def test_an_unreachable_elasticsearch_is_one_line_exit_3(dead_es, capsys, argv):
    assert main(argv) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"darkcrawl: error: Elasticsearch at {dead_es} cannot be reached: start it with darkcrawl es "
                   "start, or fix DARKCRAWL_ES_URL"]


class IndexNotFound(BaseHTTPRequestHandler):
    """Answers every request as Elasticsearch does for a missing index."""

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.answer()

    def answer(self) -> None:
        body = json.dumps({"error": {"type": "index_not_found_exception", "reason": "no such index [x]"},
                           "status": 404}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/vnd.elasticsearch+json;compatible-with=9")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def missing_index_es(clean_env, monkeypatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), IndexNotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("DARKCRAWL_ES_URL", url)
    monkeypatch.setenv("DARKCRAWL_ES_USERNAME", "elastic")
    monkeypatch.setenv("DARKCRAWL_ES_PASSWORD", "x")
    yield url
    server.shutdown()
    server.server_close()


def test_a_missing_index_says_what_to_do_where_the_command_knows_it(missing_index_es, capsys):
    assert main(["search", "escrow"]) == 3
    assert capsys.readouterr().err.strip() == (
        "darkcrawl: error: no index darkcrawl-pages yet: crawl something first (darkcrawl demo, darkcrawl crawl)"
    )
    assert main(["pivot", "telegram:@someone"]) == 3
    assert "no index darkcrawl-sightings yet: run darkcrawl es init" in capsys.readouterr().err
    with pytest.raises(ServiceError, match="answered 404"):  # no message given: what Elasticsearch said
        with es_session(load_settings()) as client:
            client.search(index="x")


def test_progress_is_said_one_way_with_each_command_s_prefix(capsys):
    """One say() for every command: the prefix and stream differ (darkcrawl, lab, the scheduler on stderr; es's
    own progress on stdout), the line is always printable."""
    from crawler.cli import es, lab, scheduler
    from crawler.cli.common import say

    say("page title \x1b]0;owned\x07")
    lab.say("up")
    scheduler.say("stopped")
    es.say("Elasticsearch stopped")
    captured = capsys.readouterr()
    assert captured.err == "darkcrawl: page title \ufffd]0;owned\ufffd\nlab: up\ndarkcrawl scheduler: stopped\n"
    assert captured.out == "Elasticsearch stopped\n"


def test_a_command_group_needs_its_action(capsys):
    from crawler.cli import build_parser

    parser = build_parser()
    for group in ("es", "lab", "schedule", "kibana", "alerts", "watch", "notify", "export"):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args([group])
        assert exit_.value.code == 2
        assert "required: " in capsys.readouterr().err
    assert parser.parse_args(["lab", "status", "--json"]).handler.__name__ == "run_status"
    assert parser.parse_args(["es", "status"]).es_action == "status"


def test_an_error_line_masks_secrets_and_control_characters(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DARKCRAWL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DARKCRAWL_ES_URL", "ftp://user:hunter22@es.local/\x1b[2J")
    assert main(["es", "init"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "hunter22" not in err


def test_console_log_lines_hold_no_control_character_and_no_secret():
    import logging

    from crawler.cli import ConsoleFormatter

    formatter = ConsoleFormatter("%(message)s")
    formatter.secrets = ("hunter22",)
    record = logging.LogRecord("x", logging.WARNING, "", 0, "redirects to %s\n%s",
                               ("http://a.onion/\x1b]0;owned\x07\x9b2J", "http://u:hunter22@h/"), None)
    assert formatter.format(record) == "redirects to http://a.onion/\ufffd]0;owned\ufffd\ufffd2J\nhttp://***@h/"
