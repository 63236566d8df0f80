"""The managed Elasticsearch node for real: version, authentication, the CLI's start/status/stop, and the one-line
errors for a taken port, an old Java and a missing user."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.errors import ServiceError
from crawler.es.client import check_connection, check_connection_async, es_sync_client
from crawler.es.install import distribution_dir
from crawler.es.node import port_in_use, read_pid, start
from tests.integration.fixtures_es import INSTALL_SETTINGS, install_settings, instance_for_tests, private_node_dir

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DARKCRAWL = [sys.executable, "-m", "crawler.cli"]
EXPECTED_VERSION = "9.5.4"


def darkcrawl(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(DARKCRAWL + args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without DARKCRAWL_* settings, except where the distribution and Java are."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env.update({name: os.environ[name] for name in INSTALL_SETTINGS if name in os.environ})
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_node_answers_with_its_version(es_node):
    client = es_node.client()
    try:
        assert check_connection(client) == EXPECTED_VERSION
        health = client.cluster.health(wait_for_status="yellow", timeout="30s")
        assert health["status"] in ("green", "yellow")
    finally:
        client.close()


async def test_async_client_authenticates(es_node):
    client = es_node.async_client()
    try:
        assert await check_connection_async(client) == EXPECTED_VERSION
    finally:
        await client.close()


def test_security_is_on_and_a_wrong_password_is_a_clear_error(es_node):
    if not es_node.password:
        pytest.skip("external test cluster without basic authentication")
    wrong = es_sync_client(es_node.settings(DARKCRAWL_ES_PASSWORD=es_node.password + "x"))
    anonymous = es_sync_client(es_node.settings(DARKCRAWL_ES_USERNAME="", DARKCRAWL_ES_PASSWORD="",
                                                DARKCRAWL_ES_API_KEY=""))
    try:
        with pytest.raises(ServiceError, match=r"refused the credentials \(401\).*DARKCRAWL_ES_PASSWORD"):
            check_connection(wrong)
        with pytest.raises(ServiceError, match="401"):
            check_connection(anonymous)
    finally:
        wrong.close()
        anonymous.close()


def test_unreachable_cluster_is_a_clear_error(es_node):
    client = es_sync_client(es_node.settings(DARKCRAWL_ES_URL=f"http://127.0.0.1:{free_port()}"))
    try:
        with pytest.raises(ServiceError, match="cannot be reached: start it with darkcrawl es start"):
            check_connection(client)
    finally:
        client.close()


def test_second_start_is_harmless(es_node):
    if es_node.instance is None:
        pytest.skip("external test cluster: nothing managed")
    pid = read_pid(es_node.instance)
    messages: list[str] = []
    status = start(es_node.instance, messages.append)
    assert status.healthy and status.pid == pid
    assert messages == [f"Elasticsearch already running at {es_node.url}"]


def test_taken_port_is_named_with_its_setting(es_node, tmp_path):
    if es_node.instance is None:
        pytest.skip("external test cluster: nothing managed")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        instance = instance_for_tests(tmp_path / "node", port)
        with pytest.raises(ServiceError, match=rf"port {port} on 127.0.0.1 is taken .* DARKCRAWL_ES_PORT"):
            start(instance, lambda message: None)
    assert not (tmp_path / "node" / "data").exists()  # refused before anything was written


def test_cli_start_twice_status_stop_leaves_no_process():
    """`darkcrawl es start` on a home of its own: up, harmless when repeated, status says so, stop kills it all."""
    home = private_node_dir("darkcrawl-es-cli-")
    try:
        distribution = distribution_dir(install_settings())
        (home / distribution.name).symlink_to(distribution)
        port = free_port()
        env = clean_env(DARKCRAWL_ES_HOME=str(home), DARKCRAWL_ES_PORT=str(port), DARKCRAWL_ES_HEAP="512m")

        began = time.monotonic()
        first = darkcrawl(["es", "start"], env)
        assert first.returncode == 0, first.stderr
        assert f"Elasticsearch {EXPECTED_VERSION} is up at http://127.0.0.1:{port}" in first.stdout
        print(f"cold start through the CLI: {time.monotonic() - began:.1f}s")

        second = darkcrawl(["es", "start"], env)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout

        status = darkcrawl(["es", "status", "--json"], env)
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert report["healthy"] and report["version"] == EXPECTED_VERSION and report["managed"]
        pid = report["pid"]
        credentials = home / "node" / "es-credentials.json"
        assert credentials.stat().st_mode & 0o777 == 0o600

        stopped = darkcrawl(["es", "stop"], env)
        assert stopped.returncode == 0 and "stopped" in stopped.stdout
        assert not Path(f"/proc/{pid}").exists()
        leftover = subprocess.run(["pgrep", "-f", f"es.path.conf={home}"], capture_output=True, text=True)
        assert leftover.stdout.strip() == "", "an Elasticsearch process survived es stop"
        assert not port_in_use(port)

        down = darkcrawl(["es", "status"], env)
        assert down.returncode == 1 and "not running" in down.stderr
    finally:
        darkcrawl(["es", "stop"], clean_env(DARKCRAWL_ES_HOME=str(home)))
        shutil.rmtree(home, ignore_errors=True)


def test_old_java_and_missing_user_are_one_line_each(es_node):
    if es_node.instance is None:
        pytest.skip("external test cluster: nothing managed")
    old_java = "/usr/lib/jvm/java-17-openjdk-amd64"
    port = str(free_port())
    if Path(old_java).is_dir():
        result = darkcrawl(["es", "start"], clean_env(DARKCRAWL_JAVA_HOME=old_java, DARKCRAWL_ES_PORT=port))
        assert result.returncode == 3
        assert result.stderr.strip().splitlines() == [
            f"darkcrawl: error: DARKCRAWL_JAVA_HOME={old_java} is Java 17; Elasticsearch 9 needs 21+: "
            "install Temurin 25"
        ]
    no_java = darkcrawl(["es", "start"], clean_env(DARKCRAWL_JAVA_HOME="/nonexistent/jdk", DARKCRAWL_ES_PORT=port))
    assert no_java.returncode == 3 and len(no_java.stderr.strip().splitlines()) == 1
    assert "holds no JDK" in no_java.stderr
    if os.geteuid() == 0:
        result = darkcrawl(["es", "start"], clean_env(DARKCRAWL_ES_USER="darkcrawl-nosuchuser", DARKCRAWL_ES_PORT=port))
        assert result.returncode == 3
        assert len(result.stderr.strip().splitlines()) == 1
        assert "'darkcrawl-nosuchuser'" in result.stderr and "run ./setup.sh" in result.stderr


def test_install_is_idempotent():
    result = darkcrawl(["es", "install"], clean_env())
    assert result.returncode == 0, result.stderr
    assert "already installed" in result.stdout


@pytest.mark.slow
def test_test_node_whose_transport_port_is_taken_starts_on_another(es_node, monkeypatch):
    """Another node on the machine binding our transport port first (seen as a failed join) must not fail a session."""
    from crawler.es.node import stop
    from tests.integration import fixtures_es

    if es_node.instance is None:
        pytest.skip("external test cluster: nothing managed")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        picks = iter([taken])
        choose = fixtures_es.free_transport_port
        monkeypatch.setattr(fixtures_es, "free_transport_port", lambda avoid=0: next(picks, 0) or choose(avoid))
        root = private_node_dir("darkcrawl-es-transport-")
        instance = None
        try:
            instance, status = fixtures_es.start_test_node(root, 9280)
            assert status.healthy
            assert instance.transport_port not in (None, taken)
            written = (instance.config_dir / "elasticsearch.yml").read_text()
            assert f"transport.port: {instance.transport_port}\n" in written
        finally:
            if instance is not None:
                stop(instance)
            shutil.rmtree(root, ignore_errors=True)
    assert next(picks, None) is None, "the taken port was never tried: the test would prove nothing"
