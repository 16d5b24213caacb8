"""Parquet billing files: what the footer says (column names, types, nested columns) and a peek at the first rows.

Every read but ``parquet_schema``'s refuses a file pyarrow cannot read (its footer, or a damaged page) with a
``SourceError`` naming it (``shown``: the file as loaded, when ``path`` is a ZIP member's copy)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.core import encodings, scratch
from app.core.headers import named_columns
from app.core.source_error import SourceError

JSON_AS_TEXT = {"input_format_parquet_enable_json_parsing": "0"}
"""A column of Parquet's JSON type (DuckDB's JSON, pyarrow's ``pa.json_()``) is read as the text it holds, as a JSON
text column is: the engine's own JSON type would make a dotted tag key (``kubernetes.io/cluster``) a nested object
and refuse the whole file over one value that is not an object (``[1, 2]`` in a column no FOCUS column reads)."""


@contextmanager
def _reading(path: Path, shown: Path) -> Iterator[None]:
    """pyarrow's errors (``OSError`` for a damaged page, ``ArrowInvalid``, ``ArrowNotImplementedError``…) reading
    ``path`` as a ``SourceError`` (a gzip-compressed file's: what to do, ``encodings.gzipped``)."""
    import pyarrow as pa

    try:
        yield
    except (OSError, ValueError, pa.ArrowException) as exc:
        why = " ".join(str(exc).split())  # pyarrow's messages run over lines
        raise SourceError(shown, encodings.gzipped(path)
                          or f"not a readable Parquet file ({exc.__class__.__name__}: {why})") from exc


def parquet_schema(path: Path) -> str:
    """A Parquet file's column names and types, from its footer (its path when the footer cannot be read: it is then
    like no other file)."""
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path).to_string(show_field_metadata=False, show_schema_metadata=False)
    except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        return f"unreadable: {path}"


def parquet_names(path: Path, shown: Path) -> list[str]:
    """A Parquet file's column names; one named twice is refused (the engine cannot read such a file)."""
    import pyarrow.parquet as pq

    with _reading(path, shown):
        names = list(pq.read_schema(path).names)
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise SourceError(shown, f"column {twice[0]!r} appears twice: the engine cannot read a Parquet file "
                          f"with a repeated column name; write the file with one")
    return names


def parquet_named_copy(path: Path, shown: Path) -> Path | None:
    """A copy of ``path`` whose blank column names are ``named_columns``' ``column_<n>`` (the engine cannot read a
    column named ''), in a new temporary folder (``encodings.discard`` removes it); None when no name is blank."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with _reading(path, shown):
        source = pq.ParquetFile(path)
        names = named_columns(source.schema_arrow.names)
        if names == source.schema_arrow.names:
            return None
        schema = pa.schema([f.with_name(n) for f, n in zip(source.schema_arrow, names, strict=True)])
        copy = scratch.folder("parquet") / path.name
        try:
            with pq.ParquetWriter(copy, schema) as writer:
                for group in range(source.num_row_groups):  # one row group in memory at a time
                    writer.write_table(source.read_row_group(group).rename_columns(names).cast(schema))
        except BaseException:
            shutil.rmtree(copy.parent, ignore_errors=True)
            raise
    return copy


def parquet_kinds(path: Path, shown: Path) -> tuple[frozenset[int], frozenset[int], dict[int, str]]:
    """Positions of a Parquet file's nested columns (map, list, struct), of its columns that are not text (numbers,
    timestamps, dates, nested values: a file's text conventions, decimal commas, day-first dates, are not theirs),
    and of its timestamps with a time zone, with the zone (``+01:00``, ``Europe/Paris``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def text(t: pa.DataType) -> bool:
        if pa.types.is_dictionary(t):
            return text(t.value_type)
        return (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t)
                or pa.types.is_large_binary(t) or str(t) in ("string_view", "binary_view"))

    with _reading(path, shown):
        schema = pq.read_schema(path)
    return (frozenset(i for i, f in enumerate(schema) if f.type.num_fields > 0),
            frozenset(i for i, f in enumerate(schema) if not text(f.type)),
            {i: f.type.tz for i, f in enumerate(schema) if pa.types.is_timestamp(f.type) and f.type.tz})


def first_parquet_rows(path: Path, shown: Path, header: list[str], positions: set[int],
                       limit: int) -> list[list[str]]:
    """Up to ``limit`` rows of a Parquet file as text, one cell per ``header`` name, read only in the columns at
    ``positions`` (the other cells are '')."""
    import pyarrow.parquet as pq

    names = {header[i]: i for i in sorted(positions)}
    with _reading(path, shown):  # the first batch only, read whole: a damaged page is refused before any row is used
        batch = next(pq.ParquetFile(path).iter_batches(batch_size=limit, columns=list(names)), None)
        values = {} if batch is None else {names[n]: batch.column(n).to_pylist() for n in batch.column_names}
    rows = []
    for r in range(0 if batch is None else batch.num_rows):
        row = [""] * len(header)
        for i, column in values.items():
            value = column[r]
            row[i] = "" if value is None else value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        rows.append(row)
    return rows
