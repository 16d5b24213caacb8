"""DDL for the embedded engine, derived from the Moose infra map of ``app/`` (the single schema declaration)."""

from __future__ import annotations

import re
import sys
from typing import Any

from app.core import derived
from app.core.schema_version import check_version
from app.core.warehouse import Warehouse, WarehouseError

SCALAR_TYPES = {"Json": "JSON", "Boolean": "Bool", "DateTime": "DateTime('UTC')", "Date": "Date32"}
"""Infra-map types written differently in ClickHouse DDL; Moose itself creates ``DateTime`` as ``DateTime('UTC')``
and ``Date`` as ``Date32``, so tables made here and by ``moose dev`` can swap partitions."""
UNWRAPPABLE = ("JSON", "Map(", "Array(")


_TABLES: dict[str, dict[str, Any]] = {}


def infra_tables() -> dict[str, dict[str, Any]]:
    """Tables of the Moose infra map, as ``moose_lib.dmv2_serializer`` reports them (cached on disk by the content
    of ``app/`` and ``sql/``: deriving them imports moose-lib and every declaration)."""
    if _declaring():  # a declaration module asks while app/ is half imported: answer, but remember nothing
        return _moose_tables()
    if not _TABLES:
        _TABLES.update(derived.cached("infra-tables", derived.app_sources(), _derive))
    return _TABLES


def _declaring() -> bool:
    """True while a module of ``app`` is still being imported (its declarations half registered)."""
    return any(getattr(getattr(module, "__spec__", None), "_initializing", False)
               for name, module in list(sys.modules.items()) if name == "app" or name.startswith("app."))


def _derive() -> dict[str, dict[str, Any]]:
    import app.main  # noqa: F401 - registers every declaration

    return _moose_tables()


def _moose_tables() -> dict[str, dict[str, Any]]:
    from moose_lib.internal import to_infra_map

    return to_infra_map()["tables"]


def column_type(column: dict[str, Any]) -> str:
    """The ClickHouse type of an infra-map column (nullability and LowCardinality included)."""
    base = _data_type(column["data_type"])
    if not column["required"] and not base.startswith(UNWRAPPABLE):
        base = f"Nullable({base})"
    if any(name == "LowCardinality" and on for name, on in column.get("annotations") or []):
        base = f"LowCardinality({base})"
    return base


def _data_type(data_type: Any) -> str:
    if isinstance(data_type, dict):
        if "key_type" in data_type:
            return f"Map({_data_type(data_type['key_type'])}, {_data_type(data_type['value_type'])})"
        element = _data_type(data_type["element_type"])
        return f"Array({f'Nullable({element})' if data_type.get('element_nullable') else element})"
    match = re.fullmatch(r"DateTime\((\d)\)", data_type)
    if match:
        return f"DateTime64({match.group(1)})"
    return SCALAR_TYPES.get(data_type, data_type)


def columns(table: str) -> list[tuple[str, str]]:
    """(name, ClickHouse type) of a declared table, in declaration order."""
    return [(c["name"], column_type(c)) for c in infra_tables()[table]["columns"]]


def sort_key(table: str) -> str:
    """The declared table's sorting key as a list of expressions (``a, toDate(b)``), for ORDER BY clauses that
    read in its order."""
    order = infra_tables()[table]["orderBy"]
    text = order if isinstance(order, str) else ", ".join(f"`{c}`" for c in order)
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def create_table_sql(table: str, database: str, name: str | None = None, engine: str | None = None,
                     settings: dict[str, str] | None = None) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for a declared table (optionally under another name or engine, with table
    ``settings``)."""
    spec = infra_tables()[table]
    body = ",\n  ".join(f"`{n}` {t}" for n, t in columns(table))
    order = spec["orderBy"]
    order_sql = order if isinstance(order, str) else "(" + ", ".join(f"`{c}`" for c in order) + ")"
    clauses = [f"ENGINE = {engine or spec['engineConfig']['engine']}"]
    if not engine or engine.startswith("MergeTree"):
        if spec.get("partitionBy"):
            clauses.append(f"PARTITION BY {spec['partitionBy']}")
        clauses.append(f"ORDER BY {order_sql or 'tuple()'}")
    if settings:
        clauses.append("SETTINGS " + ", ".join(f"{k} = {v}" for k, v in settings.items()))
    return f"CREATE TABLE IF NOT EXISTS {database}.`{name or table}` (\n  {body}\n) " + " ".join(clauses)


def ensure_table(wh: Warehouse, table: str) -> list[str]:
    """Create a declared table if missing, else bring its columns to the declaration (a new column added in its
    place, a changed type altered); returns the columns whose type changed.

    A type change is made in place when ClickHouse allows it (e.g. ``DateTime`` → ``DateTime('UTC')``), else the
    table is copied into the declared structure and swapped in (e.g. a ``Date`` sort-key column → ``Date32``).
    """
    check_version(wh)  # never a newer ABI's table brought back
    db = wh.database
    wh.command(create_table_sql(table, db))
    existing = {r["name"]: r["type"] for r in wh.rows(
        "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String}",
        {"db": db, "t": table})}
    declared = columns(table)
    for i, (name, ch_type) in enumerate(declared):  # a column declared since the table was made, in its place
        if name not in existing:
            place = f"AFTER `{declared[i - 1][0]}`" if i else "FIRST"
            wh.command(f"ALTER TABLE {db}.`{table}` ADD COLUMN IF NOT EXISTS `{name}` {ch_type} {place}")
            existing[name] = ch_type
    changed = [(n, t) for n, t in declared if existing.get(n, t) != t]
    try:
        for name, ch_type in changed:
            wh.command(f"ALTER TABLE {db}.`{table}` MODIFY COLUMN `{name}` {ch_type}")
    except WarehouseError:
        _copy_into_declared(wh, table)
    return [n for n, _ in changed]


def _copy_into_declared(wh: Warehouse, table: str) -> None:
    db, copy = wh.database, f"{table}__declared"
    names = ", ".join(f"`{n}`" for n, _ in columns(table))
    wh.command(f"DROP TABLE IF EXISTS {db}.`{copy}`")
    wh.command(create_table_sql(table, db, name=copy))
    wh.command(f"INSERT INTO {db}.`{copy}` ({names}) SELECT {names} FROM {db}.`{table}`")
    wh.command(f"EXCHANGE TABLES {db}.`{table}` AND {db}.`{copy}`")
    wh.command(f"DROP TABLE {db}.`{copy}`")
