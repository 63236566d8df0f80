"""The watches, in one SQLite file: ``<data dir>/watch/watches.db``.

SQLite for the reasons of :mod:`crawler.scheduling.store`: the ``darkcrawl watch`` commands, the crawl and the
scheduler are separate processes reading and changing the same watches; SQLite gives them transactions and locking,
survives a crash, and needs no server. The file is owner-only inside the (0700) data directory: targets may hold
passwords and tokens.

Offers :class:`WatchStore` (``WatchStore.from_settings(settings)``: :meth:`~WatchStore.add`, :meth:`~WatchStore.get`
by id or name, :meth:`~WatchStore.watches`, :meth:`~WatchStore.active_watches`, :meth:`~WatchStore.set_state`,
:meth:`~WatchStore.remove`), :func:`watch_dir`.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.errors import UsageError
from crawler.paths import data_dir
from crawler.sqlitefile import open_shared_db
from crawler.watch.model import ACTIVE, STATES, Watch

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    targets TEXT NOT NULL DEFAULT '[]',
    realert_seconds INTEGER NOT NULL DEFAULT 0,
    digest_seconds INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""
JSON_COLUMNS = ("spec", "tags", "targets")


def watch_dir(settings: BaseSettings) -> Path:
    """``<data dir>/watch``: the store, and the copies of the YARA rule files watches were added with."""
    return data_dir(settings) / "watch"


def _row_to_watch(row: sqlite3.Row) -> Watch:
    values = dict(row)
    for name in JSON_COLUMNS:
        values[name] = json.loads(values[name])
    return Watch.from_json(values)


class WatchStore:
    """The SQLite store. Every method is one statement or transaction; safe from several processes at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection = open_shared_db(path, SCHEMA, "the watch store")

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> WatchStore:
        return cls(watch_dir(settings) / "watches.db")

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> WatchStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, watch: Watch) -> Watch:
        """Store *watch*. Raises :class:`UsageError` when its name is taken."""
        values = {item.name: getattr(watch, item.name) for item in fields(watch)}
        for name in JSON_COLUMNS:
            values[name] = json.dumps(values[name], sort_keys=True)
        try:
            self.connection.execute(
                f"INSERT INTO watches ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
                tuple(values.values()),
            )
        except sqlite3.IntegrityError:
            raise UsageError(
                f"a watch named {watch.name!r} exists already: choose another name, or `darkcrawl watch remove` it"
            ) from None
        return watch

    def find(self, key: str) -> Watch | None:
        """The watch whose id or name is *key*, or ``None``."""
        row = self.connection.execute("SELECT * FROM watches WHERE id = ? OR name = ?", (key, key)).fetchone()
        return _row_to_watch(row) if row else None

    def get(self, key: str) -> Watch:
        """The watch whose id or name is *key*. Raises :class:`UsageError` naming the known ids when there is none."""
        watch = self.find(key)
        if watch is None:
            known = [f"{item.id} ({item.name})" for item in self.watches()[:10]]
            hint = f"known: {', '.join(known)}" if known else "there are none yet (darkcrawl watch add)"
            raise UsageError(f"no watch {key!r}; {hint}")
        return watch

    def watches(self) -> list[Watch]:
        """Every watch, oldest first."""
        rows = self.connection.execute("SELECT * FROM watches ORDER BY created_at, id").fetchall()
        return [_row_to_watch(row) for row in rows]

    def active_watches(self) -> list[Watch]:
        """The watches the crawl and the retro-hunt evaluate (not paused), oldest first."""
        rows = self.connection.execute(
            "SELECT * FROM watches WHERE state = ? ORDER BY created_at, id", (ACTIVE,)
        ).fetchall()
        return [_row_to_watch(row) for row in rows]

    def set_state(self, key: str, state: str) -> Watch:
        """Pause or resume the watch *key*; return it as it now is."""
        if state not in STATES:
            raise UsageError(f"watch state {state!r} is not one of {', '.join(STATES)}")
        watch = self.get(key)
        self.connection.execute("UPDATE watches SET state = ? WHERE id = ?", (state, watch.id))
        watch.state = state
        return watch

    def remove(self, key: str) -> Watch:
        """Delete the watch *key* (its alerts stay in the alerts index); return what was removed."""
        watch = self.get(key)
        self.connection.execute("DELETE FROM watches WHERE id = ?", (watch.id,))
        return watch
