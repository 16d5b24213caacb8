"""Reconciliation of a load (Microsoft's rule): per billing month and currency, FOCUS ``BilledCost`` equals the
actual cost the loaded files hold, and ``EffectiveCost`` their amortized cost.

The files' own totals are summed by the loader over every row read (quarantined rows too, so a quarantined row's
cost shows as a difference); the FOCUS totals over every row of the accounts the load touched in those months
(billing account and sub account; in a billing period from an anniversary day, of the charge days loaded),
whichever load brought them: the combined actual and amortized dataset, where
actual rows superseded by amortized ones are not counted twice.
"""

from __future__ import annotations

from decimal import Decimal

from app.core.replace import ACCOUNT_SCOPE, DAY
from app.core.staging import EXACT, summed_totals
from app.core.warehouse import Warehouse
from app.models.names import FOCUS_TABLE

METRICS = {"BilledCost": "actual cost", "EffectiveCost": "amortized cost"}


def reconcile(wh: Warehouse, stages: list[str], totals: list[dict[str, str]]) -> list[dict[str, str]]:
    """FOCUS against the files' ``totals`` (``FileResult.source_totals``) over the accounts staged in ``stages``:
    ``{"billing_period", "currency", "metric", "source", "focus", "difference"}`` each (exact decimal text)."""
    source = summed_totals(totals)
    if not stages or not source:
        return []
    db = wh.database
    scopes = " UNION ALL ".join(f"SELECT {ACCOUNT_SCOPE} AS scope, {DAY} AS day FROM {db}.{stage}" for stage in stages)
    rows = wh.rows(
        f"SELECT formatDateTime(BillingPeriodStart, '%Y-%m') AS p, BillingCurrency AS c, "
        f"toString(sum(BilledCost)) AS BilledCost, toString(sum(EffectiveCost)) AS EffectiveCost "
        f"FROM {db}.{FOCUS_TABLE} WHERE {ACCOUNT_SCOPE} IN (SELECT DISTINCT scope FROM ({scopes})) "
        f"AND (toDayOfMonth(BillingPeriodStart) = 1 OR ({ACCOUNT_SCOPE}, {DAY}) IN (SELECT DISTINCT scope, day "
        f"FROM ({scopes}))) GROUP BY p, c")  # a period from an anniversary day: the days loaded (replace.DAY)
    focus = {(r["p"], r["c"], metric): Decimal(r[metric]) for r in rows for metric in METRICS}
    out = []
    for t in source:
        found = focus.get((t["billing_period"], t["currency"], t["metric"]), Decimal(0))
        difference = EXACT.subtract(found, Decimal(t["total"]))
        out.append({"billing_period": t["billing_period"], "currency": t["currency"], "metric": t["metric"],
                    "source": t["total"], "focus": _text(found), "difference": _text(difference)})
    return out


def describe(r: dict[str, str]) -> str:
    """``BilledCost 2026-10 USD: 3134.381238 in FOCUS = the files' actual cost``, or the difference."""
    head = f"{r['metric']} {r['billing_period']} {r['currency']}: {r['focus']} in FOCUS"
    what = f"the files' {METRICS[r['metric']]}"
    if Decimal(r["difference"]) == 0:
        return f"{head} = {what}"
    return f"{head}, {what} {r['source']}: difference {r['difference']} (quarantined rows, or other data of the " \
           f"same accounts and months)"


def _text(value: Decimal) -> str:
    return format(value.normalize(EXACT), "f") if value else "0"
