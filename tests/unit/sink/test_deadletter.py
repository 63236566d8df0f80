"""The dead-letter files (crawler/sink/deadletter.py): one record a rejection, appended, in a directory created when
missing, owner-only."""

from __future__ import annotations

import json
import os

from crawler.sink.deadletter import dead_letter


def test_each_rejection_is_one_line_with_the_index_the_error_and_the_document(tmp_path):
    path = tmp_path / "dead-letter" / "crawls.jsonl"
    dead_letter(path, "t-crawls", {"crawl_id": "c1"}, {"type": "mapper_parsing_exception"})
    dead_letter(path, "t-crawls", {"crawl_id": "c2"}, "plain reason")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [record["document"]["crawl_id"] for record in records] == ["c1", "c2"]
    assert records[0]["index"] == "t-crawls" and records[0]["error"] == {"type": "mapper_parsing_exception"}
    assert records[1]["error"] == "plain reason"
    assert set(records[0]) == {"failed_at", "index", "error", "document"}
    assert os.stat(path).st_mode & 0o777 == 0o600
