"""The dead-letter files: documents Elasticsearch rejected for good (a mapping error, say), kept with the reason so
nothing the crawl fetched is lost silently. One JSON line per document in ``<data dir>/dead-letter/<what>.jsonl``:
``failed_at``, ``index`` (the alias written), ``error`` (Elasticsearch's) and ``document``; appended durably
(:func:`crawler.durable.append_durably`), so a rejection that was reported survives a crash.

Offers :func:`dead_letter`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawler.durable import append_json_lines
from crawler.items import utc_timestamp


def dead_letter(path: Path, index: str, document: Any, error: Any) -> None:
    """Append *document*, which *index* rejected with *error*, to the dead-letter file *path* (created with its
    directory when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    append_json_lines(path, [{"failed_at": utc_timestamp(), "index": index, "error": error, "document": document}])
