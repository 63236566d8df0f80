"""Extraction in worker processes, each page under a time budget (docs/signals.md, "Extraction pool").

Offers :class:`ExtractionPool` (:meth:`~ExtractionPool.extract` for asyncio callers such as the crawl's pipeline
stage, :meth:`~ExtractionPool.extract_blocking` for the one-file CLI), :class:`ConfigSpec` (what each worker builds its
:class:`~pipelines.extract.signals.ExtractionConfig` from), :class:`Outcome` and :func:`default_workers`.

Why processes: extraction is CPU-bound pure Python; in the crawl process it holds the reactor thread (one hostile
page stalls every download) and one core. Why a budget enforced by killing: a regular expression stuck in C cannot be
interrupted any other way. A page over its budget costs its worker, which is killed and replaced; the page keeps what
the worker reported before (title, text, links: sent as soon as parsing ends) and is never retried. A worker that dies
(segfault, OOM kill) is replaced the same way and its page marked failed.

Workers are fresh interpreters (:mod:`pipelines.extract.worker`: forking the crawl process would copy its
threads' locks, and multiprocessing's spawn would re-run the crawl's main module) that compile their configuration
once, at start; a page crosses the socket once each way. A worker is killed when the thread that started it ends
(``PR_SET_PDEATHSIG``), so none outlives the crawl, even a stuck one. The crawl waits for its workers on its event
loop (each worker's socket watched by the loop, in the reactor's thread): no thread of the crawl process competes
with the reactor for the interpreter.

The one-file CLI (``darkcrawl extract``) is a process with one thread and nothing else to do: with ``fork`` the pool
compiles the configuration there and forks its worker, which inherits it, instead of starting a second interpreter
that would import and compile everything again (docs/performance.md, "Startup"). The budget and what a page keeps
when it runs over it are the same.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from crawler.errors import UsageError

from .caps import DEFAULT_MAX_PER_KIND
from .language import DEFAULT_SAMPLE
from .signals import ExtractionConfig, Signals
from .text import ParsedDocument

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)

EXTRACTOR = "pipelines.extract.signals:extract_signals"
# Isolated (-I: no PYTHONPATH, no working directory on the path), importing darkcrawl from where this process did.
WORKER_MAIN = (
    f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r}); "
    "from pipelines.extract.worker import main; sys.exit(main(sys.argv))"
)
STARTUP_TIMEOUT = 120.0  # seconds a new worker may take to compile its configuration (about 0.2 s of CPU here)
MAX_NICE = 19  # the lowest CPU priority Linux gives
STOP_GRACE = 2.0  # seconds a worker is given to exit after being asked, before it is killed


def default_workers() -> int:
    """One worker per core this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ConfigSpec:
    """The files, sample size and per-kind cap an :class:`ExtractionConfig` is built from: what a worker receives
    (small to send), compiling its own configuration once."""

    watchlists: tuple[str, ...] = ()
    vendor_rules: tuple[str, ...] = ()
    language_sample: int = DEFAULT_SAMPLE
    max_per_kind: int = DEFAULT_MAX_PER_KIND

    def build(self) -> ExtractionConfig:
        """Compile the configuration. Raises :class:`UsageError` naming a bad file and line, or a cap below 1."""
        return ExtractionConfig.load(
            [Path(p) for p in self.watchlists],
            [Path(p) for p in self.vendor_rules],
            self.language_sample,
            self.max_per_kind,
        )


@dataclass
class Outcome:
    """How one page's extraction ended.

    ``status`` is ``ok`` (``signals`` complete), ``timeout`` (over the budget: ``signals`` holds what was known
    when the worker was killed, the title, text, links and text hash when parsing had finished, else nothing) or
    ``failed`` (the worker died or raised: the same partial ``signals``; ``error`` says what happened).
    """

    status: str
    elapsed_ms: int
    signals: Signals = field(default_factory=Signals)
    error: str = ""


Task = tuple[str | bytes | ParsedDocument, str | None, str | None]  # body (or the crawl's parse of it), URL, type


