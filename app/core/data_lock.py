"""The lock file of an embedded warehouse's folder: one process at a time opens the warehouse."""

from __future__ import annotations

import fcntl
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from app.core.settings import SettingError


def locked_folder(data_dir: Path, busy: type[Exception]) -> IO[str]:
    """The lock file of ``data_dir``, made if need be and held (naming this process, ``holder_name``); ``busy``
    raised when another process holds it, a ``SettingError`` when the folder cannot be written."""
    lock = _lock_file(data_dir)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        lock.seek(0)
        holder = lock.read(500).strip() or "a workflow worker, API server or load"
        lock.close()
        raise busy(f"{data_dir} is in use by another ABI process ({holder}): one process at a time opens an "
                   "embedded warehouse; wait for it or stop it, or use another ABI_DATA_DIR") from exc
    lock.truncate(0)
    lock.write(holder_name())
    lock.flush()
    return lock


def _lock_file(data_dir: Path) -> IO[str]:
    """The open lock file of ``data_dir`` (made if need be); a ``SettingError`` when the folder cannot be written: a
    query needs its lock too, and a load its journal, beside the engine's own files."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(data_dir, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied", str(data_dir))
        return open(data_dir / ".abi.lock", "a+")  # noqa: SIM115 - held for the session's life
    except OSError as exc:
        raise SettingError(f"warehouse folder {data_dir} (ABI_DATA_DIR): {exc.strerror or exc}: every abi command "
                           "needs write access to it (its lock file, a load's journal), a query too") from exc


def holder_name() -> str:
    """This process as the lock file names it for another that finds the warehouse held: ``process 4242, abi sql,
    since 2026-12-05 04:55:01 UTC``."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    program = getattr(spec, "name", "") or Path(sys.argv[0]).name
    if program in ("abi", "app.cli.main"):  # the subcommand: never its arguments (a query, a path)
        program = " ".join(["abi", *[a for a in sys.argv[1:] if not a.startswith("-")][:1]])
    return f"process {os.getpid()}, {program}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
