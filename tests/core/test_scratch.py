"""Scratch folders of processes killed outright are swept; those of running processes and recent ones are kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core import scratch

ROOT = Path(__file__).resolve().parents[2]
MAKE_AND_DIE = """
import os, signal, sys
from app.core import scratch
folder = scratch.folder(sys.argv[1])
(folder / "copy.csv").write_text("x" * 1000)
print(folder, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_folder(tmp_path: Path, kind: str) -> Path:
    """A scratch folder made by a process then killed with SIGKILL, aged past the quiet time."""
    run = subprocess.run([sys.executable, "-c", MAKE_AND_DIE, kind], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "TMPDIR": str(tmp_path)})
    assert run.returncode == -signal.SIGKILL, run.stderr
    folder = Path(run.stdout.strip())
    assert folder.parent == tmp_path and (folder / "copy.csv").exists()
    _age(folder, scratch.QUIET_SECONDS + 1)
    return folder


def _age(folder: Path, seconds: float) -> None:
    past = time.time() - seconds
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (past, past), follow_symlinks=False)


def test_a_killed_process_folder_is_swept(tmp_path: Path) -> None:
    folder = _killed_folder(tmp_path, "utf8")
    assert scratch.sweep(tmp_path) == [folder]
    assert not folder.exists()


def test_running_recent_and_foreign_folders_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    mine = scratch.folder("zip")  # this process runs
    _age(mine, 10 * scratch.QUIET_SECONDS)
    recent = _killed_folder(tmp_path, "parquet")
    _age(recent, 0)  # a file written a moment ago: its process id may belong to another namespace
    other = tmp_path / "abi-notes"  # not a scratch name
    other.mkdir()
    link = tmp_path / "abi-sync-x-p999999-abcdefgh"  # a link is never followed
    link.symlink_to(other)
    _age(other, 10 * scratch.QUIET_SECONDS)
    assert scratch.sweep(tmp_path) == []
    assert mine.exists() and recent.exists() and other.exists() and link.exists()


def test_a_recently_written_file_keeps_an_old_folder(tmp_path: Path) -> None:
    folder = _killed_folder(tmp_path, "sync-ea")
    (folder / "copy.csv").write_text("still being written by a process in another namespace")
    assert scratch.sweep(tmp_path) == []
    assert scratch.sweep(tmp_path, now=time.time() + scratch.QUIET_SECONDS + 1) == [folder]


def test_the_command_line_sweeps_at_start(tmp_path: Path) -> None:
    folder = _killed_folder(tmp_path, "files")
    env = {**os.environ, "TMPDIR": str(tmp_path), "ABI_DATA_DIR": str(tmp_path / "data")}
    run = subprocess.run([sys.executable, "-m", "app.cli.main", "files", "--json"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert "no warehouse" in run.stderr  # an empty data folder: the sweep ran all the same
    assert not folder.exists()