def lower_priority(pid: int, increment: int) -> None:
    """Make worker *pid* yield the CPU to this process: its nice value *increment* above ours. The crawl's reactor is
    what keeps downloads flowing, and a page waiting a little longer for extraction costs nothing, so when cores are
    short the scheduler should run the reactor first. Left as it is where the system refuses."""
    if increment <= 0:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, pid, min(os.getpriority(os.PRIO_PROCESS, 0) + increment, MAX_NICE))
    except OSError as exc:
        log.debug("extraction worker %d keeps its CPU priority: %s", pid, exc)


def _poll(conn: Connection, timeout: float) -> bool:
    """Whether *conn* has something to read within *timeout* seconds; True when it is closed (reading says why)."""
    try:
        return conn.poll(timeout)
    except (OSError, ValueError):
        return True


def _partial(parsed: Signals | None) -> Signals:
    """What is known of a page whose extraction did not finish: its parse (with the text's hash), else nothing."""
    if parsed is None:
        return Signals()
    parsed.content_sha256 = hashlib.sha256(parsed.text.encode("utf-8", "surrogatepass")).hexdigest()
    return parsed


class _ForkedProcess:
    """A worker forked from this process, with what :class:`_Worker` uses of :class:`subprocess.Popen`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            if self.returncode is None:
                self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
            return self.returncode
        deadline = time.monotonic() + timeout
        while (code := self.poll()) is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"extraction worker {self.pid}", timeout)
            time.sleep(0.01)
        return code

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _forked_worker(conn: Connection, config: ExtractionConfig, extractor: str) -> NoReturn:
    """The body of a forked worker: the pages it is sent, then exit without the parent's clean-up (its buffers,
    its ``atexit`` handlers are the parent's to run)."""
    from .worker import die_with_parent, resolve, serve_pages

    code = 1
    try:
        die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a started worker: Ctrl-C is for the parent to handle
        serve_pages(conn, config, resolve(extractor))
        code = 0
    except (EOFError, OSError, KeyboardInterrupt):  # the parent is gone or closing: as a started worker's main()
        pass
    except BaseException:  # a bug: said as a started worker's interpreter would say it
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


