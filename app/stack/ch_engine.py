"""Serialized access to an embedded chdb session with ClickHouse HTTP semantics.

chdb allows one session per data directory, so every HTTP request runs on the same session, one at
a time under a lock. Before each statement the session is brought to exactly the request's
database and URL settings (only differences are issued; settings a request does not name go back
to their defaults), so requests cannot see each other's settings. INSERT statements whose data
follows ``FORMAT <name>`` are streamed into chdb with ``send_insert`` (raw bytes in any input
format, text or binary), which avoids temporary files and re-parsing.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from app.core.files import plain_folder
from app.models.names import FOCUS_TABLE, QUARANTINE_TABLE
from app.stack.ch_protocol import (
    ClickHouseError,
    QueryRequest,
    QueryResult,
    Statement,
    output_format,
    quote,
    rewrite_system_tables,
)

log = logging.getLogger("abi.stack.clickhouse_http")

_SETTING_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_USE_RE = re.compile(r"^\s*USE\s", re.I)
_SET_RE = re.compile(r"^\s*SET\s", re.I)
_WRITE_RE = re.compile(
    r"^\s*(INSERT|CREATE|DROP|ALTER|TRUNCATE|RENAME|OPTIMIZE|SYSTEM|KILL|GRANT|REVOKE|ATTACH|DETACH|DELETE|"
    r"UPDATE|EXCHANGE|UNDROP|BACKUP|RESTORE|MOVE)\b",
    re.I,
)
_TRUNCATE_RE = re.compile(
    r"^\s*TRUNCATE\s+(?:TABLE\s+)?(?:IF\s+EXISTS\s+)?(?:(?:`[^`]+`|\w+)\.)?(`[^`]+`|\w+)\s*;?\s*$", re.I)
"""``TRUNCATE [TABLE] [IF EXISTS] [db.]name``: group 1 is the table's name."""
KEPT_TABLES = frozenset({FOCUS_TABLE, QUARANTINE_TABLE})
"""Tables ``moose-cli dev`` may not empty: on each start (its state is cleared: ``abi stack reset``) it backfills every
materialized view as new, truncating the target first; the FOCUS tables hold rows of bulk loads, of the other raw
tables and of the dead-letter queue too, and the views add only rows the table does not hold (``stream_sql``)."""

_APPEND_CHUNK = 1 << 20
_INPUT_RE = re.compile(r"\binput\s*\(\s*('(?:[^'\\]|\\.)*')\s*\)", re.I)
"""``input('structure')``: the table function of ``INSERT … SELECT … FROM input(…) FORMAT …``."""
_BASELINE_SETTINGS = {"session_timezone": "UTC"}
# Formats chdb's Python layer converts into Python objects; not wire formats.
_PYTHON_ONLY_FORMATS = frozenset({"dataframe", "datastore", "arrowtable", "debug"})


SERVER_THREADS = 16
"""The threads of the server the endpoint stands for when it reads ``input()`` (a real one has one per core)."""


def _baseline_value(name: str) -> str:
    """SQL for a setting's value outside any request: our baseline, else the engine default."""
    value = _BASELINE_SETTINGS.get(name)
    return quote(value) if value is not None else "DEFAULT"


def _check_readonly(request: QueryRequest) -> None:
    """Reject writes on GET requests, as ClickHouse does (readonly=2)."""
    statement = request.statement
    if request.readonly and (statement.insert_format or _WRITE_RE.match(statement.sql)):
        raise ClickHouseError(164, "Cannot execute query in readonly mode. (READONLY)")


