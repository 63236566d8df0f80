"""The indexing spool: pages that could not reach Elasticsearch wait here, on disk, until they can.

An append-only JSON-lines file (one page document a line), written with ``fsync`` so a page the crawl reported as
spooled survives a crash or a ``kill -9``, and bounded (``DARKCRAWL_SPOOL_MAX_BYTES``) so a long outage cannot fill
the disk. Replaying is idempotent: page ids are deterministic, so a document replayed twice is one document.
A disk that fills up mid-write (ENOSPC) loses no line already kept: the partial write is cut back off, and the
error is a :class:`SpoolFullError` that stops the crawl; a line torn by a crash is skipped on replay.

Offers: :class:`Spool`, :class:`SpoolFullError`.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from pathlib import Path
from typing import Any

from crawler.durable import append_durably, json_lines
from crawler.errors import ServiceError

logger = logging.getLogger(__name__)


class SpoolFullError(ServiceError):
    """The spool reached its size limit: Elasticsearch has been away too long for the disk budget."""


class Spool:
    def __init__(self, path: Path, max_bytes: int):
        self.path = path
        self.replaying_path = path.with_name(path.name + ".replaying")
        self.max_bytes = max_bytes

    def size_bytes(self) -> int:
        return sum(path.stat().st_size for path in (self.path, self.replaying_path) if path.exists())

    def count(self) -> int:
        total = 0
        for path in (self.replaying_path, self.path):
            if path.exists():
                with path.open("rb") as handle:
                    total += sum(1 for line in handle if line.strip())
        return total

    def append(self, documents: list[dict[str, Any]]) -> None:
        """Append *documents*, durably. Raises :class:`SpoolFullError` (nothing written) past the size limit."""
        data = json_lines(documents)
        if self.max_bytes and self.size_bytes() + len(data) > self.max_bytes:
            raise SpoolFullError(
                f"the indexing spool {self.path} would pass DARKCRAWL_SPOOL_MAX_BYTES={self.max_bytes}: "
                "Elasticsearch has been unreachable too long; start it, run `darkcrawl es replay`, then resume the "
                "crawl"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        try:  # whole lines; a crash leaves at most a torn last line, skipped on replay
            append_durably(self.path, data, cut_back_on_error=True)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise SpoolFullError(
                    f"no space left on the device of the indexing spool {self.path} ({len(documents)} documents "
                    "not kept): free disk space or move DARKCRAWL_DATA_DIR, start Elasticsearch, run `darkcrawl "
                    "es replay`, then rerun the crawl (its pages are fetched again)"
                ) from None
            raise

    def begin_replay(self) -> list[dict[str, Any]]:
        """Move the spooled documents aside for replay and return them (a replay cut short is resumed next time)."""
        if self.path.exists():
            if self.replaying_path.exists():
                append_durably(self.replaying_path, self.path.read_bytes())
                self.path.unlink()
            else:
                os.replace(self.path, self.replaying_path)
        if not self.replaying_path.exists():
            return []
        documents = []
        with self.replaying_path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    documents.append(json.loads(line))
                except ValueError:  # a line torn by a crash mid-write: its page was never reported as spooled
                    logger.warning("spool %s line %d is incomplete (a crash mid-write); skipped", self.path, number)
        return documents

    def finish_replay(self) -> None:
        """Forget the documents handed out by :meth:`begin_replay`: they are in Elasticsearch now."""
        self.replaying_path.unlink(missing_ok=True)
