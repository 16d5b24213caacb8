"""Lookup tables the project owns (``sql/lookups/*.csv``), loaded into the warehouse when they change, and the
dictionaries the mapping reads them through (``dictGet``: no join, no copy of the mapped rows)."""

from __future__ import annotations

import csv
import hashlib

from app.core import settings
from app.core.mapping import DICTIONARIES, LOOKUPS, lookup_table
from app.core.warehouse import Warehouse, quote

DECIMAL_COLUMNS = {"block_size"}


def load_lookups(wh: Warehouse) -> None:
    """(Re)create each lookup table whose CSV content differs from what the warehouse holds, then its dictionaries."""
    changed = False
    for name in LOOKUPS:
        path = settings.SQL_DIR / "lookups" / f"{name}.csv"
        text = path.read_text(encoding="utf-8")
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        table = lookup_table(name)
        current = wh.scalar("SELECT comment FROM system.tables WHERE database = {db:String} AND name = {t:String}",
                            {"db": wh.database, "t": table})
        if current == digest:
            continue
        rows = list(csv.DictReader(text.splitlines()))
        _replace(wh, table, list(rows[0].keys()), rows, digest)
        changed = True
    existing = {r["name"] for r in wh.rows("SELECT name FROM system.dictionaries WHERE database = {db:String}",
                                           {"db": wh.database})}
    for name in DICTIONARIES:
        if changed or f"dict_{name}" not in existing:
            wh.command(dictionary_sql(name, wh.database))


def dictionary_sql(name: str, database: str) -> str:
    """``CREATE OR REPLACE DICTIONARY dict_<name>`` over its lookup table (rows with the key set)."""
    lookup, key, attributes = DICTIONARIES[name]
    names = ", ".join(n for n, _ in attributes)
    columns = ", ".join(f"{n} {t}" for n, t in attributes)
    query = f"SELECT {key}, {names} FROM {database}.{lookup_table(lookup)} WHERE {key} != ''"
    return (f"CREATE OR REPLACE DICTIONARY {database}.dict_{name} ({key} String, {columns}) PRIMARY KEY {key} "
            f"SOURCE(CLICKHOUSE(QUERY {quote(query)})) LAYOUT(COMPLEX_KEY_HASHED()) LIFETIME(0)")


def _replace(wh: Warehouse, table: str, columns: list[str], rows: list[dict[str, str]], digest: str) -> None:
    """Refill ``table`` in place (no DROP: dictionaries, views and Moose's setup depend on it)."""
    db = wh.database
    types = ", ".join(f"`{c}` {'Decimal(38, 18)' if c in DECIMAL_COLUMNS else 'String'}" for c in columns)
    held = [r["name"] for r in wh.rows("SELECT name FROM system.columns WHERE database = {db:String} "
                                       "AND table = {t:String} ORDER BY position", {"db": db, "t": table})]
    if held and held != columns:  # the CSV's columns changed: rebuild the table and its dictionaries
        for name, (lookup, _, _) in DICTIONARIES.items():
            if lookup_table(lookup) == table:
                wh.command(f"DROP DICTIONARY IF EXISTS {db}.dict_{name}")
        wh.command(f"DROP TABLE IF EXISTS {db}.{table}")
    wh.command(f"CREATE TABLE IF NOT EXISTS {db}.{table} ({types}) ENGINE = MergeTree ORDER BY tuple() "
               f"COMMENT {quote(digest)}")
    wh.command(f"TRUNCATE TABLE {db}.{table}")
    values = ", ".join("(" + ", ".join(_literal(c, (r[c] or "").strip()) for c in columns) + ")" for r in rows)
    wh.command(f"INSERT INTO {db}.{table} VALUES {values}")
    wh.command(f"ALTER TABLE {db}.{table} MODIFY COMMENT {quote(digest)}")


def _literal(column: str, value: str) -> str:
    if column in DECIMAL_COLUMNS:
        return value or "0"
    return quote(value.lower() if column in ("unit_of_measure", "location", "consumed_service", "resource_type",
                                             "meter_category") else value)
