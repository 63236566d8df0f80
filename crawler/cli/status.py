"""``darkcrawl status``: Tor, Elasticsearch, running crawls, scheduled runs and the notification outbox at a glance
(``--json`` for scripts).

Exit code 0 when Elasticsearch and every configured tor instance are healthy, 1 otherwise. See docs/operations.md.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, print_answer
from crawler.scheduling.timing import format_duration, to_datetime

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "status",
        run,
        help="health of tor, Elasticsearch, running crawls and schedules",
        description="One look at everything an operator watches: each tor instance, Elasticsearch and its indices, "
        "the running crawls, the next scheduled runs. Exit 1 when tor or Elasticsearch is unhealthy.",
    )
    add_json_option(parser, "print one JSON object")


def size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024:
            return f"{count:.0f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


def lines(report: dict[str, Any]) -> list[str]:
    out = ["tor:"]
    if not report["tor"]:
        out.append("  no tor configured (DARKCRAWL_TOR_SOCKS): each crawl launches its own")
    for tor in report["tor"]:
        mark = "ok  " if tor["ok"] else "DOWN"
        circuits = tor.get("circuits")
        circuit_text = (
            ", circuits " + " ".join(f"{state.lower()} {count}" for state, count in sorted(circuits.items()))
            if circuits
            else ""
        )
        failures = tor.get("crawl_connection_failures")
        out.append(
            f"  {mark} {tor['message']}{circuit_text}"
            + (f", {failures} connection failures in running crawls" if failures else "")
        )
    es = report["elasticsearch"]
    out.append("elasticsearch:")
    out.append(f"  {'ok  ' if es.get('healthy') else 'DOWN'} {es.get('message', '')}")
    for index in es.get("indices", []):
        out.append(f"       {index['index']}: {index['docs']} docs, {size(index['bytes'])}")
    spool = es.get("spool") or {}
    if spool.get("pages"):
        out.append(
            f"       spool backlog: {spool['pages']} pages ({size(spool.get('bytes', 0))}) in {spool.get('path')}"
        )
    out.append("crawls:")
    if not report["crawls"]:
        out.append("  none running")
    for crawl in report["crawls"]:
        left = crawl.get("time_left_seconds")
        out.append(
            f"  {crawl['crawl_id']}"
            + (f" (schedule {crawl['schedule']})" if crawl.get("schedule") else "")
            + f": {crawl.get('pages', 0)} pages, {crawl.get('pages_per_minute', 0)} pages/min, "
            f"{crawl.get('error_count', 0)} errors, {crawl.get('queued', 0)} queued, "
            f"{format_duration(crawl.get('elapsed_seconds', 0))} elapsed"
            + (f", {format_duration(max(left, 0))} left" if left is not None else "")
        )
    notify = report.get("notify") or {}
    if "error" in notify:
        out.append(f"notifications: outbox not readable: {notify['error']}")
    elif notify:
        oldest = notify["oldest_pending_seconds"]
        out.append(
            f"notifications: {notify['pending']} pending"
            + (f" (oldest {format_duration(oldest)})" if oldest is not None else "")
            + f", {notify['delivered']} delivered, {notify['failed_attempts']} failed attempts, {notify['dead']} dead"
            + (" (darkcrawl notify status)" if notify["dead"] or notify["failing"] else "")
        )
    scheduler = report["scheduler"]
    out.append(
        "schedules: "
        + ("scheduler running" if scheduler.get("scheduler_running") else "no scheduler running")
        + (f", metrics {scheduler['metrics_url']}" if scheduler.get("metrics_url") else "")
    )
    for schedule in scheduler.get("schedules", []):
        next_run = schedule["next_run_at"]
        last = schedule.get("last_run")
        out.append(
            f"  {schedule['name']}: {schedule['timing']}, "
            + ("paused" if schedule["paused"] else f"next {to_datetime(next_run).strftime('%Y-%m-%d %H:%M:%S UTC')}")
            + (f", last run {last['state']}" if last else ", never run")
        )
    return out


def notify_report(settings: BaseSettings) -> dict[str, Any]:
    """The notification outbox's counts (docs/notify.md), or what made it unreadable."""
    from crawler.notify.outbox import Outbox

    try:
        return Outbox.from_settings(settings).status().to_json()
    except OSError as exc:
        return {"error": str(exc)}


def run(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.redact import mask_data, secret_values
    from crawler.scheduling.health import gather

    report = gather(settings)
    report["notify"] = notify_report(settings)
    report = mask_data(report, secret_values(settings))
    print_answer(args.json, report, lambda: lines(report), default=str)
    return 0 if report["healthy"] else 1
