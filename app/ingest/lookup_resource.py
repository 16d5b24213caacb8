"""The mapping's lookup tables (and the dictionaries over them) as the statements of a Moose ``SqlResource``.

The statements are recorded from ``app.core.lookups.load_lookups`` itself, so Moose creates exactly what the bulk
loader creates, before the streaming materialized views that read them. The setup is made idempotent and drop-free
(tables are created if missing and refilled, dictionaries created or replaced): Moose may run it again while
dictionaries and views depend on the tables, where a DROP would fail.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from app.core.lookups import load_lookups
from app.core.warehouse import Warehouse

_CREATED = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(TABLE|DICTIONARY)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\S+)",
                      re.IGNORECASE)
_DROP_TABLE = re.compile(r"^\s*DROP\s+TABLE\s+IF\s+EXISTS\s+\S+\s*$", re.IGNORECASE)
_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(?!IF\s+NOT\s+EXISTS)(\S+)", re.IGNORECASE)


class StatementRecorder(Warehouse):
    """A warehouse that runs nothing: it records statements and answers every query with no rows."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        if params:
            raise ValueError("recorded statements cannot take parameters")
        self.statements.append(sql)

    def raw(self, sql: str, fmt: str, params: dict[str, Any] | None = None) -> bytes:
        return b""

    def insert_file(self, insert_sql: str, source: str, path: Path, fmt: str, structure: str,
                    settings: dict[str, str] | None = None) -> None:
        raise NotImplementedError("no files are read while recording")

    def write_file(self, sql: str, fmt: str, out: Path, settings: dict[str, str] | None = None,
                   rows: int | None = None) -> None:
        raise NotImplementedError("no files are written while recording")


def recorded_statements() -> list[str]:
    """Every statement ``load_lookups`` runs on an empty warehouse."""
    recorder = StatementRecorder()
    load_lookups(recorder)
    return recorder.statements


def lookup_setup() -> list[str]:
    """The recorded statements, rerunnable: no table DROP; CREATE TABLE IF NOT EXISTS followed by TRUNCATE."""
    setup: list[str] = []
    for statement in recorded_statements():
        if _DROP_TABLE.match(statement):
            continue
        created = _CREATE_TABLE.match(statement)
        if created:
            setup.append(_CREATE_TABLE.sub(r"CREATE TABLE IF NOT EXISTS \1", statement, count=1))
            setup.append(f"TRUNCATE TABLE {created.group(1)}")
            continue
        setup.append(statement)
    return setup


def lookup_teardown(setup: list[str]) -> list[str]:
    """DROP statements for what ``setup`` creates, in reverse order."""
    drops = []
    for statement in reversed(setup):
        match = _CREATED.match(statement)
        if match:
            kind = "DICTIONARY" if match.group(1).upper() == "DICTIONARY" else "TABLE"
            drops.append(f"DROP {kind} IF EXISTS {match.group(2)}")
    return drops
