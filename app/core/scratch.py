"""Scratch folders: temporary folders named after the process that made them, swept once that process is gone.

A load copies some files before reading them (UTF-16 and other encodings transcoded, ZIP members extracted, Parquet
files with blank column names renamed) and a sync lands what it downloads; each goes in a scratch folder removed when
the work ends. A process killed outright (``kill -9``, the kernel's out-of-memory killer) cannot remove its own, so
``sweep`` — run when ``abi`` or a workflow worker starts — removes the folders of processes that no longer run.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

NAME = re.compile(r"abi-[A-Za-z0-9_.-]*?-p([0-9]+)-[a-z0-9_]{8}")
"""``abi-<kind>-p<pid>-<tempfile's 8 random characters>``."""
QUIET_SECONDS = 600
"""A folder is swept only when nothing in it changed for this long (its process id may live in another PID
namespace sharing the temporary folder)."""


def prefix(kind: str) -> str:
    """The name prefix of this process's scratch folders of ``kind``."""
    return f"abi-{kind}-p{os.getpid()}-"


def folder(kind: str) -> Path:
    """A new scratch folder (the caller removes it)."""
    return Path(tempfile.mkdtemp(prefix=prefix(kind)))


@contextmanager
def temporary(kind: str) -> Iterator[Path]:
    """A scratch folder removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix=prefix(kind)) as tmp:
        yield Path(tmp)


def sweep(root: Path | None = None, now: float | None = None) -> list[Path]:
    """Remove the scratch folders in ``root`` (the temporary folder) of processes that no longer run, owned by this
    user and quiet for ``QUIET_SECONDS``; the folders removed."""
    root = Path(root or tempfile.gettempdir())
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        match = NAME.fullmatch(entry.name)
        if match is None or not _abandoned(Path(entry.path), int(match.group(1)), now):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    if removed:
        log.info("removed %d scratch folder(s) of processes that ended without cleaning up", len(removed))
    return removed


def _abandoned(path: Path, pid: int, now: float) -> bool:
    try:
        if path.is_symlink() or not path.is_dir() or path.stat().st_uid != os.getuid():
            return False
        if _running(pid):
            return False
        return now - _last_change(path) >= QUIET_SECONDS
    except OSError:
        return False


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _last_change(path: Path) -> float:
    latest = path.stat().st_mtime
    for dirpath, _, names in os.walk(path):
        for name in names:
            try:
                latest = max(latest, os.lstat(os.path.join(dirpath, name)).st_mtime)
            except OSError:
                continue
    return latest
