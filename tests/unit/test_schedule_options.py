"""Options a schedule passes to each of its runs: WARC evidence (``schedule add --warc``, like ``crawl --warc``), and
``--from-index`` spelled as in ``crawl``; a store written before a column existed gets it."""

from __future__ import annotations

import json
import sqlite3

from crawler.cli import main
from crawler.cli.crawl import overrides_from_args
from crawler.config import load_settings
from crawler.scheduling.dispatch import LocalDispatcher, RunRequest
from crawler.scheduling.store import ScheduleStore


def schedule_cli(capsys, *args: str) -> dict:
    """Run ``darkcrawl schedule ARGS`` (an add), then return ``schedule show NAME --json``."""
    code = main(["schedule", *args])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["schedule", "show", args[1], "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_schedule_add_warc_and_from_index(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DARKCRAWL_DATA_DIR", str(tmp_path))
    shown = schedule_cli(capsys, "add", "again", "--from-index", "--every", "6h", "--warc")
    assert shown["sites_from_index"] is True and shown["warc"] is True
    plain = schedule_cli(capsys, "add", "plain", "--sites-from-index", "--every", "6h")
    assert plain["warc"] is False


def test_a_warc_schedule_runs_its_crawls_with_warc(tmp_path, monkeypatch):
    monkeypatch.setenv("DARKCRAWL_DATA_DIR", str(tmp_path))
    settings = load_settings(environ={"DARKCRAWL_DATA_DIR": str(tmp_path)})
    assert main(["schedule", "add", "w", "--from-index", "--every", "1h", "--warc"]) == 0
    store = ScheduleStore(tmp_path / "scheduler" / "schedules.db")
    try:
        schedule = store.get("w")
    finally:
        store.close()
    request = RunRequest(schedule, "c1", tmp_path / "seeds.txt", tmp_path / "job", tmp_path / "run")
    assert LocalDispatcher(settings).command(request)[-1] == "--warc"


def test_crawl_warc_option_sets_the_setting():
    import argparse

    from crawler.cli.crawl import add_crawl_options

    parser = argparse.ArgumentParser()
    add_crawl_options(parser, distributed=False)
    assert overrides_from_args(parser.parse_args(["--warc"]))["DARKCRAWL_WARC_ENABLED"] is True
    assert "DARKCRAWL_WARC_ENABLED" not in overrides_from_args(parser.parse_args([]))


def test_an_older_store_gets_the_new_column(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE schedules (name TEXT PRIMARY KEY, seeds_file TEXT, sites_from_index INTEGER NOT NULL "
                "DEFAULT 0, cron TEXT, every REAL, depth INTEGER, max_pages INTEGER, budget REAL, priority INTEGER "
                "NOT NULL DEFAULT 0, paused INTEGER NOT NULL DEFAULT 0, run_now INTEGER NOT NULL DEFAULT 0, "
                "created_at REAL NOT NULL, next_run_at REAL NOT NULL, missed INTEGER NOT NULL DEFAULT 0)")
    old.execute("INSERT INTO schedules (name, seeds_file, every, created_at, next_run_at) "
                "VALUES ('kept', '/s.txt', 60, 1, 2)")
    old.commit()
    old.close()
    store = ScheduleStore(path)
    try:
        kept = store.get("kept")
        assert kept.seeds_file == "/s.txt" and kept.warc is False
    finally:
        store.close()
