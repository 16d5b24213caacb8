"""Actual or amortized: which Azure cost dataset a file holds.

In order: ``--dataset``; the export run's ``manifest.json`` (``exportConfig.type``); the file's own name; its rows;
the names of its nearest folders. A name counts only when it says one of the two (``test_actual_and_amortized/`` says
neither). Amortized rows show commitment usage with a cost, or unused-commitment rows; actual rows show commitment
usage at no cost (its purchase bills it). The rows are sampled from the head of the file and, for an uncompressed
CSV beyond a few MiB, from windows spread over the whole file: an export sorted by subscription may show its first
reservation only deep into the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from app.core.runs import read_run
from app.core.sources import SourceError, SourceFile, first_rows, open_binary

HEAD_ROWS = 20_000
SPREAD_WINDOWS = 16
WINDOW_BYTES = 1 << 18
SPREAD_MIN_BYTES = 4 << 20
"""Files smaller than this are sampled from the head only (their head is all or most of them)."""
MANIFEST_TYPES = {"actualcost": "ActualCost", "usage": "ActualCost", "amortizedcost": "AmortizedCost"}
"""``exportConfig.type`` of an export manifest (``Usage``: older exports of actual cost) → dataset."""


def detect_dataset(sf: SourceFile, forced: str | None = None) -> str:
    """ActualCost or AmortizedCost for Azure cost files (see the module's order of evidence); else FOCUS."""
    if sf.source != "azure-cost":
        return "FOCUS"
    run = read_run(sf.path.parent)
    folders = [p.name for p in list(sf.path.parents)[:3]]  # the nearest first
    evidence = (lambda: forced, lambda: MANIFEST_TYPES.get((run.dataset if run else "").lower()),
                lambda: _named(sf.path.name), lambda: _shown_by_rows(sf),
                *(lambda name=name: _named(name) for name in folders))
    return next((found for find in evidence if (found := find())), "ActualCost")


def _named(name: str) -> str | None:
    """The dataset a file or folder name says, when it says one only."""
    amortized, actual = re.search(r"amorti[sz]", name.lower()) is not None, "actual" in name.lower()
    return None if amortized == actual else "AmortizedCost" if amortized else "ActualCost"


def _shown_by_rows(sf: SourceFile) -> str | None:
    """AmortizedCost when a sampled row is unused commitment or commitment usage with a cost; ActualCost when the
    sample has commitment usage, all at no cost; None when it has none."""
    charge, model, cost = (sf.columns.get(c) for c in ("ChargeType", "PricingModel", "CostInBillingCurrency"))
    if charge is None or model is None or cost is None:
        return None
    covered = False
    for row in _sample(sf):
        if len(row) <= max(charge, model, cost):
            continue
        kind, pricing = row[charge].strip().lower(), row[model].strip().lower()
        if kind.startswith("unused"):
            return "AmortizedCost"
        if kind == "usage" and pricing in ("reservation", "savingsplan"):
            if _nonzero(row[cost]):
                return "AmortizedCost"
            covered = True
    return "ActualCost" if covered else None


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
