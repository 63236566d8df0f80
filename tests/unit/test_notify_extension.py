"""Where delivery runs: the crawl's extension (off when there is nothing to send), the scheduler's thread, and the
counts in `darkcrawl status` and Prometheus."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.cli.status import lines, notify_report
from crawler.config import load_settings
from crawler.notify.extension import NotifyExtension
from crawler.notify.outbox import Outbox
from crawler.notify.runner import start_delivery
from crawler.scheduling.metrics import SchedulerMetrics
from tests.unit.test_notify_outbox import alert, make_watch


def crawler_for(tmp_path, **overrides):
    settings = load_settings(environ={}, overrides={"DARKCRAWL_DATA_DIR": str(tmp_path), **overrides})
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    crawler.stats.open_spider()
    return crawler, settings


def test_extension_is_off_without_targets_or_pending_work(tmp_path):
    crawler, _ = crawler_for(tmp_path)
    with pytest.raises(NotConfigured):
        NotifyExtension.from_crawler(crawler)
    crawler, _ = crawler_for(tmp_path, DARKCRAWL_NOTIFY_TARGETS={"soc": "json://127.0.0.1:9/x"},
                             DARKCRAWL_NOTIFY_INTERVAL=0)
    with pytest.raises(NotConfigured):
        NotifyExtension.from_crawler(crawler)


def test_extension_delivers_pending_work_at_close_and_counts_it(tmp_path, webhook_receiver):
    watch = make_watch(targets=(webhook_receiver.json_url(),))
    crawler, settings = crawler_for(tmp_path)
    Outbox.from_settings(settings).enqueue(alert(1, watch), watch)
    extension = NotifyExtension.from_crawler(crawler)  # pending work: on, though no target is configured
    extension._count(extension.runner.stop(flush=True))  # what spider_closed runs in a thread
    assert len(webhook_receiver.requests) == 1
    assert crawler.stats.get_value("darkcrawl/notify/delivered") == 1


def test_scheduler_delivery_thread_and_the_status_and_metrics_counts(tmp_path, webhook_receiver):
    watch = make_watch(targets=(webhook_receiver.json_url(),))
    _, settings = crawler_for(tmp_path, DARKCRAWL_NOTIFY_INTERVAL=0.1)
    outbox = Outbox.from_settings(settings)
    outbox.enqueue(alert(1, watch), watch)
    outbox.enqueue(alert(2, make_watch(targets=("nowhere",), watch_id="w-000002")), make_watch(targets=("nowhere",)))
    runner = start_delivery(settings)
    assert runner is not None
    runner.stop(flush=True)
    report = notify_report(settings)
    # "nowhere" failed in the first round and again in the last one (a closing flush ignores the backoff)
    assert (report["pending"], report["delivered"], report["failed_attempts"], report["dead"]) == (1, 1, 2, 0)
    text = "\n".join(lines({"tor": [], "elasticsearch": {"healthy": True}, "crawls": [], "notify": report,
                            "scheduler": {"scheduler_running": False, "schedules": []}}))
    assert "notifications: 1 pending" in text and "1 delivered, 2 failed attempts, 0 dead" in text
    exposition = generate_latest(SchedulerMetrics(settings).registry).decode()
    assert "darkcrawl_notify_pending 1.0" in exposition and "darkcrawl_notify_delivered_total 1.0" in exposition
    assert "darkcrawl_notify_failed_attempts_total 2.0" in exposition and "darkcrawl_notify_dead 0.0" in exposition
    assert start_delivery(load_settings(environ={}, overrides={"DARKCRAWL_NOTIFY_INTERVAL": 0})) is None


def test_a_malformed_target_table_stops_a_crawl_before_it_starts_without_showing_the_value(tmp_path):
    from crawler.crawl import check_notify_config
    from crawler.notify.deliver import TargetError

    settings = load_settings(environ={"DARKCRAWL_NOTIFY_TARGETS": '{"soc": "hunter2-not-a-url"}'},
                             overrides={"DARKCRAWL_DATA_DIR": str(tmp_path)})
    assert settings.getdict("DARKCRAWL_NOTIFY_TARGETS") == {"soc": "hunter2-not-a-url"}  # JSON in the variable
    with pytest.raises(TargetError, match=r"\['soc'\] are not Apprise URLs") as caught:
        check_notify_config(settings)
    assert "hunter2" not in str(caught.value)


def test_the_scheduler_service_delivers_while_it_serves(tmp_path, webhook_receiver):
    import threading

    from crawler.scheduling.service import Scheduler
    from crawler.scheduling.store import ScheduleStore
    from tests.integration.fixtures_notify import wait_for
    from tests.unit.test_scheduling_service import RecordingDispatcher

    _, settings = crawler_for(tmp_path, DARKCRAWL_NOTIFY_INTERVAL=0.2, DARKCRAWL_SCHEDULER_TICK=0.1)
    watch = make_watch(targets=(webhook_receiver.json_url(),))
    store = ScheduleStore(tmp_path / "scheduler" / "schedules.db")
    scheduler = Scheduler(settings, store, RecordingDispatcher(), say=lambda message: None)
    failures: list[BaseException] = []

    def crawl_queues_an_alert() -> None:  # the store is the serving thread's (SQLite): serve() stays in this one
        try:
            Outbox.from_settings(settings).enqueue(alert(1, watch), watch)
            wait_for(lambda: webhook_receiver.requests, 10, "the scheduler's delivery")
        except BaseException as exc:
            failures.append(exc)
        finally:
            scheduler.stopping.set()

    helper = threading.Thread(target=crawl_queues_an_alert)
    helper.start()
    try:
        scheduler.serve()
    finally:
        helper.join(15)
        store.close()
    assert not failures and len(webhook_receiver.requests) == 1
