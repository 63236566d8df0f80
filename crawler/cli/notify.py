"""``darkcrawl notify status|flush|retry-dead|test``: the notification outbox of alerts. See docs/notify.md.

Crawls and the scheduler deliver on their own; these commands show what is waiting, deliver it now (a target is
back and you do not want to wait for the backoff), put dead notifications back, or check a target.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_command_group, add_json_option, print_answer, say
from crawler.scheduling.timing import format_duration, to_datetime

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    actions = add_command_group(
        subparsers, "notify",
        help="notifications of alerts: status, flush, retry-dead, test",
        description="The outbox of alert notifications (e-mail, chat, webhooks): what is pending, delivered, failing "
        "or dead (docs/notify.md).",
    )
    status = add_command(actions, "status", run_status, help="pending, delivered, failed attempts, dead, oldest age",
                         description="What the outbox holds: pending (and the oldest's age), delivered, suppressed "
                         "by realert windows, failed attempts, dead, and each failing target with its last error.")
    add_json_option(status, "print one JSON object")
    flush = add_command(actions, "flush", run_flush, help="deliver what is pending now, without waiting",
                        description="Deliver every pending notification now, the retry backoff ignored (realert "
                        "and digest windows still hold). Exit 1 when a send failed.")
    add_json_option(flush, "print the delivery report as JSON")
    add_command(actions, "retry-dead", run_retry_dead, help="put dead notifications back in the outbox",
                description="Move every dead notification back to pending, its dead-letter clock restarted; "
                "`darkcrawl notify flush` then delivers them.")
    test = add_command(actions, "test", run_test, help="send a test message to a target",
                       description="Send one test message to TARGET (a name in DARKCRAWL_NOTIFY_TARGETS, or an "
                       "Apprise URL): exit 0 when it took it, 3 with the reason (secrets masked) when not.")
    test.add_argument("target", metavar="TARGET")


def status_lines(report: dict[str, Any]) -> list[str]:
    oldest = report["oldest_pending_seconds"]
    lines = [
        f"outbox {report['path']}:",
        f"  pending {report['pending']}" + (f" (oldest {format_duration(oldest)} old)" if oldest is not None else ""),
        f"  delivered {report['delivered']}, suppressed by realert windows {report['suppressed']}",
        f"  failed attempts {report['failed_attempts']}, dead {report['dead']}"
        + (" (darkcrawl notify retry-dead)" if report["dead"] else ""),
    ]
    for stream in report["failing"]:
        lines.append(
            f"  failing: watch {stream['watch']} -> {stream['target']}: {stream['failures']} in a row, next try "
            f"{to_datetime(stream['next_attempt_at']).strftime('%H:%M:%S UTC')}: {stream['last_error']}"
        )
    return lines


def run_status(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.notify.outbox import Outbox

    report = Outbox.from_settings(settings).status().to_json()
    print_answer(args.json, report, lambda: status_lines(report))
    return 0


def run_flush(args: argparse.Namespace, settings: BaseSettings) -> int:
    from dataclasses import asdict

    from crawler.notify.deliver import Deliverer

    deliverer = Deliverer.from_settings(settings)
    started = time.monotonic()
    report = deliverer.deliver(force=True)
    pending = deliverer.outbox.status().pending
    answer = asdict(report) | {"pending": pending, "seconds": round(time.monotonic() - started, 2)}
    print_answer(args.json, answer, lambda: (
        f"delivered {report.delivered} notification(s) in {report.messages} message(s), suppressed "
        f"{report.suppressed}, failed {report.failed}, dead {report.dead}; {pending} still pending"
        + (f" ({report.busy} watch stream(s) being delivered by another process)" if report.busy else "")))
    return 1 if report.failed else 0


def run_retry_dead(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.notify.outbox import Outbox

    count = Outbox.from_settings(settings).retry_dead()
    say(f"{count} dead notification(s) put back; `darkcrawl notify flush` delivers them now, else the scheduler or "
        "the next crawl")
    return 0


def run_test(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.errors import ServiceError
    from crawler.notify.deliver import AppriseSender, NotifyConfig, check_target, resolve_target

    config = NotifyConfig.from_settings(settings)
    shown = check_target(args.target, config.targets)
    ok, error = AppriseSender(config.timeout)(
        resolve_target(args.target, config.targets), "[darkcrawl] test notification",
        "darkcrawl can reach this target: alerts of watches naming it will arrive here.", f"test-{int(time.time())}")
    if not ok:
        raise ServiceError(f"target {shown} did not take the test message: {error}")
    say(f"test message sent to {shown}")
    return 0
