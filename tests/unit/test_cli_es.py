"""``darkcrawl es`` argument handling and its behaviour with an external cluster, through the real entry point."""

from __future__ import annotations

import json
import socket

import pytest

from crawler.cli import main


@pytest.fixture
def dead_url(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name in list(__import__("os").environ):
        if name.startswith("DARKCRAWL_"):
            monkeypatch.delenv(name)
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("DARKCRAWL_ES_URL", url)
    monkeypatch.setenv("DARKCRAWL_ES_USERNAME", "elastic")
    monkeypatch.setenv("DARKCRAWL_ES_PASSWORD", "x")
    return url


def test_es_without_action_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["es"])
    assert caught.value.code == 2


def test_stop_with_an_external_cluster_stops_nothing(dead_url, capsys):
    assert main(["es", "stop"]) == 0
    assert "external cluster" in capsys.readouterr().out


def test_start_with_an_unreachable_external_cluster_is_one_line(dead_url, capsys):
    assert main(["es", "start"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"darkcrawl: error: Elasticsearch at {dead_url} cannot be reached: start it with darkcrawl es "
                   "start, or fix DARKCRAWL_ES_URL"]


def test_status_json_of_an_unreachable_external_cluster(dead_url, capsys):
    assert main(["es", "status", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report == report | {"running": False, "healthy": False, "managed": False, "url": dead_url}


def test_init_with_a_bad_prefix_is_a_usage_error(dead_url, capsys):
    assert main(["es", "init", "--prefix", "Bad Prefix"]) == 2
    assert "DARKCRAWL_ES_INDEX_PREFIX" in capsys.readouterr().err


def test_status_reports_the_spool_backlog(dead_url, capsys, monkeypatch, tmp_path):
    import json

    from crawler.sink.spool import Spool

    monkeypatch.setenv("DARKCRAWL_DATA_DIR", str(tmp_path))
    Spool(tmp_path / "spool" / "pages.jsonl", max_bytes=0).append([{"url": "u1"}, {"url": "u2"}])
    Spool(tmp_path / "spool" / "crawls.jsonl", max_bytes=0).append([{"crawl_id": "c", "fields": {}}])
    assert main(["es", "status", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["spool"]["pages"] == 2 and report["spool"]["bytes"] > 0
    assert report["spool"]["crawl_records"] == 1
