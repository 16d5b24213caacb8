"""The warehouse: the embedded ClickHouse engine (chdb) by default, or a ClickHouse server. Same SQL either way."""

from __future__ import annotations

import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from app.core import scratch, settings
from app.core.data_lock import locked_folder
from app.core.files import glob_free, linked_names, plain_folder, whole_output, written_whole
from app.core.settings import LOCALE_NAME, engine_message, engine_text

log = logging.getLogger(__name__)

SESSION_SETTINGS = {
    "session_timezone": "UTC",
    "max_query_size": str(1 << 20),  # a mapping statement is ~150 KB; a server's default limit is 256 KiB
    "mutations_sync": "2",
    "prefer_column_name_to_alias": "1",
    "json_type_escape_dots_in_keys": "1",
    "type_json_skip_duplicated_paths": "1",
    "input_format_try_infer_dates": "0",
    "input_format_try_infer_datetimes": "0",
    "input_format_with_names_use_header": "0",
    "input_format_csv_allow_variable_number_of_columns": "1",
    "input_format_csv_skip_trailing_empty_lines": "1",
    "input_format_csv_allow_cr_end_of_line": "1",
    "format_csv_allow_single_quotes": "0",
    "input_format_parquet_allow_missing_columns": "1",
    "allow_nondeterministic_mutations": "1",
    "output_format_json_quote_decimals": "1",
    "short_circuit_function_evaluation": "force_enable",
    "output_format_json_quote_64bit_integers": "0",
    "output_format_json_validate_utf8": "1",
    "output_format_json_escape_forward_slashes": "0",
    "parallel_view_processing": "1",
    "storage_file_read_method": "pread",
    "min_insert_block_size_rows": "65536",
    "min_insert_block_size_bytes": "134217728",
}
"""Settings every ABI query runs with: UTC, synchronous mutations, the mapping's name resolution, CSV by position
(rows with missing or extra fields read, and quarantined when that loses a value; trailing blank lines ignored),
routing views in parallel, a tag key given twice in one row read once (the first value), JSON values kept as written
(a tag's ``2023-03-05T00:00:00Z`` stays text, not a date rewritten ``2023-03-05 00:00:00``), JSON output always
valid UTF-8 and with ``/`` unescaped (a tag's URL reads ``http://…``, not ``http:\\/\\/…``), files read with pread (not
mmap: a mapped file counts in the process's memory), and insert blocks of at most 64k rows / 128 MiB (1 M rows: peak
RSS 1.25-1.4 GB; 128k-row blocks, ~10 % faster, peaked at 1.84-2.05 GB)."""


FILE_SETTINGS = {
    "input_format_csv_missing_nullable_as_empty_string": "1",
    "format_csv_null_representation": "<no null token: \\N is text here>",
    "input_format_csv_trim_whitespaces": "0",
}
"""Settings of the queries that read billing files: an empty CSV field reads as '' and a field missing from a short
row as NULL (so a short row can be told apart; the relation maps '', 'NULL' and \\N to NULL itself). The reader does
not trim: the relation trims every cell, and the reader's own trimming misread or crashed the engine on files whose
values are padded with spaces (tests/core/test_file_variants.py, test_focus_variants.py)."""


class WarehouseError(RuntimeError):
    """A query failed in the warehouse; the message is ClickHouse's."""


class WarehouseBusy(WarehouseError):
    """The embedded warehouse's directory is held by another process (one process per directory)."""


NO_SPACE = ("NOT_ENOUGH_SPACE", "No space left on device", "Cannot reserve")
"""What the engine says when the warehouse's disk is full."""


def full_warehouse(wh: Warehouse, exc: Exception) -> WarehouseError | None:
    """The error that stops a load when ``exc`` says the warehouse's disk is full (no file is at fault: every other
    would fail alike), else None."""
    if not any(marker in str(exc) for marker in NO_SPACE):
        return None
    where = f" in {wh.data_dir}" if getattr(wh, "data_dir", None) else ""
    return WarehouseError(f"the warehouse{where} has no space left on its disk: nothing of this load was published "
                          "(earlier data is as it was); free some space and load again")


