"""Detached service processes, identified by PID *and* start time so a recycled PID is never signalled."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

POLL_S = 0.05
"""Polling interval while waiting for a state change (never a wait for readiness by itself)."""


@dataclass
class ProcessRecord:
    """What ``up`` remembers of a process it started."""

    pid: int
    start_ticks: int
    command: list[str]
    log: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) of a process, or None when there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text[text.rindex(")") + 2:].split()  # fields after the command name
    return rest[0], int(rest[19])


def start(command: list[str], log_path: Path, cwd: Path, env: dict[str, str] | None = None) -> ProcessRecord:
    """Start ``command`` in its own session (it outlives this process), output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=cwd, env=env, start_new_session=True)
    stat = _stat(proc.pid)
    return ProcessRecord(proc.pid, stat[1] if stat else 0, command, str(log_path))


def this_process(command: list[str], log: str = "") -> ProcessRecord:
    """The record of the running process itself (one that is about to ``exec`` ``command``)."""
    stat = _stat(os.getpid())
    return ProcessRecord(os.getpid(), stat[1] if stat else 0, command, log)


def _reap(pid: int) -> None:
    """Collect the exit status when the process is our own child (no zombie left behind)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def alive(record: ProcessRecord) -> bool:
    """The recorded process still runs (same PID, same start time, not a zombie)."""
    _reap(record.pid)
    stat = _stat(record.pid)
    return stat is not None and stat[1] == record.start_ticks and stat[0] not in ("Z", "X")


def stop(record: ProcessRecord, timeout_s: float = 20.0) -> bool:
    """SIGTERM the recorded process, SIGKILL it after ``timeout_s``; True if it had to be killed."""
    if not alive(record):
        return False
    _signal(record.pid, signal.SIGTERM)
    if wait_gone(record, timeout_s):
        return False
    _signal(record.pid, signal.SIGKILL)
    wait_gone(record, 5.0)
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_gone(record: ProcessRecord, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive(record):
            return True
        time.sleep(POLL_S)
    return not alive(record)
