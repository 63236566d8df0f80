"""Session fixture ``redis_server``: Debian's redis-server on a free loopback port, its data in a temporary directory,
no persistence, stopped (and checked gone) at the end of the session. ``redis_prefix`` gives each test its own keys."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class RedisServer:
    url: str
    port: int
    pid: int
    data_dir: Path

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run ./setup.sh (it installs Debian's redis-server)", pytrace=False)
    data_dir = tmp_path_factory.mktemp("redis")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir), "--save", "",
         "--appendonly", "no", "--daemonize", "no", "--logfile", str(data_dir / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    server = RedisServer(f"redis://127.0.0.1:{port}/0", port, process.pid, data_dir)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                server.client().ping()
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (data_dir / "redis.log").read_text() if (data_dir / "redis.log").exists() else ""
                    pytest.fail(f"redis-server did not start on port {port}:\n{log[-2000:]}", pytrace=False)
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode is not None


@pytest.fixture
def redis_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"
