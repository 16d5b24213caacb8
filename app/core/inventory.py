"""The files the warehouse holds rows of (``abi files``): for each, its format and dataset, FOCUS rows, BilledCost
and EffectiveCost per billing currency, billing months, quarantined rows and when it was last loaded. These are the
names ``abi remove`` takes."""

from __future__ import annotations

from typing import Any

from app.core.warehouse import Warehouse
from app.models.names import FOCUS_TABLE, QUARANTINE_TABLE


def held_files(wh: Warehouse, billing_period: str | None = None) -> list[dict[str, Any]]:
    """One dict a file, in path order; ``billing_period`` (``YYYY-MM``): only files with rows of that month, counted
    in it (a file's quarantined rows have no month: all of them are counted)."""
    db = wh.database
    where = "WHERE toYYYYMM(BillingPeriodStart) = {p:UInt32}" if billing_period else ""
    # a file loaded again as another dataset or format can hold rows of both: the latest load's are shown
    by_currency = (f"SELECT x_SourceFile AS file, max((x_IngestedAt, x_SourceFormat, x_SourceDataset)) AS latest, "
                   "BillingCurrency AS currency, count() AS n, toString(sum(BilledCost)) AS billed, "
                   "toString(sum(EffectiveCost)) AS effective, groupUniqArray(formatDateTime(BillingPeriodStart, "
                   f"'%Y-%m')) AS periods, max(x_IngestedAt) AS at FROM {db}.{FOCUS_TABLE} {where} "
                   "GROUP BY file, currency")
    focus = ("SELECT file, max(latest).2 AS format, max(latest).3 AS dataset, sum(n) AS rows, "
             "arraySort(groupArray((currency, billed, effective))) AS costs, "
             f"arraySort(arrayDistinct(arrayFlatten(groupArray(periods)))) AS periods, max(at) AS at "
             f"FROM ({by_currency}) GROUP BY file")
    quarantined = (f"SELECT toString(source_file) AS file, max((quarantined_at, toString(source_format))).2 AS "
                   f"format, count() AS n, max(quarantined_at) AS at FROM {db}.{QUARANTINE_TABLE} GROUP BY file")
    join = "LEFT JOIN" if billing_period else "FULL JOIN"
    rows = wh.rows(
        "SELECT if(f.file = '', q.file, f.file) AS path, if(f.format = '', q.format, f.format) AS source, f.dataset "
        "AS dataset, f.rows AS rows_loaded, q.n AS rows_quarantined, f.periods AS billing_periods, f.costs AS costs, "
        "toString(greatest(f.at, q.at)) AS last_loaded_at "
        f"FROM ({focus}) AS f {join} ({quarantined}) AS q ON q.file = f.file ORDER BY path",
        {"p": int(billing_period.replace("-", ""))} if billing_period else None)
    for row in rows:
        row["dataset"] = row["dataset"] or None
        row["costs"] = [{"currency": c, "BilledCost": b, "EffectiveCost": e} for c, b, e in row["costs"]]
    return rows


def print_held(files: list[dict[str, Any]]) -> None:
    """The files as a table: one line a file and billing currency."""
    print(f"{'rows':>10} {'quarantined':>11} {'BilledCost':>15} {'EffectiveCost':>15}      months   file")
    for f in files:
        months = ",".join(f["billing_periods"]) or "-"
        for i, cost in enumerate(f["costs"] or [{"currency": "", "BilledCost": "0", "EffectiveCost": "0"}]):
            counts = f"{f['rows_loaded']:>10,} {f['rows_quarantined']:>11,}" if i == 0 else " " * 22
            print(f"{counts} {float(cost['BilledCost']):>15,.2f} {float(cost['EffectiveCost']):>15,.2f} "
                  f"{cost['currency']:<4} {months:>7}   {f['path']} [{f['source']} {f['dataset'] or ''}]".rstrip())
