"""The SQLite files darkcrawl's processes share (the schedule store, the watch store), opened one way.

Offers :func:`open_shared_db`: owner-only file in a private directory, autocommit (callers open their own
transactions), WAL so readers do not wait for a writer, a 30 s busy timeout so processes queue rather than fail.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from crawler.errors import ServiceError
from crawler.paths import ensure_private_dir


def open_shared_db(path: Path, schema: str, what: str) -> sqlite3.Connection:
    """Open (creating) the SQLite file at *path* and run *schema* (idempotent ``CREATE ... IF NOT EXISTS``).
    Raises :class:`ServiceError` naming *what* (e.g. "the schedule store") and the file."""
    ensure_private_dir(path.parent)
    try:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        os.chmod(path, 0o600)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA busy_timeout=30000")
        connection.executescript(schema)
    except sqlite3.Error as exc:
        raise ServiceError(f"cannot open {what} {path}: {exc}; check the file and its permissions") from None
    return connection
