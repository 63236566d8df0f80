"""The torrc of each node of the lab's private Tor network, built from a small description. Documentation: docs/lab.md.

Every node runs with ``TestingTorNetwork 1`` and the options that make a three-authority network vote within seconds
(Tor's manual, "TESTING NETWORK OPTIONS"); every listener binds 127.0.0.1 only. The exit relay may exit to 127.0.0.1
and nowhere else. Relays get the offline DNS settings, since the lab has no resolver to test against.

Offers: :class:`Role`, :class:`Node`, :class:`AuthorityInfo`, :class:`OnionService`, :func:`dir_authority_line`,
:func:`render_torrc`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

LOOPBACK = "127.0.0.1"

# Voting every 20 s; vote + distribution delay (8 s) must stay under half the interval, which tor uses as the interval
# while there is no consensus yet.
VOTING_INTERVAL = 20
VOTE_DELAY = 4
DIST_DELAY = 4

TESTING_NETWORK_OPTIONS: tuple[str, ...] = (
    "TestingTorNetwork 1",
    "AssumeReachable 1",  # TestingTorNetwork no longer implies it; nothing can test reachability from outside
    "PathsNeededToBuildCircuits 0.67",  # a small network: build circuits once 2/3 of the descriptors are known
    "TestingDirAuthVoteExit *",
    "TestingDirAuthVoteGuard *",
    "TestingDirAuthVoteHSDir *",
    "TestingMinExitFlagThreshold 0",
    "V3AuthNIntervalsValid 2",
    "SafeLogging 0",
    "LogTimeGranularity 1",
)

AUTHORITY_OPTIONS: tuple[str, ...] = (
    "AuthoritativeDirectory 1",
    "V3AuthoritativeDirectory 1",
    f"TestingV3AuthInitialVotingInterval {VOTING_INTERVAL}",
    f"TestingV3AuthInitialVoteDelay {VOTE_DELAY}",
    f"TestingV3AuthInitialDistDelay {DIST_DELAY}",
    f"V3AuthVotingInterval {VOTING_INTERVAL}",
    f"V3AuthVoteDelay {VOTE_DELAY}",
    f"V3AuthDistDelay {DIST_DELAY}",
)

OFFLINE_RELAY_OPTIONS: tuple[str, ...] = (
    "ServerDNSDetectHijacking 0",
    "ServerDNSTestAddresses",  # empty: there is no internet name to test the resolver with
    "ServerDNSResolvConfFile /dev/null",
    "ServerDNSAllowBrokenConfig 1",
)


class Role(StrEnum):
    AUTHORITY = "authority"
    RELAY = "relay"
    EXIT = "exit"
    ONION = "onion"  # the tor that hosts the fixture sites' onion services
    CLIENT = "client"


@dataclass(frozen=True)
class Node:
    """One tor process of the lab. Ports that a role does not use stay 0."""

    name: str
    role: Role
    data_dir: Path
    or_port: int = 0
    dir_port: int = 0
    socks_ports: tuple[int, ...] = ()
    control_port: int = 0

    @property
    def torrc_path(self) -> Path:
        return self.data_dir / "torrc"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "notice.log"

    @property
    def is_relay(self) -> bool:
        return self.role in (Role.AUTHORITY, Role.RELAY, Role.EXIT)


@dataclass(frozen=True)
class AuthorityInfo:
    """What every node must know about a directory authority: its ports and its two identities."""

    nickname: str
    or_port: int
    dir_port: int
    v3ident: str  # the authority certificate's fingerprint (its v3 signing identity)
    fingerprint: str  # the relay identity fingerprint


@dataclass(frozen=True)
class OnionService:
    """A v3 onion service: its keys live in *hs_dir*; its port 80 leads to the site server on *target_port*."""

    name: str
    hs_dir: Path
    target_port: int


def dir_authority_line(authority: AuthorityInfo) -> str:
    """Return the ``DirAuthority`` torrc line naming *authority*."""
    return (
        f"DirAuthority {authority.nickname} orport={authority.or_port} no-v2 v3ident={authority.v3ident} "
        f"{LOOPBACK}:{authority.dir_port} {authority.fingerprint}"
    )


def _relay_lines(node: Node) -> list[str]:
    lines = [
        f"Address {LOOPBACK}",
        f"ORPort {LOOPBACK}:{node.or_port}",
        f"DirPort {LOOPBACK}:{node.dir_port}",
        f"ContactInfo {node.name}@lab.darkcrawl.invalid",
        *OFFLINE_RELAY_OPTIONS,
    ]
    if node.role is Role.EXIT:
        lines += ["ExitRelay 1", "ExitPolicyRejectPrivate 0", f"ExitPolicy accept {LOOPBACK}:*"]
        lines.append("ExitPolicy reject *:*")
    else:
        lines += ["ExitRelay 0", "ExitPolicy reject *:*"]
    if node.role is Role.AUTHORITY:
        lines += list(AUTHORITY_OPTIONS)
    return lines


def render_torrc(
    node: Node, authorities: Sequence[AuthorityInfo], onion_services: Iterable[OnionService] = ()
) -> str:
    """Return the torrc text for *node*. Raises ValueError if a port its role needs is missing."""
    if not authorities:
        raise ValueError("a testing network needs at least one DirAuthority")
    if node.is_relay and not (node.or_port and node.dir_port):
        raise ValueError(f"{node.name}: a relay needs an ORPort and a DirPort")
    if node.role is Role.CLIENT and not (node.socks_ports and node.control_port):
        raise ValueError(f"{node.name}: the client needs a SOCKS port and a control port")
    lines = [
        f"# darkcrawl lab node {node.name} ({node.role}); written by `darkcrawl lab up`, rewritten at every start",
        *TESTING_NETWORK_OPTIONS,
        f"DataDirectory {node.data_dir}",
        f"Nickname {node.name}",
        f"Log notice file {node.log_path}",
    ]
    if node.is_relay:
        lines += _relay_lines(node)
    if node.role is Role.CLIENT:
        lines += [f"SocksPort {LOOPBACK}:{port} IsolateSOCKSAuth" for port in node.socks_ports]
        # A microdescriptor sums up an exit policy over public addresses only, so the loopback-only exit would look
        # like no exit at all; full descriptors carry the real policy and let the client exit to 127.0.0.1.
        lines.append("UseMicrodescriptors 0")
    else:
        lines.append("SocksPort 0")
    if node.control_port:
        lines += [f"ControlPort {LOOPBACK}:{node.control_port}", "CookieAuthentication 1"]
    if node.role is Role.ONION:
        for service in onion_services:
            lines += [f"HiddenServiceDir {service.hs_dir}", f"HiddenServicePort 80 {LOOPBACK}:{service.target_port}"]
    lines += [dir_authority_line(authority) for authority in authorities]
    return "\n".join(lines) + "\n"
