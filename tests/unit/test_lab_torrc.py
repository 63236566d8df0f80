"""crawler.lab.torrc and crawler.lab.authority: each node's torrc, checked by the real tor (``--verify-config``) with
real authority keys from tor-gencert."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.lab.authority import ensure_authority_keys, read_certificate, relay_fingerprint
from crawler.lab.network import Lab, LabConfig, PortPlan
from crawler.lab.torrc import AuthorityInfo, Node, Role, dir_authority_line, render_torrc

needs_tor = pytest.mark.skipif(
    shutil.which("tor") is None or shutil.which("tor-gencert") is None, reason="Debian's tor package is not installed"
)


def options(torrc: str) -> list[tuple[str, str]]:
    pairs = []
    for line in torrc.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            pairs.append((key, value))
    return pairs


def fake_authorities() -> list[AuthorityInfo]:
    return [AuthorityInfo(f"auth{i}", 17000 + 2 * i, 17001 + 2 * i, "A" * 40, "B" * 40) for i in range(3)]


@pytest.fixture(scope="module")
def real_authorities(tmp_path_factory) -> tuple[Lab, list[AuthorityInfo]]:
    lab_dir = tmp_path_factory.mktemp("lab")
    lab = Lab(LabConfig(lab_dir=lab_dir, base_port=27500, sites=("alpha", "beta")), say=lambda _: None)
    authorities = []
    for node in lab.nodes()[:3]:
        node.data_dir.mkdir(parents=True, mode=0o700)
        v3ident = ensure_authority_keys("tor-gencert", node.data_dir / "keys", node.dir_port)
        fingerprint = relay_fingerprint("tor", node.data_dir, node.name)
        authorities.append(AuthorityInfo(node.name, node.or_port, node.dir_port, v3ident, fingerprint))
    return lab, authorities


def test_dir_authority_line_names_both_identities_and_loopback_ports():
    line = dir_authority_line(AuthorityInfo("auth0", 17000, 17001, "A" * 40, "B" * 40))
    assert line == f"DirAuthority auth0 orport=17000 no-v2 v3ident={'A' * 40} 127.0.0.1:17001 {'B' * 40}"


def test_only_the_exit_may_exit_and_only_to_loopback(tmp_path):
    exit_torrc = render_torrc(Node("relay0", Role.EXIT, tmp_path, 17006, 17007), fake_authorities())
    relay_torrc = render_torrc(Node("relay1", Role.RELAY, tmp_path, 17008, 17009), fake_authorities())
    exit_policy = [value for key, value in options(exit_torrc) if key == "ExitPolicy"]
    assert exit_policy == ["accept 127.0.0.1:*", "reject *:*"]
    assert ("ExitRelay", "1") in options(exit_torrc)
    assert [value for key, value in options(relay_torrc) if key == "ExitPolicy"] == ["reject *:*"]
    assert ("ExitRelay", "0") in options(relay_torrc)


def test_every_listener_binds_loopback(tmp_path):
    plan = PortPlan(17000, ("alpha",))
    lab = Lab(LabConfig(lab_dir=tmp_path, base_port=17000, sites=("alpha",)), say=lambda _: None)
    for node in lab.nodes():
        for key, value in options(render_torrc(node, fake_authorities(), lab.onion_services())):
            if key in ("ORPort", "DirPort", "ControlPort") or (key == "SocksPort" and value != "0"):
                assert value.startswith("127.0.0.1:"), (node.name, key, value)
    client = render_torrc(lab.client_node, fake_authorities())
    socks = [value for key, value in options(client) if key == "SocksPort"]
    assert socks == [f"127.0.0.1:{port} IsolateSOCKSAuth" for port in (plan.socks, *plan.extra_socks_ports)]
    assert ("CookieAuthentication", "1") in options(client)


def test_a_relay_without_ports_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ORPort"):
        render_torrc(Node("relay1", Role.RELAY, tmp_path), fake_authorities())
    with pytest.raises(ValueError, match="DirAuthority"):
        render_torrc(Node("relay1", Role.RELAY, tmp_path, 1, 2), [])


def test_port_plan_has_no_port_twice():
    plan = PortPlan(17000, ("a", "b", "c", "d", "e"), extra_socks=8)
    ports = [port for port, _ in plan.ports()]
    assert len(ports) == len(set(ports))
    assert min(ports) == 17000 and max(ports) == plan.last


@needs_tor
def test_tor_accepts_every_nodes_torrc(real_authorities):
    lab, authorities = real_authorities
    services = lab.onion_services()
    for service in services:
        service.hs_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    defaults = lab.lab_dir / "defaults.torrc"
    defaults.write_text("")
    for node in lab.nodes():
        node.data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
        node.torrc_path.write_text(render_torrc(node, authorities, services))
        result = subprocess.run(
            ["tor", "--verify-config", "-f", str(node.torrc_path), "--defaults-torrc", str(defaults)],
            capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, (node.name, result.stdout[-2000:])
        assert "Configuration was valid" in result.stdout


@needs_tor
def test_authority_keys_are_made_once_and_remade_for_another_dirport(tmp_path):
    keys = tmp_path / "keys"
    first = ensure_authority_keys("tor-gencert", keys, 17001)
    certificate = read_certificate(keys / "authority_certificate")
    assert certificate is not None
    assert first == certificate.v3ident and len(first) == 40
    assert certificate.dir_address == "127.0.0.1:17001"
    assert certificate.expires > datetime.now(UTC) + timedelta(days=300)
    assert ensure_authority_keys("tor-gencert", keys, 17001) == first
    assert ensure_authority_keys("tor-gencert", keys, 17101) != first
    soon_expired = datetime.now(UTC) + timedelta(days=400)
    assert ensure_authority_keys("tor-gencert", keys, 17101, now=soon_expired) not in (first, "")


@needs_tor
def test_relay_fingerprint_is_the_identity_tor_reports(real_authorities):
    lab, authorities = real_authorities
    node = lab.nodes()[0]
    assert relay_fingerprint("tor", node.data_dir, node.name) == authorities[0].fingerprint
    assert len(authorities[0].fingerprint) == 40 and int(authorities[0].fingerprint, 16) >= 0
    assert len({authority.fingerprint for authority in authorities}) == 3


def test_unreadable_certificate_is_none(tmp_path: Path):
    (tmp_path / "authority_certificate").write_text("dir-key-certificate-version 3\nfingerprint XYZ\n")
    assert read_certificate(tmp_path / "authority_certificate") is None
    assert read_certificate(tmp_path / "missing") is None
