"""Launching darkcrawl's own tor instances with stem, for crawls that are not given an existing tor.

Each instance gets its own data directory under ``<data dir>/tor/<n>`` (mode 0700), a SOCKS port with
``IsolateSOCKSAuth`` and a cookie-authenticated control port, both on 127.0.0.1, allocated from
``DARKCRAWL_TOR_BASE_PORT``, and ``extra_socks`` more SOCKS ports (``DARKCRAWL_TOR_EXTRA_SOCKS``) for browser contexts:
Tor never lets streams of two SocksPorts share a circuit, and the browser cannot send SOCKS credentials
(docs/rendering.md). ``DARKCRAWL_TOR_EXTRA_CONFIG`` adds torrc lines (the tests use it to point the instances
at the private lab network). Instances are owned by the launching process (stem's ``take_ownership``): they end with it.

Offers: :class:`LaunchedTor`, :func:`launch_instances`, :func:`stop_instances`.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.errors import ServiceError
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


def parse_extra_config(lines: list[str]) -> dict[str, list[str]]:
    """Turn ``["Option value", ...]`` torrc lines into stem's config mapping (repeated options become lists)."""
    config: dict[str, list[str]] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
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
            launched.append(LaunchedTor(endpoint, data_dir, process, extra_ports))
    except BaseException:
        stop_instances(launched)
        raise
    return launched


def stop_instances(instances: list[LaunchedTor]) -> None:
    """Terminate launched tor processes and wait for them."""
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
