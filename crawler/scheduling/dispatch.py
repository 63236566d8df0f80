"""Starting, watching and stopping one scheduled crawl: a local ``darkcrawl crawl`` process, or a Scrapyd job.

A local run is ``python -m crawler.cli crawl SEEDS --jobdir DIR --json`` in a new session (one Scrapy process per
crawl; a Ctrl-C meant for the scheduler does not reach it), its JSON summary in ``<run dir>/output.json`` and its log in
``<run dir>/crawl.log``. It is identified by pid *and* start time, so a scheduler restarted later recognises a crawl
it started (and does not mistake a reused pid for it). A clean stop is SIGINT: Scrapy closes the spider, keeps the
queue in the job directory, and the crawl exits with its summary.

A Scrapyd run is ``schedule.json`` with the spider ``onion``, the seed URLs as the spider argument ``urls`` and the
crawl's settings (Tor SOCKS, Elasticsearch, job directory) as ``setting=`` values; a clean stop is ``cancel.json``
with ``signal=INT``.

Offers: :class:`RunRequest`, :class:`Outcome`, :class:`LocalDispatcher`, :class:`ScrapydDispatcher`,
:func:`dispatcher_from_settings`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from crawler.errors import ServiceError
from crawler.redact import mask_url
from crawler.scheduling.crawlstatus import pid_alive, pid_start_time, read_status, status_dir
from crawler.scheduling.store import Run, Schedule

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunRequest:
    schedule: Schedule
    crawl_id: str
    seeds_file: Path
    jobdir: Path
    run_dir: Path


@dataclass
class Started:
    pid: int | None = None
    pid_start: int | None = None
    job: str | None = None


@dataclass
class Outcome:
    """How a run ended. ``exit_code`` None: unknown (the process was not our child, or a Scrapyd job)."""

    exit_code: int | None
    finish_reason: str | None = None
    pages: int | None = None
    indexed: int | None = None
    errors: dict[str, int] = field(default_factory=dict)
    tor: dict[str, int] = field(default_factory=dict)
    message: str = ""

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class Dispatcher(Protocol):
    name: str

    def start(self, request: RunRequest) -> Started: ...

    def poll(self, run: Run) -> Outcome | None: ...

    def stop(self, run: Run, kill: bool = False) -> None: ...


def last_error_line(log: Path) -> str:
    """The last ``darkcrawl: error:`` line of a crawl's log, else its last line (for the run's message)."""
    try:
        lines = [
            line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()
        ]
    except OSError:
        return ""
    for line in reversed(lines):
        if "darkcrawl: error:" in line:
            return line.split("darkcrawl: error:", 1)[1].strip()
    return lines[-1][-300:] if lines else ""


def outcome_from_files(settings: BaseSettings, run: Run, exit_code: int | None) -> Outcome:
    """Read what a finished run left: its JSON summary, else the crawl's status file."""
    outcome = Outcome(exit_code)
    summary: dict[str, Any] | None = None
    if run.run_dir:
        try:
            summary = json.loads((Path(run.run_dir) / "output.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            summary = None
    status = read_status(status_dir(settings) / f"{run.crawl_id}.json")
    if summary:
        outcome.finish_reason = summary.get("finish_reason")
        outcome.pages = summary.get("pages")
        outcome.indexed = summary.get("indexed")
        outcome.errors = dict(summary.get("errors") or {})
    elif status:
        outcome.finish_reason = status.get("finish_reason")
        outcome.pages = status.get("pages")
        outcome.indexed = status.get("indexed")
        outcome.errors = dict(status.get("errors") or {})
    if status:
        outcome.tor = dict(status.get("tor") or {})
    if run.run_dir and (exit_code not in (0, None) or not summary):
        outcome.message = last_error_line(Path(run.run_dir) / "crawl.log")
    return outcome


class LocalDispatcher:
    name = "local"

    def __init__(self, settings: BaseSettings, config_file: str | None = None):
        self.settings = settings
        self.config_file = config_file
        self.children: dict[int, subprocess.Popen[bytes]] = {}

    def command(self, request: RunRequest) -> list[str]:
        command = [sys.executable, "-m", "crawler.cli"]
        if self.config_file:
            command += ["--config", self.config_file]
        command += ["crawl", str(request.seeds_file), "--jobdir", str(request.jobdir), "--json"]
        if request.schedule.depth is not None:
            command += ["--depth", str(request.schedule.depth)]
        if request.schedule.max_pages is not None:
            command += ["--max-pages", str(request.schedule.max_pages)]
        if request.schedule.warc:
            command.append("--warc")
        return command

    def start(self, request: RunRequest) -> Started:
        env = dict(os.environ)
        env["DARKCRAWL_CRAWL_ID"] = request.crawl_id
        env["DARKCRAWL_DATA_DIR"] = str(self.settings.get("DARKCRAWL_DATA_DIR") or env.get("DARKCRAWL_DATA_DIR", ""))
        if not env["DARKCRAWL_DATA_DIR"]:
            del env["DARKCRAWL_DATA_DIR"]
        pythonpath = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH", "")]))
        env["PYTHONPATH"] = pythonpath
        with (request.run_dir / "output.json").open("wb") as output, (request.run_dir / "crawl.log").open("ab") as log:
            process = subprocess.Popen(
                self.command(request),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=log,
                cwd=request.run_dir,
                env=env,
                start_new_session=True,
            )
        self.children[process.pid] = process
        return Started(pid=process.pid, pid_start=pid_start_time(process.pid))

    def poll(self, run: Run) -> Outcome | None:
        assert run.pid is not None
        child = self.children.get(run.pid)
        if child is not None:
            code = child.poll()
            if code is None:
                return None
            del self.children[run.pid]
            return outcome_from_files(self.settings, run, code)
        if pid_alive(run.pid, run.pid_start):
            return None  # a crawl started by an earlier scheduler, still running
        return outcome_from_files(self.settings, run, None)

    def stop(self, run: Run, kill: bool = False) -> None:
        if run.pid is None or not (run.pid in self.children or pid_alive(run.pid, run.pid_start)):
            return
        try:
            os.kill(run.pid, signal.SIGKILL if kill else signal.SIGINT)
        except ProcessLookupError:
            pass


class ScrapydDispatcher:
    """Runs crawls as jobs of a Scrapyd server (``DARKCRAWL_SCRAPYD_URL``), through its JSON API."""

    name = "scrapyd"
    SPIDER = "onion"

    def __init__(self, settings: BaseSettings, url: str):
        import httpx

        self.settings = settings
        self.url = url.rstrip("/")
        self.project = settings.get("DARKCRAWL_SCRAPYD_PROJECT")
        self.client = httpx.Client(timeout=30)
        self.prepared = False

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        import httpx

        try:
            response = self.client.request(method, f"{self.url}/{path}", **kwargs)
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceError(
                f"Scrapyd at {mask_url(self.url)} did not answer {path}: {exc}; check DARKCRAWL_SCRAPYD_URL"
            ) from None
        if data.get("status") != "ok":
            raise ServiceError(f"Scrapyd at {mask_url(self.url)} refused {path}: {data.get('message', data)}")
        return dict(data)

    def crawl_settings(self, request: RunRequest) -> dict[str, str]:
        """The settings the job needs: what the crawl CLI would have set (Tor, Elasticsearch, limits, job dir).

        Every ``DARKCRAWL_*`` setting that differs from its default is passed (the job reads no environment nor
        config file of ours). The shipped watch list, vendor rules and high-risk terms are passed as this
        installation's paths: a deployed egg is a zip file, which those readers cannot read files from."""
        from crawler.config import darkcrawl_defaults
        from crawler.safety.highrisk import default_terms_path
        from pipelines.extract.keywords import default_watchlist_path
        from pipelines.extract.vendors import default_rules_path

        defaults = darkcrawl_defaults()
        values: dict[str, str] = {}
        for name, default in defaults.items():
            value = self.settings.get(name)
            if value != default and not name.startswith(
                ("DARKCRAWL_SCRAPYD", "DARKCRAWL_METRICS", "DARKCRAWL_SCHEDULER")
            ):
                values[name] = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        if not self.settings.getlist("DARKCRAWL_WATCHLISTS"):
            values["DARKCRAWL_WATCHLISTS"] = str(default_watchlist_path())
        if not self.settings.getlist("DARKCRAWL_VENDOR_RULES"):
            values["DARKCRAWL_VENDOR_RULES"] = str(default_rules_path())
        if not self.settings.getlist("DARKCRAWL_HIGH_RISK_TERMS"):
            values["DARKCRAWL_HIGH_RISK_TERMS"] = str(default_terms_path())
        values["DARKCRAWL_CRAWL_ID"] = request.crawl_id
        values["JOBDIR"] = str(request.jobdir)
        values["LOG_INSTALL_ROOT_HANDLER"] = "True"  # Scrapyd's LOG_FILE gets the job's log (our CLI logs itself)
        if request.schedule.depth == 0:
            values["DARKCRAWL_FOLLOW_LINKS"] = "False"
        elif request.schedule.depth is not None:
            values["DEPTH_LIMIT"] = str(request.schedule.depth)
        if request.schedule.max_pages is not None:
            values["DARKCRAWL_MAX_PAGES"] = str(request.schedule.max_pages)
        if request.schedule.warc:
            values["DARKCRAWL_WARC_ENABLED"] = "True"
        return values

    def prepare(self) -> None:
        """What ``darkcrawl crawl`` checks before a crawl and a Scrapyd job cannot: a configured Tor (the job cannot
        launch its own) and the index templates (installed here, once)."""
        from crawler.tor.config import TorConfig

        if not TorConfig.from_settings(self.settings).endpoints:
            raise ServiceError(
                "Scrapyd runs need DARKCRAWL_TOR_SOCKS (and DARKCRAWL_TOR_CONTROL): a Scrapyd job cannot launch its "
                "own tor. Point them at the tor the Scrapyd host uses"
            )
        if self.settings.getbool("DARKCRAWL_ES_ENABLED") and not self.prepared:
            from crawler.es.schema import ensure_indices

            ensure_indices(self.settings, lambda message: None)
        self.prepared = True

    def start(self, request: RunRequest) -> Started:
        self.prepare()
        urls = request.seeds_file.read_text(encoding="utf-8")
        data: dict[str, str | list[str]] = {
            "project": self.project,
            "spider": self.SPIDER,
            "jobid": request.crawl_id,
            "urls": urls,
            "crawl_id": request.crawl_id,
            "setting": [f"{name}={value}" for name, value in self.crawl_settings(request).items()],
        }
        answer = self._call("POST", "schedule.json", data=data)
        return Started(job=str(answer.get("jobid", request.crawl_id)))

    def poll(self, run: Run) -> Outcome | None:
        answer = self._call("GET", "listjobs.json", params={"project": self.project})
        for state in ("pending", "running"):
            if any(job.get("id") == run.job for job in answer.get(state, [])):
                return None
        finished = next((job for job in answer.get("finished", []) if job.get("id") == run.job), None)
        outcome = outcome_from_files(self.settings, run, None)
        if finished is None:
            outcome.message = outcome.message or "Scrapyd no longer lists the job"
        return outcome

    def stop(self, run: Run, kill: bool = False) -> None:
        self._call(
            "POST",
            "cancel.json",
            data={"project": self.project, "job": run.job or "", "signal": "KILL" if kill else "INT"},
        )


def dispatcher_from_settings(settings: BaseSettings, config_file: str | None = None) -> Dispatcher:
    url = settings.get("DARKCRAWL_SCRAPYD_URL")
    if url:
        return ScrapydDispatcher(settings, url)
    return LocalDispatcher(settings, config_file)
