"""Actual or amortized: which Azure cost dataset a file holds (forced, named by its path, else shown by its rows).

Amortized data shows commitment usage with a cost, or unused-commitment rows; actual data does not. The rows are
sampled from the head of the file and, for a large uncompressed CSV, from windows spread over the whole file: an
export sorted by subscription may show its first reservation only deep into the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from app.core.sources import SourceError, SourceFile, first_rows, open_binary

HEAD_ROWS = 20_000
SPREAD_WINDOWS = 16
WINDOW_BYTES = 1 << 18
SPREAD_MIN_BYTES = 64 << 20
"""Files smaller than this are sampled from the head only (their head is a large share of them)."""


def detect_dataset(sf: SourceFile, forced: str | None = None) -> str:
    """ActualCost or AmortizedCost for Azure cost files (forced, from the path, else from the rows); else FOCUS."""
    if sf.source != "azure-cost":
        return "FOCUS"
    if forced:
        return forced
    for part in (sf.path.name, *(p.name for p in list(sf.path.parents)[:3])):  # the file, then nearest folders
        if re.search(r"amorti[sz]", part.lower()):
            return "AmortizedCost"
        if "actual" in part.lower():
            return "ActualCost"
    return "AmortizedCost" if _shows_amortization(sf) else "ActualCost"


def _shows_amortization(sf: SourceFile) -> bool:
    charge, model, cost = (sf.columns.get(c) for c in ("ChargeType", "PricingModel", "CostInBillingCurrency"))
    if charge is None or model is None or cost is None:
        return False
    for row in _sample(sf):
        if len(row) <= max(charge, model, cost):
            continue
        kind, pricing = row[charge].strip().lower(), row[model].strip().lower()
        if kind.startswith("unused") or (kind == "usage" and pricing in ("reservation", "savingsplan")
                                         and _nonzero(row[cost])):
            return True
    return False


def _sample(sf: SourceFile) -> Iterator[list[str]]:
    yield from first_rows(sf, HEAD_ROWS)
    size = sf.readable.stat().st_size
    if sf.is_parquet or sf.readable.suffix.lower() == ".gz" or size < SPREAD_MIN_BYTES:
        return
    try:
        with open_binary(sf.readable) as raw:
            for k in range(1, SPREAD_WINDOWS + 1):
                raw.seek(size * k // (SPREAD_WINDOWS + 1))
                window = raw.read(WINDOW_BYTES).decode(sf.encoding, errors="replace")
                lines = window.split("\n")[1:-1]  # whole lines only: the first and last are cut
                yield from csv.reader(io.StringIO("\n".join(lines)), delimiter=sf.delimiter)
    except (OSError, csv.Error) as exc:
        raise SourceError(sf.path, f"cannot be read ({exc.__class__.__name__}: {exc})") from exc


def _nonzero(text: str) -> bool:
    for number in (text, text.replace(".", "").replace(",", ".")):  # the second: a decimal comma
        try:
            return float(number) != 0.0
        except ValueError:
            continue
    return False
