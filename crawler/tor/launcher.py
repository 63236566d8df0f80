"""Launching darkcrawl's own tor instances with stem, for crawls that are not given an existing tor.

Each instance gets its own data directory under ``<data dir>/tor/<n>`` (mode 0700), a SOCKS port with
``IsolateSOCKSAuth`` and a cookie-authenticated control port, both on 127.0.0.1, allocated from
``DARKCRAWL_TOR_BASE_PORT``, and ``extra_socks`` more SOCKS ports (``DARKCRAWL_TOR_EXTRA_SOCKS``) for browser contexts:
Tor never lets streams of two SocksPorts share a circuit, and the browser cannot send SOCKS credentials
(docs/rendering.md). ``DARKCRAWL_TOR_EXTRA_CONFIG`` adds torrc lines (the tests use it to point the instances
at the private lab network) but may not touch the listeners or the control port's protection. Instances are owned
by the launching process (stem's ``take_ownership``): they end with it. Each writes its pid to
``<data dir>/tor/<n>/tor.pid``. One that dies mid-crawl is started again from the same torrc (same ports, data
directory and cookie) by :func:`restart_instance` (the crawl's health extension does it).

Offers: :class:`LaunchedTor`, :func:`launch_instances`, :func:`restart_instance`, :func:`stop_instances`.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.errors import ServiceError, UsageError
from crawler.paths import ensure_private_dir
from crawler.ports import port_is_free
from crawler.tor.endpoints import TorEndpoint

logger = logging.getLogger(__name__)


@dataclass
class LaunchedTor:
    endpoint: TorEndpoint
    data_dir: Path
    process: Any = field(repr=False)  # subprocess.Popen
    extra_socks_ports: list[int] = field(default_factory=list)  # for browser contexts, one each
    config: dict[str, Any] = field(default_factory=dict)  # the torrc it was started with (to restart it)
    owner: Any = field(default=None, repr=False)  # the stem Controller holding ownership (tor exits when it closes)


def take_ownership(endpoint: TorEndpoint) -> Any:
    """Open the controller that owns a tor launched by this process, and keep it open for the tor's lifetime.

    stem launches with ``__OwningControllerProcess`` = our pid, and the first controller this process opens sends
    ``TAKEOWNERSHIP``: from then on tor exits as soon as *that* connection closes. Were it a short health check, the
    tor would die a moment later; so the launcher opens this one first, and the checks that follow own nothing.
    """
    from stem.control import Controller

    controller = Controller.from_port(address=endpoint.control_host or "127.0.0.1", port=endpoint.control_port)
    controller.authenticate()
    return controller


# Options darkcrawl sets itself and an extra line may not change: where tor listens and how its control port is
# protected (loopback, cookie authentication), and where it keeps its keys.
PROTECTED_OPTIONS = frozenset(
    name.lower()
    for name in (
        "SocksPort", "ControlPort", "ControlSocket", "CookieAuthentication", "CookieAuthFile",
        "CookieAuthFileGroupReadable", "HashedControlPassword", "DataDirectory", "DataDirectoryGroupReadable",
        "HTTPTunnelPort", "TransPort", "DNSPort", "NATDPort", "MetricsPort", "ORPort", "DirPort",
    )
)


def parse_extra_config(lines: list[str]) -> dict[str, list[str]]:
    """Turn ``["Option value", ...]`` torrc lines into stem's config mapping (repeated options become lists).
    Raises :class:`UsageError` for an option in :data:`PROTECTED_OPTIONS` (listeners, control-port authentication)."""
    config: dict[str, list[str]] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if key.lower() in PROTECTED_OPTIONS:
            raise UsageError(
                f"DARKCRAWL_TOR_EXTRA_CONFIG may not set {key}: darkcrawl binds tor's ports to 127.0.0.1 and protects "
                "the control port with cookie authentication itself; remove the line"
            )
        config.setdefault(key, []).append(value.strip())
    return config


def launch_instances(
    count: int,
    base_dir: Path,
    base_port: int,
    tor_binary: str = "tor",
    timeout: float = 300,
    extra_config: list[str] | None = None,
    progress: Any = None,
    extra_socks: int = 0,
) -> list[LaunchedTor]:
    """Start *count* tor processes and wait until each is 100% bootstrapped. Raises :class:`ServiceError`."""
    import stem.process

    if shutil.which(tor_binary) is None:
        raise ServiceError(f"tor not found ({tor_binary!r}): install it (./setup.sh installs Debian's tor)")
    launched: list[LaunchedTor] = []
    port = base_port
    try:
        for index in range(count):
            while not (port_is_free(port) and port_is_free(port + 1)):
                port += 2
            socks_port, control_port = port, port + 1
            port += 2
            extra_ports: list[int] = []
            while len(extra_ports) < extra_socks:
                if port_is_free(port):
                    extra_ports.append(port)
                port += 1
            data_dir = ensure_private_dir(base_dir / str(index))
            config: dict[str, Any] = {
                "SocksPort": [f"127.0.0.1:{socks_port} IsolateSOCKSAuth"]
                + [f"127.0.0.1:{extra} IsolateSOCKSAuth IsolateDestAddr" for extra in extra_ports],
                "ControlPort": f"127.0.0.1:{control_port}",
                "CookieAuthentication": "1",
                "DataDirectory": str(data_dir),
                "ClientOnly": "1",
                "Log": [f"notice file {data_dir / 'tor.log'}", "notice stdout"],
                "PidFile": str(data_dir / "tor.pid"),
            }
            config.update(parse_extra_config(extra_config or []))
            if progress:
                progress(f"starting tor #{index} (SOCKS 127.0.0.1:{socks_port}), waiting for 100% bootstrap")

            def on_line(line: str, index: int = index) -> None:
                if "Bootstrapped" in line:
                    logger.info("tor #%d: %s", index, line.split("] ", 1)[-1])

            try:
                process = stem.process.launch_tor_with_config(
                    config=config,
                    tor_cmd=tor_binary,
                    timeout=timeout,
                    take_ownership=True,
                    init_msg_handler=on_line,
                )
            except OSError as exc:
                raise ServiceError(
                    f"tor #{index} did not bootstrap within {timeout:.0f}s ({exc}); see {data_dir / 'tor.log'}. "
                    "Is the Tor network reachable from this machine?"
                ) from None
            endpoint = TorEndpoint(index, "127.0.0.1", socks_port, "127.0.0.1", control_port, None)
            launched.append(LaunchedTor(endpoint, data_dir, process, extra_ports, config))
            try:
                launched[-1].owner = take_ownership(endpoint)
            except Exception as exc:  # stem raises several types; the tor still runs, owned through our pid
                logger.warning("tor #%d: could not open its owning control connection (%s)", index, exc)
    except BaseException:
        stop_instances(launched)
        raise
    return launched


def restart_instance(config: dict[str, Any], endpoint: TorEndpoint, tor_binary: str = "tor",
                     timeout: float = 300) -> tuple[Any, Any]:
    """Start a launched tor again from its torrc *config* and wait until *endpoint* is usable (SOCKS answering,
    100% bootstrapped); return the process and its owning controller (see :func:`take_ownership`). Blocks: call it
    from a thread (stem's own timeout needs the main thread, so this one polls the control port instead). Raises
    :class:`ServiceError` when tor does not come back in time."""
    import time

    import stem.process

    from crawler.tor.control import check_endpoint

    try:
        process = stem.process.launch_tor_with_config(
            config=config, tor_cmd=tor_binary, timeout=None, take_ownership=True, completion_percent=0
        )
    except OSError as exc:
        raise ServiceError(f"tor #{endpoint.index} could not be restarted: {exc}") from None
    deadline = time.monotonic() + timeout
    owner = None
    while owner is None:
        try:
            owner = take_ownership(endpoint)
        except Exception as exc:  # stem raises several types; the control port may not be open yet
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                process.wait()
                raise ServiceError(f"tor #{endpoint.index} restarted but its control port is unusable: {exc}") from None
            time.sleep(0.5)
    status = check_endpoint(endpoint)
    while not status.ready:
        if time.monotonic() > deadline or process.poll() is not None:
            if process.poll() is None:
                process.kill()
                process.wait()
            owner.close()
            raise ServiceError(f"tor #{endpoint.index} restarted but is not usable: {status.describe()}")
        time.sleep(1)
        status = check_endpoint(endpoint)
    return process, owner


def stop_instances(instances: list[LaunchedTor]) -> None:
    """Terminate launched tor processes and wait for them."""
    for instance in instances:
        if instance.owner is not None:
            instance.owner.close()
    for instance in instances:
        process: subprocess.Popen[bytes] = instance.process
        if process.poll() is None:
            process.terminate()
    for instance in instances:
        try:
            instance.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            instance.process.kill()
            instance.process.wait()
