"""``darkcrawl scheduler``: the foreground service that runs the schedules (for systemd or a container).

See docs/operations.md and :mod:`crawler.scheduling.service`. Logs go to stderr; SIGTERM or Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import argparse
import signal
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, sayer
from crawler.errors import ServiceError

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

say = sayer("darkcrawl scheduler")


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers, "scheduler", run,
        help="run the scheduled crawls (foreground service)",
        description="Start due crawls as separate processes (or Scrapyd jobs), enforce budgets and the concurrency "
        "limit, expose Prometheus metrics. Runs until SIGTERM or Ctrl-C.",
    )
    parser.add_argument("--max-crawls", type=int, metavar="N", help="crawls at once (DARKCRAWL_SCHEDULER_MAX_CRAWLS)")
    parser.add_argument("--metrics-port", type=int, metavar="PORT", help="Prometheus port (DARKCRAWL_METRICS_PORT)")
    parser.add_argument(
        "--leave-running", action="store_true", help="on exit, leave running crawls to the next scheduler"
    )


def run(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.paths import data_dir
    from crawler.scheduling.dispatch import dispatcher_from_settings
    from crawler.scheduling.metrics import SchedulerMetrics
    from crawler.scheduling.service import Scheduler, acquire_lock
    from crawler.scheduling.store import open_store

    if args.max_crawls is not None:
        settings.set("DARKCRAWL_SCHEDULER_MAX_CRAWLS", args.max_crawls, priority="cmdline")
    if args.metrics_port is not None:
        settings.set("DARKCRAWL_METRICS_PORT", args.metrics_port, priority="cmdline")
    lock = acquire_lock(data_dir(settings) / "scheduler" / "scheduler.lock")
    store = open_store(settings)
    metrics = SchedulerMetrics(settings)
    metrics_url = ""
    port = settings.getint("DARKCRAWL_METRICS_PORT")
    if port:
        host = settings.get("DARKCRAWL_METRICS_HOST")
        try:
            metrics_url = metrics.serve(host, port)
        except OSError as exc:
            raise ServiceError(
                f"cannot serve metrics on {host}:{port}: {exc.strerror}; set DARKCRAWL_METRICS_PORT to a free port "
                "(0: no metrics)"
            ) from None
    scheduler = Scheduler(settings, store, dispatcher_from_settings(settings, args.config), say, metrics, metrics_url)

    def stop(signum: int, frame: Any) -> None:
        scheduler.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    schedules = store.schedules()
    say(
        f"{len(schedules)} schedule(s), at most {scheduler.max_crawls} crawl(s) at once, "
        f"{scheduler.dispatcher.name} dispatch" + (f", metrics on {metrics_url}" if metrics_url else "")
    )
    try:
        scheduler.serve()
    finally:
        scheduler.shutdown(leave_running=args.leave_running)
        store.close()
        lock.close()
    say("stopped")
    return 0
