"""The private Tor lab for real: every onion serves its fixture site through the lab's SOCKS port (httpx and curl), a
second ``lab up`` changes nothing, ``lab status`` reports the truth, a port clash is one clear line, and ``lab down``
leaves no process behind even after ``lab up`` crashed and the state file lost a process."""

from __future__ import annotations

import inspect
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.lab.network import fetch_through_socks, serve_accepts_onion_hosts
from crawler.lab.sites import SITE_NAMES, SPECIAL_SITE_NAMES, build_site
from crawler.lab.state import find_members, is_member, load_state, save_state, start_time
from tests.integration.fixtures_lab import FETCH_ATTEMPTS, REPO, free_base_port, lab_env, run_lab

pytestmark = pytest.mark.integration


def expected_root(site: str, onions: dict[str, str]) -> bytes:
    """The bytes the fixture site's server sends for ``/`` (pages may link to the other onions)."""
    if "onion_hosts" in inspect.signature(build_site).parameters and serve_accepts_onion_hosts():
        return build_site(site, onion_hosts=onions).pages["/"].body  # type: ignore[call-arg]
    return build_site(site).pages["/"].body


def test_every_onion_serves_its_site_through_the_socks_port(tor_lab):
    assert set(tor_lab.onions) == set(SITE_NAMES) | set(SPECIAL_SITE_NAMES)
    for site in SITE_NAMES:
        hostname = tor_lab.onions[site]
        assert hostname.endswith(".onion") and len(hostname) == 62  # v3: 56 base32 characters + ".onion"
        status, body = tor_lab.fetch(site)
        assert status == 200, site
        assert body == expected_root(site, tor_lab.onions), site


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_socks5_hostname_reaches_every_onion(tor_lab):
    for site in SITE_NAMES:
        for attempt in range(1, FETCH_ATTEMPTS + 1):  # as TorLab.fetch: a failed circuit (curl's 97) is tried again
            result = subprocess.run(
                ["curl", "-sS", "--max-time", "60", "--socks5-hostname", f"127.0.0.1:{tor_lab.socks_port}",
                 tor_lab.url(site)],
                capture_output=True, timeout=90,
            )
            if result.returncode != 97 or attempt == FETCH_ATTEMPTS:
                break
            tor_lab.retry_circuit()
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected_root(site, tor_lab.onions)


def test_extra_socks_ports_and_socks_usernames_reach_the_onions(tor_lab):
    site = SITE_NAMES[0]
    assert len(tor_lab.extra_socks_ports) == 2
    for port in tor_lab.extra_socks_ports:
        assert tor_lab.fetch(site, socks_port=port)[0] == 200
    import httpx

    for username in ("site-a", "site-b"):  # IsolateSOCKSAuth: each username gets circuits of its own
        proxy = f"socks5h://{username}:x@127.0.0.1:{tor_lab.socks_port}"
        with httpx.Client(proxy=proxy, timeout=60) as client:
            assert client.get(tor_lab.url(site)).status_code == 200


def test_a_page_the_site_lacks_is_a_404_from_the_site_itself(tor_lab):
    status, _ = tor_lab.fetch(SITE_NAMES[0], "/no-such-page-in-the-lab")
    assert status == 404


def test_status_json_reports_a_healthy_lab(tor_lab):
    result = run_lab(["status", "--json"], tor_lab.env, timeout=180)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["healthy"] is True
    assert report["bootstrap"] == 100
    assert report["socks_port"] == tor_lab.socks_port and report["control_port"] == tor_lab.control_port
    roles = sorted(node["role"] for node in report["nodes"])
    assert roles.count("authority") == 3 and roles.count("exit") == 1 and roles.count("relay") == 2
    assert roles.count("client") == 1 and roles.count("onion") == 1 and roles.count("site") == len(tor_lab.onions)
    assert all(node["up"] for node in report["nodes"])
    assert {onion["site"]: onion["hostname"] for onion in report["onions"]} == tor_lab.onions
    assert all(onion["reachable"] and onion["status"] == 200 for onion in report["onions"])


