"""Export of the FOCUS dataset with FOCUS names and types; x_ columns after the FOCUS columns."""

from __future__ import annotations

from pathlib import Path

from app.core import schema
from app.core.relation import quoted_name
from app.core.warehouse import Warehouse, quote
from app.models.columns import FOCUS_COLUMNS, X_COLUMNS
from app.models.names import FOCUS_TABLE

JSON_COLUMNS = ("Tags", "SkuPriceDetails")
EXPORT_SETTINGS = {
    "format_csv_null_representation": "NULL",
    "output_format_parquet_string_as_string": "1",
    "max_bytes_before_external_sort": str(256 * 2**20),
    "output_format_parquet_row_group_size_bytes": str(128 * 2**20),
    "max_block_size": "8192",
    "max_threads": "1",
}
"""NULL written ``NULL`` in CSV, text as Parquet strings, Parquet row groups of up to 128 MiB, and blocks of 8k rows,
read by one stream: part after part (month by month, each part in the table's sorting key order; background merges
change the parts, so two exports hold the same rows, not always in the same order), never merging the parts. A load
leaves a month in many parts until the engine merges them, and reading them merged in key order held buffers for
every part: 3.4 GB peak for 3 M rows in 50 parts (4.9 GB for 5 M), where one stream peaks at 1.1 GB (34 s → 20 s); a
full sort by billing period peaked at 1.4 / 2.4 GB for 1 / 3 M rows, and the whole file in memory at 3.7 GB for 1 M
rows."""


def _where(billing_period: str | None) -> str:
    """The month's partition only (``toYYYYMM`` is the partition key: the other months are not read)."""
    return f"WHERE toYYYYMM(BillingPeriodStart) = {int(billing_period.replace('-', ''))}" if billing_period else ""


def _column(name: str, ch_type: str, fmt: str) -> str:
    if name in JSON_COLUMNS:
        return f"if(toJSONString({name}) = '{{}}', NULL, toJSONString({name})) AS {name}"
    if ch_type.startswith("DateTime"):  # ISO 8601 in UTC in CSV; a Parquet timestamp in milliseconds
        if fmt == "csv":
            fraction = ".%f" if ch_type.startswith("DateTime64") else ""  # x_IngestedAt
            return f"formatDateTime({name}, '%Y-%m-%dT%H:%i:%S{fraction}Z', 'UTC') AS {name}"
        return f"toDateTime64({name}, 3, 'UTC') AS {name}" if not ch_type.startswith("DateTime64") else name
    if "String" in ch_type:  # a byte that is not UTF-8 (a file in another encoding) never makes the file invalid
        return f"toValidUTF8(`{name}`) AS `{name}`"
    return f"`{name}`"


def export_sql(wh: Warehouse, fmt: str, billing_period: str | None = None) -> str:
    """SELECT of the export: FOCUS columns, ABI's x_ columns, then source x_ columns expanded from the map."""
    types = dict(schema.columns(FOCUS_TABLE))
    table = f"{wh.database}.{FOCUS_TABLE}"
    where = _where(billing_period)
    extra_keys = [r["k"] for r in wh.rows(
        f"SELECT DISTINCT arrayJoin(mapKeys(x_SourceColumns)) AS k FROM {table} {where} ORDER BY k")]
    cols = [_column(n, types[n], fmt) for n in FOCUS_COLUMNS]
    cols += [_column(n, types[n], fmt) for n in X_COLUMNS if n != "x_SourceColumns"]
    groups = _key_groups(extra_keys)
    cols += _source_columns(groups, _values_per_row(wh, f"{table} {where}", groups))
    return f"SELECT {', '.join(cols)} FROM {table} {where}"  # part by part (``EXPORT_SETTINGS``)


def _key_groups(keys: list[str]) -> list[tuple[str, list[str]]]:
    """The ``x_SourceColumns`` keys by the ``x_`` column they export as. Keys naming one column (``Foo``, ``x_Foo``,
    ``X_Foo``, ``foo``: files of two formats loaded together) are one (``x_`` spelling first); a key named like one
    of ABI's own columns (a file's ``x_SourceFile``) is ``x_SourceColumn_<key>``."""
    own, by_alias = {c.lower() for c in X_COLUMNS}, {}
    for key in sorted(keys, key=lambda k: (not k.startswith("x_"), k)):
        alias = f"x_{key[2:]}" if key[:2].lower() == "x_" else f"x_{key}"  # X_OPERATION is x_OPERATION
        alias = f"x_SourceColumn_{key}" if alias.lower() in own else alias
        by_alias.setdefault(alias.lower(), (alias, []))[1].append(key)  # names in any case are one column
    return sorted(by_alias.values())


def _present(keys: list[str]) -> str:
    """A row's non-empty values under ``keys``, in their order."""
    return f"arrayFilter(v -> v != '', [{', '.join(f'x_SourceColumns[{quote(k)}]' for k in keys)}])"


def _values_per_row(wh: Warehouse, rows: str, groups: list[tuple[str, list[str]]]) -> list[int]:
    """For each group of keys, the most non-empty values one of ``rows`` holds under them (a group of one key: 1)."""
    merged = [i for i, (_, keys) in enumerate(groups) if len(keys) > 1]
    if not merged:
        return [1] * len(groups)
    found = wh.rows(f"SELECT {', '.join(f'max(length({_present(groups[i][1])})) AS m{i}' for i in merged)} "
                    f"FROM {rows}")[0]
    return [max(1, int(found[f"m{i}"])) if i in merged else 1 for i in range(len(groups))]


def _source_columns(groups: list[tuple[str, list[str]]], counts: list[int]) -> list[str]:
    """SELECT items of the ``x_SourceColumns`` keys as ``x_`` columns (``_key_groups``): a group's first non-empty
    value in a row; when a row holds more (``x_Foo`` and ``x_foo``), the next ones in ``<column>_2``… (``_`` added
    while that name is taken). No kept value is left out."""
    taken, items = {alias.lower() for alias, _ in groups}, []
    for (alias, keys), count in zip(groups, counts, strict=True):
        if len(keys) == 1:
            items.append(f"toValidUTF8(nullIf(x_SourceColumns[{quote(keys[0])}], '')) AS {quoted_name(alias)}")
            continue
        for n in range(1, count + 1):
            name = alias if n == 1 else f"{alias}_{n}"
            while n > 1 and name.lower() in taken:
                name += "_"
            taken.add(name.lower())
            items.append(f"toValidUTF8(nullIf({_present(keys)}[{n}], '')) AS {quoted_name(name)}")
    return items


def export(wh: Warehouse, fmt: str, out: Path, billing_period: str | None = None) -> int:
    """Write the dataset to ``out`` (``parquet`` or ``csv``) as it is read (never whole in memory: see
    ``EXPORT_SETTINGS``); returns the number of rows (counted first: the file is checked to hold them)."""
    rows = int(wh.scalar(f"SELECT count() FROM {wh.database}.{FOCUS_TABLE} {_where(billing_period)}"))
    wh.write_file(export_sql(wh, fmt, billing_period), "Parquet" if fmt == "parquet" else "CSVWithNames", out,
                  EXPORT_SETTINGS, rows)
    return rows
