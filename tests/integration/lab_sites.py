"""Taking one fixture site of a running lab down and bringing it back, for tests of dead onions.

Down stops the site's HTTP server (the onion service stays published and answers "connection refused", as an onion
whose web server died does). Up starts the same server again, marked as a lab process and recorded in the lab's state
file, so `darkcrawl lab down` still stops it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from crawler.lab.state import MEMBER_ENV, ProcessRecord, is_member, load_state, member_marker, save_state, start_time

REPO = Path(__file__).resolve().parents[2]


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def site_down(lab_dir: Path, site: str) -> None:
    state = load_state(lab_dir)
    assert state is not None
    record = next(record for record in state.processes if record.name == f"site:{site}")
    if is_member(record.pid, lab_dir, record.start_time or None):
        os.kill(record.pid, signal.SIGTERM)
    port = state.http_ports[site]
    deadline = time.monotonic() + 20
    while _port_open(port):
        assert time.monotonic() < deadline, f"the server of {site} did not stop"
        time.sleep(0.1)


def site_up(lab_dir: Path, site: str) -> None:
    state = load_state(lab_dir)
    assert state is not None
    port = state.http_ports[site]
    if _port_open(port):
        return
    env = dict(os.environ)
    env[MEMBER_ENV] = member_marker(lab_dir).partition("=")[2]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    log = lab_dir / "logs" / f"site-{site}.log"
    command = [sys.executable, "-m", "crawler.lab.serve", "--site", site, "--port", str(port),
               "--onion-hosts", str(lab_dir / "onion-hosts.json")]
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                   cwd=lab_dir, env=env, start_new_session=True)
    state.processes = [record for record in state.processes if record.name != f"site:{site}"]
    state.processes.append(ProcessRecord(f"site:{site}", "site", process.pid, start_time(process.pid) or 0, str(log)))
    save_state(state)
    deadline = time.monotonic() + 30
    while not _port_open(port):
        assert process.poll() is None, f"the server of {site} exited: see {log}"
        assert time.monotonic() < deadline, f"the server of {site} did not listen on {port}"
        time.sleep(0.2)
