"""crawler.lab.network without a Tor network: a lab process that dies is reported in one line with its own last
complaint; SOCKS fetch failures are OSErrors; the settings become a LabConfig."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from crawler.config import load_settings
from crawler.errors import ServiceError
from crawler.lab.network import Lab, LabConfig, fetch_through_socks
from crawler.lab.state import LabState, ProcessRecord, start_time


def test_a_dead_node_is_reported_with_its_last_warning(tmp_path):
    lab = Lab(LabConfig(lab_dir=tmp_path, base_port=27500, sites=("alpha",)), say=lambda _: None)
    node_dir = tmp_path / "nodes" / "relay1"
    node_dir.mkdir(parents=True)
    (node_dir / "notice.log").write_text(
        "Nov 29 03:40:01.164 [notice] Opening OR listener on 127.0.0.1:27508\n"
        "Nov 29 03:40:01.165 [warn] Could not bind to 127.0.0.1:27508: Address already in use. Is Tor running?\n"
    )
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    started = start_time(process.pid) or 0
    process.wait()
    state = LabState(str(tmp_path), 27500, 27520, [], 27521, "", 27530,
                     [ProcessRecord("relay1", "relay", process.pid, started, str(node_dir / "console.log"))])
    with pytest.raises(ServiceError) as caught:
        lab._check_alive(state)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("lab process relay1 exited")
    assert "Could not bind to 127.0.0.1:27508: Address already in use" in message
    assert str(node_dir / "notice.log") in message


def test_fetch_through_a_dead_socks_port_is_an_oserror():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OSError):
        fetch_through_socks(port, "example.onion", timeout=5)


def test_config_from_settings(tmp_path):
    settings = load_settings(environ={
        "DARKCRAWL_DATA_DIR": str(tmp_path), "DARKCRAWL_LAB_BASE_PORT": "18000", "DARKCRAWL_LAB_EXTRA_SOCKS": "3",
    })
    config = LabConfig.from_settings(settings)
    assert config.lab_dir == (tmp_path / "lab").resolve()
    assert config.base_port == 18000 and config.extra_socks == 3
    assert config.plan.socks == 18020 and config.plan.extra_socks_ports == (18022, 18023, 18024)
    assert config.sites  # the fixture sites
