"""The private Tor network on loopback: start it, watch it come up, check it, stop it. Documentation: docs/lab.md.

What runs (all on 127.0.0.1, every process in its own session so it outlives ``darkcrawl lab up``):

* 3 directory authorities (``auth0``-``auth2``) and 3 relays (``relay0`` is the exit, allowed to reach 127.0.0.1 only);
* ``onion``: a tor hosting one v3 onion service per fixture site, keys kept in ``<lab dir>/onions/<site>`` so the
  addresses survive restarts;
* one HTTP server per fixture site (``python -m crawler.lab.serve``), the target of its onion's port 80;
* ``client``: the tor crawlers use, with a SOCKS port (``IsolateSOCKSAuth``), extra SOCKS ports for browser contexts,
  and a cookie-authenticated control port.

Ports come from a fixed layout above ``DARKCRAWL_LAB_BASE_PORT`` (see :class:`PortPlan`). Tor processes are started
with :mod:`subprocess` rather than ``stem.process.launch_tor_with_config``, which ties tor's stdout to a pipe of the
launching process (and times out with SIGALRM); stem's :class:`~stem.control.Controller` then watches the client's
bootstrap and the onion tor's descriptor uploads.

Offers: :class:`LabConfig`, :class:`PortPlan`, :class:`Lab` (``up``, ``down``, ``status``), :class:`LabStatus`,
:func:`fetch_through_socks`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings

from crawler import settings as default_settings
from crawler.errors import ServiceError, UsageError
from crawler.lab.authority import ensure_authority_keys, relay_fingerprint
from crawler.lab.state import (
    MEMBER_ENV,
    LabState,
    ProcessRecord,
    find_members,
    is_member,
    load_state,
    member_marker,
    save_state,
    start_time,
)
from crawler.lab.torrc import LOOPBACK, AuthorityInfo, Node, OnionService, Role, render_torrc
from crawler.paths import data_dir, ensure_private_dir
from crawler.ports import port_is_free
from crawler.tor.control import parse_bootstrap_phase

Say = Callable[[str], None]

AUTHORITY_COUNT = 3
RELAY_COUNT = 3  # relay0 is the exit
MAX_EXTRA_SOCKS = 8
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL in `lab down`
FETCH_TIMEOUT = 30.0  # seconds one readiness fetch through the client may take
UPLOAD_PATIENCE = 60.0  # seconds after the client's bootstrap to wait for an upload event before fetching anyway
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class LabConfig:
    """The lab's settings, read once (``Config.from_settings`` idiom)."""

    lab_dir: Path
    base_port: int
    tor_binary: str = default_settings.DARKCRAWL_TOR_BINARY
    tor_gencert: str = default_settings.DARKCRAWL_LAB_TOR_GENCERT
    ready_timeout: float = default_settings.DARKCRAWL_LAB_READY_TIMEOUT
    extra_socks: int = default_settings.DARKCRAWL_LAB_EXTRA_SOCKS
    sites: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> LabConfig:
        """Build the config from darkcrawl settings. Raises :class:`UsageError` for values out of range."""
        from crawler.lab.sites import SITE_NAMES, SPECIAL_SITE_NAMES

        lab_dir = settings.get("DARKCRAWL_LAB_DIR") or str(data_dir(settings) / "lab")
        extra = settings.getint("DARKCRAWL_LAB_EXTRA_SOCKS")
        if not 0 <= extra <= MAX_EXTRA_SOCKS:
            raise UsageError(f"DARKCRAWL_LAB_EXTRA_SOCKS must be between 0 and {MAX_EXTRA_SOCKS}, got {extra}")
        config = cls(
            lab_dir=Path(lab_dir).expanduser().resolve(),
            base_port=settings.getint("DARKCRAWL_LAB_BASE_PORT"),
            tor_binary=settings.get("DARKCRAWL_TOR_BINARY") or default_settings.DARKCRAWL_TOR_BINARY,
            tor_gencert=settings.get("DARKCRAWL_LAB_TOR_GENCERT") or default_settings.DARKCRAWL_LAB_TOR_GENCERT,
            ready_timeout=settings.getfloat("DARKCRAWL_LAB_READY_TIMEOUT"),
            extra_socks=extra,
            sites=tuple(SITE_NAMES) + tuple(SPECIAL_SITE_NAMES),
        )
        plan = config.plan
        if plan.base < 1024 or plan.last > 65535:
            raise UsageError(
                f"DARKCRAWL_LAB_BASE_PORT={plan.base} puts the lab's ports ({plan.base}-{plan.last}) outside "
                "1024-65535: choose a base between 1024 and "
                f"{65535 - (plan.last - plan.base)}"
            )
        return config

    @property
    def plan(self) -> PortPlan:
        return PortPlan(self.base_port, self.sites, self.extra_socks)


