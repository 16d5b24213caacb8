"""Parquet billing files: what the footer says (column names, types, nested columns) and a peek at the first rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def parquet_schema(path: Path) -> str:
    """A Parquet file's column names and types, from its footer (its path when the footer cannot be read: it is then
    like no other file)."""
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path).to_string(show_field_metadata=False, show_schema_metadata=False)
    except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        return f"unreadable: {path}"


def parquet_nested(path: Path) -> frozenset[int]:
    """Positions of a Parquet file's nested columns (map, list, struct)."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    return frozenset(i for i, f in enumerate(schema) if f.type.num_fields > 0)


def parquet_typed(path: Path) -> frozenset[int]:
    """Positions of a Parquet file's columns that are not text (numbers, timestamps, dates, nested values): a file's
    text conventions (decimal commas, day-first dates) are not theirs."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def text(t: pa.DataType) -> bool:
        if pa.types.is_dictionary(t):
            return text(t.value_type)
        return (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t)
                or pa.types.is_large_binary(t) or str(t) in ("string_view", "binary_view"))

    return frozenset(i for i, f in enumerate(pq.read_schema(path)) if not text(f.type))


def first_parquet_rows(path: Path, header: list[str], positions: set[int], limit: int) -> Iterator[list[str]]:
    """Up to ``limit`` rows of a Parquet file as text, one cell per ``header`` name, read only in the columns at
    ``positions`` (the other cells are '')."""
    import pyarrow.parquet as pq

    names = {header[i]: i for i in sorted(positions)}
    for batch in pq.ParquetFile(path).iter_batches(batch_size=limit, columns=list(names)):
        values = {names[n]: batch.column(n).to_pylist() for n in batch.column_names}
        for r in range(batch.num_rows):
            row = [""] * len(header)
            for i, column in values.items():
                value = column[r]
                text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                row[i] = "" if value is None else text
            yield row
        return
