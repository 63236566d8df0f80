"""Security of the service itself: tor control ports on loopback with cookie authentication (the lab's and the tor
darkcrawl launches, asked through GETINFO/GETCONF), files under the data directory private after a crawl, and secrets
(Elasticsearch password and API key, the isolation salt) in no output, log or file."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from crawler.tor.launcher import launch_instances, stop_instances
from tests.integration.test_crawl import REPO, crawl_env, lab_network_lines, run_darkcrawl

pytestmark = pytest.mark.integration

LOOPBACK_LISTENERS = {"127.0.0.1", "[::1]"}


def listener_hosts(controller, kind: str) -> set[str]:
    """The addresses tor's *kind* listeners (control, socks, ...) are bound to, from GETINFO net/listeners/<kind>."""
    answer = controller.get_info(f"net/listeners/{kind}")
    return {entry.strip('"').rsplit(":", 1)[0] for entry in answer.split()}


def assert_control_port_is_private(control_port: int) -> None:
    """The control port answers on loopback only, accepts the cookie and nothing weaker, and its cookie is 0600."""
    from stem.connection import AuthMethod, get_protocolinfo
    from stem.control import Controller
    from stem.socket import ControlPort

    with ControlPort(port=control_port) as raw:
        info = get_protocolinfo(raw)
    assert set(info.auth_methods) <= {AuthMethod.COOKIE, AuthMethod.SAFECOOKIE}, info.auth_methods
    assert AuthMethod.NONE not in info.auth_methods and AuthMethod.PASSWORD not in info.auth_methods
    cookie = Path(info.cookie_path)
    assert stat.S_IMODE(cookie.stat().st_mode) & 0o077 == 0, oct(cookie.stat().st_mode)
    with Controller.from_port(port=control_port) as controller:
        controller.authenticate()
        assert listener_hosts(controller, "control") <= LOOPBACK_LISTENERS
        assert listener_hosts(controller, "socks") <= LOOPBACK_LISTENERS
        assert controller.get_conf("CookieAuthentication") == "1"
        assert controller.get_conf("CookieAuthFileGroupReadable", "0") == "0"
        assert not controller.get_conf("HashedControlPassword", "")
    # and a connection that does not authenticate gets nowhere
    with socket.create_connection(("127.0.0.1", control_port), timeout=10) as sock:
        sock.sendall(b"GETINFO version\r\n")
        try:
            reply = sock.recv(256)
        except ConnectionResetError:  # tor hung up at once
            reply = b""
    assert reply == b"" or reply.startswith(b"514"), f"the control port answered without authentication: {reply!r}"


def test_every_lab_tor_control_port_is_loopback_with_cookie_auth(tor_lab):
    torrcs = sorted(Path(tor_lab.lab_dir, "nodes").glob("*/torrc"))
    assert len(torrcs) >= 7
    control_ports = []
    for torrc in torrcs:
        lines = [line.split() for line in torrc.read_text().splitlines() if line.strip() and line[0] != "#"]
        for words in lines:
            if words[0] in ("ControlPort", "SocksPort", "ORPort", "DirPort") and words[1] != "0":
                assert words[1].startswith("127.0.0.1:"), (torrc, words)
        ports = [words[1] for words in lines if words[0] == "ControlPort"]
        if ports:
            assert ["CookieAuthentication", "1"] in lines, torrc
            control_ports.append(int(ports[0].rsplit(":", 1)[1]))
    assert tor_lab.control_port in control_ports
    for port in control_ports:
        assert_control_port_is_private(port)


