"""Delivery: backoff, realert windows, digests, dead letters, message text, and secrets kept out of the logs."""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler.notify.deliver import (
    NOTIFICATION_HEADER,
    AppriseSender,
    Deliverer,
    NotifyConfig,
    TargetError,
    check_target,
)
from crawler.notify.message import clean_text, render
from crawler.notify.outbox import Outbox
from crawler.notify.secrets import secrets_of
from tests.unit.test_notify_outbox import alert, make_watch


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A sender that records messages and fails while ``down`` is set."""

    def __init__(self):
        self.messages: list[tuple[str, str, str]] = []
        self.down = False
        self.tries = 0

    def __call__(self, url, title, body, message_id):
        self.tries += 1
        if self.down:
            return False, "Connection refused"
        self.messages.append((title, body, message_id))
        return True, ""


def deliverer(tmp_path, clock, sender, **config):
    return Deliverer(Outbox(tmp_path), NotifyConfig(**config), send=sender, clock=clock, rng=lambda: 1.0)


def test_failing_target_is_retried_after_the_backoff_then_delivered_once(tmp_path):
    clock, sender = Clock(1_000_000.0), Recorder()
    watch = make_watch()
    Outbox(tmp_path).enqueue(alert(1, watch, clock.now), watch)
    worker = deliverer(tmp_path, clock, sender, retry_base=10, retry_max=60)
    sender.down = True
    assert worker.deliver().failed == 1
    assert worker.deliver().waiting == 1 and sender.tries == 1  # backing off: not tried again yet
    clock.now += 10
    assert worker.deliver().failed == 1 and sender.tries == 2
    clock.now += 19
    worker.deliver()
    assert sender.tries == 2  # second delay is 20 s
    sender.down = False
    clock.now += 1
    assert worker.deliver().delivered == 1
    worker.deliver()
    clock.now += 1000
    worker.deliver()
    assert len(sender.messages) == 1
    status = Outbox(tmp_path).status()
    assert (status.pending, status.delivered, status.failed_attempts, status.failing) == (0, 1, 2, [])


def test_flush_ignores_the_backoff(tmp_path):
    clock, sender = Clock(1_000_000.0), Recorder()
    watch = make_watch()
    Outbox(tmp_path).enqueue(alert(1, watch, clock.now), watch)
    worker = deliverer(tmp_path, clock, sender, retry_base=600)
    sender.down = True
    worker.deliver()
    sender.down = False
    assert worker.deliver().delivered == 0
    assert worker.deliver(force=True).delivered == 1


def test_realert_window_suppresses_then_summarises(tmp_path):
    clock, sender = Clock(1_000_000.0), Recorder()
    watch = make_watch(realert=600)
    outbox = Outbox(tmp_path)
    for number, offset in enumerate((0, 10, 20, 700)):
        outbox.enqueue(alert(number, watch, clock.now + offset), watch)
    clock.now += 800
    report = deliverer(tmp_path, clock, sender).deliver()
    assert (report.delivered, report.suppressed) == (2, 2)
    assert len(sender.messages) == 2
    second = sender.messages[1][1]
    assert "2 more alert(s) of this watch" in second and "http://shop.onion/item/1" in second
    assert "http://shop.onion/item/2" in second and "http://shop.onion/item/3" in second
    status = Outbox(tmp_path).status()
    assert (status.delivered, status.suppressed, status.pending) == (2, 2, 0)


def test_realert_is_decided_by_alert_times_even_after_an_outage(tmp_path):
    """The same alerts give the same messages whether the target was up or came back an hour later."""
    clock, sender = Clock(1_000_000.0), Recorder()
    watch = make_watch(realert=60)
    outbox = Outbox(tmp_path)
    for number, offset in enumerate((0, 30, 90)):
        outbox.enqueue(alert(number, watch, clock.now + offset), watch)
    sender.down = True
    worker = deliverer(tmp_path, clock, sender, retry_base=1, retry_max=1)
    worker.deliver()
    clock.now += 3600
    sender.down = False
    assert worker.deliver().delivered == 2
    assert [m[0] for m in sender.messages] == ["[darkcrawl] HIGH: fraud shop on shop.onion"] * 2


def test_digest_sends_one_message_per_window_once_it_has_ended(tmp_path):
    clock, sender = Clock(1_000_000.0), Recorder()
    watch = make_watch(digest=300)
    outbox = Outbox(tmp_path)
    start = clock.now
    for number, offset in enumerate((0, 50, 299, 310)):
        outbox.enqueue(alert(number, watch, start + offset), watch)
    worker = deliverer(tmp_path, clock, sender)
    clock.now = start + 100
    assert worker.deliver().delivered == 0 and not sender.messages  # the window is open
    clock.now = start + 301
    assert worker.deliver().delivered == 3
    title, body, _ = sender.messages[0]
    assert "3 alert(s) on 1 site(s) (digest)" in title
    assert all(f"http://shop.onion/item/{n}" in body for n in range(3)) and "item/3" not in body
    clock.now = start + 611
    assert worker.deliver().delivered == 1 and len(sender.messages) == 2


def test_target_failing_past_dead_after_goes_to_dead_and_retry_dead_brings_it_back(tmp_path):
    clock, sender = Clock(1_000_000.0), Recorder()
    watch = make_watch()
    outbox = Outbox(tmp_path)
    outbox.enqueue(alert(1, watch, clock.now), watch)
    outbox.enqueue(alert(2, watch, clock.now + 1), watch)
    for path in outbox.pending_dir.iterdir():  # queued two days ago
        data = json.loads(path.read_text())
        data["enqueued_at"] -= 2 * 86400
        path.write_text(json.dumps(data))
    sender.down = True
    clock.now = __import__("time").time()
    report = deliverer(tmp_path, clock, sender, dead_after=86400).deliver()
    assert (report.failed, report.dead) == (1, 2)
    status = Outbox(tmp_path).status()
    assert (status.pending, status.dead) == (0, 2)
    dead = Outbox(tmp_path).dead()
    assert all("undelivered after 1 days: Connection refused" in item.dead_reason for item in dead)
    assert Outbox(tmp_path).retry_dead() == 2
    sender.down = False
    assert deliverer(tmp_path, clock, sender, dead_after=86400).deliver().delivered == 2
    assert Outbox(tmp_path).status().dead == 0


def test_unknown_target_name_fails_with_a_message_naming_the_fix(tmp_path):
    clock, sender = Clock(1_000_000.0), Recorder()
    watch = make_watch(targets=("soc-mail",))
    Outbox(tmp_path).enqueue(alert(1, watch, clock.now), watch)
    report = deliverer(tmp_path, clock, sender).deliver()
    assert report.failed == 1 and not sender.tries
    assert "unknown notification target 'soc-mail'" in Outbox(tmp_path).status().failing[0]["last_error"]
    with pytest.raises(TargetError, match="Teams"):
        check_target("msteams://a/b/c", {})
    with pytest.raises(TargetError, match="not an Apprise URL"):
        check_target("nosuch://user:hunter22@host/x", {})
    assert check_target("soc", {"soc": "mailtos://u:pw1234@smtp.example.org?to=a@b.org"}) == "soc"


def test_message_is_plain_text_without_control_characters_or_broadcasts():
    watch = {"id": "w-1", "name": "Phish\x1b[31m watch", "kind": "regex", "severity": "critical"}
    hostile = alert(1, make_watch())
    hostile["page"]["title"] = "Bank login \u202egnp.exe @channel <!here>"
    hostile["matches"][0]["context"] = "line\x00one\r\nline two\x07" + "x" * 1000
    title, body = render(watch, [hostile | {"match_count": 1}])
    assert title == "[darkcrawl] CRITICAL: Phish[31m watch on shop.onion"
    for bad in ("\x1b", "\u202e", "\x00", "\x07", "\r", "@channel", "<!here>"):
        assert bad not in body and bad not in title
    assert "darkcrawl alerts show " + hostile["alert_id"] in body
    assert "context: \"lineone line two" in body and len(max(body.splitlines(), key=len)) < 400
    assert clean_text("a\u200bb\u2066c") == "abc"


# --- secrets, with the real Apprise ----------------------------------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.received.append((self.path, dict(self.headers), json.loads(self.rfile.read(length))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], Receiver.received
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_secrets_of_targets_never_reach_the_logs(tmp_path, receiver, caplog):
    port, received = receiver
    token, password, header_key = "hooktok3n5ecret", "sm7pPassw0rd", "ap1keyVALUE"
    sender = AppriseSender(timeout=2)
    caplog.set_level(logging.DEBUG)
    ok, _ = sender(f"json://127.0.0.1:{port}/hooks/{token}?+X-Api-Key={header_key}", "t", "b", "id1")
    assert ok and received[0][0] == f"/hooks/{token}" and received[0][1][NOTIFICATION_HEADER] == "id1"
    ok, _ = sender(f"mmost://127.0.0.1:{port}/{token}", "t", "b", "id2")
    assert ok and received[1][0] == f"/hooks/{token}"
    ok, error = sender(f"mailto://soc:{password}@127.0.0.1:{closed_port()}?to=a@example.org&from=b@example.org",
                       "t", "b", "id3")
    assert not ok and error and password not in error
    ok, error = sender(f"json://user:{password}@127.0.0.1:{closed_port()}/x/{token}", "t", "b", "id4")
    assert not ok and token not in error
    text = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert "POST" in text  # Apprise and urllib3 did log at DEBUG...
    for secret in (token, password, header_key):
        assert secret not in text  # ...with every secret masked


def test_secrets_of_finds_tokens_in_every_place():
    assert {"hunter22", "TOKENA123", "B0000000", "s3cr3tv"} <= secrets_of(
        "slack://TOKENA123/B0000000/XXXX?x=s3cr3tv") | secrets_of("mailto://u:hunter22@host.example.org")
    assert "127.0.0.1" not in secrets_of("json://127.0.0.1:80/hook")
