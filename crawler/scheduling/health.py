"""What ``darkcrawl status`` shows: tor instances, Elasticsearch, running crawls, the schedules. Each check is short
(at most :data:`TOR_CHECK_TIMEOUT` per tor instance and :data:`ES_CHECK_TIMEOUT` for Elasticsearch, in total: a port
that accepts and never answers costs that, not more) and reports a failure as data, never as an exception, so one
dead service does not hide the others.

* tor: each configured instance (``DARKCRAWL_TOR_SOCKS``/``_CONTROL``): SOCKS answering, bootstrap %, circuits by
  state now (``GETINFO circuit-status``), and the connection failures running crawls counted on it;
* Elasticsearch: what ``darkcrawl es status`` reports (health, version, spool backlog), plus documents and bytes of
  each darkcrawl index;
* crawls: the status files of live crawl processes (pages, rate, errors, queue; time left when the scheduler gave
  the run a budget);
* schedules: next run of each, the last run's state, and whether a scheduler is running.

Offers: :func:`tor_report`, :func:`es_report`, :func:`crawls_report`, :func:`schedules_report`, :func:`gather`.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from crawler.deadline import run_within
from crawler.scheduling.crawlstatus import pid_alive, read_statuses, status_dir

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

TOR_CHECK_TIMEOUT = 8.0  # seconds one tor instance's check takes at most: SOCKS, bootstrap and circuits together
ES_CHECK_TIMEOUT = 10.0  # seconds the Elasticsearch check takes at most: health, credentials and index sizes together


def circuit_states(endpoint: Any, timeout: float) -> dict[str, int]:
    """Circuits of a tor by state (BUILT, LAUNCHED, EXTENDED, FAILED, CLOSED) from ``GETINFO circuit-status``, asked
    within *timeout* seconds in total (:class:`TimeoutError` past it)."""
    from crawler.tor.control import control_session

    text = control_session(endpoint, timeout, lambda controller: controller.get_info("circuit-status"))
    states: Counter[str] = Counter()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            states[parts[1]] += 1
    return dict(states)


def tor_report(settings: BaseSettings, crawls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from crawler.tor.config import TorConfig
    from crawler.tor.control import check_endpoint

    try:
        endpoints = TorConfig.from_settings(settings).endpoints
    except Exception as exc:
        return [{"index": None, "ok": False, "message": str(exc)}]
    failures: Counter[int] = Counter()
    for crawl in crawls:
        for key, value in (crawl.get("tor") or {}).items():
            instance, _, name = key.partition("/")
            if name == "circuit_errors" and instance.isdigit():
                failures[int(instance)] += int(value)
    reports = []
    for endpoint in endpoints:
        deadline = time.monotonic() + TOR_CHECK_TIMEOUT
        status = check_endpoint(endpoint, TOR_CHECK_TIMEOUT)
        report: dict[str, Any] = {
            "index": endpoint.index,
            "socks": endpoint.socks_address,
            "control": f"{endpoint.control_host}:{endpoint.control_port}" if endpoint.control_port else None,
            "socks_reachable": status.socks_ok,
            "bootstrap": status.bootstrap,
            "ok": status.ready and not status.error,
            "circuits": None,
            "crawl_connection_failures": failures.get(endpoint.index, 0),
            "message": status.describe(),
        }
        if endpoint.control_port is not None and not status.error:
            try:
                report["circuits"] = circuit_states(endpoint, deadline - time.monotonic())
            except Exception as exc:  # stem raises several unrelated types
                report["ok"] = False
                report["message"] = f"tor #{endpoint.index}: control port unusable: {type(exc).__name__}: {exc}"
        reports.append(report)
    return reports


def index_sizes(settings: BaseSettings, timeout: float) -> list[dict[str, Any]]:
    from crawler.es.client import es_sync_client
    from crawler.es.schema import index_names

    names = index_names(settings)
    client = es_sync_client(settings).options(request_timeout=timeout, max_retries=0)
    try:
        body: Any = client.cat.indices(index=f"{names.prefix}-*", format="json", bytes="b").body
        rows: list[dict[str, Any]] = list(body)
    finally:
        client.close()
    return sorted(
        (
            {
                "index": row["index"],
                "docs": int(row.get("docs.count") or 0),
                "bytes": int(row.get("store.size") or 0),
                "health": row.get("health"),
            }
            for row in rows
        ),
        key=lambda row: row["index"],
    )


def es_report(settings: BaseSettings) -> dict[str, Any]:
    """The Elasticsearch check, :data:`ES_CHECK_TIMEOUT` seconds at most in total."""
    deadline = time.monotonic() + ES_CHECK_TIMEOUT
    try:
        return run_within(ES_CHECK_TIMEOUT, lambda: es_checks(settings, deadline), "Elasticsearch")
    except TimeoutError as exc:
        return {"healthy": False, "running": False, "message": str(exc), "indices": []}


def es_checks(settings: BaseSettings, deadline: float) -> dict[str, Any]:
    from crawler.sink.backlog import status_report

    try:
        report = status_report(settings)
    except Exception as exc:
        return {"healthy": False, "running": False, "message": str(exc), "indices": []}
    report["indices"] = []
    if report.get("healthy"):
        from elasticsearch import AuthenticationException, AuthorizationException

        from crawler.es.client import service_error

        try:
            report["indices"] = index_sizes(settings, max(deadline - time.monotonic(), 0.1))
        except (AuthenticationException, AuthorizationException) as exc:  # a crawl with these credentials fails
            problem = str(service_error(exc, str(report.get("url") or "the configured URL")))
            report |= {"healthy": False, "message": problem, "indices_error": problem}
        except Exception as exc:
            report["indices_error"] = str(exc)
    return report


def crawls_report(settings: BaseSettings, store: Any = None) -> list[dict[str, Any]]:
    """Live crawls (a status file whose process still runs and has not finished), with their schedule and time left."""
    runs = {run.crawl_id: run for run in store.running()} if store is not None else {}
    now = time.time()
    crawls = []
    for status in read_statuses(status_dir(settings)):
        if status.get("finished_at") or not pid_alive(status.get("pid"), status.get("pid_start")):
            continue
        run = runs.get(str(status.get("crawl_id")))
        crawls.append(
            status
            | {
                "schedule": run.schedule if run else None,
                "run": run.id if run else None,
                "elapsed_seconds": round(now - float(status.get("started_at") or now)),
                "time_left_seconds": round(run.deadline - now) if run and run.deadline else None,
                "stale": now - float(status.get("updated_at") or 0)
                > 3 * settings.getfloat("DARKCRAWL_STATUS_INTERVAL"),
            }
        )
    return crawls


def schedules_report(store: Any) -> dict[str, Any]:
    from crawler.scheduling.service import service_alive

    schedules = []
    for schedule in sorted(store.schedules(), key=lambda item: (item.paused, item.next_run_at)):
        last = next(iter(store.runs(schedule.name, 1)), None)
        schedules.append(
            {
                "name": schedule.name,
                "timing": schedule.timing.describe(),
                "paused": schedule.paused,
                "next_run_at": None if schedule.paused else schedule.next_run_at,
                "last_run": last.to_json() if last else None,
            }
        )
    service = store.service() or {}
    return {
        "scheduler_running": service_alive(store),
        "scheduler_pid": service.get("pid"),
        "metrics_url": service.get("metrics_url") or None,
        "schedules": schedules,
    }


def gather(settings: BaseSettings) -> dict[str, Any]:
    from crawler.scheduling.store import open_store, store_path

    store = open_store(settings) if store_path(settings).is_file() else None
    try:
        crawls = crawls_report(settings, store)
        report: dict[str, Any] = {
            "checked_at": time.time(),
            "tor": tor_report(settings, crawls),
            "elasticsearch": es_report(settings),
            "crawls": crawls,
            "scheduler": schedules_report(store)
            if store is not None
            else {"scheduler_running": False, "schedules": []},
        }
    finally:
        if store is not None:
            store.close()
    report["healthy"] = bool(report["elasticsearch"].get("healthy")) and all(tor["ok"] for tor in report["tor"])
    return report
