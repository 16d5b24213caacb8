"""Human-readable output: ingestion results and the cost summary (BilledCost beside EffectiveCost)."""

from __future__ import annotations

from decimal import Decimal

from app.core.loader import IngestionResult
from app.core.reconciliation import describe
from app.core.warehouse import Warehouse
from app.models.names import FOCUS_TABLE


def print_ingestion(result: IngestionResult) -> None:
    print(f"ingestion {result.ingestion_id}")
    for f in result.files:
        state = f"REFUSED: {f.error}" if f.error else f"SKIPPED: {f.skipped}" if f.skipped else (
            f"{f.rows_read} read, {f.rows_loaded} loaded, {f.rows_quarantined} quarantined"
            + (f", {f.rows_superseded} superseded by amortized data" if f.rows_superseded else ""))
        print(f"  {f.path} [{f.source or '?'} {f.dataset or ''}] {state}")
        if f.unmapped:
            print("    lookup misses (fell back): " + ", ".join(f"{k} ×{v}" for k, v in f.unmapped.items()))
    for e in result.earlier_files:  # files loaded earlier whose rows this load took out
        done = [f"{e[k]} {what}" for k, what in (("rows_replaced", "replaced"), ("rows_quarantined_replaced",
                "quarantined replaced"), ("rows_superseded", "superseded by amortized data")) if e[k]]
        print(f"  earlier load of {e['path']}: {', '.join(done)}")
    if result.reconciliation:
        print("reconciliation (FOCUS against the files' own totals, per billing month and currency)")
    for r in result.reconciliation:
        print(f"  {'ok  ' if Decimal(r['difference']) == 0 else 'DIFF'} {describe(r)}")


def cost_summary_rows(wh: Warehouse, billing_period: str, dimension: str) -> list[dict]:
    """BilledCost and EffectiveCost by ``dimension`` and billing currency (amounts in two currencies never add)."""
    return wh.rows(
        f"SELECT {dimension} AS name, BillingCurrency AS currency, sum(BilledCost) AS billed, "
        "sum(EffectiveCost) AS effective "
        f"FROM {wh.database}.{FOCUS_TABLE} WHERE toYYYYMM(BillingPeriodStart) = {{p:UInt32}} "
        "GROUP BY name, currency ORDER BY currency, effective DESC", {"p": int(billing_period.replace("-", ""))})


def print_cost_summary(wh: Warehouse, billing_period: str) -> None:
    for title, dimension in (("service category", "ServiceCategory"),
                             ("subscription", "ifNull(SubAccountName, '(none)')")):
        rows = cost_summary_rows(wh, billing_period, dimension)
        print(f"\nCost by {title}, billing period {billing_period}")
        print(f"  {'':40} {'BilledCost':>16} {'EffectiveCost':>16}")
        for r in rows:
            print(f"  {r['name'][:40]:40} {float(r['billed']):>16,.2f} {float(r['effective']):>16,.2f} {r['currency']}")
        for currency in sorted({r["currency"] for r in rows}):
            total_b = sum(float(r["billed"]) for r in rows if r["currency"] == currency)
            total_e = sum(float(r["effective"]) for r in rows if r["currency"] == currency)
            print(f"  {'TOTAL':40} {total_b:>16,.2f} {total_e:>16,.2f} {currency}")
