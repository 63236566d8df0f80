"""The extraction pool (pipelines/extract/pool.py): real worker processes; a page over its budget is stopped and
keeps what was known while the other pages go on; a dead worker is replaced; nothing outlives the pool.

The stand-in extractors below run in the workers (named ``module:function``): the real extraction, except that a
page whose text holds a marker spins (a regular expression stuck in C looks the same from outside), crashes or raises.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from crawler.errors import UsageError
from pipelines.extract import extract_signals
from pipelines.extract.pool import ConfigSpec, ExtractionPool, Outcome
from pipelines.extract.signals import Signals

HOOK = f"{__name__}:hostile_extract"
BUDGET = 1.5
STOP_GRACE_PLUS = 5.0  # close() gives a busy worker 2 s (STOP_GRACE), then kills it
PAGE = (
    "<html><head><title>Shop {n}</title></head><body><p>Pay to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq, "
    "contact shop{n}@example.org. Discrete shipping worldwide.</p><a href='/next'>next</a>{marker}</body></html>"
)


def hostile_extract(body: Any, url: Any, *, on_parsed: Any = None, **kwargs: Any) -> Signals:
    """The real extraction; after the parse, SPIN spins for ever, CRASH kills the process, RAISE raises."""

    def after_parse(signals: Signals) -> None:
        if on_parsed is not None:
            on_parsed(signals)
        if "SPIN" in signals.text:
            while True:
                pass
        if "CRASH" in signals.text:
            os.kill(os.getpid(), signal.SIGSEGV)
        if "RAISE" in signals.text:
            raise ValueError("a stand-in failure")

    return extract_signals(body, url, on_parsed=after_parse, **kwargs)


def page(n: int, marker: str = "") -> str:
    return PAGE.format(n=n, marker=marker)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"


def wait_gone(pids: list[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and [pid for pid in pids if alive(pid)]:
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


@pytest.fixture(scope="module")
def pool():
    with ExtractionPool(ConfigSpec(), workers=2, timeout=BUDGET, extract=HOOK) as started:
        yield started


async def test_a_page_is_extracted_as_in_process(pool: ExtractionPool) -> None:
    outcome = await pool.extract(page(1), "http://shop.example/item")
    assert outcome.status == "ok" and outcome.error == ""
    assert outcome.signals.to_dict() == extract_signals(page(1), "http://shop.example/item").to_dict()
    assert outcome.signals.text.startswith("Pay to bc1q")


async def test_a_page_over_its_budget_is_stopped_with_its_parse_while_the_others_go_on(pool: ExtractionPool) -> None:
    before = pool.pids()
    replaced = pool.replaced
    finished: dict[int, float] = {}
    started = time.monotonic()

    async def one(n: int, marker: str = "") -> Outcome:
        outcome = await pool.extract(page(n, marker), f"http://shop.example/{n}")
        finished[n] = time.monotonic() - started
        return outcome

    stuck, *others = await asyncio.gather(one(0, "<p>SPIN</p>"), *(one(n) for n in range(1, 9)))
    assert stuck.status == "timeout"
    assert BUDGET * 1000 <= stuck.elapsed_ms < BUDGET * 1000 + 5000
    # what was known: the parse (title, text, links, text hash), no signal read after it
    assert stuck.signals.title == "Shop 0" and "SPIN" in stuck.signals.text
    assert stuck.signals.links["clearnet"] == ["http://shop.example/next"]
    assert len(stuck.signals.content_sha256) == 64
    assert stuck.signals.crypto_addresses == [] and stuck.signals.emails == []
    # the other pages were extracted meanwhile, by the other worker, before the stuck one was stopped
    assert [outcome.status for outcome in others] == ["ok"] * 8
    assert max(finished[n] for n in range(1, 9)) < finished[0]
    # the stuck worker was killed and replaced; the pool goes on
    assert pool.replaced == replaced + 1
    assert len(set(before) - set(pool.pids())) == 1
    assert wait_gone(list(set(before) - set(pool.pids()))) == []
    assert (await pool.extract(page(10), None)).status == "ok"


async def test_the_crawls_parse_goes_to_a_worker_and_its_text_does_not_come_back(
    pool: ExtractionPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crawl sends its one parse of a page and keeps it: the worker answers with everything but the text (the
    largest part of a page), which the pool puts back, in a complete outcome as in a stopped one."""
    from multiprocessing.connection import Connection

    from pipelines.extract.text import parse_document

    received: list[Any] = []
    recv = Connection.recv

    def recording(self: Connection) -> Any:
        message = recv(self)
        if message[0] in ("parsed", "done"):
            received.append(message[1].text)  # as it crossed the socket (the pool then puts the text back)
        return message

    monkeypatch.setattr(Connection, "recv", recording)
    url = "http://shop.example/item"
    doc = parse_document(page(1), url, "text/html").for_extraction([])
    outcome = await pool.extract(doc, url)
    assert outcome.status == "ok"
    assert outcome.signals.to_dict() == extract_signals(page(1), url).to_dict()
    stuck = await pool.extract(parse_document(page(0, "<p>SPIN</p>"), url, "text/html").for_extraction([]), url)
    assert stuck.status == "timeout" and "SPIN" in stuck.signals.text and len(stuck.signals.content_sha256) == 64
    assert stuck.signals.links["clearnet"] == ["http://shop.example/next"]
    assert received == ["", "", ""]  # parsed and done of the first page, parsed of the stuck one


