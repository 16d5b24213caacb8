"""A ClickHouse server warehouse that uploads each file into a table before mapping it.

The loader streams a file to a server as ``INSERT … SELECT … FROM input(…)``; the local stack's ClickHouse HTTP
endpoint over chdb (what ``moose dev`` on ``abi stack`` talks to) cannot run that statement (chdb's
``send_insert`` refuses ``INSERT … SELECT``). Here a file is first sent with a plain ``INSERT … FORMAT`` into a
``TinyLog`` table (read back in insertion order, so source row numbers hold), mapped from that table, and the table
is dropped. Any ClickHouse server accepts this; Moose's workflow tasks use it.

Moose creates ``datetime`` columns as ``DateTime('UTC')`` and ``date`` columns as ``Date32`` while the embedded DDL
(``app.core.schema``) says ``DateTime`` and ``Date``; partition swaps (``ATTACH``/``REPLACE PARTITION``) need
identical structures, so the tables this warehouse creates follow Moose (same values: ABI sessions run in UTC).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from app.core.warehouse import ServerWarehouse, WarehouseError

MOOSE_TYPES = ((re.compile(r"(`\s)DateTime(?=[,)\s])"), r"\1DateTime('UTC')"),
               (re.compile(r"(`\s)Date(?=[,)\s])"), r"\1Date32"))


class StagedServerWarehouse(ServerWarehouse):
    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        if sql.lstrip().upper().startswith("CREATE TABLE"):
            for pattern, moose_type in MOOSE_TYPES:
                sql = pattern.sub(moose_type, sql)
        super().command(sql, params)

    def insert_file(self, insert_sql: str, source: str, path: Path, fmt: str, structure: str) -> None:
        if not structure:
            raise WarehouseError(f"{path}: Parquet files load through the embedded engine only; convert to CSV")
        table = f"{self.database}._abi_upload_{uuid.uuid4().hex[:16]}"
        self.command(f"CREATE TABLE {table} ({structure}) ENGINE = TinyLog")
        try:
            headers = {"Content-Encoding": "gzip"} if path.suffix == ".gz" else None
            with open(path, "rb") as body:
                self._post(f"INSERT INTO {table} FORMAT {fmt}", data=body, headers=headers)
            self.command(insert_sql.replace(source, table))
        finally:
            self.command(f"DROP TABLE IF EXISTS {table}")
