"""DDL for the embedded engine, derived from the Moose infra map of ``app/`` (the single schema declaration)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

SCALAR_TYPES = {"Json": "JSON", "Boolean": "Bool"}
UNWRAPPABLE = ("JSON", "Map(", "Array(")


@cache
def infra_tables() -> dict[str, dict[str, Any]]:
    """Tables of the Moose infra map, as ``moose_lib.dmv2_serializer`` reports them."""
    from moose_lib.internal import to_infra_map

    import app.main  # noqa: F401 - registers the declarations

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


def create_table_sql(table: str, database: str, name: str | None = None, engine: str | None = None) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for a declared table (optionally under another name or engine)."""
    spec = infra_tables()[table]
    body = ",\n  ".join(f"`{n}` {t}" for n, t in columns(table))
    order = spec["orderBy"]
    order_sql = order if isinstance(order, str) else "(" + ", ".join(f"`{c}`" for c in order) + ")"
    clauses = [f"ENGINE = {engine or spec['engineConfig']['engine']}"]
    if not engine or engine.startswith("MergeTree"):
        if spec.get("partitionBy"):
            clauses.append(f"PARTITION BY {spec['partitionBy']}")
        clauses.append(f"ORDER BY {order_sql or 'tuple()'}")
    return f"CREATE TABLE IF NOT EXISTS {database}.`{name or table}` (\n  {body}\n) " + " ".join(clauses)