class ChdbEngine:
    """One chdb session (one per data directory), used by one statement at a time."""

    def __init__(self, data_dir: str, kept: frozenset[str] = frozenset()) -> None:
        """``kept``: tables a ``TRUNCATE`` leaves as they are (answered without emptying them)."""
        from app.core.settings import engine_folder, prepare_engine_environment

        engine_folder(Path(data_dir), "chdb data folder")
        prepare_engine_environment()
        from chdb.session import Session  # imported late so callers can set TZ before chdb loads

        self._session = Session(data_dir)
        self._lock = threading.Lock()
        self._database: str | None = None
        self._applied: dict[str, str] = {}  # URL settings currently SET on the session
        self._kept = kept
        self._raw("SET " + ", ".join(f"{k} = {quote(v)}" for k, v in _BASELINE_SETTINGS.items()))
        self.version = self._raw("SELECT version()").bytes().decode().strip()

    def _raw(self, sql: str, fmt: str = "TabSeparated", params: dict[str, str] | None = None) -> Any:
        """Run one statement on the chdb connection, translating errors."""
        if fmt.lower() in _PYTHON_ONLY_FORMATS:
            raise ClickHouseError(73, f"Unknown format {fmt}. (UNKNOWN_FORMAT)")
        try:
            return self._session.query(sql, fmt, params=params or {})
        except Exception as exc:  # chdb raises RuntimeError subclasses with ClickHouse text
            raise ClickHouseError.from_chdb(exc) from None

    def execute(self, request: QueryRequest) -> QueryResult:
        """Run a request with exactly its database and URL settings in effect."""
        _check_readonly(request)
        truncated = _TRUNCATE_RE.match(request.statement.sql)
        if truncated and truncated.group(1).strip("`") in self._kept:
            log.warning("kept %s: not emptied by TRUNCATE (a dev server's materialized-view backfill; its views add "
                        "only rows the table does not hold)", truncated.group(1).strip("`"))
            return QueryResult(data=b"", fmt=request.default_format)
        with self._lock:
            self._use(request.database or "default")
            self._set_settings(request.settings)
            try:
                return self._run(request)
            finally:
                if _USE_RE.match(request.statement.sql):
                    self._database = None
                if _SET_RE.match(request.statement.sql):
                    self._reset_settings(list(self._applied))

    def _use(self, database: str) -> None:
        """Switch the session's current database if needed."""
        if database != self._database:
            self._raw(f"USE `{database.replace('`', '``')}`")
            self._database = database

    def _set_settings(self, settings: dict[str, str]) -> None:
        """Make ``settings`` (over the baseline) the ones in effect, issuing only the differences.

        Clients usually send the same settings on every request, so this is mostly free.
        """
        for name in settings:
            if not _SETTING_NAME_RE.match(name):
                raise ClickHouseError(115, f"Unknown setting '{name}'. (UNKNOWN_SETTING)")
        self._reset_settings([name for name in self._applied if name not in settings])
        changed = {k: v for k, v in settings.items() if self._applied.get(k) != v}
        if not changed:
            return
        try:
            self._raw("SET " + ", ".join(f"{k} = {quote(v)}" for k, v in changed.items()))
        except ClickHouseError:
            self._reset_settings(list(changed))
            raise
        self._applied.update(changed)

    def _reset_settings(self, names: list[str]) -> None:
        """Return settings to their baseline; one by one if a batch fails (e.g. an unknown name)."""
        if not names:
            return
        for name in names:
            self._applied.pop(name, None)
        assignments = [f"{n} = {_baseline_value(n)}" for n in names]
        try:
            self._raw("SET " + ", ".join(assignments))
        except ClickHouseError:
            for assignment in assignments:
                try:
                    self._raw(f"SET {assignment}")
                except ClickHouseError:
                    pass

    def _run(self, request: QueryRequest) -> QueryResult:
        """Execute the statement, streaming INSERT data when there is any."""
        statement = request.statement
        started = time.perf_counter_ns()
        if statement.insert_format:
            outcome = self._insert(statement)
        else:
            outcome = self._select(statement.sql, request.default_format, request.params)
        outcome.elapsed_ns = time.perf_counter_ns() - started
        return outcome

    def _select(self, sql: str, default_format: str, params: dict[str, str]) -> QueryResult:
        """Run any statement without a data body; collect its output and counters."""
        result = self._raw(rewrite_system_tables(sql), default_format, params)
        return QueryResult(
            data=result.bytes(),
            fmt=output_format(sql, default_format),
            read_rows=result.rows_read(),
            read_bytes=result.bytes_read(),
            written_rows=result.rows_written(),
            written_bytes=result.bytes_written(),
        )

    def _insert(self, statement: Statement) -> QueryResult:
        """Stream raw FORMAT-encoded bytes into an INSERT."""
        fmt = statement.insert_format or "TabSeparated"
        if _INPUT_RE.search(statement.sql):
            return self._insert_select_input(statement, fmt)
        data = memoryview(statement.data)
        try:
            with self._session.send_insert(statement.sql, fmt) as inserter:
                for offset in range(0, len(data), _APPEND_CHUNK):
                    inserter.append(data[offset : offset + _APPEND_CHUNK])
                done = inserter.finish()
        except Exception as exc:
            raise ClickHouseError.from_chdb(exc) from None
        return QueryResult(b"", fmt, written_rows=done.rows_written, written_bytes=done.bytes_written)

    def _insert_select_input(self, statement: Statement, fmt: str) -> QueryResult:
        """``INSERT … SELECT … FROM input(…)``, which chdb's inserter refuses: the body is spooled to a file that
        ``file(…)`` reads as a many-core server reads ``input()`` (``SERVER_THREADS`` unless the request sets
        ``max_threads``): its blocks leave the reader in order, but are processed after it on several threads, where
        ``rowNumberInAllBlocks()`` numbers them as they come unless ``parallelize_output_from_storages`` is 0."""
        with tempfile.NamedTemporaryFile(prefix="abi-input-", suffix=".data") as body, \
                plain_folder(Path(body.name).parent) as folder:  # a TMPDIR named like a glob (``/tmp/{a,b}``)
            body.write(statement.data)
            body.flush()
            name = str(folder / Path(body.name).name)
            sql = _INPUT_RE.sub(lambda m: f"file({quote(name)}, {quote(fmt)}, {m.group(1)})", statement.sql)
            threads = self._applied.get("max_threads")
            self._raw(f"SET max_threads = {quote(threads) if threads else SERVER_THREADS}")
            try:
                result = self._raw(sql)
            finally:
                self._raw(f"SET max_threads = {quote(threads) if threads else _baseline_value('max_threads')}")
        return QueryResult(b"", fmt, written_rows=result.rows_written(), written_bytes=result.bytes_written())

    def close(self) -> None:
        """Close the chdb session (flushes its data directory)."""
        with self._lock:
            self._session.close()
