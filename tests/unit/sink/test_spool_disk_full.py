"""The spool on a real full disk: a tiny tmpfs mounted for the test (needs root and mount; skipped otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from crawler.sink.spool import Spool, SpoolFullError


@pytest.fixture
def tiny_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_disk_full_gives_a_clear_error_and_leaves_only_whole_lines(tiny_disk: Path):
    spool = Spool(tiny_disk / "spool" / "pages.jsonl", max_bytes=0)  # no budget: only the disk limits it
    kept = []
    with pytest.raises(SpoolFullError, match="no space left on the device"):
        for number in range(1000):
            batch = [{"url": f"http://x.onion/{number}/{i}", "text": "t" * 3000} for i in range(3)]
            spool.append(batch)  # 9 KB a batch: the last one is cut off mid-write by ENOSPC
            kept.extend(batch)
    data = spool.path.read_bytes()
    assert data.endswith(b"\n"), "a partial line was left in the spool"
    assert [json.loads(line) for line in data.splitlines()] == kept
    assert kept and len(kept) < 3000
    assert spool.begin_replay() == kept
    assert os.statvfs(tiny_disk).f_bfree * os.statvfs(tiny_disk).f_bsize < 9 * 1024  # the disk really was full


class UnreachableElasticsearch:
    """A client whose every call fails as a refused connection does."""

    async def mget(self, **kwargs):
        raise ConnectionError("Elasticsearch is down")

    async def bulk(self, **kwargs):
        raise ConnectionError("Elasticsearch is down")


async def test_sink_spooling_onto_a_full_disk_raises_the_error_that_stops_the_crawl(tiny_disk: Path, tmp_path):
    from crawler.sink.bulk import BulkConfig, PageSink

    spool = Spool(tiny_disk / "spool" / "pages.jsonl", max_bytes=0)
    counted: dict[str, int] = {}
    config = BulkConfig(max_docs=3, max_bytes=10**9, flush_interval=60, max_retries=0,
                        dead_letter_path=tmp_path / "dead.jsonl")
    sink = PageSink(UnreachableElasticsearch(), "t-pages", config,
                    lambda key, count: counted.__setitem__(key, counted.get(key, 0) + count), spool=spool)
    with pytest.raises(SpoolFullError, match="no space left"):
        for number in range(1000):
            await sink.add({"url": f"http://x.onion/{number}", "text": "t" * 3000})
    data = spool.path.read_bytes()
    assert data.endswith(b"\n")
    assert len(data.splitlines()) == counted["darkcrawl/index/spooled"] > 0  # what was counted is what was kept
