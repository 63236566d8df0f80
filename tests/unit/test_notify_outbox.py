"""The notification outbox: durable, idempotent, safe with several processes, clear about a full disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from crawler.notify.deliver import Deliverer, NotifyConfig
from crawler.notify.outbox import Outbox, OutboxFullError, notification_id
from crawler.watch.model import Watch
from tests.unit.sink.test_spool_disk_full import tiny_disk  # noqa: F401 (a fixture: a 64 KB tmpfs)

ROOT = Path(__file__).resolve().parents[2]


def make_watch(targets=("json://127.0.0.1:9/hook",), realert=0, digest=0, watch_id="w-abc123") -> Watch:
    return Watch(id=watch_id, name="fraud shop", kind="term", spec={"terms": ["carding"]}, owner="ops",
                 severity="high", targets=list(targets), realert_seconds=realert, digest_seconds=digest)


def alert(number: int, watch: Watch, created: float | None = None) -> dict:
    created = time.time() if created is None else created
    return {
        "alert_id": f"{number:064x}",
        "watch": {"id": watch.id, "name": watch.name},
        "page": {"id": f"p{number}", "url": f"http://shop.onion/item/{number}", "site": "shop.onion",
                 "title": f"Item {number}", "content_sha256": "0" * 64},
        "matches": [{"kind": "term", "value": "carding", "entity_kind": None, "context": "fresh carding dumps",
                     "rule": None}],
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z",
        "first_seen": "2026-12-06T18:00:00.000Z",
        "source": "crawl",
    }


def test_enqueue_writes_one_durable_file_per_target_and_is_idempotent(tmp_path):
    outbox = Outbox(tmp_path / "notify")
    watch = make_watch(targets=("json://127.0.0.1:9/a", "soc-mail"))
    ids = outbox.enqueue(alert(1, watch), watch)
    assert len(ids) == 2
    assert outbox.enqueue(alert(1, watch), watch) == []  # the same alert never makes a second notification
    files = sorted((tmp_path / "notify" / "pending").iterdir())
    assert len(files) == 2 and all(oct(path.stat().st_mode)[-3:] == "600" for path in files)
    data = json.loads(files[0].read_text())
    assert data["alert"]["page"]["url"] == "http://shop.onion/item/1" and data["watch"]["realert_seconds"] == 0
    assert not list((tmp_path / "notify" / "tmp").iterdir())  # no temporary file left behind
    assert outbox.status().pending == 2


def test_watch_without_targets_uses_the_default_targets_or_queues_nothing(tmp_path):
    watch = make_watch(targets=())
    assert Outbox(tmp_path / "a").enqueue(alert(1, watch), watch) == []
    assert len(Outbox(tmp_path / "b", default_targets=["soc"]).enqueue(alert(1, watch), watch)) == 1


def test_delivered_notification_is_not_queued_again(tmp_path):
    outbox = Outbox(tmp_path)
    watch = make_watch()
    outbox.enqueue(alert(1, watch), watch)
    sent = []
    Deliverer(outbox, NotifyConfig(), send=lambda *args: (sent.append(args), (True, ""))[1]).deliver()
    assert len(sent) == 1 and outbox.status().pending == 0 and outbox.status().delivered == 1
    assert Outbox(tmp_path).enqueue(alert(1, watch), watch) == []  # a fresh instance reads the delivered log


def test_torn_last_line_of_the_delivered_log_is_skipped(tmp_path):
    outbox = Outbox(tmp_path)
    outbox.ensure_dirs()
    good = json.dumps({"nid": "a" * 32, "status": "delivered"})
    (tmp_path / "delivered.jsonl").write_text(good + "\n{\"nid\": \"b")
    assert outbox.delivered_status("a" * 32) == "delivered" and outbox.delivered_status("b") is None


def test_full_disk_is_an_error_that_says_so_and_leaves_no_partial_file(tiny_disk):  # noqa: F811 (the fixture)
    outbox = Outbox(tiny_disk / "notify")
    watch = make_watch()
    big = alert(0, watch)
    big["matches"] = [{"kind": "term", "value": "x" * 2000, "context": "y" * 2000}] * 10
    kept = 0
    with pytest.raises(OutboxFullError, match="no space left on the device of the notification outbox"):
        for number in range(1000):
            big["alert_id"] = f"{number:064x}"
            outbox.enqueue(big, watch)
            kept += 1
    assert 0 < kept < 1000
    assert len(outbox.pending()) == kept  # every file there is whole and readable
    assert not list((tiny_disk / "notify" / "tmp").iterdir())


def test_two_deliverers_at_once_send_each_notification_once(tmp_path):
    outbox = Outbox(tmp_path)
    watches = [make_watch(watch_id=f"w-00000{n}") for n in range(4)]
    for number in range(40):
        watch = watches[number % 4]
        outbox.enqueue(alert(number, watch), watch)
    sent: list[str] = []
    lock = threading.Lock()

    def send(url, title, body, message_id):
        time.sleep(0.002)  # long enough for the two threads to meet on the same streams
        with lock:
            sent.append(message_id)
        return True, ""

    deliverers = [Deliverer(Outbox(tmp_path), NotifyConfig(), send=send) for _ in range(2)]
    threads = [threading.Thread(target=deliverer.deliver) for deliverer in deliverers for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for deliverer in deliverers:  # whatever a busy stream made one skip, a later round delivers
        deliverer.deliver()
    assert sorted(sent) == sorted({notification_id(f"{n:064x}", watches[0].targets[0]) for n in range(40)})
    assert outbox.status().pending == 0 and outbox.status().delivered == 40


DELIVER_SCRIPT = """
import sys, time
from crawler.notify.deliver import Deliverer, NotifyConfig
from crawler.notify.outbox import Outbox

def send(url, title, body, message_id):
    print(message_id, flush=True)  # the parent kills this process at some point of this loop
    time.sleep(0.05)
    return True, ""

Deliverer(Outbox(__import__("pathlib").Path(sys.argv[1])), NotifyConfig(), send=send).deliver()
"""


def test_a_deliverer_killed_mid_delivery_loses_nothing_and_resends_at_most_the_one_in_flight(tmp_path):
    outbox = Outbox(tmp_path)
    watch = make_watch()
    base = time.time() - 100
    for number in range(30):
        outbox.enqueue(alert(number, watch, base + number), watch)
    process = subprocess.Popen([sys.executable, "-c", DELIVER_SCRIPT, str(tmp_path)], stdout=subprocess.PIPE,
                               text=True, cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert process.stdout is not None
    first = [process.stdout.readline().strip() for _ in range(10)]  # ten sends started
    process.kill()
    process.wait()
    assert all(first)
    resent: list[str] = []
    Deliverer(Outbox(tmp_path), NotifyConfig(), send=lambda u, t, b, m: (resent.append(m), (True, ""))[1]).deliver()
    every = [notification_id(f"{n:064x}", watch.targets[0]) for n in range(30)]
    assert set(first) | set(resent) == set(every)  # nothing lost
    twice = set(first) & set(resent)
    assert len(twice) <= 1 and twice <= {first[-1]}  # only the send the kill interrupted is repeated
    assert first == every[:10] and Outbox(tmp_path).status().pending == 0
