"""Session fixture ``tor_lab``: the private Tor lab, started once for the whole test session through the real
``darkcrawl lab up`` in a temporary directory on ports of its own, stopped (and checked gone) at the end.

For fast local iteration, ``DARKCRAWL_TEST_LAB_DIR=/some/dir`` makes the session use the lab in that directory: a
running lab is reused as it is, a stopped one is started there, and it is left running afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crawler.lab.network import fetch_through_socks, forget_failed_lookups
from crawler.lab.state import LabState, find_members, is_member, load_state

REPO = Path(__file__).resolve().parents[2]
LAB_UP_TIMEOUT = 400  # seconds; the lab itself gives up after DARKCRAWL_LAB_READY_TIMEOUT (240)
PORT_SPAN = 60  # ports a lab with a handful of fixture sites uses above its base
FETCH_ATTEMPTS = 3  # tries of one page through the lab's client when tor's circuit fails (TorLab.fetch)
FETCH_RETRY_PAUSE = 10.0  # seconds between them


@dataclass(frozen=True)
class TorLab:
    """A running lab, as the tests see it."""

    lab_dir: Path
    base_port: int
    socks_port: int
    extra_socks_ports: tuple[int, ...]
    control_port: int
    control_cookie_path: Path  # stem's Controller.authenticate() finds it by itself
    onions: dict[str, str]  # site name -> hostname
    http_ports: dict[str, int]  # site name -> loopback port of its HTTP server
    env: dict[str, str] = field(repr=False)  # environment for `darkcrawl` subprocesses aimed at this lab

    def url(self, site: str, path: str = "/") -> str:
        return f"http://{self.onions[site]}{path}"

    def fetch(self, site: str, path: str = "/", socks_port: int | None = None) -> tuple[int, bytes]:
        """GET a page of *site* through the lab's client; return (status, body).

        A circuit to an onion can fail now and then in a network this small (tor's SOCKS reply "TTL expired": the
        rendezvous timed out while the relays were busy, seen once in a CI run with the onion answering again a
        minute later); such a failure is Tor's, not the site's, so the request is tried again as `darkcrawl lab up`
        tries it (:meth:`retry_circuit`), up to :data:`FETCH_ATTEMPTS` times. An HTTP answer, whatever its status,
        is returned at once."""
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            try:
                return fetch_through_socks(socks_port or self.socks_port, self.onions[site], path)
            except OSError:
                if attempt == FETCH_ATTEMPTS:
                    raise
                self.retry_circuit()
        raise AssertionError("unreachable")

    def retry_circuit(self) -> None:
        """Before trying an onion again: fresh circuits and lookups for the lab's client (what `lab up` does after a
        failed fetch), then a pause."""
        forget_failed_lookups(self.control_port)
        time.sleep(FETCH_RETRY_PAUSE)

    def state(self) -> LabState:
        state = load_state(self.lab_dir)
        assert state is not None, f"no lab state in {self.lab_dir}"
        return state


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port(start: int = 27000) -> int:
    """Return a base port whose whole lab range is free now (away from the default lab's 17000)."""
    for base in range(start, 60000, 100):
        if all(port_free(port) for port in range(base, base + PORT_SPAN)):
            return base
    raise RuntimeError("no free range of ports for the test lab")


def lab_env(lab_dir: Path, base_port: int, data_dir: Path) -> dict[str, str]:
    """Return an environment for `darkcrawl lab ...` aimed at *lab_dir*, free of the caller's DARKCRAWL_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env.update(DARKCRAWL_LAB_DIR=str(lab_dir), DARKCRAWL_LAB_BASE_PORT=str(base_port), DARKCRAWL_DATA_DIR=str(data_dir))
    return env


def run_lab(args: list[str], env: dict[str, str], timeout: float = LAB_UP_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", "lab", *args],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout,
    )


def handle(lab_dir: Path, env: dict[str, str]) -> TorLab:
    state = load_state(lab_dir)
    assert state is not None and state.ready, f"`darkcrawl lab up` left no ready lab in {lab_dir}"
    return TorLab(
        lab_dir=lab_dir,
        base_port=state.base_port,
        socks_port=state.socks_port,
        extra_socks_ports=tuple(state.extra_socks_ports),
        control_port=state.control_port,
        control_cookie_path=Path(state.control_cookie_path),
        onions=dict(state.onions),
        http_ports=dict(state.http_ports),
        env=env,
    )


def start(env: dict[str, str]) -> None:
    result = run_lab(["up"], env)
    if result.returncode != 0:
        pytest.fail(f"`darkcrawl lab up` failed (exit {result.returncode}):\n{result.stderr[-4000:]}", pytrace=False)


@pytest.fixture(scope="session")
def tor_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TorLab]:
    reuse = os.environ.get("DARKCRAWL_TEST_LAB_DIR")
    if reuse:
        lab_dir = Path(reuse).expanduser().resolve()
        existing = load_state(lab_dir)
        base_port = existing.base_port if existing else free_base_port()
        env = lab_env(lab_dir, base_port, tmp_path_factory.mktemp("lab-data"))
        start(env)  # returns at once when the lab there is running and answering
        yield handle(lab_dir, env)
        return
    lab_dir = tmp_path_factory.mktemp("tor-lab")
    env = lab_env(lab_dir, free_base_port(), tmp_path_factory.mktemp("lab-data"))
    try:
        start(env)
        lab = handle(lab_dir, env)
        pids = [(record.pid, record.start_time) for record in lab.state().processes]
        yield lab
    finally:
        result = run_lab(["down"], env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not [pid for pid, started in pids if is_member(pid, lab_dir, started)], "lab processes left after down"
    assert find_members(lab_dir) == []
