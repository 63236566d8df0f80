"""``darkcrawl lab``: failures before anything starts are one line naming the cause and the fix, and leave nothing
running (the real CLI in a subprocess; no tor network is started)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.lab.state import find_members

REPO = Path(__file__).resolve().parents[2]


def free_base(start: int = 28000) -> int:
    """Return a base port whose whole lab range (base .. base+60) is free now."""
    for base in range(start, 60000, 100):
        if all(port_free(port) for port in range(base, base + 60)):
            return base
    raise RuntimeError("no free port range")


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def darkcrawl(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    environment.update(DARKCRAWL_DATA_DIR=str(tmp_path / "data"), DARKCRAWL_LAB_DIR=str(tmp_path / "lab"), **env)
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=environment, cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("darkcrawl: error:")]


def test_port_taken_is_one_line_naming_the_port_and_the_setting(tmp_path):
    base = free_base()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", base + 21))  # the client's control port
        squatter.listen()
        result = darkcrawl(["lab", "up"], tmp_path, DARKCRAWL_LAB_BASE_PORT=str(base))
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    [line] = error_lines(result)
    assert f"port {base + 21}" in line and "client control port" in line
    assert "DARKCRAWL_LAB_BASE_PORT" in line
    assert find_members(tmp_path / "lab") == []


def test_tor_missing_is_one_line_naming_the_fix(tmp_path):
    result = darkcrawl(["lab", "up"], tmp_path, DARKCRAWL_TOR_BINARY=str(tmp_path / "no-such-tor"),
                       DARKCRAWL_LAB_BASE_PORT=str(free_base()))
    assert result.returncode == 3
    [line] = error_lines(result)
    assert "tor not found" in line and "apt-get install tor" in line and "DARKCRAWL_TOR_BINARY" in line
    assert "Traceback" not in result.stderr


def test_tor_gencert_missing_is_one_line_naming_the_fix(tmp_path):
    result = darkcrawl(["lab", "up"], tmp_path, DARKCRAWL_LAB_TOR_GENCERT=str(tmp_path / "no-such-gencert"),
                       DARKCRAWL_LAB_BASE_PORT=str(free_base()))
    assert result.returncode == 3
    [line] = error_lines(result)
    assert "tor-gencert not found" in line and "DARKCRAWL_LAB_TOR_GENCERT" in line


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [("DARKCRAWL_LAB_EXTRA_SOCKS", "9", "between 0 and 8"), ("DARKCRAWL_LAB_BASE_PORT", "65500", "1024-65535")],
)
def test_out_of_range_settings_are_usage_errors(tmp_path, variable, value, expected):
    result = darkcrawl(["lab", "up"], tmp_path, **{variable: value})
    assert result.returncode == 2
    [line] = error_lines(result)
    assert variable in line and expected in line


def test_status_and_down_of_a_lab_never_started(tmp_path):
    status = darkcrawl(["lab", "status"], tmp_path)
    assert status.returncode == 1
    assert "not running" in status.stdout
    down = darkcrawl(["lab", "down"], tmp_path)
    assert down.returncode == 0
    assert "nothing was running" in down.stderr