async def test_a_page_dropped_mid_way_costs_its_worker_and_never_answers_for_the_next(pool: ExtractionPool) -> None:
    """The crawl cancels a page (it is closing): the worker still busy with it is replaced, so its late answer cannot
    be read as the next page's."""
    replaced = pool.replaced
    task = asyncio.ensure_future(pool.extract(page(0, "<p>SPIN</p>"), None))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.replaced == replaced + 1
    outcomes = await asyncio.gather(*(pool.extract(page(n), None) for n in range(1, 5)))
    assert [outcome.signals.title for outcome in outcomes] == [f"Shop {n}" for n in range(1, 5)]


async def test_closing_the_pool_ends_a_waiting_page_at_once() -> None:
    """close() (the crawl ending) reaps a worker stuck on a page: the page's wait ends then, not at its budget."""
    with ExtractionPool(ConfigSpec(), workers=1, timeout=60, extract=HOOK) as one:
        task = asyncio.ensure_future(one.extract(page(0, "<p>SPIN</p>"), None))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        one.close()
        outcome = await asyncio.wait_for(task, 10)
    assert time.monotonic() - started < STOP_GRACE_PLUS
    assert outcome.status == "failed" and outcome.signals.title == "Shop 0"


async def test_a_worker_that_dies_is_replaced_and_its_page_marked_failed(pool: ExtractionPool) -> None:
    crashed = await pool.extract(page(0, "<p>CRASH</p>"), None)
    assert crashed.status == "failed"
    assert "died" in crashed.error and str(-signal.SIGSEGV) in crashed.error
    assert crashed.signals.title == "Shop 0"  # its parse had arrived
    assert len(pool.pids()) == 2
    outcomes = await asyncio.gather(*(pool.extract(page(n), None) for n in range(4)))
    assert {outcome.status for outcome in outcomes} == {"ok"}


async def test_an_extractor_that_raises_fails_the_page_not_the_worker(pool: ExtractionPool) -> None:
    pids = set(pool.pids())
    outcome = await pool.extract(page(0, "<p>RAISE</p>"), None)
    assert outcome.status == "failed" and outcome.error == "ValueError: a stand-in failure"
    assert set(pool.pids()) == pids


def test_blocking_extraction_applies_the_same_budget() -> None:
    with ExtractionPool(ConfigSpec(), workers=1, timeout=1.0, extract=HOOK) as one:
        started = time.monotonic()
        outcome = one.extract_blocking(page(0, "<p>SPIN</p>").encode(), None, "text/html")
        assert outcome.status == "timeout" and time.monotonic() - started < 30
        assert one.extract_blocking(page(1).encode(), None, "text/html").status == "ok"


def test_close_stops_every_worker_even_a_stuck_one() -> None:
    pool = ExtractionPool(ConfigSpec(), workers=2, timeout=60, extract=HOOK).start()
    pids = pool.pids()
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    outcomes: list[Outcome] = []
    stuck = threading.Thread(target=lambda: outcomes.append(pool.extract_blocking(page(0, "<p>SPIN</p>"), None)))
    stuck.start()
    time.sleep(0.5)
    pool.close()
    pool.close()  # twice is harmless
    stuck.join(10)
    assert not stuck.is_alive()
    assert [outcome.status for outcome in outcomes] == ["failed"]
    assert wait_gone(pids) == []
    assert pool.pids() == []


