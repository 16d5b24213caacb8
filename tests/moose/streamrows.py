"""Helpers for the streaming tests: billing files as the JSON rows a client posts to an ingest API, and the
streaming path's raw table and views declared in the embedded engine as Moose declares them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import app.main  # noqa: F401 - registers the declarations
from app.core import schema
from app.core.sources import open_source
from app.core.warehouse import EmbeddedWarehouse
from app.ingest import stream_sql
from app.ingest.pipelines import PIPELINES


def posted_rows(path: Path, ingestion_id: str) -> list[dict[str, object]]:
    """The rows of a CSV billing file keyed by canonical column names, with the file's lineage."""
    sf = open_source(path)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = []
        for number, cells in enumerate(reader, start=1):
            row: dict[str, object] = {name: cells[i] for name, i in sf.columns.items() if cells[i] != ""}
            row |= {"x_SourceFile": str(path), "x_SourceRow": number, "x_SourceDataset": sf.dataset,
                    "x_IngestionId": ingestion_id}
            rows.append(row)
    return rows


def declare_stream(wh: EmbeddedWarehouse, fmt: str) -> str:
    """Create the raw table and the two views of ``fmt`` as Moose would; returns the raw table's name."""
    table = PIPELINES[fmt].pipeline.name
    wh.command(schema.create_table_sql(table, wh.database))
    for view, target, select in ((f"{table}_to_focus", "focus_cost", stream_sql.focus_select(fmt, table)),
                                 (f"{table}_to_quarantine", "focus_quarantine",
                                  stream_sql.quarantine_select(fmt, table))):
        wh.command(f"CREATE MATERIALIZED VIEW {wh.database}.{view} TO {wh.database}.{target} AS {select}")
    return table


def post(wh: EmbeddedWarehouse, table: str, rows: list[dict]) -> None:
    """Insert rows into the raw table the way Moose's topic-to-table sync does (one block)."""
    data = "\n".join(json.dumps(r) for r in rows)
    wh.command(f"INSERT INTO {wh.database}.{table} FORMAT JSONEachRow\n{data}")