def test_launched_tor_control_port_is_loopback_with_cookie_auth(tor_lab, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base_port = probe.getsockname()[1] + 1
    launched = launch_instances(1, tmp_path / "tor", base_port, timeout=180, extra_config=lab_network_lines(tor_lab))
    try:
        endpoint = launched[0].endpoint
        assert endpoint.control_port is not None
        assert_control_port_is_private(endpoint.control_port)
        assert stat.S_IMODE((tmp_path / "tor" / "0").stat().st_mode) == 0o700
    finally:
        stop_instances(launched)


def private_violations(root: Path) -> list[str]:
    """Every file or directory under *root* (itself included) that its group or others may read, write or enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root)} {oct(mode)}")
    return found


@pytest.fixture(scope="module")
def crawl_with_everything(tor_lab, es_node, tmp_path_factory):
    """A crawl that launches its own tor, keeps a job directory and a dead-letter file in the data directory, runs
    with -v (debug logs) and a distinctive isolation salt; returns what it printed and where it wrote."""
    tmp = tmp_path_factory.mktemp("service")
    data = tmp / "data"
    prefix = f"t{uuid.uuid4().hex[:8]}"
    client = es_node.client()
    # pages the cluster refuses for good (an index-level write block) go to the dead-letter file or the spool
    init = run_darkcrawl(["es", "init"], crawl_env(tor_lab, es_node, prefix, data))
    assert init.returncode == 0, init.stderr
    client.indices.put_settings(index=f"{prefix}-pages", settings={"index.blocks.write": True})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base_port = probe.getsockname()[1] + 1
    salt = f"salt-{uuid.uuid4().hex}"
    env = crawl_env(tor_lab, es_node, prefix, data, DARKCRAWL_TOR_SOCKS="", DARKCRAWL_TOR_CONTROL="",
                    DARKCRAWL_TOR_BASE_PORT=str(base_port), DARKCRAWL_TOR_ISOLATION_SECRET=salt,
                    DARKCRAWL_ES_MAX_RETRIES="0", DARKCRAWL_TOR_EXTRA_CONFIG=json.dumps(lab_network_lines(tor_lab)))
    try:
        result = run_darkcrawl(["-v", "crawl", "--url", tor_lab.url("directory"), "--depth", "1",
                                "--jobdir", str(data / "jobs" / "one")], env)
    finally:
        client.indices.put_settings(index=f"{prefix}-pages", settings={"index.blocks.write": False})
    return {"result": result, "data": data, "salt": salt, "env": env}


def test_files_under_the_data_directory_are_private_after_a_crawl(crawl_with_everything):
    result, data = crawl_with_everything["result"], crawl_with_everything["data"]
    assert result.returncode == 0, result.stderr[-3000:]
    names = {path.relative_to(data).parts[0] for path in data.rglob("*") if path.is_file()}
    assert {"tor", "jobs"} <= names and names & {"spool", "dead-letter"}, names  # or the walk proves little
    assert private_violations(data) == []


def test_credentials_file_of_the_managed_node_is_private(es_node):
    if es_node.instance is None:
        pytest.skip("an external cluster (DARKCRAWL_TEST_ES_URL): no managed node here")
    credentials = es_node.instance.credentials_file
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600


def secrets_found(text: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret and secret in text]


def test_secrets_are_never_printed_logged_or_stored(crawl_with_everything, es_node, tor_lab, tmp_path):
    secrets = [es_node.password, es_node.api_key, crawl_with_everything["salt"]]
    result = crawl_with_everything["result"]
    assert "DEBUG" in result.stderr, "-v gave no debug output: the test would prove little"
    assert secrets_found(result.stdout + result.stderr, secrets) == []
    for path in crawl_with_everything["data"].rglob("*"):
        if path.is_file():
            assert secrets_found(path.read_text(errors="replace"), secrets) == [], path
    # refused and failing commands do not echo the secret they were given either
    wrong_password = f"pw-{uuid.uuid4().hex}"
    wrong_key = f"key{uuid.uuid4().hex}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env.update(es_node.env(), DARKCRAWL_DATA_DIR=str(tmp_path), DARKCRAWL_ES_PASSWORD=wrong_password)
    env.pop("DARKCRAWL_ES_API_KEY", None)
    runs = []
    for args in (["-v", "es", "status", "--json"], ["-v", "es", "init"], ["-v", "search", "escrow"],
                 ["-v", "crawl", "--url", tor_lab.url("directory")]):
        runs.append(subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=env, cwd=REPO,
                                   capture_output=True, text=True, timeout=180))
    key_env = env | {"DARKCRAWL_ES_API_KEY": wrong_key}
    runs.append(subprocess.run([sys.executable, "-m", "crawler.cli", "-v", "search", "escrow"], env=key_env,
                               cwd=REPO, capture_output=True, text=True, timeout=180))
    for run in runs:
        assert run.returncode != 0, run.args  # each was refused (401) ...
        assert secrets_found(run.stdout + run.stderr, [wrong_password, wrong_key]) == [], run.args  # ... silently


def test_a_password_in_the_es_url_is_never_shown_and_refused_credentials_make_status_unhealthy(es_node, tmp_path):
    """DARKCRAWL_ES_URL=http://user:PW@host: `status`, `status --json`, `es status` (text and JSON) mask the userinfo
    and say healthy with the right password; with a wrong one, `status` is unhealthy (exit 1) with the 401 as the
    reason, and the wrong password is not echoed either."""
    if not es_node.password:
        pytest.skip("the test node uses an API key: no password to put in a URL")
    scheme, rest = es_node.url.split("://", 1)
    env = {key: value for key, value in os.environ.items() if not key.startswith("DARKCRAWL_")}
    env.update(DARKCRAWL_DATA_DIR=str(tmp_path), DARKCRAWL_TOR_SOCKS="", DARKCRAWL_ES_INDEX_PREFIX="tnone")
    wrong = f"pw-{uuid.uuid4().hex}"
    for password, healthy in ((es_node.password, True), (wrong, False)):
        run_env = env | {"DARKCRAWL_ES_URL": f"{scheme}://{es_node.username}:{password}@{rest}"}
        outputs = {}
        for args in (["status"], ["status", "--json"], ["es", "status"], ["es", "status", "--json"]):
            result = subprocess.run([sys.executable, "-m", "crawler.cli", *args], env=run_env, cwd=REPO,
                                    capture_output=True, text=True, timeout=120)
            assert result.returncode == (0 if healthy else 1), (args, result.stdout, result.stderr)
            assert password not in result.stdout + result.stderr, args
            assert "Traceback" not in result.stderr
            outputs[" ".join(args)] = result.stdout + result.stderr
        report = json.loads(outputs["status --json"])
        assert report["healthy"] is healthy and report["elasticsearch"]["healthy"] is healthy
        assert report["elasticsearch"]["url"] == f"{scheme}://***@{rest}"
        if not healthy:
            assert "refused the credentials (401)" in report["elasticsearch"]["message"]
            assert "DOWN" in outputs["status"] and "401" in outputs["status"]
