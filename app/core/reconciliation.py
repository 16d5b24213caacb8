"""Reconciliation of a load (Microsoft's rule): per billing month and currency, FOCUS ``BilledCost`` equals the
actual cost the loaded files hold, and ``EffectiveCost`` their amortized cost.

The files' own totals are summed by the loader over every row read (quarantined rows too, so a quarantined row's
cost shows as a difference); the FOCUS totals over every row of the accounts the load touched in those months
(billing account and sub account) on the charge days the load replaced (``replace``: from its first day to
its last of each account),
whichever load brought them: the combined actual and amortized dataset, where
actual rows superseded by amortized ones are not counted twice. A quarantined row whose cost cannot be read is in
neither total: the file gets a warning with their number (``unread_costs``).
"""

from __future__ import annotations

from decimal import Decimal

from app.core.replace import ACCOUNT_SCOPE, DAY
from app.core.staging import EXACT, summed_totals
from app.core.warehouse import Warehouse, quote
from app.models.names import FOCUS_TABLE

METRICS = {"BilledCost": "actual cost", "EffectiveCost": "amortized cost"}


def reconcile(wh: Warehouse, stages: list[str], totals: list[dict[str, str]]) -> list[dict[str, str]]:
    """FOCUS against the files' ``totals`` (``FileResult.source_totals``) over the accounts staged in ``stages``:
    ``{"billing_period", "currency", "metric", "source", "focus", "difference"}`` each (exact decimal text)."""
    return _reconciled(wh, [f"{wh.database}.{stage}" for stage in stages], totals)


def reconcile_files(wh: Warehouse, files: list[str], totals: list[dict[str, str]]) -> list[dict[str, str]]:
    """``reconcile`` of an earlier load of ``files`` (its stages gone): over the days and accounts of their rows
    that FOCUS holds, of any dataset (an actual file's usage superseded by amortized rows of the same files is gone,
    its days are those rows')."""
    if not files:
        return []
    held = f"(SELECT * FROM {wh.database}.{FOCUS_TABLE} WHERE x_SourceFile IN ({', '.join(quote(f) for f in files)}))"
    return _reconciled(wh, [held], totals, carried_by={metric: "" for metric in CARRIED_BY})


def _reconciled(wh: Warehouse, relations: list[str], totals: list[dict[str, str]],
                carried_by: dict[str, str] | None = None) -> list[dict[str, str]]:
    """``carried_by``: per metric, the dataset whose rows' days do not count (``CARRIED_BY``; '': every row's)."""
    source = summed_totals(totals)
    if not relations or not source:
        return []
    db = wh.database
    staged = " UNION ALL ".join(f"SELECT {ACCOUNT_SCOPE} AS scope, {DAY} AS day, x_SourceDataset AS d FROM {rel}"
                                for rel in relations)
    sums = ", ".join(f"toString(sumIf({metric}, ({ACCOUNT_SCOPE}, {DAY}) IN ({_days(staged, excluded)}))) AS {metric}"
                     for metric, excluded in (carried_by or CARRIED_BY).items())
    rows = wh.rows(f"SELECT formatDateTime(BillingPeriodStart, '%Y-%m') AS p, BillingCurrency AS c, {sums} "
                   f"FROM {db}.{FOCUS_TABLE} WHERE {ACCOUNT_SCOPE} IN (SELECT scope FROM ({staged})) GROUP BY p, c")
    focus = {(r["p"], r["c"], metric): Decimal(r[metric]) for r in rows for metric in METRICS}
    out = []
    for t in source:
        found = focus.get((t["billing_period"], t["currency"], t["metric"]), Decimal(0))
        difference = EXACT.subtract(found, Decimal(t["total"]))
        out.append({"billing_period": t["billing_period"], "currency": t["currency"], "metric": t["metric"],
                    "source": t["total"], "focus": _text(found), "difference": _text(difference)})
    return out


CARRIED_BY = {"BilledCost": "AmortizedCost", "EffectiveCost": "ActualCost"}
"""Each metric over the days of the rows whose dataset carries it (not the dataset named): an Azure actual file
brings BilledCost, an amortized one EffectiveCost, any other both (``FileStage.source_totals``)."""


def _days(staged: str, excluded: str) -> str:
    """The (account, day) pairs a load replaced for one metric: from the first to the last day of each account in
    the ``staged`` rows of datasets other than ``excluded`` (``replace``)."""
    return (f"SELECT scope, arrayJoin(arrayMap(i -> first + i, range(toUInt32(last - first) + 1))) AS day FROM ("
            f"SELECT scope, min(day) AS first, max(day) AS last FROM ({staged}) WHERE d != '{excluded}' "
            "GROUP BY scope)")


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


COST_COLUMNS = ("CostInBillingCurrency", "BilledCost", "EffectiveCost")
UNREAD = f"^({'|'.join(COST_COLUMNS)}): (missing|mandatory value missing|not a number|out of range)"
"""Quarantine reasons of a cost that could not be read (``sql/mapping/``, ``mapping.rule_checks``)."""


def unread_costs(wh: Warehouse, quarantine: str, path: str) -> list[str]:
    """A warning for the quarantined rows of ``path`` (in table ``quarantine``) whose cost cannot be read: the
    reconciliation cannot show them as a difference."""
    rows = wh.rows(f"SELECT count() AS n, argMin(reason, row) AS e FROM (SELECT source_row AS row, arrayFirst(r -> "
                   f"match(r, {quote(UNREAD)}), reasons) AS reason FROM {wh.database}.{quarantine} "
                   f"WHERE source_file = {quote(path)}) WHERE reason != ''")
    if not rows or not rows[0]["n"]:
        return []
    return [f"{path}: {rows[0]['n']} quarantined rows have a cost that cannot be read (e.g. {rows[0]['e']}): it is in "
            f"neither the file's total nor FOCUS, so the reconciliation cannot show it; see focus_quarantine"]