@dataclass(frozen=True)
class PortPlan:
    """The lab's fixed port layout above *base*, so a restarted lab listens where it did before."""

    base: int
    sites: tuple[str, ...]
    extra_socks: int = 2

    def authority(self, index: int) -> tuple[int, int]:
        """Return the (ORPort, DirPort) of authority *index*."""
        return self.base + 2 * index, self.base + 2 * index + 1

    def relay(self, index: int) -> tuple[int, int]:
        """Return the (ORPort, DirPort) of relay *index*."""
        return self.base + 2 * (AUTHORITY_COUNT + index), self.base + 2 * (AUTHORITY_COUNT + index) + 1

    @property
    def socks(self) -> int:
        return self.base + 20

    @property
    def control(self) -> int:
        return self.base + 21

    @property
    def extra_socks_ports(self) -> tuple[int, ...]:
        return tuple(self.base + 22 + index for index in range(self.extra_socks))

    @property
    def onion_control(self) -> int:
        return self.base + 30

    def http(self, site: str) -> int:
        return self.base + 40 + self.sites.index(site)

    @property
    def last(self) -> int:
        return self.base + 40 + max(len(self.sites) - 1, 0)

    def ports(self) -> list[tuple[int, str]]:
        """Return every port the lab listens on, with what listens there."""
        ports: list[tuple[int, str]] = []
        for index in range(AUTHORITY_COUNT):
            or_port, dir_port = self.authority(index)
            ports += [(or_port, f"auth{index} ORPort"), (dir_port, f"auth{index} DirPort")]
        for index in range(RELAY_COUNT):
            or_port, dir_port = self.relay(index)
            ports += [(or_port, f"relay{index} ORPort"), (dir_port, f"relay{index} DirPort")]
        ports.append((self.socks, "client SOCKS port"))
        ports.append((self.control, "client control port"))
        ports += [(port, "client extra SOCKS port") for port in self.extra_socks_ports]
        ports.append((self.onion_control, "onion tor control port"))
        ports += [(self.http(site), f"site server {site}") for site in self.sites]
        return ports


def fetch_through_socks(socks_port: int, hostname: str, path: str = "/", timeout: float = FETCH_TIMEOUT) -> tuple[
    int, bytes
]:
    """GET ``http://<hostname><path>`` through the SOCKS port (tor resolves the name); return (status, body).

    Raises :class:`OSError` (with the cause in its message) when the request fails.
    """
    import httpx

    try:
        with httpx.Client(proxy=f"socks5h://{LOOPBACK}:{socks_port}", timeout=timeout) as client:
            response = client.get(f"http://{hostname}{path}")
            return response.status_code, response.content
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise OSError(str(exc) or type(exc).__name__) from None


def forget_failed_lookups(control_port: int) -> None:
    """After a failed onion fetch, let the lab's client build fresh circuits and ask the HSDirs again: NEWNYM clears
    its memory of failed lookups (when tor's rate limit allows it; any control error is ignored, the next try tells)."""
    import stem
    from stem.control import Controller, Signal

    try:
        with Controller.from_port(address=LOOPBACK, port=control_port) as controller:
            controller.authenticate()
            if controller.is_newnym_available():
                controller.signal(Signal.NEWNYM)
    except (stem.SocketError, stem.ControllerError, OSError):
        pass


