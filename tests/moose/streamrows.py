"""Helpers for the streaming tests: billing files as the JSON rows a client posts to an ingest API."""

from __future__ import annotations

import csv
from pathlib import Path

from app.core.sources import open_source


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
