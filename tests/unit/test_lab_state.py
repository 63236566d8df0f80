"""crawler.lab.state: the state file round trip, and telling the lab's live processes from others by their marker and
start time (real child processes)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from crawler.errors import UsageError
from crawler.lab.network import Lab, LabConfig
from crawler.lab.state import (
    LabState,
    ProcessRecord,
    find_members,
    is_member,
    load_state,
    member_marker,
    save_state,
    start_time,
)


def spawn(lab_dir, marked: bool = True) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if marked:
        name, _, value = member_marker(lab_dir).partition("=")
        env[name] = value
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    return subprocess.Popen(command, env=env, start_new_session=True)


@pytest.fixture
def processes():
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def wait_for_exec(process: subprocess.Popen[bytes], lab_dir) -> None:
    """/proc/<pid>/environ shows the new environment only after exec; wait for it."""
    import time

    for _ in range(100):
        if is_member(process.pid, lab_dir):
            return
        time.sleep(0.02)


def test_state_round_trip(tmp_path):
    records = [ProcessRecord("auth0", "authority", 123, 456, "/x/log")]
    state = LabState(str(tmp_path), 17000, 17020, [17022], 17021, "/x/cookie", 17030, records,
                     {"market": "a.onion"}, {"market": 17040})
    save_state(state)
    assert load_state(tmp_path) == state
    assert not (tmp_path / "state.tmp").exists()


def test_missing_state_is_none_and_a_corrupt_one_a_clear_error(tmp_path):
    assert load_state(tmp_path) is None
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(UsageError, match="lab down"):
        load_state(tmp_path)


def test_marked_process_is_a_member_and_an_unmarked_one_is_not(tmp_path, processes):
    ours, other = spawn(tmp_path), spawn(tmp_path, marked=False)
    processes += [ours, other]
    wait_for_exec(ours, tmp_path)
    assert is_member(ours.pid, tmp_path)
    assert is_member(ours.pid, tmp_path, start_time(ours.pid))
    assert not is_member(other.pid, tmp_path)
    assert not is_member(ours.pid, tmp_path / "another-lab")
    assert find_members(tmp_path) == [ours.pid]


def test_a_reused_pid_with_another_start_time_is_not_ours(tmp_path, processes):
    ours = spawn(tmp_path)
    processes.append(ours)
    wait_for_exec(ours, tmp_path)
    recorded = start_time(ours.pid)
    assert recorded is not None
    assert not is_member(ours.pid, tmp_path, recorded + 1)


def test_ended_process_is_not_a_member(tmp_path, processes):
    ours = spawn(tmp_path)
    processes.append(ours)
    wait_for_exec(ours, tmp_path)
    ours.kill()
    ours.wait()
    assert start_time(ours.pid) is None
    assert not is_member(ours.pid, tmp_path)


def test_down_stops_processes_the_state_file_lost(tmp_path, processes):
    """`lab down` finds marked processes even with no state file, and leaves unmarked ones alone."""
    lost, other = spawn(tmp_path), spawn(tmp_path, marked=False)
    processes += [lost, other]
    wait_for_exec(lost, tmp_path)
    lab = Lab(LabConfig(lab_dir=tmp_path, base_port=27500, sites=("alpha",)), say=lambda _: None)
    assert lab.down() == [lost.pid]
    assert lost.wait(timeout=5) is not None
    assert other.poll() is None
    assert find_members(tmp_path) == []
