"""Source totals for reconciliation, taken from each billing file while the loader reads it.

A sync lands files in a temporary folder and deletes them once loaded. :class:`ObservingWarehouse` wraps the
warehouse a sync writes through: when the loader's mapping pass reads a file, the cost of that file is summed by
billing period straight from its text (no mapping, no validation), so the workflow can later compare what the
source delivered with what FOCUS holds. Its other calls go to the wrapped warehouse unchanged.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import threading
import time
from collections import defaultdict
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from app.core.sources import SourceError, SourceFile, open_source
from app.core.warehouse import Warehouse, quote

log = logging.getLogger(__name__)
MAPPING_PASS = "_mapped"
"""The loader's first read of a file inserts into its ``…_mapped`` stage table."""
AZURE_METRICS = {"ActualCost": "BilledCost", "AmortizedCost": "EffectiveCost"}
FileTotals = dict[tuple[str, str], Decimal]
"""(billing period YYYY-MM, metric) → total."""


class LockedWarehouse(Warehouse):
    """Serializes every call on one warehouse (one chdb session shared by an activity worker's threads)."""

    def __init__(self, inner: Warehouse) -> None:
        self.inner, self.lock = inner, threading.RLock()
        self.database, self.embedded = inner.database, inner.embedded

    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        with self.lock:
            self.inner.command(sql, params)

    def raw(self, sql: str, fmt: str, params: dict[str, Any] | None = None) -> bytes:
        with self.lock:
            return self.inner.raw(sql, fmt, params)

    def insert_file(self, insert_sql: str, source: str, path: Path, fmt: str, structure: str) -> None:
        with self.lock:
            self.inner.insert_file(insert_sql, source, path, fmt, structure)

    def close(self) -> None:
        self.inner.close()


class ObservingWarehouse(Warehouse):
    """Delegates to ``inner``; sums each file the loader maps (``totals[path]``). ``close()`` is a no-op."""

    def __init__(self, inner: Warehouse, reconcile: bool = True) -> None:
        self.inner, self.reconcile = inner, reconcile
        self.database, self.embedded = inner.database, inner.embedded
        self.totals: dict[str, FileTotals] = {}
        self.seconds = 0.0
        """Time spent summing files."""

    def command(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self.inner.command(sql, params)

    def raw(self, sql: str, fmt: str, params: dict[str, Any] | None = None) -> bytes:
        return self.inner.raw(sql, fmt, params)

    def insert_file(self, insert_sql: str, source: str, path: Path, fmt: str, structure: str) -> None:
        self.inner.insert_file(insert_sql, source, path, fmt, structure)
        if self.reconcile and insert_sql.split("\n", 1)[0].endswith(MAPPING_PASS):
            started = time.perf_counter()
            try:
                self.totals[str(path)] = file_totals(self.inner, open_source(path))
            except (SourceError, OSError, InvalidOperation) as exc:
                log.warning("no source totals for %s: %s", path, exc)
            self.seconds += time.perf_counter() - started

    def close(self) -> None:
        """The wrapped warehouse belongs to the worker, not to the sync."""


def file_totals(wh: Warehouse, sf: SourceFile) -> FileTotals:
    """Cost of a file by billing period: Azure cost files as their dataset's metric, FOCUS files both metrics."""
    if sf.source == "azure-cost":
        metrics = {AZURE_METRICS.get(sf.dataset, "BilledCost"): "CostInBillingCurrency"}
        period = ("toStartOfMonth(coalesce(parseDateTimeBestEffortUSOrNull({BillingPeriodStartDate}), "
                  "parseDateTimeBestEffortUSOrNull({Date})))")
    else:
        metrics = {"BilledCost": "BilledCost", "EffectiveCost": "EffectiveCost"}
        period = "toStartOfMonth(parseDateTimeBestEffortOrNull({BillingPeriodStart}))"
    metrics = {m: c for m, c in metrics.items() if c in sf.columns}
    if wh.embedded:
        return _sql_totals(wh, sf, metrics, period)
    return _python_totals(sf, metrics)


def _column(sf: SourceFile, name: str) -> str:
    index = sf.columns.get(name)
    if index is None:
        return "CAST(NULL AS Nullable(String))"
    return f"toString(`{sf.header[index]}`)" if sf.is_parquet else f"c{index + 1}"


def _sql_totals(wh: Warehouse, sf: SourceFile, metrics: dict[str, str], period: str) -> FileTotals:
    names = ("BillingPeriodStartDate", "Date", "BillingPeriodStart")
    period_sql = period.format(**{n: f"nullIf(trimBoth({_column(sf, n)}), '')" for n in names})
    sums = ", ".join(f"toString(sum(toDecimal128OrNull(trimBoth({_column(sf, c)}), 18))) AS `{m}`"
                     for m, c in metrics.items())
    if not sums:
        return {}
    from app.core.relation import structure

    args = [quote(str(sf.path)), quote(sf.clickhouse_format)] + ([quote(structure(sf))] if structure(sf) else [])
    rows = wh.rows(f"SELECT formatDateTime({period_sql}, '%Y-%m') AS period, {sums} "
                   f"FROM file({', '.join(args)}) GROUP BY period")
    return {(r["period"] or "", m): Decimal(r[m]) for r in rows for m in metrics}


def _python_totals(sf: SourceFile, metrics: dict[str, str]) -> FileTotals:
    """The same sums in Python (a ClickHouse server cannot read the worker's files)."""
    if sf.is_parquet:
        return {}
    out: FileTotals = defaultdict(Decimal)
    period_cols = [sf.columns.get(n) for n in ("BillingPeriodStartDate", "Date", "BillingPeriodStart")]
    opener = gzip.open if sf.path.suffix == ".gz" else open
    with opener(sf.path, "rb") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        next(reader, None)
        for row in reader:
            period = next((_month(row[i]) for i in period_cols if i is not None and i < len(row) and row[i].strip()),
                          "")
            for metric, column in metrics.items():
                text = row[sf.columns[column]].strip() if sf.columns[column] < len(row) else ""
                if text:
                    try:
                        out[(period, metric)] += Decimal(text)
                    except InvalidOperation:
                        continue
    return dict(out)


def _month(text: str) -> str:
    text = text.strip()[:10]
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, fmt).strftime("%Y-%m")
        except ValueError:
            continue
    return text[:7]
