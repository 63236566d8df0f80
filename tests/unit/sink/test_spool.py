import pytest

from crawler.sink.spool import Spool, SpoolFullError


def test_append_is_durable_and_replay_hands_everything_back(tmp_path):
    spool = Spool(tmp_path / "spool" / "pages.jsonl", max_bytes=0)
    spool.append([{"url": "u1"}, {"url": "u2"}])
    spool.append([{"url": "u3"}])
    assert spool.count() == 3
    assert oct((tmp_path / "spool" / "pages.jsonl").stat().st_mode & 0o777) == "0o600"
    assert [doc["url"] for doc in spool.begin_replay()] == ["u1", "u2", "u3"]
    spool.finish_replay()
    assert spool.count() == 0 and spool.begin_replay() == []


def test_a_replay_cut_short_is_resumed_with_what_came_since(tmp_path):
    spool = Spool(tmp_path / "pages.jsonl", max_bytes=0)
    spool.append([{"url": "u1"}])
    assert len(spool.begin_replay()) == 1  # ... and Elasticsearch failed: no finish_replay
    spool.append([{"url": "u2"}])
    assert [doc["url"] for doc in spool.begin_replay()] == ["u1", "u2"]


def test_torn_last_line_is_skipped(tmp_path):
    path = tmp_path / "pages.jsonl"
    spool = Spool(path, max_bytes=0)
    spool.append([{"url": "u1"}])
    with path.open("ab") as handle:
        handle.write(b'{"url": "u2", "ti')  # a crash in the middle of a write
    assert [doc["url"] for doc in spool.begin_replay()] == ["u1"]


def test_full_spool_refuses_and_writes_nothing(tmp_path):
    spool = Spool(tmp_path / "pages.jsonl", max_bytes=100)
    spool.append([{"url": "x" * 40}])
    with pytest.raises(SpoolFullError, match="DARKCRAWL_SPOOL_MAX_BYTES"):
        spool.append([{"url": "y" * 80}])
    assert spool.count() == 1
