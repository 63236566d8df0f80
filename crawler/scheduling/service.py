"""The scheduler service (``darkcrawl scheduler``): starts due crawls, enforces budgets and the concurrency limit.

One loop, one tick every ``DARKCRAWL_SCHEDULER_TICK`` seconds:

1. *reap*: every running run whose crawl has ended is recorded (finished, over budget, failed, lost) with its pages
   and errors; a run that ended on its own clears its schedule's job directory (the next run starts afresh), a run
   stopped at its budget or by a failure keeps it (the next run resumes it);
2. *budgets*: a run past its deadline gets SIGINT (Scrapy closes cleanly, its queue stays in the job directory), and
   SIGKILL ``DARKCRAWL_SCHEDULER_STOP_GRACE`` seconds later if it is still there;
3. *start*: due schedules (``next_run_at`` passed, or run-now asked), highest priority first, while fewer than
   ``DARKCRAWL_SCHEDULER_MAX_CRAWLS`` run; a schedule with a run still going is not started again (its start time
   is counted as missed). The next start time is computed from *now*, so after downtime a schedule runs once, not
   once per missed slot.

A restarted scheduler adopts the crawls an earlier one started that are still alive (pid and start time match) and
records those that ended meanwhile. A second scheduler on the same store is refused (a lock file). On SIGTERM or
SIGINT it stops starting runs, stops its crawls cleanly (resumable) and exits; ``--leave-running`` leaves them to
the next scheduler instead. Meanwhile a thread delivers the alert notifications the crawls queued (crawler/notify).

Offers: :class:`Scheduler`, :func:`service_alive`, :func:`acquire_lock`.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from crawler.errors import ServiceError
from crawler.paths import data_dir, ensure_private_dir
from crawler.scheduling.crawlstatus import pid_alive, pid_start_time, read_status, status_dir
from crawler.scheduling.dispatch import Dispatcher, Outcome, RunRequest
from crawler.scheduling.store import (
    FAILED,
    FINISHED,
    LOST,
    NOTHING_DUE,
    OVER_BUDGET,
    RUNNING,
    Run,
    Schedule,
    ScheduleStore,
)

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

Say = Callable[[str], None]
STOPPED = "stopped"  # stopped because the scheduler shut down; resumable like over_budget
HEARTBEAT_STALE = 30.0
# A killed crawl leaves its job directory inconsistent (Scrapy writes the queue's index only when it closes, while
# requests.seen already lists what was queued): the next run must start afresh rather than lose those requests.
KILLED = "killed: it did not stop within the grace period"  # seconds after which a heartbeat says the service is gone


def service_alive(store: ScheduleStore) -> bool:
    service = store.service()
    if not service or not service.get("heartbeat"):
        return False
    fresh = time.time() - float(service["heartbeat"]) < HEARTBEAT_STALE
    return fresh and pid_alive(service.get("pid"), service.get("pid_start"))


def acquire_lock(path: Path) -> IO[str]:
    """Hold an exclusive lock on *path* for the life of the process; ServiceError when another scheduler has it."""
    ensure_private_dir(path.parent)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ServiceError(
            f"another scheduler (pid {holder}) already runs on this data directory ({path.parent}); stop it first, "
            "or give this one its own DARKCRAWL_DATA_DIR"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


class Scheduler:
    def __init__(
        self,
        settings: BaseSettings,
        store: ScheduleStore,
        dispatcher: Dispatcher,
        say: Say = logger.info,
        metrics: Any = None,
        metrics_url: str = "",
    ):
        self.settings = settings
        self.store = store
        self.dispatcher = dispatcher
        self.say = say
        self.metrics = metrics
        self.metrics_url = metrics_url
        self.max_crawls = max(settings.getint("DARKCRAWL_SCHEDULER_MAX_CRAWLS"), 1)
        self.tick_seconds = max(settings.getfloat("DARKCRAWL_SCHEDULER_TICK"), 0.1)
        self.grace = settings.getfloat("DARKCRAWL_SCHEDULER_STOP_GRACE")
        self.root = data_dir(settings) / "scheduler"
        self.stopping = threading.Event()
        self.pid_start = pid_start_time(os.getpid())

    # --- paths ----------------------------------------------------------------------------------------------------
    def jobdir(self, name: str) -> Path:
        return self.root / "jobs" / name

    def run_dir(self, run_id: str) -> Path:
        return ensure_private_dir(self.root / "runs" / run_id)

    # --- the loop ---------------------------------------------------------------------------------------------------
    def recover(self) -> None:
        """Adopt the runs an earlier scheduler left running, or record how they ended."""
        for run in self.store.running():
            if run.dispatcher != self.dispatcher.name:
                self.finish(run, Outcome(None, message=f"started by the {run.dispatcher} dispatcher"), LOST)
                continue
            outcome = self.dispatcher.poll(run)
            if outcome is None:
                self.say(f"schedule {run.schedule}: run #{run.id} (crawl {run.crawl_id}) is still running: adopted")
            else:
                self.record(run, outcome)

    def serve(self) -> None:
        """Run until :attr:`stopping` is set; alert notifications are delivered meanwhile, in a thread."""
        from crawler.notify.runner import start_delivery

        self.recover()
        notifier = start_delivery(self.settings, self.say)
        try:
            while not self.stopping.is_set():
                self.tick(time.time())
                self.stopping.wait(self.tick_seconds)
        finally:
            if notifier is not None:
                notifier.stop(flush=True)

    def tick(self, now: float) -> None:
        for run in self.store.running():
            outcome = self.dispatcher.poll(run)
            if outcome is not None:
                self.record(run, outcome)
            else:
                self.enforce_budget(run, now)
        if not self.stopping.is_set():
            self.start_due(now)
        self.store.beat(os.getpid(), self.pid_start, self.metrics_url)
        if self.metrics is not None:
            self.metrics.refresh(self)

    def enforce_budget(self, run: Run, now: float) -> None:
        """Stop a run whose budget is spent. The budget counts from the moment the crawl opened its spider (its
        status file appears): a SIGINT during Python's start-up would not be a clean stop, and on a busy machine
        start-up time would eat a short budget. A crawl that never gets that far is killed after the grace period."""
        if run.deadline is None:
            return
        budget = run.deadline - run.started_at
        status = read_status(status_dir(self.settings) / f"{run.crawl_id}.json")
        if status is None:
            if now > run.deadline + self.grace and run.stop_sent_at is None:
                self.say(f"schedule {run.schedule}: run #{run.id} never started crawling: killing it")
                self.dispatcher.stop(run, kill=True)
                self.store.update_run(run.id, stop_sent_at=now, message="killed: never started crawling")
            return
        deadline = float(status.get("started_at") or run.started_at) + budget
        if now < deadline or (status.get("finish_reason") and run.stop_sent_at is None):
            return  # within budget, or closing by itself already: a signal now would only spoil its exit
        if run.stop_sent_at is None:
            self.say(f"schedule {run.schedule}: run #{run.id} reached its time budget: stopping it cleanly")
            self.dispatcher.stop(run)
            self.store.update_run(run.id, stop_sent_at=now, message="time budget reached")
        elif now - run.stop_sent_at > self.grace:
            self.say(f"schedule {run.schedule}: run #{run.id} did not stop within {self.grace:.0f} s: killing it")
            self.dispatcher.stop(run, kill=True)
            self.store.update_run(run.id, message=KILLED)

    def due(self, now: float) -> list[Schedule]:
        schedules = [
            schedule
            for schedule in self.store.schedules()
            if not schedule.paused and (schedule.run_now or schedule.next_run_at <= now)
        ]
        return sorted(schedules, key=lambda schedule: (-schedule.priority, schedule.next_run_at, schedule.name))

    def start_due(self, now: float) -> None:
        running = self.store.running()
        busy = {run.schedule for run in running}
        slots = self.max_crawls - len(running)
        for schedule in self.due(now):
            if schedule.name in busy:
                if not schedule.run_now and schedule.next_run_at <= now:
                    self.store.update_schedule(
                        schedule.name, next_run_at=schedule.timing.next_after(now), missed=schedule.missed + 1
                    )
                    logger.info("schedule %s: due while its run is still going; not started twice", schedule.name)
                continue
            if slots <= 0:
                continue  # stays due: starts when a slot frees up
            if self.start(schedule, now):
                slots -= 1

    def start(self, schedule: Schedule, now: float) -> bool:
        """Start one run of *schedule*; return whether a crawl was started."""
        next_run = schedule.timing.next_after(now)
        self.store.update_schedule(schedule.name, next_run_at=next_run, run_now=0)
        crawl_id = uuid.uuid4().hex[:16]
        run_dir = self.run_dir(f"{schedule.name}-{crawl_id}")
        jobdir = self.jobdir(schedule.name)
        resumed = jobdir.is_dir() and any(jobdir.iterdir())
        try:
            seeds_file = self.seeds_for(schedule, run_dir, now)
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            self.say(f"schedule {schedule.name}: not started: {message}")
            self.record_failed_start(schedule, crawl_id, run_dir, now, message)
            return False
        if seeds_file is None and not resumed:
            self.note_nothing_due(schedule, crawl_id, now)
            return False
        if seeds_file is None:
            seeds_file = run_dir / "seeds.txt"
            seeds_file.write_text("", encoding="utf-8")
        ensure_private_dir(jobdir.parent)
        request = RunRequest(schedule, crawl_id, seeds_file, jobdir, run_dir)
        try:
            started = self.dispatcher.start(request)
        except Exception as exc:
            self.say(f"schedule {schedule.name}: could not start a crawl: {exc}")
            self.record_failed_start(schedule, crawl_id, run_dir, now, str(exc))
            return False
        started_at = time.time()  # after this tick reaped: a run never seems to start before its predecessor ended
        run = self.store.start_run(
            Run(
                0,
                schedule.name,
                crawl_id,
                RUNNING,
                started_at,
                deadline=started_at + schedule.budget if schedule.budget else None,
                dispatcher=self.dispatcher.name,
                pid=started.pid,
                pid_start=started.pid_start,
                job=started.job,
                run_dir=str(run_dir),
                resumed=resumed,
            )
        )
        self.say(
            f"schedule {schedule.name}: run #{run.id} started (crawl {crawl_id}"
            + (", resuming its job directory" if resumed else "")
            + (f", pid {started.pid}" if started.pid else f", Scrapyd job {started.job}")
            + ")"
        )
        if self.metrics is not None:
            self.metrics.run_started(schedule.name)
        return True

    def seeds_for(self, schedule: Schedule, run_dir: Path, now: float) -> Path | None:
        """The seeds file of this run: the schedule's own, or the due sites written to the run directory (None when
        no site is due). Raises on an unreadable seeds file or an unreachable index."""
        if not schedule.sites_from_index:
            assert schedule.seeds_file is not None
            from crawler.seeds import read_seed_file

            seeds = read_seed_file(schedule.seeds_file, self.settings.getbool("DARKCRAWL_ALLOW_CLEARNET"))
            if not seeds.seeds:
                raise ServiceError(f"seeds file {schedule.seeds_file} has no valid seed")
            path = run_dir / "seeds.txt"
            path.write_text("".join(f"{seed.url}\n" for seed in seeds.seeds), encoding="utf-8")
            return path
        from crawler.es.client import client_url, es_sync_client, service_error
        from crawler.es.schema import index_names
        from crawler.scheduling.recrawl import due_sites

        client = es_sync_client(self.settings)
        try:
            sites = due_sites(client, index_names(self.settings), now)
        except Exception as exc:
            raise service_error(exc, client_url(client)) from None
        finally:
            client.close()
        if not sites:
            return None
        path = run_dir / "seeds.txt"
        path.write_text("".join(f"http://{site}/\n" for site in sites), encoding="utf-8")
        return path

    def record_failed_start(self, schedule: Schedule, crawl_id: str, run_dir: Path, now: float, message: str) -> None:
        """Record a run that could not start, with the reason, so `schedule show` tells the operator why."""
        run = Run(0, schedule.name, crawl_id, FAILED, now, finished_at=now, dispatcher=self.dispatcher.name,
                  run_dir=str(run_dir), message=message)
        self.store.start_run(run)

    def note_nothing_due(self, schedule: Schedule, crawl_id: str, now: float) -> None:
        """Record that a recrawl found nothing due; consecutive checks share one record (no flood of empty runs)."""
        last = next(iter(self.store.runs(schedule.name, 1)), None)
        if last is not None and last.state == NOTHING_DUE:
            self.store.update_run(last.id, started_at=now, finished_at=now)
        else:
            self.store.start_run(
                Run(0, schedule.name, crawl_id, NOTHING_DUE, now, finished_at=now, message="no site due")
            )
        logger.info("schedule %s: no site is due", schedule.name)

    def record(self, run: Run, outcome: Outcome, state: str | None = None) -> None:
        """Record how *run* ended and decide what its job directory keeps."""
        fresh = next((item for item in self.store.runs(run.schedule, 50) if item.id == run.id), run)
        stop_sent = fresh.stop_sent_at
        if state is None:
            natural = outcome.finish_reason == "finished" or str(outcome.finish_reason).startswith("closespider")
            if natural and (outcome.exit_code in (0, None) or stop_sent is not None):  # the stop came after its end
                state = FINISHED
            elif stop_sent is not None:
                state = OVER_BUDGET
            elif outcome.exit_code not in (0, None):
                state = FAILED
            elif outcome.exit_code is None and outcome.finish_reason is None:
                state = LOST
            else:
                state = STOPPED  # interrupted by someone else (Ctrl-C, the scheduler's shutdown): resumable
        if state == FINISHED or fresh.message == KILLED:
            shutil.rmtree(self.jobdir(run.schedule), ignore_errors=True)
        self.finish(run, outcome, state)

    def finish(self, run: Run, outcome: Outcome, state: str) -> None:
        now = time.time()
        message = outcome.message or (run.message or "")
        self.store.update_run(
            run.id,
            state=state,
            finished_at=now,
            exit_code=outcome.exit_code,
            finish_reason=outcome.finish_reason,
            pages=outcome.pages,
            indexed=outcome.indexed,
            errors=outcome.error_count,
            message=message or None,
        )
        self.say(
            f"schedule {run.schedule}: run #{run.id} {state}"
            + (f" ({outcome.finish_reason})" if outcome.finish_reason else "")
            + (f": {outcome.pages} pages, {outcome.error_count} errors" if outcome.pages is not None else "")
            + (f"; {message}" if message and state in (FAILED, LOST) else "")
        )
        if self.metrics is not None:
            self.metrics.run_finished(run, outcome, state, now - run.started_at)

    def shutdown(self, leave_running: bool = False) -> None:
        """Stop the crawls this scheduler watches (cleanly, by force after the grace period), unless told not to."""
        self.stopping.set()
        running = self.store.running()
        if leave_running or not running:
            if running:
                self.say(f"leaving {len(running)} crawl(s) running; the next scheduler adopts them")
            return
        self.say(f"stopping {len(running)} crawl(s) cleanly (resumable from their job directories)")
        for run in running:
            self.dispatcher.stop(run)
        deadline = time.monotonic() + self.grace
        while running and time.monotonic() < deadline:
            time.sleep(0.5)
            for run in list(running):
                outcome = self.dispatcher.poll(run)
                if outcome is not None:
                    self.record(run, outcome, STOPPED)
                    running.remove(run)
        for run in running:
            self.dispatcher.stop(run, kill=True)
            shutil.rmtree(self.jobdir(run.schedule), ignore_errors=True)  # inconsistent after a kill (see KILLED)
            self.finish(run, Outcome(None, message=KILLED), STOPPED)