class _Worker:
    """One worker process and the parent's end of its pipe; used by one thread at a time."""

    def __init__(self, pool: ExtractionPool) -> None:
        self.pool = pool
        self.process: Any = None
        self.conn: Connection | None = None
        self.reaping = threading.Lock()  # close() may reap a worker while extract_blocking's caller does too
        self.is_ready = False
        self.wake: Callable[[], None] | None = None  # ends the event loop's wait for this worker's socket

    def start(self) -> None:
        """Start the process (does not wait for it to be ready: :meth:`ready` does)."""
        parent, child = socket.socketpair()
        if self.pool.config is not None:  # forked, its configuration compiled already
            pid = os.fork()
            if pid == 0:
                parent.close()
                _forked_worker(Connection(child.detach()), self.pool.config, self.pool.extractor)
            child.close()
            lower_priority(pid, self.pool.nice)
            self.process, self.conn, self.is_ready = _ForkedProcess(pid), Connection(parent.detach()), True
            self.pool.started += 1
            return
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-c", WORKER_MAIN, str(child.fileno())],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        except OSError:
            parent.close()
            raise
        finally:
            child.close()
        lower_priority(process.pid, self.pool.nice)
        self.process, self.conn, self.is_ready = process, Connection(parent.detach()), False
        self.conn.send((self.pool.spec, self.pool.extractor))
        self.pool.started += 1

    def ready(self) -> None:
        """Wait until the worker has compiled its configuration. Raises :class:`UsageError` for a bad watch list
        or rule file, :class:`RuntimeError` when the worker cannot start."""
        if self.is_ready:  # forked with its configuration
            return
        assert self.conn is not None
        self._take_ready(_poll(self.conn, STARTUP_TIMEOUT))

    def _take_ready(self, readable: bool) -> None:
        """Read the worker's first answer, once *readable* says it came (False: none within the startup time)."""
        assert self.conn is not None
        try:
            if not readable:
                raise RuntimeError(f"an extraction worker did not start within {STARTUP_TIMEOUT:.0f} s")
            message = self.conn.recv()
        except (EOFError, OSError):
            raise RuntimeError(f"an extraction worker died while starting (exit code {self._reap()})") from None
        if message[0] == "error":
            self.stop()
            raise UsageError(message[1])
        self.is_ready = True

    def _reap(self) -> int | None:
        """Kill the process if it still runs, wait for it and close the pipe; return its exit status."""
        with self.reaping:
            process, conn = self.process, self.conn
            self.process = self.conn = None
        if self.wake is not None:  # an exchange waiting on this worker's socket: it must not wait for its budget
            self.wake()
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        code = process.wait()
        if conn is not None:
            conn.close()
        return int(code)

    def recover(self) -> None:
        """Kill the process (stuck or dead) and start its replacement, unless the pool is closing. The replacement
        compiles its configuration while the page's outcome goes on; the next page waits for it (:meth:`run`)."""
        self._reap()
        if self.pool.closed:
            return
        self.pool.replaced += 1
        try:
            self.start()
        except Exception as exc:  # the next page tries again
            self._reap()
            log.error("could not start an extraction worker: %s", exc)

    def stop(self) -> None:
        """Ask the process to exit; kill it when it does not within :data:`STOP_GRACE`."""
        process, conn = self.process, self.conn
        if process is None or conn is None:
            return
        try:
            conn.send(None)
        except (OSError, ValueError):
            pass
        try:
            process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            pass
        self._reap()

    def run(self, task: Task, budget: float) -> Outcome:
        """Extract *task* (body or the crawl's parse of it, URL, Content-Type) within *budget* seconds, blocking."""
        exchange = self._exchange(task, budget)
        try:
            timeout = next(exchange)
            while True:
                conn = self.conn  # None once close() reaped the worker from another thread: reading then says so
                timeout = exchange.send(True if conn is None else _poll(conn, timeout))
        except StopIteration as done:
            return done.value

    async def run_async(self, task: Task, budget: float) -> Outcome:
        """:meth:`run` for the event loop's thread: the worker's socket is watched by the loop, not by a thread (no
        thread in the crawl process competes with the reactor for the interpreter)."""
        import asyncio

        loop = asyncio.get_running_loop()
        exchange = self._exchange(task, budget)
        try:
            timeout = next(exchange)
            while True:
                timeout = exchange.send(await self._readable(loop, timeout))
        except StopIteration as done:
            return done.value
        except asyncio.CancelledError:  # the page was dropped mid-way: its answer must never pass for the next page's
            exchange.close()
            self.recover()
            raise

    async def _readable(self, loop: asyncio.AbstractEventLoop, timeout: float) -> bool:
        """Whether the worker's socket has something to read within *timeout* seconds (True too once reaped)."""
        conn = self.conn
        if conn is None or _poll(conn, 0):
            return True
        waiting = loop.create_future()

        def settle(readable: bool) -> None:
            if not waiting.done():
                waiting.set_result(readable)

        descriptor = conn.fileno()
        loop.add_reader(descriptor, settle, True)
        timer = loop.call_later(timeout, settle, False)
        self.wake = lambda: settle(True)
        try:
            return bool(await waiting)
        finally:
            self.wake = None
            timer.cancel()
            loop.remove_reader(descriptor)

    def _exchange(self, task: Task, budget: float) -> Generator[float, bool, Outcome]:
        """One page's exchange with the worker, for :meth:`run` and :meth:`run_async`: it yields how long to wait
        for the worker's next message, is sent whether one came, and returns the :class:`Outcome`."""
        if self.pool.closed:
            return Outcome("failed", 0, Signals(), "the extraction pool is closed")
        try:
            if self.process is None:
                self.start()
            if not self.is_ready:  # a replacement still compiling its configuration: not in this page's budget
                self._take_ready((yield STARTUP_TIMEOUT))
        except Exception as exc:  # the page goes on without signals; the next page tries again
            self._reap()
            return Outcome("failed", 0, Signals(), f"no extraction worker could start: {exc}")
        conn = self.conn  # close() may reap this worker meanwhile
        assert conn is not None
        started = time.monotonic()
        parsed: Signals | None = None

        def elapsed_ms() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            conn.send(task)
            while True:
                remaining = started + budget - time.monotonic()
                if remaining <= 0 or not (yield remaining):
                    elapsed = elapsed_ms()
                    self.recover()
                    return Outcome("timeout", elapsed, _partial(parsed))
                message = conn.recv()
                if message[0] == "parsed":
                    parsed = message[1]
                    if isinstance(task[0], ParsedDocument):  # the worker did not send back the text we hold
                        parsed.text = task[0].text
                    continue
                if message[0] == "failed":
                    return Outcome("failed", elapsed_ms(), _partial(parsed), message[1])
                signals: Signals = message[1]
                if parsed is not None:
                    signals.text, signals.links = parsed.text, parsed.links
                return Outcome("ok", int(message[2] * 1000), signals)
        except (EOFError, OSError):  # the worker died under this page: segfault, OOM kill, a signal
            elapsed = elapsed_ms()
            code = self._reap()
            self.recover()
            return Outcome("failed", elapsed, _partial(parsed), f"the extraction worker died (exit code {code})")


