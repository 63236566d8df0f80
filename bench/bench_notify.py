"""Benchmark of notification latency: alert created (queued in the outbox) -> notification received by a real SMTP
server (aiosmtpd) and a real JSON webhook receiver, both on 127.0.0.1.

Run: ``.venv/bin/python bench/bench_notify.py [--alerts 300] [--watches 10] [--rate 20] [--interval 2.0]``.
With ``--lab`` (needs ``DARKCRAWL_TEST_LAB_DIR`` and ``DARKCRAWL_TEST_ES_URL``/``_USERNAME``/``_PASSWORD``, as for the
tests): a real ``darkcrawl crawl`` of the lab's sites with four watches (term, entity, regex, YARA), each notifying
both receivers, and the latency from the page fetched (its ``last_seen`` in the index) to the notification received.

Otherwise alerts are queued at ``--rate`` per second over ``--watches`` watches, each with an e-mail and a webhook
target, while a :class:`~crawler.notify.runner.BackgroundDelivery` thread delivers every ``--interval`` seconds, as in a
crawl (``DARKCRAWL_NOTIFY_INTERVAL``). Reports latency p50/p90/p99/max per target kind, wall time, and the CPU time
(``time.process_time``, this process: queueing, delivery, and the two receivers) per notification. Figures and the
command in docs/performance.md, "Notifications".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.notify.deliver import NOTIFICATION_HEADER, Deliverer, NotifyConfig
from crawler.notify.outbox import Outbox
from crawler.notify.runner import BackgroundDelivery
from crawler.watch.model import Watch
from tests.integration.fixtures_notify import SmtpServer, WebhookReceiver, wait_for


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def alert(number: int, watch: Watch, now: float) -> dict:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    return {
        "alert_id": f"{number:064x}",
        "watch": {"id": watch.id, "name": watch.name},
        "page": {"id": f"p{number}", "url": f"http://shop{number % 7}.onion/item/{number}",
                 "site": f"shop{number % 7}.onion", "title": f"Listing {number}"},
        "matches": [{"kind": "term", "value": "carding", "entity_kind": None,
                     "context": "fresh carding dumps, escrow accepted, ships worldwide", "rule": None}],
        "created_at": stamp, "first_seen": stamp, "source": "crawl",
    }


def report(latencies: dict[str, list[float]]) -> None:
    for kind, values in latencies.items():
        print(f"{kind:14s} p50 {statistics.median(values):.2f} s, p90 {percentile(values, 0.9):.2f} s, "
              f"p99 {percentile(values, 0.99):.2f} s, max {max(values):.2f} s ({len(values)} received)")


def lab_crawl(interval: float) -> int:
    """Page fetched -> notification received, through a real crawl of the lab."""
    import os
    import uuid

    from crawler.notify.outbox import epoch, notification_id
    from crawler.watch.store import WatchStore
    from tests.integration.fixtures_es import EsNode, drop_prefix
    from tests.integration.fixtures_lab import handle
    from tests.integration.test_crawl import crawl_env, run_darkcrawl, seed_args
    from tests.integration.test_watch_alerts import lab_alerts, lab_watches

    lab = handle(Path(os.environ["DARKCRAWL_TEST_LAB_DIR"]), {})
    node = EsNode(os.environ["DARKCRAWL_TEST_ES_URL"], os.environ.get("DARKCRAWL_TEST_ES_USERNAME", ""),
                  os.environ.get("DARKCRAWL_TEST_ES_PASSWORD", ""))
    smtp, hook = SmtpServer(), WebhookReceiver()
    smtp.start()
    hook.start()
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    client = node.client()
    try:
        with tempfile.TemporaryDirectory() as directory:
            data = Path(directory)
            env = crawl_env(lab, node, prefix, data, DARKCRAWL_NOTIFY_INTERVAL=str(interval))
            watches = [watch for watch in lab_watches(lab, data) if watch.kind != "clone"]
            with WatchStore.from_settings(node.settings(DARKCRAWL_DATA_DIR=directory)) as store:
                for watch in watches:
                    watch.targets = [smtp.url(), hook.json_url()]
                    store.add(watch)
            cpu = os.times()
            crawl = run_darkcrawl(["crawl", *seed_args(lab), "--depth", "10"], env)
            cpu_after = os.times()
            assert crawl.returncode == 0, crawl.stderr[-2000:]
            wait_for(lambda: len(smtp.messages) + len(hook.requests) >= 2 * len(lab_alerts(client, prefix)), 60,
                     "every notification")
            alerts = lab_alerts(client, prefix)
            client.indices.refresh(index=f"{prefix}-pages")
            pages = {hit["_id"]: hit["_source"] for hit in client.search(
                index=f"{prefix}-pages", size=10_000, source=["last_seen"], query={"match_all": {}})["hits"]["hits"]}
            fetched, created = {}, {}
            for alert_id, alert in alerts.items():
                for target in (smtp.url(), hook.json_url()):
                    nid = notification_id(alert_id, target)
                    fetched[nid] = epoch(pages[alert["page"]["id"]]["last_seen"], 0)
                    created[nid] = epoch(alert["created_at"], 0)
        crawl_cpu = sum(cpu_after[2:4]) - sum(cpu[2:4])
        print(f"lab crawl: {len(pages)} pages, {len(alerts)} alerts, {len(watches)} watches x 2 targets; crawl CPU "
              f"(the crawl process) {crawl_cpu:.1f} s")
        for start, label in ((fetched, "page fetched"), (created, "alert created")):
            print(f"{label} -> notification received:")
            report({
                "e-mail (SMTP)": [m.at - start[m.headers[NOTIFICATION_HEADER]] for m in smtp.messages],
                "JSON webhook": [r.at - start[r.headers[NOTIFICATION_HEADER]] for r in hook.requests],
            })
    finally:
        client.close()
        drop_prefix(node, prefix)
        smtp.stop()
        hook.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--watches", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20.0, help="alerts queued per second")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between delivery rounds")
    parser.add_argument("--lab", action="store_true", help="a real crawl of the lab: page fetched -> received")
    args = parser.parse_args()
    if args.lab:
        return lab_crawl(args.interval)

    smtp, hook = SmtpServer(), WebhookReceiver()
    smtp.start()
    hook.start()
    with tempfile.TemporaryDirectory() as directory:
        watches = [Watch(f"w-{n:06x}", f"watch {n}", "term", {"terms": ["carding"]}, severity="high",
                         targets=[smtp.url(), hook.json_url()]) for n in range(args.watches)]
        outbox = Outbox(Path(directory))
        runner = BackgroundDelivery(Deliverer(Outbox(Path(directory)), NotifyConfig(timeout=10)), args.interval, 30)
        created: dict[str, float] = {}
        cpu, wall = time.process_time(), time.monotonic()
        runner.start()
        enqueue_seconds = []
        for number in range(args.alerts):
            watch = watches[number % len(watches)]
            now = time.time()
            started = time.perf_counter()
            for nid in outbox.enqueue(alert(number, watch, now), watch):
                created[nid] = now
            enqueue_seconds.append(time.perf_counter() - started)
            time.sleep(max(0.0, 1 / args.rate - (time.time() - now)))
        total = 2 * args.alerts
        wait_for(lambda: len(smtp.messages) + len(hook.requests) >= total, 300, "every notification")
        runner.stop(flush=False)
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        smtp.stop()
        hook.stop()
    latencies = {
        "e-mail (SMTP)": [m.at - created[m.headers[NOTIFICATION_HEADER]] for m in smtp.messages],
        "JSON webhook": [r.at - created[r.headers[NOTIFICATION_HEADER]] for r in hook.requests],
    }
    print(f"{args.alerts} alerts over {args.watches} watches at {args.rate:g}/s, 2 targets each, delivery every "
          f"{args.interval:g} s")
    print(f"queueing an alert (2 fsynced files): p50 {percentile(enqueue_seconds, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(enqueue_seconds, 0.99) * 1000:.1f} ms")
    print("alert created -> notification received:")
    report(latencies)
    print(f"wall {wall:.1f} s, CPU {cpu:.2f} s = {cpu / total * 1000:.1f} ms per notification "
          "(queueing, delivery and both receivers)")
    duplicates = (len(smtp.messages) - len({m.headers[NOTIFICATION_HEADER] for m in smtp.messages})) + (
        len(hook.requests) - len({r.headers[NOTIFICATION_HEADER] for r in hook.requests}))
    print(f"duplicates: {duplicates}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
