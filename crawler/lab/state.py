"""The lab's state file and the test "is this pid still a process the lab started?". Documentation: docs/lab.md.

``lab up`` runs in one process, ``lab status`` and ``lab down`` in others, and the lab's processes outlive all of
them; ``state.json`` in the lab directory tells the later commands what runs where. It is rewritten (atomically) after
every process the lab starts, so an interrupted ``up`` still leaves a list to stop.

A pid alone proves nothing once a process has ended (pids are reused), so each process the lab starts carries the
marker ``DARKCRAWLLAB_MEMBER=<lab dir>`` in its environment; a pid is ours when ``/proc/<pid>/environ`` has that
marker and, if recorded, its start time in ``/proc/<pid>/stat`` is the one recorded. ``lab down`` also scans ``/proc``
for the marker, which finds processes the state file lost.

Offers: :class:`ProcessRecord`, :class:`LabState`, :func:`load_state`, :func:`save_state`, :func:`member_marker`,
:func:`is_member`, :func:`find_members`, :func:`start_time`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from crawler.errors import UsageError

STATE_FILE = "state.json"
# Not DARKCRAWL_*: darkcrawl's config loader rejects unknown DARKCRAWL_ variables in its environment.
MEMBER_ENV = "DARKCRAWLLAB_MEMBER"
PROC = Path("/proc")


@dataclass
class ProcessRecord:
    """One process the lab started."""

    name: str  # node name ("auth0", "relay1", "client") or "site:<name>"
    role: str
    pid: int
    start_time: int  # clock ticks after boot, from /proc/<pid>/stat: tells this process from a later one
    log: str = ""


@dataclass
class LabState:
    """What `lab status` and `lab down` need to know about a lab started by another process."""

    lab_dir: str
    base_port: int
    socks_port: int
    extra_socks_ports: list[int]
    control_port: int
    control_cookie_path: str
    onion_control_port: int
    processes: list[ProcessRecord] = field(default_factory=list)
    onions: dict[str, str] = field(default_factory=dict)  # site name -> hostname (xxx.onion)
    http_ports: dict[str, int] = field(default_factory=dict)  # site name -> loopback port of its server
    ready: bool = False  # every onion answered through the client
    started_at: float = 0.0
    ready_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabState:
        values = dict(data)
        values["processes"] = [ProcessRecord(**record) for record in data.get("processes", [])]
        return cls(**values)


def load_state(lab_dir: Path) -> LabState | None:
    """Return the state saved in *lab_dir*, or None if there is none.

    Raises :class:`UsageError` when the file exists but cannot be read as a lab state.
    """
    path = lab_dir / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LabState.from_json(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(
            f"lab state file {path} is unreadable ({exc}): run `darkcrawl lab down` (it also finds the lab's "
            "processes without it), then `darkcrawl lab up`"
        ) from None


def save_state(state: LabState) -> None:
    """Write *state* to its lab directory atomically (a reader never sees half a file)."""
    path = Path(state.lab_dir) / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state.to_json(), indent=2) + "\n", encoding="utf-8")  # keeps the sites in order
    os.replace(temporary, path)


def member_marker(lab_dir: Path) -> str:
    """Return the ``NAME=value`` environment entry that marks processes of the lab in *lab_dir*."""
    return f"{MEMBER_ENV}={Path(lab_dir).resolve()}"


def start_time(pid: int) -> int | None:
    """Return the start time of process *pid* (clock ticks after boot), or None if it is gone or a zombie."""
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces and parentheses
    if not fields or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        environ = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return marker in environ.split(b"\0")


def is_member(pid: int, lab_dir: Path, recorded_start: int | None = None) -> bool:
    """Return True if *pid* is a live process of the lab in *lab_dir* (and, if given, started at *recorded_start*)."""
    if pid <= 1:
        return False
    started = start_time(pid)
    if started is None or (recorded_start is not None and started != recorded_start):
        return False
    return _has_marker(pid, member_marker(lab_dir).encode())


def find_members(lab_dir: Path) -> list[int]:
    """Return the pids of every live process that carries the marker of the lab in *lab_dir*."""
    marker = member_marker(lab_dir).encode()
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            pid = int(entry.name)
            if _has_marker(pid, marker) and start_time(pid) is not None:
                found.append(pid)
    return sorted(found)