def _last_problem(*logs: Path) -> str:
    """Return the last warning or error line of the given logs, without its timestamp, or ``""``."""
    found = ""
    for log in logs:
        try:
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            if "[warn]" in line or "[err]" in line or "Error" in line:
                found = line.split("] ", 1)[-1].strip() if "] " in line else line.strip()
    return found


@dataclass
class NodeStatus:
    name: str
    role: str
    pid: int
    up: bool


@dataclass
class OnionStatus:
    site: str
    hostname: str
    reachable: bool
    status: int = 0
    seconds: float = 0.0
    error: str = ""


@dataclass
class LabStatus:
    """What `lab status` reports."""

    lab_dir: str
    running: bool  # every process of the lab is alive
    nodes: list[NodeStatus] = field(default_factory=list)
    bootstrap: int | None = None  # the client's bootstrap percentage, None if its control port did not answer
    socks_port: int = 0
    extra_socks_ports: list[int] = field(default_factory=list)
    control_port: int = 0
    control_cookie_path: str = ""
    onions: list[OnionStatus] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.running and self.bootstrap == 100 and all(onion.reachable for onion in self.onions)

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"healthy": self.healthy}


def _bootstrap(control_port: int) -> tuple[int, str] | None:
    """Return the client's (bootstrap percent, summary) through its control port, or None if it does not answer."""
    import stem
    from stem.control import Controller

    try:
        with Controller.from_port(address=LOOPBACK, port=control_port) as controller:
            controller.authenticate()
            phase = controller.get_info("status/bootstrap-phase")
    except (stem.SocketError, stem.ControllerError, OSError):
        return None
    return parse_bootstrap_phase(phase)


class UploadWatcher:
    """Collects the onion tor's HS_DESC UPLOADED events: which onions have a descriptor on some HSDir.

    A tor client remembers which HSDirs it already asked for a descriptor and does not ask them again for a while
    (NEWNYM makes it forget), so asking before the upload can stall the start: the readiness check asks only about
    onions that were uploaded.
    """

    def __init__(self) -> None:
        self.uploaded: dict[str, int] = {}  # address without ".onion" -> uploads seen
        self.listening = False
        self._lock = threading.Lock()
        self._controller: Any = None

    def start(self, control_port: int, wait: float = 15.0) -> bool:
        """Subscribe to the onion tor's HS_DESC events; return False if its control port does not answer in *wait* s.

        Called right after the onion tor starts: it cannot upload before it has a consensus, so nothing is missed.
        """
        import stem
        from stem.control import Controller, EventType

        limit = time.monotonic() + wait
        while True:
            try:
                self._controller = Controller.from_port(address=LOOPBACK, port=control_port)
                self._controller.authenticate()
                self._controller.add_event_listener(self._on_event, EventType.HS_DESC)
                self.listening = True
                return True
            except (stem.SocketError, stem.ControllerError, OSError):
                self.close()
                if time.monotonic() > limit:
                    return False
                time.sleep(0.2)

    def _on_event(self, event: Any) -> None:
        if str(event.action) == "UPLOADED":
            with self._lock:
                self.uploaded[event.address] = self.uploaded.get(event.address, 0) + 1

    def count(self, hostname: str) -> int:
        with self._lock:
            return self.uploaded.get(hostname.removesuffix(".onion"), 0)

    def close(self) -> None:
        if self._controller is not None:
            try:
                self._controller.close()
            finally:
                self._controller = None