class Warehouse(ABC):
    """Runs ClickHouse SQL in database ``settings.DATABASE``."""

    database: str = settings.DATABASE
    embedded: bool = False

    @abstractmethod
    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        """Run a statement that returns nothing."""

    @abstractmethod
    def raw(self, sql: str, fmt: str, params: dict[str, Any] | None = None) -> bytes:
        """Run a query and return its output in ClickHouse format ``fmt``."""

    @abstractmethod
    def insert_file(self, insert_sql: str, source: str, path: Path, fmt: str, structure: str,
                    settings: dict[str, str] | None = None) -> None:
        """Run ``INSERT … SELECT … FROM {source}`` where the source relation reads file ``path`` (``settings``: the
        file's own read settings, e.g. its CSV delimiter)."""

    @abstractmethod
    def write_file(self, sql: str, fmt: str, out: Path, settings: dict[str, str] | None = None,
                   rows: int | None = None) -> None:
        """Write the output of query ``sql`` in format ``fmt`` to file ``out`` as it is produced (never whole in
        memory); ``out`` appears only once complete (a failed query or a full disk leaves no file, nor a half of
        one: ``OSError``); ``rows``, when known, is how many rows the query returns (the embedded engine, which
        reports no short write, checks that the file holds them)."""

    def stream(self, sql: str, fmt: str, settings: dict[str, str] | None = None) -> Iterator[bytes]:
        """The output of query ``sql`` in format ``fmt``, chunk by chunk as the engine produces it (closing the
        iterator early cancels the query); ``settings`` hold for it and, on the embedded engine, for the rest of the
        session (``abi sql``'s ``readonly``: its last query)."""
        yield self.raw(f"{sql}\nFORMAT {fmt}" + (f"\nSETTINGS {_settings(settings)}" if settings else ""), fmt)

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a query and return its rows as dicts (JSON types: numbers as ClickHouse renders them)."""
        out = self.raw(sql, "JSONEachRow", params)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        """First column of the first row, or None."""
        found = self.rows(sql, params)
        return next(iter(found[0].values())) if found else None

    def exclusive(self) -> AbstractContextManager[Any]:
        """Held around a whole load: other threads sharing this warehouse wait (see ``app.core.locked``)."""
        return nullcontext()

    def holding(self) -> AbstractContextManager[Any]:
        """Keep the first ``exclusive()`` taken inside this block until the block ends (see ``app.core.locked``)."""
        return nullcontext()

    def reporting(self, callback: Callable[[dict[str, int]], None] | None) -> AbstractContextManager[Any]:
        """Call ``callback`` with the engine's progress (``read_bytes``, ``total_bytes_to_read``, ``read_rows``…)
        while queries run inside the block: the embedded engine reports; elsewhere nothing is called."""
        return nullcontext()

    def close(self) -> None:
        """Release the engine."""


NAMES_ONCE = {"CSVWithNames": "CSV", "TSVWithNames": "TSV", "CSVWithNamesAndTypes": "CSV",
              "TSVWithNamesAndTypes": "TSV"}
"""Formats whose header the embedded engine would repeat before each streamed block, and their headerless form."""


class EmbeddedWarehouse(Warehouse):
    """chdb in this process, persistent in ``data_dir`` (one process per directory: guarded by a lock file)."""

    embedded = True

    def __init__(self, data_dir: Path | None = None) -> None:
        settings.prepare_engine_environment()
        from chdb import session

        self.data_dir = (settings.engine_folder(Path(data_dir), "warehouse folder") if data_dir
                         else settings.engine_folder(settings.data_dir(), "ABI_DATA_DIR"))
        self._lock = locked_folder(self.data_dir, WarehouseBusy)
        self._session = session.Session(str(self.data_dir / "chdb"))
        for name, value in SESSION_SETTINGS.items():
            self._session.query(f"SET {name} = {quote(value)}")
        self._session.query(f"CREATE DATABASE IF NOT EXISTS {self.database}")
        self._session.query(f"USE {self.database}")

    def _run(self, sql: str, fmt: str, params: dict[str, Any] | None) -> bytes:
        try:
            result = self._session.query(sql, fmt, params=params or {})
        except Exception as exc:  # chdb raises its own error types
            raise WarehouseError(engine_message(exc)) from exc
        return result.bytes() if result is not None else b""

    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self._run(sql, "TabSeparated", params)

    def raw(self, sql: str, fmt: str, params: dict[str, Any] | None = None) -> bytes:
        return self._run(sql, fmt, params)

    @contextmanager
    def reporting(self, callback: Callable[[dict[str, int]], None] | None) -> Iterator[None]:
        connection = getattr(self._session, "_conn", None)  # chdb's progress hook lives on the connection
        if callback is None or not hasattr(connection, "set_progress_callback"):
            yield
            return

        def report(payload: dict[str, int]) -> None:
            try:
                callback(payload)
            except Exception:  # a display problem must never fail a load
                log.debug("progress callback failed", exc_info=True)

        connection.set_progress_callback(report)
        try:
            yield
        finally:
            connection.set_progress_callback(None)

    def insert_file(self, insert_sql: str, source: str, path: Path, fmt: str, structure: str,
                    settings: dict[str, str] | None = None) -> None:
        with glob_free(path) as readable:
            self._insert(insert_sql, source, str(readable), fmt, structure, settings)

    def insert_files(self, insert_sql: str, source: str, paths: list[Path], fmt: str, structure: str,
                     settings: dict[str, str] | None = None) -> None:
        """``insert_file`` over several files of one layout read as one relation (planned once): the relation's
        ``_file`` is each file's name in ``linked_names(paths)``."""
        with scratch.temporary("files") as tmp, plain_folder(tmp) as plain:
            names = linked_names(paths)
            for name, path in zip(names, paths, strict=True):
                (tmp / name).symlink_to(path.resolve())
            self._insert(insert_sql, source, f"{plain}/{{{','.join(names)}}}", fmt, structure, settings)

    def _insert(self, insert_sql: str, source: str, pattern: str, fmt: str, structure: str,
                settings: dict[str, str] | None) -> None:
        args = [quote(pattern), quote(fmt)] + ([quote(structure)] if structure else [])
        relation = "file(" + ", ".join(args) + ")"
        read_settings = _settings({**FILE_SETTINGS, **(settings or {})})
        self.command(f"{insert_sql.replace(source, relation)}\nSETTINGS {read_settings}")

    def write_file(self, sql: str, fmt: str, out: Path, settings: dict[str, str] | None = None,
                   rows: int | None = None) -> None:
        if not engine_text(os.path.abspath(out)):  # the engine would write another name (and leave it)
            raise OSError(LOCALE_NAME)
        # the engine writes INTO OUTFILE without reporting a short write (a full disk): the file is checked
        with written_whole(out, lambda part: whole_output(part, fmt, rows)) as part:
            with_settings = f" SETTINGS {_settings(settings)}" if settings else ""
            self.command(f"{sql}\nINTO OUTFILE {quote(str(part))} TRUNCATE FORMAT {fmt}{with_settings}")

    def stream(self, sql: str, fmt: str, settings: dict[str, str] | None = None) -> Iterator[bytes]:
        for name, value in (settings or {}).items():  # the session's: a query's own SETTINGS clause stays valid
            self.command(f"SET {name} = {quote(value)}")
        if fmt.endswith("MonoBlock"):  # one table, numbered once ("Showed 10000 out of …" counts every row)
            yield self.raw(sql, fmt)
            return
        header = self._header(sql, fmt) if fmt in NAMES_ONCE else b""
        if header:  # the engine formats each streamed block alone: names once, then the blocks without them
            yield header
            fmt = NAMES_ONCE[fmt]
        try:
            result = self._session.send_query(sql, fmt)
        except Exception as exc:  # statements the engine does not stream (EXPLAIN AST): read whole, they are small
            if "Streaming query is not supported" not in str(exc):
                raise WarehouseError(engine_message(exc)) from exc
            yield self.raw(sql, fmt)
            return
        try:
            empty = True
            for chunk in result:
                empty = False
                yield chunk.bytes()
            if empty and not header:  # no rows, so no block: the header comes from the query's shape alone
                yield self._header(sql, fmt)
        except Exception as exc:
            raise WarehouseError(engine_message(exc).removeprefix("Streaming query failed: ")) from exc
        finally:
            result.cancel()

    def _header(self, sql: str, fmt: str) -> bytes:
        """What ``fmt`` writes for no rows of query ``sql`` (``CSVWithNames``: the names); b"" for a statement
        that is no SELECT (SHOW, EXPLAIN)."""
        try:
            return self.raw(f"SELECT * FROM (\n{sql}\n) LIMIT 0", fmt)
        except WarehouseError:
            return b""

    def close(self) -> None:
        if not self._lock.closed:
            self._session.close()
            self._lock.close()


def _settings(settings: dict[str, str]) -> str:
    return ", ".join(f"{k} = {quote(v)}" for k, v in settings.items())


def quote(value: str) -> str:
    """A ClickHouse string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def open_warehouse() -> Warehouse:
    """The configured warehouse: a ClickHouse server if ``ABI_CLICKHOUSE_URL`` is set, else chdb."""
    url = settings.clickhouse_url()
    if not url:
        return EmbeddedWarehouse()
    from app.core.server_warehouse import ServerWarehouse

    return ServerWarehouse(url)


__all__ = ["Warehouse", "EmbeddedWarehouse", "WarehouseError", "open_warehouse"]