def test_workers_die_with_the_crawl_process() -> None:
    """Even a SIGKILLed crawl (no close) leaves no worker behind, stuck or idle."""
    script = textwrap.dedent(f"""
        import sys, threading
        from pipelines.extract.pool import ConfigSpec, ExtractionPool
        pool = ExtractionPool(ConfigSpec(), workers=2, timeout=600, extract={HOOK!r}).start()
        print(*pool.pids(), flush=True)
        threading.Thread(target=pool.extract_blocking, args=("<p>SPIN</p>", None), daemon=True).start()
        sys.stdin.read()
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parents[3])
    assert parent.stdout is not None
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    time.sleep(0.5)  # one of them is spinning now
    parent.kill()
    parent.wait()
    assert wait_gone(pids) == []


def test_a_bad_watchlist_is_a_usage_error_and_no_worker_is_left(tmp_path: Path) -> None:
    watch = tmp_path / "watch.yaml"
    watch.write_text("- term: x\n", encoding="utf-8")
    pool = ExtractionPool(ConfigSpec(watchlists=(str(watch),)), workers=1)
    with pytest.raises(UsageError, match=r"watch.yaml:1: entry has no 'category'"):
        pool.start()
    assert pool.pids() == []


def test_the_budget_must_be_positive() -> None:
    for budget in (0, -1, float("nan")):
        with pytest.raises(UsageError, match="positive number of seconds"):
            ExtractionPool(ConfigSpec(), timeout=budget)


FORKED = textwrap.dedent(f"""
    import json, os, sys
    from crawler.errors import UsageError
    from pipelines.extract.pool import ConfigSpec, ExtractionPool
    from tests.unit.extract.test_pool import page
    report = {{}}
    with ExtractionPool(ConfigSpec(), workers=1, timeout=1.0, extract={HOOK!r}, fork=True) as pool:
        [first] = pool.pids()
        report["forked"] = os.getppid() != first and first != os.getpid()
        ok = pool.extract_blocking(page(1).encode(), "http://shop.example/item", "text/html")
        report["ok"] = [ok.status, ok.signals.title, ok.signals.emails]
        spin = pool.extract_blocking(page(2, "<p>SPIN</p>").encode(), None, "text/html")
        report["spin"] = [spin.status, spin.signals.title, bool(spin.signals.links)]
        [second] = pool.pids()
        crash = pool.extract_blocking(page(3, "<p>CRASH</p>").encode(), None, "text/html")
        report["crash"] = [crash.status, crash.signals.title, crash.error]
        again = pool.extract_blocking(page(4).encode(), None, "text/html")
        report["again"] = again.status
        report["pids"] = [first, second, *pool.pids()]
    bad = ExtractionPool(ConfigSpec(watchlists=(sys.argv[1],)), workers=1, fork=True)
    try:
        bad.start()
    except UsageError as exc:
        report["bad"] = str(exc)
    print(json.dumps(report))
""")


def test_a_forked_worker_has_the_same_budget_and_outcomes(tmp_path: Path) -> None:
    """``fork`` (the one-file CLI, a process with one thread): the configuration is compiled in the parent and the
    worker forked from it; a page over the budget keeps its parse, a dead worker is replaced, a bad watch list is the
    same one-line error, and no worker outlives the pool. Run in a fresh process (pytest's has threads)."""
    watch = tmp_path / "watch.yaml"
    watch.write_text("- term: x\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", FORKED, str(watch)], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[3])
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["forked"] is True
    assert report["ok"] == ["ok", "Shop 1", ["shop1@example.org"]]
    assert report["spin"] == ["timeout", "Shop 2", True]
    assert report["crash"][:2] == ["failed", "Shop 3"] and "died" in report["crash"][2]
    assert report["again"] == "ok"
    assert len(set(report["pids"])) == 3  # the first worker, and one replacement after each of the two losses
    assert wait_gone(report["pids"]) == []
    assert re.fullmatch(r".*watch\.yaml:1: entry has no 'category'.*", report["bad"])


def test_workers_give_up_the_cpu_priority_they_are_told() -> None:
    """nice=N: each worker, spawned or forked, replacements too, runs N above the crawl process's nice value, so
    the reactor runs first when cores are short."""
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    for fork in (False, True):
        with ExtractionPool(ConfigSpec(), workers=1, timeout=1.0, extract=HOOK, fork=fork, nice=5) as lowered:
            (pid,) = lowered.pids()
            assert os.getpriority(os.PRIO_PROCESS, pid) == min(ours + 5, 19)
            assert lowered.extract_blocking("<p>SPIN</p>", None).status == "timeout"  # its replacement too
            (replacement,) = lowered.pids()
            assert replacement != pid and os.getpriority(os.PRIO_PROCESS, replacement) == min(ours + 5, 19)
    with ExtractionPool(ConfigSpec(), workers=1, timeout=1.0, extract=HOOK) as unchanged:
        assert os.getpriority(os.PRIO_PROCESS, unchanged.pids()[0]) == ours
    with pytest.raises(UsageError, match="DARKCRAWL_EXTRACT_NICE"):
        ExtractionPool(ConfigSpec(), nice=20)
