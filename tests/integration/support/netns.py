"""A network namespace for leak tests: its only ways out are relays to chosen loopback ports of the host, and every
packet that leaves a socket inside it is captured.

Design (docs/reliability.md, "No leaks"):

* ``ip netns add``: a namespace with its own loopback and a trap interface (one end of a veth pair whose other
  end is in the namespace too, ARP off) holding the default routes (IPv4 and IPv6) and the resolver address of its
  ``/etc/netns/<name>/resolv.conf`` (``ip netns exec`` mounts it over ``/etc/resolv.conf``). Nothing answers behind
  the trap: a packet sent there goes nowhere, but a DNS query or a connection attempt to any address is *sent* (not
  refused locally with "network unreachable"), so it is seen.
* A packet socket (``AF_PACKET``, every protocol) opened inside the namespace records each outgoing packet on every
  interface in it: interface, protocol, addresses, ports.
* For each allowed port (the lab's Tor SOCKS and control ports, Elasticsearch), a listener on ``127.0.0.1:<port>``
  *inside* the namespace relays bytes to the same port on the host's loopback. Sockets keep the namespace they were
  created in, so the listener is created by a thread that entered the namespace (``setns``), and the host-side
  connection by a thread that did not.

The crawler runs inside with ``ip netns exec``, its configuration unchanged (same addresses and ports). Needs root.
"""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import socket
import struct
import subprocess
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
TRAP_V4 = "10.213.0.1/24"
TRAP_RESOLVER = "10.213.0.53"
TRAP_V6 = "fd00:213::1/64"
PROTOCOLS = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp6"}


@dataclass(frozen=True)
class Packet:
    interface: str
    family: str  # "ipv4", "ipv6" or "other:<ethertype>"
    protocol: str  # "tcp", "udp", "icmp", ...
    src: str
    dst: str
    sport: int
    dport: int
    query: str = ""  # the name asked, for a DNS query

    def describe(self) -> str:
        asked = f" (DNS query for {self.query})" if self.query else ""
        return f"{self.interface} {self.protocol} {self.src}:{self.sport} -> {self.dst}:{self.dport}{asked}"

    @property
    def link_chatter(self) -> bool:
        """The kernel's own IPv6 link traffic when an interface comes up (router solicitation, MLD), not a process's."""
        return self.protocol == "icmp6" and self.dst.startswith("ff02:")


def dns_query_name(payload: bytes) -> str:
    """The first question's name of a DNS message (UDP payload), or '' when it cannot be read."""
    labels, position = [], 12
    try:
        while payload[position]:
            length = payload[position]
            labels.append(payload[position + 1 : position + 1 + length].decode("ascii", "replace"))
            position += 1 + length
    except IndexError:
        return ""
    return ".".join(labels)


def parse_frame(interface: str, frame: bytes) -> Packet:
    """Read interface, protocol, addresses and ports of one Ethernet-framed packet (loopback frames are too)."""
    ethertype = struct.unpack("!H", frame[12:14])[0]
    payload = frame[14:]
    if ethertype == 0x0800 and len(payload) >= 20:
        header = (payload[0] & 0x0F) * 4
        number = payload[9]
        src, dst = socket.inet_ntop(socket.AF_INET, payload[12:16]), socket.inet_ntop(socket.AF_INET, payload[16:20])
        layer4 = payload[header:]
        family = "ipv4"
    elif ethertype == 0x86DD and len(payload) >= 40:
        number = payload[6]
        src, dst = socket.inet_ntop(socket.AF_INET6, payload[8:24]), socket.inet_ntop(socket.AF_INET6, payload[24:40])
        layer4 = payload[40:]
        family = "ipv6"
    else:
        return Packet(interface, f"other:{ethertype:#06x}", "", "", "", 0, 0)
    ports = struct.unpack("!HH", layer4[:4]) if number in (6, 17) and len(layer4) >= 4 else (0, 0)
    query = dns_query_name(layer4[8:]) if number == 17 and ports[1] == 53 else ""
    return Packet(interface, family, PROTOCOLS.get(number, str(number)), src, dst, ports[0], ports[1], query)


