"""The schedules and the record of their runs, in one SQLite file: ``<data dir>/scheduler/schedules.db``.

Why SQLite: the ``darkcrawl schedule`` commands and the ``darkcrawl scheduler`` service are separate processes that
change the same records (a pause while a run starts, a run-now while the service sleeps). SQLite gives them
transactions and locking across processes, survives a crash or a restart without a half-written file, is in Python's
standard library and needs no server, and an operator can inspect it with the ``sqlite3`` shell. The file is created
owner-only inside the (0700) data directory. Journal mode WAL lets ``status`` read while the service writes.

Offers: :class:`Schedule`, :class:`Run`, :class:`ScheduleStore` (``open_store(settings)``), :func:`validate_name`,
:func:`store_path`.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.errors import ServiceError, UsageError
from crawler.paths import data_dir
from crawler.scheduling.timing import Timing
from crawler.sqlitefile import open_shared_db

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (
    name TEXT PRIMARY KEY,
    seeds_file TEXT,
    sites_from_index INTEGER NOT NULL DEFAULT 0,
    cron TEXT,
    every REAL,
    depth INTEGER,
    max_pages INTEGER,
    warc INTEGER NOT NULL DEFAULT 0,
    budget REAL,
    priority INTEGER NOT NULL DEFAULT 0,
    paused INTEGER NOT NULL DEFAULT 0,
    run_now INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    next_run_at REAL NOT NULL,
    missed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule TEXT NOT NULL,
    crawl_id TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    deadline REAL,
    stop_sent_at REAL,
    dispatcher TEXT NOT NULL DEFAULT 'local',
    pid INTEGER,
    pid_start INTEGER,
    job TEXT,
    run_dir TEXT,
    resumed INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    finish_reason TEXT,
    pages INTEGER,
    indexed INTEGER,
    errors INTEGER,
    message TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_schedule ON runs (schedule, id);
CREATE TABLE IF NOT EXISTS service (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER,
    pid_start INTEGER,
    heartbeat REAL,
    metrics_url TEXT
);
"""
# Columns added after a store was first created: ALTER TABLE adds them to an older file (CREATE TABLE IF NOT EXISTS
# leaves an existing table as it is).
ADDED_COLUMNS = {"schedules": {"warc": "INTEGER NOT NULL DEFAULT 0"}}

# Run states: running until the crawl ends; then one of the others.
RUNNING = "running"
FINISHED = "finished"  # the crawl ended by itself (its queue empty or a page limit reached)
OVER_BUDGET = "over_budget"  # stopped at its time budget; the next run resumes its job directory
FAILED = "failed"  # the crawl exited with an error (tor or Elasticsearch unusable, bad seeds...)
LOST = "lost"  # the process vanished without a result (killed, machine restarted)
NOTHING_DUE = "nothing_due"  # a recrawl schedule found no site due


def validate_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(
            f"schedule name {name!r} is not valid: use 1-64 letters, digits, '-', '_' or '.', starting with a letter "
            "or digit"
        )
    return name


@dataclass
class Schedule:
    name: str
    seeds_file: str | None
    sites_from_index: bool
    cron: str | None
    every: float | None
    depth: int | None
    max_pages: int | None
    budget: float | None
    priority: int
    paused: bool
    run_now: bool
    created_at: float
    next_run_at: float
    missed: int = 0
    warc: bool = False  # keep WARC evidence of each run (crawl --warc)

    @property
    def timing(self) -> Timing:
        return Timing(cron=self.cron, every=self.every)

    def to_json(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)} | {"timing": self.timing.describe()}


@dataclass
class Run:
    id: int
    schedule: str
    crawl_id: str
    state: str
    started_at: float
    finished_at: float | None = None
    deadline: float | None = None
    stop_sent_at: float | None = None
    dispatcher: str = "local"
    pid: int | None = None
    pid_start: int | None = None
    job: str | None = None
    run_dir: str | None = None
    resumed: bool = False
    exit_code: int | None = None
    finish_reason: str | None = None
    pages: int | None = None
    indexed: int | None = None
    errors: int | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


def store_path(settings: BaseSettings) -> Path:
    return data_dir(settings) / "scheduler" / "schedules.db"


def _row_to(cls: type[Any], row: sqlite3.Row) -> Any:
    names = {field.name for field in fields(cls)}
    values = {key: row[key] for key in row.keys() if key in names}
    for flag in ("sites_from_index", "paused", "run_now", "resumed", "warc"):
        if flag in values:
            values[flag] = bool(values[flag])
    return cls(**values)


