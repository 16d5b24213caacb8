"""Helpers of the API tests: a loaded demo warehouse and expected figures computed independently in Python.

The expectations never use the APIs' SQL nor the daily aggregate: they sum ``focus_cost`` rows (read once as
text) with ``Decimal`` in Python.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.apis.dimensions import OTHERS
from app.apis.service import Execute, warehouse_execute
from app.core.demo import generate
from app.core.loader import ensure_schema, ingest
from app.core.warehouse import Warehouse
from app.views.refresh import ensure_views, refresh_aggregates

ACCOUNT_A, ACCOUNT_B = "8611537", "7700001"
MONTHS = (date(2026, 9, 1), date(2026, 10, 1))
FACT_COLUMNS = (
    "BillingAccountId", "BillingCurrency", "SubAccountId", "SubAccountName", "ServiceCategory", "ServiceName",
    "RegionId", "RegionName", "x_ResourceGroupName", "ResourceId", "ResourceName", "ResourceType", "ChargeCategory",
    "PricingCategory", "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountType",
    "CommitmentDiscountStatus", "x_SourceDataset", "x_IngestionId", "x_ResourceType", "x_BillingAccountId",
    "ConsumedUnit",
)
METRICS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity")


@dataclass
class Demo:
    wh: Warehouse
    execute: Execute
    facts: list[dict[str, Any]]
    files: list[Path]


def demo_files(root: Path) -> list[Path]:
    """Two months of account A (USD) and October of account B (EUR: a rewritten copy)."""
    files = []
    for month in MONTHS:
        made = generate(root / "a", month=month)
        files += [made.actual, made.amortized]
    for path in files[2:]:
        files.append(_other_account(path, root / "b" / path.name))
    return files


def _other_account(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, newline="", encoding="utf-8-sig") as inp, open(dst, "w", newline="", encoding="utf-8") as out:
        reader = csv.DictReader(inp)
        writer = csv.DictWriter(out, reader.fieldnames or [])
        writer.writeheader()
        for row in reader:
            row.update(BillingAccountId=ACCOUNT_B, BillingProfileId=ACCOUNT_B, BillingAccountName="Fabrikam",
                       BillingCurrencyCode="EUR")
            writer.writerow(row)
    return dst


def load_demo(wh: Warehouse, root: Path) -> Demo:
    """Schema and views first (as the loader will), then the files, then the aggregate refresh."""
    ensure_schema(wh)
    ensure_views(wh)
    files = demo_files(root)
    result = ingest(wh, files)
    assert result.ok, result.as_dict()
    refresh_aggregates(wh, [f"{m:%Y%m}" for m in MONTHS])
    return Demo(wh, warehouse_execute(wh), facts(wh), files)


def facts(wh: Warehouse) -> list[dict[str, Any]]:
    """Every focus_cost row: dimensions as text ('' for null), metrics as Decimal, day, tags."""
    cols = ", ".join(f"toString(ifNull({c}, '')) AS {c}" for c in FACT_COLUMNS)
    sums = ", ".join(f"toString(ifNull({m}, 0)) AS {m}" for m in METRICS)
    rows = wh.rows(f"SELECT {cols}, {sums}, toString(toDate(ChargePeriodStart, 'UTC')) AS day, "
                   "toString(ChargePeriodEnd, 'UTC') AS charge_end, toJSONString(Tags) AS tags FROM abi.focus_cost")
    import json

    for row in rows:
        row.update({m: Decimal(row[m]) for m in METRICS}, day=date.fromisoformat(row["day"]),
                   tags={k: str(v) for k, v in json.loads(row["tags"]).items()})
    return rows


def key_of(row: dict[str, Any], dimension: str) -> str:
    return row["tags"].get(dimension[4:], "") if dimension.startswith("tag:") else row[dimension]


def group(rows: list[dict], dimensions: list[str], metric: str) -> dict[tuple[str, ...], Decimal]:
    """Sum of ``metric`` per dimension values ('' for missing)."""
    out: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    for row in rows:
        out[tuple(key_of(row, d) for d in dimensions)] += row[metric]
    return dict(out)


def where(rows: list[dict], start: date | None = None, end: date | None = None,
          **equal: str | Callable[[Any], bool]) -> list[dict]:
    """Rows in [start, end) whose columns equal the given values (or satisfy the given predicates)."""
    def keep(row: dict) -> bool:
        if (start and row["day"] < start) or (end and row["day"] >= end):
            return False
        return all(v(row[k]) if callable(v) else row[k] == v for k, v in equal.items())
    return [r for r in rows if keep(r)]


def top_with_others(sums: dict[tuple[str, ...], Decimal], limit: int,
                    order=lambda kv: (-kv[1], kv[0])) -> list[tuple[tuple[str, ...], Decimal, int]]:
    """(keys, value, groups): each currency's first ``limit`` groups in ``order`` (largest first, ties by keys), by
    position then currency, then the rest folded into an others row per currency: the last element of each key is
    the currency (amounts in two currencies never add, nor are they ranked together)."""
    currencies = sorted({k[-1] for k in sums})
    ranked = {c: sorted(((k, v) for k, v in sums.items() if k[-1] == c), key=order) for c in currencies}
    top = [(k, v, 1) for p in range(limit) for c in currencies if p < len(ranked[c]) for k, v in [ranked[c][p]]]
    return top + fold_rest([kv for c in currencies for kv in ranked[c][limit:]])


def fold_rest(rest: list[tuple[tuple[str, ...], Decimal]]) -> list[tuple[tuple[str, ...], Decimal, int]]:
    """The others rows (one per currency, by currency) of groups beyond the limit."""
    rows = []
    for currency in sorted({k[-1] for k, _ in rest}):
        mine = [v for k, v in rest if k[-1] == currency]
        rows.append(((OTHERS,) * (len(rest[0][0]) - 1) + (currency,), sum(mine, Decimal(0)), len(mine)))
    return rows


def currency_totals(sums: dict[tuple[str, ...], Decimal]) -> dict[str, Decimal]:
    """Sum per currency (the last element of each key; rows without one, e.g. no consumed unit, count nowhere)."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for k, v in sums.items():
        if k[-1]:
            out[k[-1]] += v
    return dict(out)