def _setns(path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    with open(path) as handle:
        if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns({path}): {os.strerror(error)}")


def inside(namespace_path: str, function: Callable[[], Any]) -> Any:
    """Run *function* on a new thread that entered the namespace; return its result. Only that thread moves."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            _setns(namespace_path)
            outcome["value"] = function()
        except BaseException as exc:  # handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class Capture:
    """Records every outgoing packet in the namespace while running (start/stop)."""

    def __init__(self, namespace_path: str):
        def open_socket() -> socket.socket:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
            return sock

        self.sock: socket.socket = inside(namespace_path, open_socket)
        self.packets: list[Packet] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.2)
            if not ready:
                continue
            frame, address = self.sock.recvfrom(65535)
            if address[2] == PACKET_OUTGOING and address[0] != "trap1":  # each packet once, as sent
                self.packets.append(parse_frame(address[0], frame))

    def __enter__(self) -> Capture:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join()
        self.sock.close()


class Relay:
    """Listens on 127.0.0.1:*port* inside the namespace; relays each connection to the host's 127.0.0.1:*port*."""

    def __init__(self, namespace_path: str, port: int):
        self.port = port
        self.connections = 0

        def listen() -> socket.socket:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen(64)
            return sock

        self.listener: socket.socket = inside(namespace_path, listen)
        self.listener.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._pump, args=(client,), daemon=True).start()

    def _pump(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        client.settimeout(None)
        pair = {client: upstream, upstream: client}
        try:
            while not self.stopping.is_set():
                ready, _, _ = select.select(list(pair), [], [], 0.5)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
        self.thread.join()


class LeakNamespace:
    """The namespace, its relays and its resolver trap. Use as a context manager; :meth:`run` runs a command inside."""

    def __init__(self, allowed_ports: list[int]):
        self.name = f"dc-leak-{uuid.uuid4().hex[:8]}"
        self.path = f"/run/netns/{self.name}"
        self.allowed_ports = sorted(set(allowed_ports))
        self.relays: dict[int, Relay] = {}
        self.etc = Path("/etc/netns") / self.name

    def _ip(self, *args: str) -> None:
        subprocess.run(["ip", "-n", self.name, *args], check=True, capture_output=True, text=True)

    def __enter__(self) -> LeakNamespace:
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True, text=True)
        try:
            self._ip("link", "set", "lo", "up")
            # a veth pair with both ends inside (this kernel has no dummy driver); no ARP, so packets go out at once
            self._ip("link", "add", "trap0", "type", "veth", "peer", "name", "trap1")
            self._ip("link", "set", "trap0", "arp", "off")
            self._ip("link", "set", "trap1", "up")
            self._ip("addr", "add", TRAP_V4, "dev", "trap0")
            self._ip("-6", "addr", "add", TRAP_V6, "dev", "trap0", "nodad")
            self._ip("link", "set", "trap0", "up")
            self._ip("route", "add", "default", "dev", "trap0")
            self._ip("-6", "route", "add", "default", "dev", "trap0")
            self.etc.mkdir(parents=True, exist_ok=True)
            (self.etc / "resolv.conf").write_text(f"nameserver {TRAP_RESOLVER}\noptions timeout:1 attempts:1\n")
            for port in self.allowed_ports:
                self.relays[port] = Relay(self.path, port)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for relay in self.relays.values():
            relay.close()
        shutil.rmtree(self.etc, ignore_errors=True)
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True, text=True)

    def capture(self) -> Capture:
        return Capture(self.path)

    def run(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run *command* inside the namespace (``ip netns exec``), capturing its output as text."""
        return subprocess.run(["ip", "netns", "exec", self.name, *command], capture_output=True, text=True, **kwargs)

    def unexpected(self, packets: list[Packet]) -> list[str]:
        """Every packet that is not TCP on loopback to or from one of the allowed ports, described (the kernel's IPv6
        link chatter on the trap interface aside)."""
        bad = []
        for packet in packets:
            allowed = (
                packet.interface == "lo"
                and packet.protocol == "tcp"
                and packet.src == packet.dst == "127.0.0.1"
                and (packet.sport in self.allowed_ports or packet.dport in self.allowed_ports)
            )
            if not allowed and not packet.link_chatter:
                bad.append(packet.describe())
        return bad

    def connections_to(self, packets: list[Packet]) -> Counter[int]:
        """Connections opened (SYN packets are not told apart: first packets per source port) per allowed port."""
        flows = {(packet.sport, packet.dport) for packet in packets if packet.dport in self.allowed_ports}
        return Counter(dport for _sport, dport in flows)
