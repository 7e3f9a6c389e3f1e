"""Issue 27: no worker process outlives a command (on success, error or Ctrl-C).

Each command runs in its own session (process group); after it ends, no live process may remain
in that group. (An exited child waits in the process table until its parent reaps it; once the
command has exited, that parent is the machine's init, so exited entries are not counted.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")

# four candidates: the local backend scores them in parallel worker processes
RANK = [sys.executable, "-m", "transferscope", "rank", "--dataset", "sentence-polarity", "--model", "tfidf",
        "--model", "hashing", "--model", "tfidf#int8", "--model", "hashing#binary", "--metric", "knn,logme",
        "--no-cache", "-q"]


def _live_in_group(group: int) -> list[str]:
    live = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if int(fields[2]) == group and fields[0] != "Z":
            live.append(f"{entry.name} {stat[:stat.rindex(')') + 1]} {fields[0]}")
    return live


def _after(process: subprocess.Popen) -> list[str]:
    deadline = time.monotonic() + 10
    while (live := _live_in_group(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return live


def test_a_command_leaves_no_worker_process_behind():
    process = subprocess.Popen(RANK, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err.decode()
    assert b"Answer" in out or b"tfidf" in out
    assert _after(process) == []


def test_ctrl_c_leaves_no_worker_process_behind():
    process = subprocess.Popen(RANK, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(_live_in_group(process.pid)) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # until the workers have started
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    process.communicate(timeout=120)  # interrupted (or just finished): either way, nothing may remain
    assert _after(process) == []
