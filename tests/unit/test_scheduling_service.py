"""The scheduler's decisions, with the real SQLite store and a dispatcher that records instead of crawling (the real
crawls are in tests/integration/test_scheduler.py)."""

from __future__ import annotations

import json
import time

import pytest

from crawler.config import load_settings
from crawler.errors import ServiceError, UsageError
from crawler.lab.sites import placeholder_onion
from crawler.scheduling.dispatch import Outcome, RunRequest, Started
from crawler.scheduling.service import Scheduler, acquire_lock
from crawler.scheduling.store import Run, Schedule, ScheduleStore


class RecordingDispatcher:
    name = "local"

    def __init__(self) -> None:
        self.started: list[RunRequest] = []
        self.ended: dict[str, Outcome] = {}
        self.stops: list[tuple[str, bool]] = []

    def start(self, request: RunRequest) -> Started:
        self.started.append(request)
        return Started(pid=None, job=request.crawl_id)

    def poll(self, run: Run) -> Outcome | None:
        return self.ended.get(run.crawl_id)

    def stop(self, run: Run, kill: bool = False) -> None:
        self.stops.append((run.crawl_id, kill))

    def end(self, crawl_id: str, reason: str = "finished", code: int = 0) -> None:
        self.ended[crawl_id] = Outcome(code, reason, pages=3, errors={"TimeoutError": 1})


@pytest.fixture
def env(tmp_path):
    settings = load_settings(
        overrides={"DARKCRAWL_DATA_DIR": str(tmp_path), "DARKCRAWL_SCHEDULER_MAX_CRAWLS": 2}, environ={}
    )
    store = ScheduleStore(tmp_path / "scheduler" / "schedules.db")
    dispatcher = RecordingDispatcher()
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"http://{placeholder_onion('market')}/\n")
    yield settings, store, dispatcher, seeds
    store.close()


def add(store, seeds, name, every=10.0, next_run_at=0.0, priority=0, budget=None):
    store.add(
        Schedule(name, str(seeds), False, None, every, 0, None, budget, priority, False, False, 0.0, next_run_at)
    )


def test_due_schedules_start_by_priority_within_the_limit(env):
    settings, store, dispatcher, seeds = env
    for name, priority in (("low", 0), ("high", 5), ("mid", 1)):
        add(store, seeds, name, priority=priority)
    scheduler = Scheduler(settings, store, dispatcher, say=lambda message: None)
    scheduler.tick(100.0)
    assert [request.schedule.name for request in dispatcher.started] == ["high", "mid"]
    assert len(store.running()) == 2
    scheduler.tick(101.0)
    assert len(dispatcher.started) == 2, "the limit of 2 crawls was exceeded"
    dispatcher.end(dispatcher.started[0].crawl_id)
    scheduler.tick(102.0)
    assert [request.schedule.name for request in dispatcher.started] == ["high", "mid", "low"]


def test_a_schedule_never_runs_twice_at_once_and_missed_slots_are_counted(env):
    settings, store, dispatcher, seeds = env
    add(store, seeds, "only", every=10.0)
    scheduler = Scheduler(settings, store, dispatcher, say=lambda message: None)
    scheduler.tick(100.0)
    for now in (111.0, 122.0, 133.0):
        scheduler.tick(now)
    assert len(dispatcher.started) == 1
    assert store.get("only").missed >= 2


def test_catch_up_after_downtime_is_one_run(env):
    settings, store, dispatcher, seeds = env
    add(store, seeds, "hourly", every=3600.0, next_run_at=1000.0)
    scheduler = Scheduler(settings, store, dispatcher, say=lambda message: None)
    later = 1000.0 + 10 * 3600  # ten periods missed
    scheduler.tick(later)
    dispatcher.end(dispatcher.started[0].crawl_id)
    scheduler.tick(later + 1)
    scheduler.tick(later + 2)
    assert len(dispatcher.started) == 1
    assert store.get("hourly").next_run_at == later + 3600


def test_finished_run_is_recorded_and_clears_the_job_directory(env):
    settings, store, dispatcher, seeds = env
    add(store, seeds, "s")
    scheduler = Scheduler(settings, store, dispatcher, say=lambda message: None)
    scheduler.tick(100.0)
    request = dispatcher.started[0]
    request.jobdir.mkdir(parents=True)
    (request.jobdir / "requests.queue").mkdir()
    dispatcher.end(request.crawl_id)
    scheduler.tick(101.0)
    run = store.runs("s")[0]
    assert (run.state, run.pages, run.errors, run.finish_reason) == ("finished", 3, 1, "finished")
    assert not request.jobdir.exists()
    assert request.seeds_file.read_text().strip().endswith(".onion/")