class ExtractionPool:
    """*workers* processes (0: :func:`default_workers`) extracting pages, *timeout* seconds each at most.

    *extract* names the function workers call, ``module:function`` (:data:`EXTRACTOR`; tests name slow or crashing
    stand-ins). With *fork* the configuration is compiled in this process and the workers are forked from it: only
    for a process with one thread (the one-file CLI). Call :meth:`start` first and :meth:`close` at the end.
    """

    def __init__(self, spec: ConfigSpec, workers: int = 0, timeout: float = 10.0, extract: str = EXTRACTOR,
                 fork: bool = False, nice: int = 0):
        if not timeout > 0:
            raise UsageError(
                f"the extraction time budget (DARKCRAWL_EXTRACT_TIMEOUT) must be a positive number of seconds, "
                f"not {timeout!r}"
            )
        if not 0 <= nice <= MAX_NICE:
            raise UsageError(f"DARKCRAWL_EXTRACT_NICE must be a whole number from 0 to {MAX_NICE}, not {nice!r}")
        self.spec = spec
        self.nice = nice  # CPU priority the workers give up (see lower_priority)
        self.size = workers if workers > 0 else default_workers()
        self.timeout = float(timeout)
        self.extractor = extract
        self.fork = fork
        self.config: ExtractionConfig | None = None  # compiled here with *fork*
        self.workers = [_Worker(self) for _ in range(self.size)]
        self.started = 0  # processes started, replacements included
        self.replaced = 0  # workers killed and replaced (timeouts, deaths)
        self._idle: asyncio.Queue[_Worker] | None = None
        self._lock = threading.Lock()
        self.closed = False

    def start(self) -> ExtractionPool:
        """Start every worker and wait until each has compiled its configuration (in parallel). Raises
        :class:`UsageError` naming a bad watch-list or rule file."""
        try:
            if self.fork:
                self.config = self.spec.build()
            for worker in self.workers:
                worker.start()
            for worker in self.workers:
                worker.ready()
        except BaseException:
            self.close()
            raise
        return self

    def pids(self) -> list[int]:
        """The process ids of the live workers."""
        return [int(worker.process.pid) for worker in self.workers if worker.process is not None]

    async def extract(
        self, body: str | bytes | ParsedDocument, url: str | None, content_type: str | None = None
    ) -> Outcome:
        """Extract one page in the next free worker, without blocking the event loop (from its thread only). Pages
        wait for a free worker; the budget starts when one takes the page."""
        import asyncio

        if self._idle is None:
            self._idle = asyncio.Queue()
            for worker in self.workers:
                self._idle.put_nowait(worker)
        worker = await self._idle.get()
        try:
            return await worker.run_async((body, url, content_type), self.timeout)
        finally:
            self._idle.put_nowait(worker)

    def extract_blocking(self, body: str | bytes, url: str | None, content_type: str | None = None) -> Outcome:
        """Extract one page in the first worker, blocking the caller (the one-file CLI)."""
        with self._lock:
            return self.workers[0].run((body, url, content_type), self.timeout)

    def close(self) -> None:
        """Stop every worker (killing any still busy after :data:`STOP_GRACE`) and wait for them: none outlives
        the pool. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for worker in self.workers:  # all asked at once, then each waited for
            conn = worker.conn
            if conn is not None:
                try:
                    conn.send(None)
                except (OSError, ValueError):
                    pass
        for worker in self.workers:
            worker.stop()

    def __enter__(self) -> ExtractionPool:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