class Lab:
    """One lab directory's private Tor network. Methods block; progress lines go to *say*."""

    def __init__(self, config: LabConfig, say: Say = print) -> None:
        self.config = config
        self.say = say
        self.lab_dir = config.lab_dir.resolve()  # the marker of the lab's processes names the resolved path
        self._lock_depth = 0
        self.plan = config.plan
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    # --- layout ------------------------------------------------------------------------------------------------

    def nodes(self) -> list[Node]:
        """Return the lab's tor nodes, authorities first."""
        base = self.lab_dir / "nodes"
        nodes = []
        for index in range(AUTHORITY_COUNT):
            or_port, dir_port = self.plan.authority(index)
            nodes.append(Node(f"auth{index}", Role.AUTHORITY, base / f"auth{index}", or_port, dir_port))
        for index in range(RELAY_COUNT):
            or_port, dir_port = self.plan.relay(index)
            role = Role.EXIT if index == 0 else Role.RELAY
            nodes.append(Node(f"relay{index}", role, base / f"relay{index}", or_port, dir_port))
        nodes.append(Node("onion", Role.ONION, base / "onion", control_port=self.plan.onion_control))
        socks = (self.plan.socks, *self.plan.extra_socks_ports)
        nodes.append(Node("client", Role.CLIENT, base / "client", socks_ports=socks, control_port=self.plan.control))
        return nodes

    def onion_services(self) -> list[OnionService]:
        return [
            OnionService(site, self.lab_dir / "onions" / site, self.plan.http(site)) for site in self.config.sites
        ]

    @property
    def client_node(self) -> Node:
        return self.nodes()[-1]

    # --- preflight ---------------------------------------------------------------------------------------------

    def require_binaries(self) -> None:
        """Raise :class:`ServiceError` naming the fix if tor or tor-gencert cannot be found."""
        if shutil.which(self.config.tor_binary) is None:
            raise ServiceError(
                f"tor not found ({self.config.tor_binary!r}): install it (apt-get install tor) or set "
                "DARKCRAWL_TOR_BINARY to its path"
            )
        if shutil.which(self.config.tor_gencert) is None:
            raise ServiceError(
                f"tor-gencert not found ({self.config.tor_gencert!r}): install Debian's tor package (it ships "
                "tor-gencert) or set DARKCRAWL_LAB_TOR_GENCERT to its path"
            )
        if not self.config.sites:
            raise ServiceError("no fixture sites (crawler.lab.sites.SITE_NAMES is empty): nothing to serve")

    def check_ports(self) -> None:
        """Raise :class:`ServiceError` naming the first lab port that something else already uses."""
        for port, purpose in self.plan.ports():
            if not port_is_free(port):
                raise ServiceError(
                    f"port {port} on {LOOPBACK} ({purpose}) is taken: stop what listens there "
                    f"(ss -ltnp 'sport = :{port}') or set DARKCRAWL_LAB_BASE_PORT to a free range "
                    f"(the lab uses {self.plan.base}-{self.plan.last})"
                )

    # --- up ----------------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the lab directory's lock: a second `lab up` or `lab down` waits, then sees what the first did."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        ensure_private_dir(self.lab_dir)
        with (self.lab_dir / "lock").open("a") as handle:  # not inherited: Popen closes other descriptors
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.say(f"waiting for another `darkcrawl lab` command working on {self.lab_dir}")
                fcntl.flock(handle, fcntl.LOCK_EX)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0

    def up(self) -> LabState:
        """Start the lab (or find it running) and wait until every onion serves its site through the client.

        Returns the lab's state. Raises :class:`ServiceError` (after stopping whatever it started) on failure.
        """
        self.require_binaries()
        with self._exclusive():
            return self._up()

    def _up(self) -> LabState:
        existing = self._load_state_quietly()
        if existing is not None and existing.processes:
            alive = [record for record in existing.processes if self._alive(record)]
            changed = (
                set(existing.onions) != set(self.config.sites)
                or existing.base_port != self.plan.base
                or existing.extra_socks_ports != list(self.plan.extra_socks_ports)
            )
            if len(alive) == len(existing.processes) and not changed:
                return self._already_running(existing)
            if changed:
                self.say(f"running in {self.lab_dir} with other sites or ports: stopping it, then starting again")
            elif not alive:
                self.say(f"the lab in {self.lab_dir} has stopped since its last start: starting it again")
            else:
                self.say(
                    f"partly running in {self.lab_dir} ({len(alive)} of {len(existing.processes)} processes): "
                    "stopping what is left, then starting again"
                )
            self.down()
        elif find_members(self.lab_dir):
            self.say(f"stopping processes left in {self.lab_dir} by an earlier run")
            self.down()
        self.check_ports()
        started = time.monotonic()
        state = LabState(
            lab_dir=str(self.lab_dir),
            base_port=self.plan.base,
            socks_port=self.plan.socks,
            extra_socks_ports=list(self.plan.extra_socks_ports),
            control_port=self.plan.control,
            control_cookie_path=str(self.client_node.data_dir / "control_auth_cookie"),
            onion_control_port=self.plan.onion_control,
            http_ports={site: self.plan.http(site) for site in self.config.sites},
            started_at=time.time(),
        )
        watcher = UploadWatcher()
        try:
            self._prepare_directories()
            authorities = self._prepare_authorities()
            save_state(state)
            self._start_tors(state, authorities)
            state.onions = self._wait_hostnames(state)
            if not watcher.start(self.plan.onion_control):
                self.say("onion tor's control port did not answer: checking onions without upload events")
            self._start_sites(state)
            self._wait_consensus(state, started)
            self._wait_bootstrap(state, started)
            self._wait_onions(state, started, watcher)
        except BaseException as exc:
            watcher.close()
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self.say(f"start {reason}: stopping the processes it started (logs stay in {self.lab_dir / 'nodes'})")
            self.down(quiet=True)
            raise
        watcher.close()
        state.ready = True
        state.ready_seconds = round(time.monotonic() - started, 1)
        save_state(state)
        self.say(f"ready after {state.ready_seconds:.0f} s")
        return state

    def _load_state_quietly(self) -> LabState | None:
        try:
            return load_state(self.lab_dir)
        except UsageError as exc:
            self.say(f"ignoring the lab's state file: {exc}")
            return None

    def _already_running(self, state: LabState) -> LabState:
        self.say(f"already running in {self.lab_dir} ({len(state.processes)} processes); checking its onions")
        started = time.monotonic()
        watcher = UploadWatcher()
        self._wait_bootstrap(state, started)
        self._wait_onions(state, started, watcher)
        state.ready = True
        save_state(state)
        return state

    def _prepare_directories(self) -> None:
        """Create the lab's directories; empty each node's data directory but keep authority keys and onion keys."""
        ensure_private_dir(self.lab_dir)
        ensure_private_dir(self.lab_dir / "nodes")
        ensure_private_dir(self.lab_dir / "onions")
        ensure_private_dir(self.lab_dir / "logs")
        for node in self.nodes():
            ensure_private_dir(node.data_dir)
            for entry in node.data_dir.iterdir():
                if node.role is Role.AUTHORITY and entry.name in ("keys", "fingerprint"):
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        for service in self.onion_services():
            ensure_private_dir(service.hs_dir)

    def _prepare_authorities(self) -> list[AuthorityInfo]:
        self.say("authorities: making or reusing v3 keys (tor-gencert) and reading fingerprints")
        authorities = []
        for node in self.nodes()[:AUTHORITY_COUNT]:
            v3ident = ensure_authority_keys(self.config.tor_gencert, node.data_dir / "keys", node.dir_port)
            fingerprint = relay_fingerprint(self.config.tor_binary, node.data_dir, node.name)
            authorities.append(AuthorityInfo(node.name, node.or_port, node.dir_port, v3ident, fingerprint))
        return authorities

    def _spawn(self, state: LabState, name: str, role: str, command: list[str], log: Path, **env: str) -> None:
        environment = dict(os.environ)
        environment.update(env)
        environment[MEMBER_ENV] = member_marker(self.lab_dir).partition("=")[2]
        with log.open("ab") as output:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.lab_dir,
                env=environment,
                start_new_session=True,  # outlives `lab up`, and a Ctrl-C in its terminal
            )
        self._children[process.pid] = process
        state.processes.append(ProcessRecord(name, role, process.pid, start_time(process.pid) or 0, str(log)))
        save_state(state)

    def _start_tors(self, state: LabState, authorities: list[AuthorityInfo]) -> None:
        services = self.onion_services()
        for node in self.nodes():
            node.torrc_path.write_text(render_torrc(node, authorities, services), encoding="utf-8")
        self.say(f"authorities: starting {AUTHORITY_COUNT} (ports {self.plan.base}-{self.plan.authority(2)[1]})")
        self.say(f"relays: starting {RELAY_COUNT} (relay0 is the exit, to 127.0.0.1 only), the onion tor, the client")
        defaults = self.lab_dir / "nodes" / "defaults.torrc"  # empty: keeps /etc/tor/torrc-defaults out of the lab
        defaults.write_text("", encoding="ascii")
        for node in self.nodes():
            command = [self.config.tor_binary, "-f", str(node.torrc_path), "--defaults-torrc", str(defaults)]
            self._spawn(state, node.name, str(node.role), command, node.data_dir / "console.log")

    def _check_alive(self, state: LabState) -> None:
        """Raise :class:`ServiceError` naming the first lab process that has exited, with its last complaint."""
        for record in state.processes:
            if self._alive(record):
                continue
            process = self._children.get(record.pid)
            code = process.poll() if process is not None else None
            logs = [Path(record.log)]
            if not record.name.startswith("site:"):
                logs.append(Path(record.log).with_name("notice.log"))
            problem = _last_problem(*logs) or "no message"
            raise ServiceError(
                f"lab process {record.name} exited{f' (code {code})' if code is not None else ''}: {problem}; "
                f"see {logs[-1]}"
            )

    def _alive(self, record: ProcessRecord) -> bool:
        process = self._children.get(record.pid)
        if process is not None and process.poll() is not None:
            return False
        return is_member(record.pid, self.lab_dir, record.start_time or None)

    def _deadline_passed(self, started: float, what: str) -> None:
        if time.monotonic() - started > self.config.ready_timeout:
            raise ServiceError(
                f"the lab was not ready within {self.config.ready_timeout:.0f} s ({what}); see the logs in "
                f"{self.lab_dir / 'nodes'}; raise DARKCRAWL_LAB_READY_TIMEOUT on a slow machine"
            )

    def _wait_hostnames(self, state: LabState) -> dict[str, str]:
        """Wait for the onion tor to write each service's ``hostname`` file; return site -> hostname."""
        hostnames: dict[str, str] = {}
        limit = time.monotonic() + 30
        for service in self.onion_services():
            path = service.hs_dir / "hostname"
            while not path.is_file() or not path.read_text(encoding="ascii").strip():
                self._check_alive(state)
                if time.monotonic() > limit:
                    raise ServiceError(f"the onion tor wrote no {path} within 30 s; see {self.lab_dir / 'nodes/onion'}")
                time.sleep(0.2)
            hostnames[service.name] = path.read_text(encoding="ascii").strip()
        (self.lab_dir / "onion-hosts.json").write_text(json.dumps(hostnames, indent=2) + "\n", encoding="utf-8")
        save_state(state)
        return hostnames

    def _start_sites(self, state: LabState) -> None:
        self.say(f"sites: serving {len(self.config.sites)} fixture sites on ports "
                 f"{self.plan.http(self.config.sites[0])}-{self.plan.last}")
        link_option = serve_accepts_onion_hosts()
        pythonpath = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]))
        for site in self.config.sites:
            command = [sys.executable, "-m", "crawler.lab.serve", "--site", site, "--port", str(self.plan.http(site))]
            if link_option:
                command += ["--onion-hosts", str(self.lab_dir / "onion-hosts.json")]
            self._spawn(state, f"site:{site}", "site", command, self.lab_dir / "logs" / f"site-{site}.log",
                        PYTHONPATH=pythonpath)
        limit = time.monotonic() + 30
        for site in self.config.sites:
            while True:
                self._check_alive(state)
                try:
                    socket.create_connection((LOOPBACK, self.plan.http(site)), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > limit:
                        raise ServiceError(
                            f"site server {site} did not listen on port {self.plan.http(site)} within 30 s; see "
                            f"{self.lab_dir / 'logs' / f'site-{site}.log'}"
                        ) from None
                    time.sleep(0.2)

    def _wait_consensus(self, state: LabState, started: float) -> None:
        consensus = self.nodes()[0].data_dir / "cached-consensus"
        self.say("consensus: waiting for the authorities to vote (every 20 s)")
        while not consensus.is_file():
            self._check_alive(state)
            self._deadline_passed(started, "no consensus")
            time.sleep(0.5)
        self.say(f"consensus: published after {time.monotonic() - started:.0f} s")

    def _wait_bootstrap(self, state: LabState, started: float) -> None:
        """Watch the client's bootstrap through one control connection, printing each new percentage."""
        import stem
        from stem.control import Controller

        last = -1
        controller: Any = None
        try:
            while True:
                self._check_alive(state)
                try:
                    if controller is None:
                        controller = Controller.from_port(address=LOOPBACK, port=state.control_port)
                        controller.authenticate()
                    phase = parse_bootstrap_phase(controller.get_info("status/bootstrap-phase"))
                except (stem.SocketError, stem.ControllerError, OSError):
                    if controller is not None:
                        controller.close()
                    controller, phase = None, None
                if phase and phase[0] != last:
                    last = phase[0]
                    self.say(f"client: bootstrapped {last}% ({phase[1]})")
                if last == 100:
                    return
                self._deadline_passed(started, f"client bootstrapped {max(last, 0)}%")
                time.sleep(0.5)
        finally:
            if controller is not None:
                controller.close()

    def _wait_onions(self, state: LabState, started: float, watcher: UploadWatcher) -> None:
        """Fetch ``/`` of every onion through the client until each answers 200."""
        pending = dict(state.onions)
        announced: set[str] = set()
        failures = 0
        bootstrapped = time.monotonic()
        while pending:
            self._check_alive(state)
            for site, hostname in list(pending.items()):
                unsure = not watcher.listening or time.monotonic() - bootstrapped > UPLOAD_PATIENCE
                if watcher.count(hostname) == 0 and not unsure:
                    continue
                if site not in announced and watcher.listening:
                    announced.add(site)
                    self.say(f"onion {site}: descriptor published ({watcher.count(hostname)} uploads seen)")
                fetch_started = time.monotonic()
                remaining = self.config.ready_timeout - (fetch_started - started)
                try:
                    status, _ = fetch_through_socks(state.socks_port, hostname, timeout=max(5, min(FETCH_TIMEOUT,
                                                                                                 remaining)))
                except OSError as exc:
                    failures += 1
                    self._forget_failed_lookups(state, failures, str(exc))
                    continue
                if status == 200:
                    del pending[site]
                    self.say(f"onion {site}: reachable after {time.monotonic() - started:.0f} s "
                             f"(fetch {time.monotonic() - fetch_started:.2f} s)")
            if pending:
                self._deadline_passed(started, f"onions not reachable yet: {', '.join(sorted(pending))}")
                time.sleep(1)

    def _forget_failed_lookups(self, state: LabState, failures: int, error: str) -> None:
        """After a failed fetch, let the client ask the HSDirs again (:func:`forget_failed_lookups`)."""
        if failures % 3 == 1:
            self.say(f"onion fetch failed ({error}); retrying")
        forget_failed_lookups(state.control_port)

    # --- down --------------------------------------------------------------------------------------------------

    def down(self, quiet: bool = False) -> list[int]:
        """Stop every process of the lab (SIGTERM, then SIGKILL after a grace period) and return their pids.

        Finds them from the state file and by their marker in ``/proc``, so a stale or missing state file still
        stops everything. Keeps keys and logs. Raises :class:`ServiceError` if a process survives SIGKILL.
        """
        if not self.lab_dir.is_dir():
            if not quiet:
                self.say(f"nothing was running in {self.lab_dir}")
            return []
        with self._exclusive():
            return self._down(quiet)

    def _down(self, quiet: bool) -> list[int]:
        state = self._load_state_quietly()
        pids = set(find_members(self.lab_dir))
        if state is not None:
            pids.update(record.pid for record in state.processes if self._alive(record))
        if pids:
            self._terminate(sorted(pids))
        state_path = self.lab_dir / "state.json"
        state_path.unlink(missing_ok=True)
        if not quiet:
            if pids:
                self.say(f"stopped {len(pids)} processes in {self.lab_dir} ({', '.join(map(str, sorted(pids)))})")
            else:
                self.say(f"nothing was running in {self.lab_dir}")
        return sorted(pids)

    def _gone(self, pid: int) -> bool:
        process = self._children.get(pid)
        if process is not None:
            process.poll()  # reaps our own child, so it does not linger as a zombie
        else:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        return not is_member(pid, self.lab_dir)

    def _terminate(self, pids: list[int]) -> None:
        for signum, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, 5.0)):
            alive = [pid for pid in pids if not self._gone(pid)]
            for pid in alive:
                try:
                    os.kill(pid, signum)
                except ProcessLookupError:
                    pass
            limit = time.monotonic() + wait
            while alive and time.monotonic() < limit:
                time.sleep(0.1)
                alive = [pid for pid in alive if not self._gone(pid)]
            if not alive:
                return
        survivors = [pid for pid in pids if not self._gone(pid)]
        if survivors:
            raise ServiceError(f"lab processes {survivors} survived SIGKILL: check them with ps -o pid,stat,cmd")

    # --- status ------------------------------------------------------------------------------------------------

    def status(self, check_onions: bool = True) -> LabStatus:
        """Return each process's liveness, the client's bootstrap and (if asked) each onion's reachability."""
        state = load_state(self.lab_dir)
        if state is None:
            return LabStatus(lab_dir=str(self.lab_dir), running=False)
        nodes = [NodeStatus(r.name, r.role, r.pid, self._alive(r)) for r in state.processes]
        report = LabStatus(
            lab_dir=str(self.lab_dir),
            running=bool(nodes) and all(node.up for node in nodes),
            nodes=nodes,
            socks_port=state.socks_port,
            extra_socks_ports=list(state.extra_socks_ports),
            control_port=state.control_port,
            control_cookie_path=state.control_cookie_path,
        )
        progress = _bootstrap(state.control_port)
        report.bootstrap = progress[0] if progress else None
        for site, hostname in state.onions.items():
            onion = OnionStatus(site, hostname, reachable=False)
            if check_onions and report.bootstrap == 100:
                began = time.monotonic()
                try:
                    onion.status, _ = fetch_through_socks(state.socks_port, hostname, timeout=20)
                    onion.reachable = onion.status == 200
                except OSError as exc:
                    onion.error = str(exc)
                onion.seconds = round(time.monotonic() - began, 3)
            report.onions.append(onion)
        return report


def serve_accepts_onion_hosts() -> bool:
    """Return True if ``crawler.lab.serve`` takes ``--onion-hosts`` (pages then link to the other onions)."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "crawler.lab.serve", "--help"],
            capture_output=True, text=True, timeout=30, cwd=PROJECT_ROOT, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--onion-hosts" in result.stdout