def close(value: float | None, expected: Decimal | float) -> bool:
    """A JSON number equals an exact decimal to double precision."""
    return value is not None and math.isclose(value, float(expected), rel_tol=1e-12, abs_tol=1e-9)


def api_key(row: dict[str, Any], dimensions: list[str]) -> tuple[str, ...]:
    """An API row's dimension values, null as ''."""
    return tuple(row[d] or "" for d in dimensions)


def record_operations(wh: Warehouse) -> None:
    """What the workflows record, by hand: a reconciliation checked twice (the later one fails), a freshness check,
    one anomaly and a backfill run with its month."""
    from app.workflows import store
    from app.workflows.tables import ANOMALIES_TABLE, QUALITY_TABLE, RUNS_TABLE, TASKS_TABLE

    store.ensure_workflow_schema(wh)
    check = {"run_id": "bf-1", "check": "reconciliation", "connector": "azure", "billing_period": "2026-10",
             "subject": "BilledCost = actual cost", "source_value": "10.5", "focus_value": "10.5", "difference": "0",
             "value": 0.0, "threshold": 0.01, "details": "", "status": "pass", "checked_at": "2026-11-02 02:00:00.000"}
    store.insert(wh, QUALITY_TABLE, [check, {**check, "run_id": "bf-2", "status": "fail", "focus_value": "9.5",
                                             "difference": "-1", "value": 1.0, "checked_at": "2026-11-03 02:00:00.000"},
                                     {**check, "check": "freshness", "subject": ACCOUNT_A, "billing_period": "",
                                      "source_value": None, "focus_value": None, "difference": None, "value": 1.0,
                                      "threshold": 2.0}])
    store.insert(wh, ANOMALIES_TABLE, [{
        "day": "2026-10-20", "billing_account_id": ACCOUNT_A, "sub_account_id": "sub-1", "sub_account_name": "Prod",
        "service_name": "Virtual Machines", "currency": "USD", "cost": "120.5", "baseline": "40", "change": "80.5",
        "z_score": 6.2, "method": "robust_z", "direction": "up", "window_days": 28, "run_id": "dq-1",
        "detected_at": "2026-11-02 03:00:00.000"}])
    store.insert(wh, RUNS_TABLE, [{
        "run_id": "bf-1", "temporal_run_id": "t-1", "workflow": "backfill", "connector": "azure", "parameters": "{}",
        "status": status, "started_at": "2026-11-02 01:00:00.000", "ended_at": ended, "rows_processed": rows,
        "error": None, "recorded_at": at} for status, ended, rows, at in (
            ("running", None, 0, "2026-11-02 01:00:00.000"),
            ("completed", "2026-11-02 01:05:00.000", 1200, "2026-11-02 01:05:00.000"))])
    store.insert(wh, TASKS_TABLE, [{
        "run_key": "bf-1", "run_id": "bf-1", "workflow": "backfill", "connector": "azure", "month": "2026-10",
        "status": "completed", "attempt": 1, "rows_read": 1200, "rows_loaded": 1200, "rows_quarantined": 0,
        "error": None, "finished_at": "2026-11-02 01:05:00.000"}])