class ScheduleStore:
    """The SQLite store. Every method is one transaction; safe to use from several processes at once."""

    def __init__(self, path: Path):
        self.path = path
        self.connection = open_shared_db(path, SCHEMA, "the schedule store")
        try:
            self._add_columns()
        except sqlite3.Error as exc:
            raise ServiceError(
                f"cannot upgrade the schedule store {path}: {exc}; check the file and its permissions"
            ) from None

    def _add_columns(self) -> None:
        """Bring a store written by an older darkcrawl up to :data:`ADDED_COLUMNS`."""
        for table, columns in ADDED_COLUMNS.items():
            present = {row["name"] for row in self.connection.execute(f"PRAGMA table_info({table})")}
            for name, declaration in columns.items():
                if name not in present:
                    self.connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    # --- schedules -------------------------------------------------------------------------------------------------
    def add(self, schedule: Schedule) -> None:
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM schedules WHERE name = ?", (schedule.name,)).fetchone():
                raise UsageError(
                    f"a schedule named {schedule.name!r} exists already: choose another name, or "
                    f"`darkcrawl schedule remove {schedule.name}` first"
                )
            values = {field.name: getattr(schedule, field.name) for field in fields(schedule)}
            db.execute(
                f"INSERT INTO schedules ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
                tuple(values.values()),
            )

    def get(self, name: str) -> Schedule:
        row = self.connection.execute("SELECT * FROM schedules WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = [schedule.name for schedule in self.schedules()]
            hint = f"known: {', '.join(known)}" if known else "there are none yet (darkcrawl schedule add)"
            raise UsageError(f"no schedule named {name!r}; {hint}")
        return _row_to(Schedule, row)

    def schedules(self) -> list[Schedule]:
        rows = self.connection.execute("SELECT * FROM schedules ORDER BY name").fetchall()
        return [_row_to(Schedule, row) for row in rows]

    def update_schedule(self, name: str, **values: Any) -> None:
        self.get(name)
        with self.transaction() as db:
            assignments = ", ".join(f"{key} = ?" for key in values)
            db.execute(f"UPDATE schedules SET {assignments} WHERE name = ?", (*values.values(), name))

    def remove(self, name: str) -> None:
        self.get(name)
        with self.transaction() as db:
            db.execute("DELETE FROM schedules WHERE name = ?", (name,))

    # --- runs ------------------------------------------------------------------------------------------------------
    def start_run(self, run: Run) -> Run:
        values = {field.name: getattr(run, field.name) for field in fields(run) if field.name != "id"}
        with self.transaction() as db:
            cursor = db.execute(
                f"INSERT INTO runs ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
                tuple(values.values()),
            )
        run.id = int(cursor.lastrowid or 0)
        return run

    def update_run(self, run_id: int, **values: Any) -> None:
        with self.transaction() as db:
            assignments = ", ".join(f"{key} = ?" for key in values)
            db.execute(f"UPDATE runs SET {assignments} WHERE id = ?", (*values.values(), run_id))

    def runs(self, schedule: str | None = None, limit: int = 20) -> list[Run]:
        """The latest runs, newest first (of one schedule, or of all)."""
        if schedule is None:
            rows = self.connection.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        else:
            rows = self.connection.execute(
                "SELECT * FROM runs WHERE schedule = ? ORDER BY id DESC LIMIT ?", (schedule, limit)
            ).fetchall()
        return [_row_to(Run, row) for row in rows]

    def running(self) -> list[Run]:
        rows = self.connection.execute("SELECT * FROM runs WHERE state = ? ORDER BY id", (RUNNING,)).fetchall()
        return [_row_to(Run, row) for row in rows]

    # --- the service's heartbeat -----------------------------------------------------------------------------------
    def beat(self, pid: int, pid_start: int | None, metrics_url: str = "") -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO service (id, pid, pid_start, heartbeat, metrics_url) VALUES (1, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, pid_start = excluded.pid_start, "
                "heartbeat = excluded.heartbeat, metrics_url = excluded.metrics_url",
                (pid, pid_start, time.time(), metrics_url),
            )

    def service(self) -> dict[str, Any] | None:
        row = self.connection.execute("SELECT * FROM service WHERE id = 1").fetchone()
        return dict(row) if row else None


def open_store(settings: BaseSettings) -> ScheduleStore:
    return ScheduleStore(store_path(settings))
