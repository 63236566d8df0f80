"""darkcrawl worker and darkcrawl evidence: bad settings and absent services are one-line errors, never tracebacks."""

from __future__ import annotations

import socket

import pytest

from crawler.cli import main


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # bound, then closed: nothing listens there


def test_worker_without_redis_url_says_what_to_set(monkeypatch, capsys):
    monkeypatch.delenv("DARKCRAWL_REDIS_URL", raising=False)
    assert main(["worker", "--status"]) == 2
    assert "needs DARKCRAWL_REDIS_URL" in capsys.readouterr().err


def test_worker_with_redis_away_is_a_service_error(monkeypatch, capsys, closed_port):
    monkeypatch.setenv("DARKCRAWL_REDIS_URL", f"redis://:secret@127.0.0.1:{closed_port}/0")
    assert main(["worker", "--status"]) == 3
    err = capsys.readouterr().err
    assert "does not answer" in err and "start redis-server" in err
    assert "secret" not in err, "the password is never printed"
    assert "Traceback" not in err


def test_worker_with_a_bad_url_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("DARKCRAWL_REDIS_URL", "http://not-redis")
    assert main(["worker", "--status"]) == 2
    assert "is not a Redis URL" in capsys.readouterr().err


def test_bloom_sized_beyond_one_redis_string_is_refused(monkeypatch, capsys, closed_port):
    monkeypatch.setenv("DARKCRAWL_REDIS_URL", f"redis://127.0.0.1:{closed_port}/0")
    monkeypatch.setenv("DARKCRAWL_REDIS_BLOOM_CAPACITY", str(10**12))
    assert main(["worker", "--status"]) == 2
    assert "DARKCRAWL_REDIS_BLOOM_CAPACITY" in capsys.readouterr().err


def test_evidence_verify_of_a_missing_or_foreign_manifest(tmp_path, capsys):
    assert main(["evidence", "verify", str(tmp_path / "none.json")]) == 2
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"hello": 1}')
    assert main(["evidence", "verify", str(foreign)]) == 2
    assert "is not a darkcrawl crawl manifest" in capsys.readouterr().err
