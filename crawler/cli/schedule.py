"""``darkcrawl schedule add|list|show|pause|resume|remove|run-now``: recurring crawls, kept in the schedule store.

The ``darkcrawl scheduler`` service runs them; see docs/operations.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_command_group, add_json_option, add_limit_option, print_answer
from crawler.errors import UsageError
from crawler.scheduling.store import Run, Schedule, ScheduleStore, open_store, validate_name
from crawler.scheduling.timing import Timing, format_duration, parse_duration, to_datetime

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    actions = add_command_group(
        subparsers, "schedule",
        help="recurring crawls: add, list, show, pause, resume, remove, run-now",
        description="Manage recurring crawls; `darkcrawl scheduler` runs them (docs/operations.md).",
    )
    add = add_command(actions, "add", run_add, help="add a recurring crawl")
    add.add_argument("name", metavar="NAME", help="letters, digits, - _ . (also names its job directory)")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--seeds", metavar="FILE", help="seeds file, read at every run")
    source.add_argument(
        "--from-index", "--sites-from-index", dest="sites_from_index", action="store_true",
        help="adaptive recrawl of the sites the index knows (when due)",
    )
    add.add_argument("--cron", metavar="EXPR", help="cron expression, UTC (e.g. '0 */6 * * *')")
    add.add_argument("--every", metavar="DURATION", help="a fixed period (e.g. 6h, 30m); the first run is at once")
    add.add_argument("--depth", type=int, metavar="N", help="link depth (crawl --depth)")
    add.add_argument("--max-pages", type=int, metavar="N", help="pages per run (crawl --max-pages)")
    add.add_argument("--warc", action="store_true", help="keep WARC evidence of every run (crawl --warc)")
    add.add_argument("--budget", metavar="DURATION", help="time budget per run (e.g. 2h): stopped, resumed next time")
    add.add_argument("--priority", type=int, default=0, metavar="P", help="higher starts first when slots are short")
    add.add_argument("--paused", action="store_true", help="add it paused")

    listing = add_command(actions, "list", run_list, help="every schedule with its next run")
    add_json_option(listing, "print the schedules as JSON")
    show = add_command(actions, "show", run_show, help="one schedule and its last runs")
    show.add_argument("name", metavar="NAME")
    add_limit_option(show, default=10, what="runs shown, newest first,")
    add_json_option(show, "print the schedule and its runs as JSON")
    for action, helptext in (
        ("pause", "stop starting runs of it (a running crawl goes on)"),
        ("resume", "start its runs again (the next one at its next time)"),
        ("remove", "delete it (its run history and job directory stay)"),
        ("run-now", "ask the scheduler to start it at its next tick"),
    ):
        sub = add_command(actions, action, run_change, help=helptext)
        sub.add_argument("name", metavar="NAME")
        sub.set_defaults(change=action)


def when(timestamp: float | None) -> str:
    if not timestamp:
        return "-"
    return to_datetime(timestamp).strftime("%Y-%m-%d %H:%M:%S UTC")


def run_add(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.seeds import read_seed_file

    name = validate_name(args.name)
    timing = Timing.from_options(args.cron, args.every)
    seeds_file = None
    if args.seeds:
        path = Path(args.seeds).expanduser().resolve()
        seeds = read_seed_file(path, settings.getbool("DARKCRAWL_ALLOW_CLEARNET"))
        if not seeds.seeds:
            raise UsageError(f"seeds file {path} has no valid seed (one URL a line, # for comments)")
        seeds_file = str(path)
    for option, value in (("--depth", args.depth), ("--max-pages", args.max_pages)):
        if value is not None and value < 0:
            raise UsageError(f"{option} must be 0 or more, got {value}")
    budget = parse_duration(args.budget, "--budget") if args.budget else None
    now = time.time()
    schedule = Schedule(
        name=name,
        seeds_file=seeds_file,
        sites_from_index=bool(args.sites_from_index),
        cron=timing.cron,
        every=timing.every,
        depth=args.depth,
        max_pages=args.max_pages,
        budget=budget,
        priority=args.priority,
        paused=bool(args.paused),
        run_now=False,
        created_at=now,
        next_run_at=now if timing.every else timing.next_after(now),
        warc=bool(args.warc),
    )
    store = open_store(settings)
    try:
        store.add(schedule)
    finally:
        store.close()
    print(f"schedule {name}: {timing.describe()}, next run {when(schedule.next_run_at)}")
    return 0


def schedule_line(schedule: Schedule, last: Run | None) -> str:
    state = "paused" if schedule.paused else f"next {when(schedule.next_run_at)}"
    source = "sites from index" if schedule.sites_from_index else schedule.seeds_file
    last_text = (
        f"last: {last.state}" + (f" ({last.pages} pages)" if last and last.pages is not None else "")
        if last
        else "never run"
    )
    return f"{schedule.name}\t{schedule.timing.describe()}\t{state}\t{source}\t{last_text}"


def run_list(args: argparse.Namespace, settings: BaseSettings) -> int:
    store = open_store(settings)
    try:
        schedules = store.schedules()
        lasts = {schedule.name: next(iter(store.runs(schedule.name, 1)), None) for schedule in schedules}
    finally:
        store.close()
    if args.json:
        answer = [schedule.to_json() | {"last_run": last.to_json() if (last := lasts[schedule.name]) else None}
                  for schedule in schedules]
        print_answer(True, answer, lambda: "")
    elif not schedules:
        print("no schedules (darkcrawl schedule add NAME --seeds FILE --every 6h)")
    else:
        for schedule in schedules:
            print(schedule_line(schedule, lasts[schedule.name]))
    return 0


def run_line(run: Run) -> str:
    took = format_duration((run.finished_at or time.time()) - run.started_at)
    parts = [f"#{run.id}", when(run.started_at), run.state, f"{took}", f"crawl {run.crawl_id}"]
    if run.resumed:
        parts.append("resumed")
    if run.pages is not None:
        parts.append(f"{run.pages} pages, {run.errors or 0} errors")
    if run.finish_reason:
        parts.append(f"({run.finish_reason})")
    if run.message:
        parts.append(run.message)
    return "  ".join(parts)


def run_show(args: argparse.Namespace, settings: BaseSettings) -> int:
    store = open_store(settings)
    try:
        schedule = store.get(args.name)
        runs = store.runs(schedule.name, args.limit)
    finally:
        store.close()
    if args.json:
        print_answer(True, schedule.to_json() | {"runs": [run.to_json() for run in runs]}, lambda: "")
        return 0
    print(f"schedule {schedule.name}: {schedule.timing.describe()}" + (" (paused)" if schedule.paused else ""))
    source = "the sites the index knows, when due (adaptive)" if schedule.sites_from_index else schedule.seeds_file
    print(f"  seeds: {source}")
    limits = [
        f"depth {schedule.depth}" if schedule.depth is not None else "",
        f"max {schedule.max_pages} pages" if schedule.max_pages is not None else "",
        f"budget {format_duration(schedule.budget)}" if schedule.budget else "",
        f"priority {schedule.priority}",
        "WARC evidence" if schedule.warc else "",
    ]
    print("  " + ", ".join(part for part in limits if part))
    print(
        f"  next run: {'paused' if schedule.paused else when(schedule.next_run_at)}"
        + (" (run-now requested)" if schedule.run_now else "")
    )
    if schedule.missed:
        print(f"  {schedule.missed} start times passed while a run was still going")
    if not runs:
        print("  no runs yet")
    for run in runs:
        print("  " + run_line(run))
    return 0


def run_change(args: argparse.Namespace, settings: BaseSettings) -> int:
    store = open_store(settings)
    try:
        schedule = store.get(args.name)
        if args.change == "pause":
            store.update_schedule(schedule.name, paused=1)
            print(f"schedule {schedule.name}: paused")
        elif args.change == "resume":
            next_run = schedule.timing.next_after(time.time())
            store.update_schedule(schedule.name, paused=0, next_run_at=next_run)
            print(f"schedule {schedule.name}: resumed, next run {when(next_run)}")
        elif args.change == "remove":
            store.remove(schedule.name)
            print(f"schedule {schedule.name}: removed")
        else:
            store.update_schedule(schedule.name, run_now=1)
            print(f"schedule {schedule.name}: run requested; " + service_note(store))
    finally:
        store.close()
    return 0


def service_note(store: ScheduleStore) -> str:
    """Whether a scheduler is there to act on a request (its heartbeat is recent)."""
    from crawler.scheduling.service import service_alive

    if service_alive(store):
        return "the scheduler starts it within seconds (unless it is running already)"
    return "no scheduler is running: start `darkcrawl scheduler`"
