"""Notifications on real receivers: an aiosmtpd SMTP server on 127.0.0.1 that is stopped and started again, and an
HTTP receiver for JSON and Mattermost webhooks; then a crawl of the lab whose alerts all reach both, once, with the
SMTP server stopped during the crawl (issue #14, item 6)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from crawler.notify.deliver import NOTIFICATION_HEADER, Deliverer, NotifyConfig
from crawler.notify.outbox import Outbox, notification_id
from crawler.notify.runner import BackgroundDelivery
from tests.integration.fixtures_notify import wait_for
from tests.unit.test_notify_outbox import alert, make_watch

pytestmark = pytest.mark.integration

FAST = {"interval": 0.2, "retry_base": 0.2, "retry_max": 0.5, "timeout": 5.0}


def test_an_alert_queued_while_smtp_is_down_is_delivered_once_it_is_back(smtp_server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    watch = make_watch(targets=(smtp_server.url(),))
    smtp_server.stop()
    Outbox(tmp_path).enqueue(alert(1, watch), watch)
    runner = BackgroundDelivery(Deliverer(Outbox(tmp_path), NotifyConfig(**FAST)), FAST["interval"], 10)
    runner.start()
    try:
        wait_for(lambda: Outbox(tmp_path).status().failed_attempts >= 3, 30, "three failed attempts")
        smtp_server.start()
        wait_for(lambda: smtp_server.messages, 30, "the mail once the SMTP server is back")
        time.sleep(1.0)  # several more rounds: nothing is sent again
    finally:
        runner.stop(flush=True)
    (message,) = smtp_server.messages
    assert message.headers[NOTIFICATION_HEADER] == notification_id(f"{1:064x}", watch.targets[0])
    assert message.headers["Subject"] == "[darkcrawl] HIGH: fraud shop on shop.onion"
    text = message.body.get_body(preferencelist=("plain", "html")).get_content()
    assert "http://shop.onion/item/1" in text and f"darkcrawl alerts show {1:064x}" in text
    status = Outbox(tmp_path).status()
    assert (status.pending, status.delivered, status.dead) == (0, 1, 0) and status.failed_attempts >= 3
    assert "Connection refused" in caplog.text
    assert smtp_server.password not in caplog.text  # the SMTP password never reached a log line


def test_json_and_mattermost_webhooks_get_the_alert(webhook_receiver, tmp_path):
    watch = make_watch(targets=(webhook_receiver.json_url(), webhook_receiver.mattermost_url()))
    Outbox(tmp_path).enqueue(alert(7, watch), watch)
    report = Deliverer(Outbox(tmp_path), NotifyConfig(**FAST)).deliver()
    assert (report.delivered, report.failed) == (2, 0)
    by_path = {request.path: request for request in webhook_receiver.requests}
    generic = by_path["/hooks/w3bh00k-s3cret-token"]
    assert generic.headers[NOTIFICATION_HEADER] == generic.body["notification_id"]
    assert generic.body["title"] == "[darkcrawl] HIGH: fraud shop on shop.onion"
    assert "Page: http://shop.onion/item/7" in generic.body["message"] and generic.body["type"] == "info"
    mattermost = by_path["/hooks/mm0st-s3cret-token"]
    assert "http://shop.onion/item/7" in mattermost.body["text"] and "fraud shop" in mattermost.body["text"]


def test_a_webhook_answering_500_is_retried_then_delivered_once(webhook_receiver, tmp_path):
    webhook_receiver.fail = 2
    watch = make_watch(targets=(webhook_receiver.json_url(),))
    Outbox(tmp_path).enqueue(alert(3, watch), watch)
    runner = BackgroundDelivery(Deliverer(Outbox(tmp_path), NotifyConfig(**FAST)), FAST["interval"], 10)
    runner.start()
    try:
        wait_for(lambda: webhook_receiver.requests, 30, "the webhook after two 500s")
        time.sleep(1.0)
    finally:
        runner.stop(flush=True)
    assert len(webhook_receiver.requests) == 1 and webhook_receiver.fail == 0
    status = Outbox(tmp_path).status()
    assert (status.delivered, status.failed_attempts, status.pending) == (1, 2, 0)


# --- item 6: a crawl of the lab, SMTP stopped during it ----------------------------------------------------------


def notified(receiver_counts: dict[str, int], alerts: dict[str, dict], target: str) -> dict[str, int]:
    """How many times each alert reached *target* (by the notification id header)."""
    return {alert_id: receiver_counts.get(notification_id(alert_id, target), 0) for alert_id in alerts}


def test_a_lab_crawl_notifies_every_alert_once_with_smtp_stopped_during_the_crawl(
    tor_lab, es_node, es_prefix, tmp_path, smtp_server, webhook_receiver
):
    import subprocess

    from crawler.watch.store import WatchStore
    from tests.integration.test_crawl import DARKCRAWL, REPO, crawl_env, run_darkcrawl, seed_args
    from tests.integration.test_watch_alerts import lab_alerts, lab_watches

    prefix = es_prefix
    env = crawl_env(tor_lab, es_node, prefix, tmp_path, DARKCRAWL_NOTIFY_INTERVAL="0.5",
                    DARKCRAWL_NOTIFY_RETRY_BASE="0.5", DARKCRAWL_NOTIFY_RETRY_MAX="2",
                    DARKCRAWL_NOTIFY_TARGETS=json.dumps({"soc-mail": smtp_server.url()}))
    watches = [watch for watch in lab_watches(tor_lab, tmp_path) if watch.kind != "clone"]  # no market crawl first
    hook = webhook_receiver.json_url()
    for watch in watches:
        watch.targets = ["soc-mail", hook]
    with WatchStore.from_settings(es_node.settings(DARKCRAWL_DATA_DIR=str(tmp_path))) as store:
        for watch in watches:
            store.add(watch)
    client = es_node.client()
    try:
        crawl = subprocess.Popen([*DARKCRAWL, "crawl", *seed_args(tor_lab), "--depth", "10"], env=env, cwd=REPO,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: smtp_server.messages or crawl.poll() is not None, 300, "the first mail of the crawl")
        smtp_server.stop()  # during the crawl: alerts keep coming, mails fail and wait
        outbox = Outbox(Path(tmp_path) / "notify")
        wait_for(lambda: outbox.status().failed_attempts >= 1 or crawl.poll() is not None, 120, "a failed mail")
        time.sleep(2)
        smtp_server.start()
        _, stderr = crawl.communicate(timeout=600)
        assert crawl.returncode == 0, stderr[-3000:]
        assert outbox.status().failed_attempts >= 1, "the SMTP outage came after the crawl's last mail"
        flushed = run_darkcrawl(["notify", "flush"], env)  # whatever the crawl's close left (nothing, normally)
        assert flushed.returncode == 0, flushed.stderr
        alerts = lab_alerts(client, prefix)
        assert alerts and {alert["watch"]["id"] for alert in alerts.values()} == {watch.id for watch in watches}
        mails = notified(smtp_server.by_header(NOTIFICATION_HEADER), alerts, "soc-mail")
        hooks = notified({r.headers[NOTIFICATION_HEADER]: 1 for r in webhook_receiver.requests}, alerts, hook)
        assert set(mails.values()) == {1}, f"not exactly once by mail: {mails}"
        assert set(hooks.values()) == {1} and len(webhook_receiver.requests) == len(alerts)
        before = (len(smtp_server.messages), len(webhook_receiver.requests))

        again = run_darkcrawl(["crawl", *seed_args(tor_lab), "--depth", "10"], env)
        assert again.returncode == 0, again.stderr[-3000:]
        assert lab_alerts(client, prefix).keys() == alerts.keys()
        assert (len(smtp_server.messages), len(webhook_receiver.requests)) == before  # none twice
        status = run_darkcrawl(["notify", "status", "--json"], env)
        report = json.loads(status.stdout)
        assert (report["pending"], report["dead"], report["delivered"]) == (0, 0, 2 * len(alerts))
        logs = stderr + again.stderr + flushed.stderr + status.stdout
        assert smtp_server.password not in logs and "w3bh00k-s3cret-token" not in logs
    finally:
        client.close()


def test_realert_and_digest_through_the_real_receivers(smtp_server, webhook_receiver, tmp_path):
    """A realert window and a digest as people receive them: one mail listing a digest's alerts, one webhook
    message per window naming what it held back."""
    now = time.time()
    digest = make_watch(targets=(smtp_server.url(),), digest=60, watch_id="w-d16e57")
    realert = make_watch(targets=(webhook_receiver.json_url(),), realert=600, watch_id="w-0ea1e7")
    outbox = Outbox(tmp_path)
    for number in range(3):
        outbox.enqueue(alert(number, digest, now - 120 + number), digest)  # a window that has ended
    for number, offset in ((10, -700), (11, -690), (12, -5)):
        outbox.enqueue(alert(number, realert, now + offset), realert)
    report = Deliverer(Outbox(tmp_path), NotifyConfig(**FAST)).deliver()
    assert (report.messages, report.delivered, report.suppressed) == (3, 5, 1)
    (mail,) = smtp_server.messages
    assert mail.headers["Subject"] == "[darkcrawl] HIGH: fraud shop: 3 alert(s) on 1 site(s) (digest)"
    text = mail.body.get_body(preferencelist=("plain", "html")).get_content()
    assert all(f"shop.onion/item/{number}" in text for number in range(3))
    first, second = (request.body["message"] for request in webhook_receiver.requests)
    assert "item/10" in first and "not notified" not in first
    assert "item/12" in second and "1 more alert(s) of this watch" in second and "item/11" in second