def test_client_control_port_takes_the_cookie_and_reports_bootstrap(tor_lab):
    from stem.control import Controller

    assert tor_lab.control_cookie_path.is_file()
    with Controller.from_port(port=tor_lab.control_port) as controller:
        controller.authenticate()
        assert "PROGRESS=100" in controller.get_info("status/bootstrap-phase")
        socks = controller.get_conf("SocksPort", multiple=True)
    assert any(entry.startswith(f"127.0.0.1:{tor_lab.socks_port}") and "IsolateSOCKSAuth" in entry for entry in socks)


def test_second_lab_up_is_harmless(tor_lab):
    before = [(record.name, record.pid, record.start_time) for record in tor_lab.state().processes]
    members_before = find_members(tor_lab.lab_dir)
    result = run_lab(["up"], tor_lab.env, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stderr
    for site in SITE_NAMES:
        assert tor_lab.url(site) in result.stdout
    assert f"127.0.0.1:{tor_lab.socks_port}" in result.stdout
    after = [(record.name, record.pid, record.start_time) for record in tor_lab.state().processes]
    assert after == before
    assert find_members(tor_lab.lab_dir) == members_before
    assert tor_lab.state().onions == tor_lab.onions


def test_another_lab_on_the_same_ports_is_refused_in_one_line(tor_lab, tmp_path):
    env = lab_env(tmp_path / "lab", tor_lab.base_port, tmp_path / "data")
    result = run_lab(["up"], env, timeout=120)
    assert result.returncode == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("darkcrawl: error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert f"port {tor_lab.base_port} " in errors[0] and "DARKCRAWL_LAB_BASE_PORT" in errors[0]
    assert find_members(tmp_path / "lab") == []
    assert tor_lab.fetch(SITE_NAMES[0])[0] == 200  # the running lab is untouched


def test_down_after_a_crashed_up_leaves_no_process(tor_lab, tmp_path):
    """`lab up` killed mid-start leaves its processes running; `lab down` stops them all, including one the state
    file no longer lists."""
    lab_dir = tmp_path / "lab"
    env = lab_env(lab_dir, free_base_port(tor_lab.base_port + 100), tmp_path / "data")
    up = subprocess.Popen([sys.executable, "-m", "crawler.cli", "lab", "up"], env=env, cwd=REPO,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        state = None
        limit = time.monotonic() + 60
        while time.monotonic() < limit:
            state = load_state(lab_dir) if (lab_dir / "state.json").is_file() else None
            if state and len(state.processes) == 8 + len(SITE_NAMES) + len(SPECIAL_SITE_NAMES):
                break
            time.sleep(0.2)
        up.send_signal(signal.SIGKILL)
        up.wait()
        expected = 8 + len(SITE_NAMES) + len(SPECIAL_SITE_NAMES)
        assert state is not None and len(state.processes) == expected, "lab up did not get far enough"
        records = [(record.pid, record.start_time) for record in state.processes]
        assert all(is_member(pid, lab_dir, started) for pid, started in records)  # they outlived the killed `up`
        lost = state.processes.pop()  # the state file forgets one process
        save_state(state)
        result = run_lab(["down"], env, timeout=120)
        assert result.returncode == 0, result.stderr
        assert not [pid for pid, started in records if is_member(pid, lab_dir, started)]
        assert start_time(lost.pid) is None or not is_member(lost.pid, lab_dir)
        assert find_members(lab_dir) == []
        assert not (Path(lab_dir) / "state.json").exists()
        status = run_lab(["status"], env, timeout=60)
        assert status.returncode == 1 and "not running" in status.stdout
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        run_lab(["down"], env, timeout=120)  # whatever happened above, leave nothing running


def test_the_exit_reaches_127_0_0_1_and_nothing_else(tor_lab):
    """Clearnet through the lab: the exit carries streams to 127.0.0.1 (here a site server) and refuses the rest."""
    site = SITE_NAMES[0]
    status, body = fetch_through_socks(tor_lab.socks_port, f"127.0.0.1:{tor_lab.http_ports[site]}")
    assert status == 200 and body == expected_root(site, tor_lab.onions)
    for refused in (f"127.0.0.2:{tor_lab.http_ports[site]}", "10.1.2.3:80"):
        with pytest.raises(OSError):
            fetch_through_socks(tor_lab.socks_port, refused, timeout=30)