def budget_run(env, tmp_path):
    settings, store, dispatcher, seeds = env
    settings.set("DARKCRAWL_SCHEDULER_STOP_GRACE", 5)
    add(store, seeds, "b", every=1.0, budget=20.0)
    scheduler = Scheduler(settings, store, dispatcher, say=lambda message: None)
    now = time.time()
    scheduler.tick(now)
    request = dispatcher.started[0]
    request.jobdir.mkdir(parents=True)
    (request.jobdir / "requests.queue").mkdir()
    status = tmp_path / "crawls" / f"{request.crawl_id}.json"
    scheduler.tick(now + 25)
    assert dispatcher.stops == [], "stopped before the crawl started crawling"
    status.parent.mkdir(parents=True, exist_ok=True)
    status.write_text(json.dumps({"started_at": now + 10}))
    scheduler.tick(now + 29)
    assert dispatcher.stops == []
    scheduler.tick(now + 31)
    assert dispatcher.stops == [(request.crawl_id, False)], "no SIGINT once the budget was spent"
    return scheduler, request, now + 31


def test_over_budget_run_stops_cleanly_and_the_next_run_resumes(env, tmp_path):
    _, store, dispatcher, _ = env
    scheduler, request, now = budget_run(env, tmp_path)
    dispatcher.end(request.crawl_id, reason="shutdown")
    scheduler.tick(now + 1)
    newest, stopped = store.runs("b")[:2]
    assert stopped.state == "over_budget" and not stopped.resumed
    assert request.jobdir.exists(), "the job directory of a run over budget must stay for the next run"
    assert newest.state == "running" and newest.resumed


def test_a_run_that_ignores_the_stop_is_killed_and_the_next_run_starts_afresh(env, tmp_path):
    _, store, dispatcher, _ = env
    scheduler, request, now = budget_run(env, tmp_path)
    scheduler.tick(now + 6)
    assert dispatcher.stops[-1] == (request.crawl_id, True)
    dispatcher.ended[request.crawl_id] = Outcome(-9, None)
    scheduler.tick(now + 7)
    newest, killed = store.runs("b")[:2]
    assert killed.state == "over_budget" and (killed.message or "").startswith("killed")
    assert newest.state == "running" and not newest.resumed


def test_a_failed_crawl_is_recorded_with_its_message(env):
    settings, store, dispatcher, seeds = env
    add(store, seeds, "f")
    scheduler = Scheduler(settings, store, dispatcher, say=lambda message: None)
    scheduler.tick(100.0)
    dispatcher.ended[dispatcher.started[0].crawl_id] = Outcome(3, None, message="no usable Tor")
    scheduler.tick(101.0)
    run = store.runs("f")[0]
    assert (run.state, run.exit_code, run.message) == ("failed", 3, "no usable Tor")


def test_an_unreadable_seeds_file_fails_the_run_not_the_scheduler(env, tmp_path):
    settings, store, dispatcher, seeds = env
    add(store, seeds, "gone")
    seeds.unlink()
    scheduler = Scheduler(settings, store, dispatcher, say=lambda message: None)
    scheduler.tick(100.0)
    assert dispatcher.started == []
    run = store.runs("gone")[0]
    assert run.state == "failed" and "does not exist" in (run.message or "")


def test_paused_schedules_and_run_now(env):
    settings, store, dispatcher, seeds = env
    add(store, seeds, "p", next_run_at=1e12)
    scheduler = Scheduler(settings, store, dispatcher, say=lambda message: None)
    scheduler.tick(100.0)
    assert dispatcher.started == []
    store.update_schedule("p", run_now=1)
    store.update_schedule("p", paused=1)
    scheduler.tick(101.0)
    assert dispatcher.started == []
    store.update_schedule("p", paused=0)
    scheduler.tick(102.0)
    assert len(dispatcher.started) == 1 and not store.get("p").run_now


def test_restart_adopts_running_and_records_ended_runs(env):
    settings, store, dispatcher, seeds = env
    add(store, seeds, "a")
    add(store, seeds, "b")
    first = Scheduler(settings, store, dispatcher, say=lambda message: None)
    first.tick(100.0)
    a, b = dispatcher.started
    dispatcher.end(b.crawl_id)
    messages: list[str] = []
    second = Scheduler(settings, store, dispatcher, say=messages.append)
    second.recover()
    assert any("adopted" in message and a.crawl_id in message for message in messages)
    assert {run.crawl_id for run in store.running()} == {a.crawl_id}


def test_store_errors_are_clear(env):
    _, store, _, seeds = env
    add(store, seeds, "dup")
    with pytest.raises(UsageError, match="exists already"):
        add(store, seeds, "dup")
    with pytest.raises(UsageError, match="no schedule named 'nope'; known: dup"):
        store.get("nope")


def test_second_scheduler_on_the_same_data_directory_is_refused(tmp_path):
    lock = acquire_lock(tmp_path / "scheduler.lock")
    try:
        with pytest.raises(ServiceError, match="another scheduler"):
            acquire_lock(tmp_path / "scheduler.lock")
    finally:
        lock.close()
    acquire_lock(tmp_path / "scheduler.lock").close()
