"""Appending to a file so that what was appended survives a crash: the one way darkcrawl writes its append-only
records (the dead-letter files, the indexing spools, the notification outbox's delivered log).

A bottom module: it imports nothing of the project, so the Elasticsearch write side (crawler/sink) and the
notification outbox (crawler/notify) share it without importing each other.

Offers :func:`append_durably` (bytes) and :func:`append_json_lines` (one JSON document a line).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def append_durably(path: Path, data: bytes, *, cut_back_on_error: bool = False) -> None:
    """Append *data* to *path* (created owner-only, ``0600``) and ``fsync`` it before returning.

    The file is opened with ``O_APPEND``, so lines appended by concurrent writers stay whole. With
    *cut_back_on_error* (a file with a single writer, such as a spool), a write that fails half-way (a full disk) is
    cut back off, so the file still ends with the last whole line kept before it. Raises the :class:`OSError`."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        start = os.lseek(fd, 0, os.SEEK_END) if cut_back_on_error else 0
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            if cut_back_on_error:
                _cut_back(fd, start, path)
            raise
    finally:
        os.close(fd)


def _cut_back(fd: int, size: int, path: Path) -> None:
    """Truncate the file back to *size* bytes, durably; on failure the torn line stays (readers skip it)."""
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    except OSError as exc:
        logger.error("could not cut a partial write off %s: %s", path, exc)


def json_lines(documents: Iterable[Any]) -> bytes:
    """*documents* as UTF-8 JSON lines (non-ASCII kept as is; what JSON cannot hold, such as dates, as ``str``)."""
    return "".join(json.dumps(document, ensure_ascii=False, default=str) + "\n" for document in documents).encode()


def append_json_lines(path: Path, documents: Iterable[Any], *, cut_back_on_error: bool = False) -> None:
    """Append *documents* to *path*, one JSON document a line, durably (:func:`append_durably`)."""
    append_durably(path, json_lines(documents), cut_back_on_error=cut_back_on_error)
