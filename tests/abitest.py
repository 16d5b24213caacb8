"""Shared fixtures: a fresh embedded warehouse per test and paths to the shared real sample files."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from app.core.loader import IngestionResult, ingest
from app.core.warehouse import EmbeddedWarehouse

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT.parent / "shared" / "samples"


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[EmbeddedWarehouse]:
    warehouse = EmbeddedWarehouse(tmp_path / "warehouse")
    yield warehouse
    warehouse.close()


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES}")
    return SAMPLES


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]], bom: bool = False) -> Path:
    """Write a CSV (optionally gzip when the name ends in .gz) with the given header and rows."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h, "") for h in header])
    return path


def focus_rows(wh: EmbeddedWarehouse, columns: str = "*", where: str = "1") -> list[dict]:
    return wh.rows(f"SELECT {columns} FROM abi.focus_cost WHERE {where} ORDER BY x_SourceFile, x_SourceRow")


def total(wh: EmbeddedWarehouse, column: str, where: str = "1") -> Decimal:
    return Decimal(str(wh.scalar(f"SELECT toString(sum({column})) FROM abi.focus_cost WHERE {where}") or 0))


def load(wh: EmbeddedWarehouse, *paths: Path, **kwargs) -> IngestionResult:
    return ingest(wh, list(paths), **kwargs)


def csv_total(path: Path, column: str) -> Decimal:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
        return sum((Decimal(r[column]) for r in csv.DictReader(handle) if r[column].strip()), Decimal(0))
