"""The version of ABI's table layout a warehouse holds, so that an older ABI never rewrites a newer one's tables.

``ensure_schema`` brings older tables forward (columns added in place, types altered or the table copied into the
declared structure). Run by an older ABI on a warehouse a newer one has upgraded, the same code would alter the
newer types back and load rows the newer mapping reads differently. Each warehouse therefore records the layout
version it holds (table ``abi_schema``, one row per upgrade), and an ABI refuses a warehouse of a later version
before touching anything.
"""

from __future__ import annotations

from app.core.warehouse import Warehouse, WarehouseError

SCHEMA_VERSION = 1
"""Bump when a declared table changes in a way an older ABI must not write to: a column type or sorting key
changed, a column's meaning changed, a column removed. (A new column alone needs no bump: older inserts name their
columns and leave it at its default.)"""

SCHEMA_TABLE = "abi_schema"


def held_version(wh: Warehouse) -> int | None:
    """The layout version recorded in the warehouse; None before any ABI that records it."""
    exists = wh.scalar("SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}",
                       {"db": wh.database, "t": SCHEMA_TABLE})
    if not int(exists):
        return None
    version = wh.scalar(f"SELECT max(version) FROM {wh.database}.{SCHEMA_TABLE}")
    return int(version) if version is not None else None


def check_version(wh: Warehouse) -> None:
    """Refuse a warehouse whose tables a newer ABI laid out (nothing is changed)."""
    held = held_version(wh)
    if held is not None and held > SCHEMA_VERSION:
        where = f" in {wh.data_dir}" if getattr(wh, "data_dir", None) else ""
        raise WarehouseError(
            f"the warehouse{where} holds tables of ABI schema version {held}, laid out by a newer ABI than this one "
            f"(schema version {SCHEMA_VERSION}); nothing was changed: upgrade ABI to use this warehouse")


def record_version(wh: Warehouse) -> None:
    """Record ``SCHEMA_VERSION`` once the tables have its layout (a row only when the version grows)."""
    wh.command(f"CREATE TABLE IF NOT EXISTS {wh.database}.{SCHEMA_TABLE} (version UInt32, "
               "recorded_at DateTime('UTC') DEFAULT now()) ENGINE = MergeTree ORDER BY version")
    held = held_version(wh)
    if held is None or held < SCHEMA_VERSION:
        wh.command(f"INSERT INTO {wh.database}.{SCHEMA_TABLE} (version) VALUES ({SCHEMA_VERSION})")
