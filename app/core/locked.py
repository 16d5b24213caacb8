"""One warehouse shared by a worker's threads: calls are serialized, loads run one at a time, whole.

Loads interleaved query by query would all finish together, and the threads' next downloads would then all wait
for nothing; whole loads in turn let one thread download while another loads. ``holding()`` keeps the warehouse
from a thread's first load to the end of its block, so the bookkeeping that follows a load (e.g. a workflow task's
record) does not queue behind the next thread's whole load.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

from app.core.warehouse import Warehouse


class LockedWarehouse(Warehouse):
    """Serializes every call on ``inner`` (e.g. one chdb session shared by an activity worker's threads)."""

    def __init__(self, inner: Warehouse, process_lock: Callable[[], AbstractContextManager[Any]] | None = None,
                 ) -> None:
        self.inner, self.lock, self.process_lock = inner, threading.RLock(), process_lock
        """``process_lock``: also taken by each load (first, so locks are always taken in one order), e.g. a lock
        among processes publishing into one ClickHouse server."""
        self.database, self.embedded = inner.database, inner.embedded
        self.data_dir = getattr(inner, "data_dir", None)
        self._local = threading.local()

    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        with self.lock:
            self.inner.command(sql, params)

    def raw(self, sql: str, fmt: str, params: dict[str, Any] | None = None) -> bytes:
        with self.lock:
            return self.inner.raw(sql, fmt, params)

    def write_file(self, sql: str, fmt: str, out: Path, settings: dict[str, str] | None = None,
                   rows: int | None = None) -> None:
        with self.lock:
            self.inner.write_file(sql, fmt, out, settings, rows)

    def stream(self, sql: str, fmt: str, settings: dict[str, str] | None = None) -> Iterator[bytes]:
        with self.lock:
            yield from self.inner.stream(sql, fmt, settings)

    def insert_file(self, insert_sql: str, source: str, path: Path, fmt: str, structure: str,
                    settings: dict[str, str] | None = None) -> None:
        with self.lock:
            self.inner.insert_file(insert_sql, source, path, fmt, structure, settings)

    def insert_files(self, insert_sql: str, source: str, paths: list[Path], fmt: str, structure: str,
                     settings: dict[str, str] | None = None) -> None:
        with self.lock:
            self.inner.insert_files(insert_sql, source, paths, fmt, structure, settings)  # type: ignore[attr-defined]

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """The warehouse for this thread alone (kept past the block inside :meth:`holding`)."""
        if getattr(self._local, "kept", None) is not None:
            yield
            return
        stack = ExitStack()
        if self.process_lock is not None:
            stack.enter_context(self.process_lock())
        stack.enter_context(self.lock)
        if getattr(self._local, "holding", False):
            self._local.kept = stack
            yield
            return
        with stack:
            yield

    @contextmanager
    def holding(self) -> Iterator[None]:
        self._local.holding = True
        try:
            yield
        finally:
            self._local.holding = False
            kept, self._local.kept = getattr(self._local, "kept", None), None
            if kept is not None:
                kept.close()

    def close(self) -> None:
        self.inner.close()
