"""Durable appends (crawler/durable.py): owner-only files, whole lines, and a failed write cut back off."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from crawler import durable
from crawler.durable import append_durably, append_json_lines


def test_appends_create_an_owner_only_file_and_keep_what_was_there(tmp_path: Path):
    path = tmp_path / "records.jsonl"
    append_json_lines(path, [{"n": 1, "text": "café"}])
    append_json_lines(path, [{"n": 2}, {"n": 3}])
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert [json.loads(line)["n"] for line in path.read_text(encoding="utf-8").splitlines()] == [1, 2, 3]
    assert "café" in path.read_text(encoding="utf-8")  # kept as written, not \u-escaped


def test_what_json_cannot_hold_is_written_as_text(tmp_path: Path):
    path = tmp_path / "records.jsonl"
    append_json_lines(path, [{"where": Path("/x")}])
    assert json.loads(path.read_text()) == {"where": "/x"}


def _failing_after(written: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.write writes *written* bytes, then fails as a full disk does."""
    real_write = os.write
    calls = {"n": 0}

    def write(fd: int, data: bytes | memoryview) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[:written]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(durable.os, "write", write)


def test_a_failed_write_is_cut_back_off_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "spool.jsonl"
    append_durably(path, b"kept\n")
    _failing_after(3, monkeypatch)
    with pytest.raises(OSError) as raised:
        append_durably(path, b"torn line\n", cut_back_on_error=True)
    assert raised.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"kept\n"


def test_without_cut_back_the_torn_line_stays_for_readers_to_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "log.jsonl"
    append_durably(path, b"kept\n")
    _failing_after(3, monkeypatch)
    with pytest.raises(OSError):
        append_durably(path, b"torn line\n")
    assert path.read_bytes() == b"kept\ntor"
