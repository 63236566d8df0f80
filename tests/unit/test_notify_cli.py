"""darkcrawl notify status|flush|retry-dead|test, run as the CLI runs them."""

from __future__ import annotations

import json
import logging
import os

import pytest

from crawler.cli import main
from crawler.notify.outbox import Outbox
from tests.unit.test_notify_outbox import alert, make_watch


@pytest.fixture(autouse=True)
def keep_root_logging():
    """main() puts its handler (on the captured stderr of this test) on the root logger: put the old ones back, or
    later log lines (aiosmtpd's threads) would go to a closed stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_status_retry_dead_flush_and_test(tmp_path, monkeypatch, capsys, webhook_receiver):
    for name in [name for name in os.environ if name.startswith("DARKCRAWL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DARKCRAWL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DARKCRAWL_NOTIFY_TARGETS", json.dumps({"hook": webhook_receiver.json_url()}))
    watch = make_watch(targets=("hook",))
    outbox = Outbox(tmp_path / "notify")
    outbox.enqueue(alert(1, watch), watch)
    outbox.bury(outbox.pending()[0], "undelivered after 3 days: HTTP 500")

    assert main(["notify", "status", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["pending"], report["dead"]) == (0, 1)
    assert main(["notify", "retry-dead"]) == 0
    assert "1 dead notification(s) put back" in capsys.readouterr().err
    assert main(["notify", "flush"]) == 0
    assert "delivered 1 notification(s) in 1 message(s)" in capsys.readouterr().out
    assert len(webhook_receiver.requests) == 1
    assert main(["notify", "test", "hook"]) == 0
    assert "test message sent to hook" in capsys.readouterr().err
    assert webhook_receiver.requests[1].body["title"] == "[darkcrawl] test notification"
    assert main(["notify", "test", "json://user:s3cretpw@127.0.0.1:9/hook/t0kenvalue"]) == 3
    error = capsys.readouterr().err
    assert "did not take the test message" in error and "s3cretpw" not in error and "t0kenvalue" not in error
    assert main(["notify", "status"]) == 0
    assert "pending 0" in capsys.readouterr().out
