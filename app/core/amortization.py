"""Actual cost without its amortized counterpart: where a load leaves EffectiveCost short, said per file and month.

Microsoft's conversion takes EffectiveCost from amortized data (plus commitment purchases and refunds from actual
data, at an EffectiveCost of 0: they are amortized over the usage they cover). Days of an account (billing account
and subscription) loaded from actual data only therefore have an EffectiveCost without their commitments: the
purchases count 0 and the usage they cover costs 0 in actual data. The load is right as far as it goes (BilledCost
reconciles with the invoice); the warning says what is missing and what to load.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from app.core.replace import ACCOUNT_SCOPE, DAY
from app.core.warehouse import Warehouse, quote
from app.models.names import FOCUS_TABLE

COMMITMENT_PURCHASE = ("ChargeCategory = 'Purchase' AND ChargeClass IS NULL AND (CommitmentDiscountId IS NOT NULL "
                       "OR replaceAll(lower(ifNull(x_PricingModel, '')), ' ', '') IN ('reservation', 'savingsplan'))")
"""A commitment's purchase (a refund is no part of EffectiveCost, amortized data or not)."""
KEY = f"({ACCOUNT_SCOPE}, {DAY})"
"""The scope and day amortized data supersedes actual rows by (``replace.SUPERSEDED``)."""


class Staged(Protocol):
    """A loaded file's result (``loader.FileResult``)."""

    path: str
    source: str | None
    dataset: str | None
    warnings: list[str]


def warn_unamortized(wh: Warehouse, staged: list[tuple[Staged, str]]) -> None:
    """Add a warning to each actual Azure cost file (``staged``: its result and its FOCUS stage table) for each
    billing month holding commitment purchases or usage a commitment covers on days of accounts (billing account and
    subscription) of which the warehouse has no amortized data."""
    actual = [(fr, stage) for fr, stage in staged if fr.source == "azure-cost" and fr.dataset == "ActualCost"]
    for stage in dict.fromkeys(stage for _, stage in actual):
        files = {fr.path: fr for fr, s in actual if s == stage}
        for row in wh.rows(_short_months_sql(wh.database, stage, list(files))):
            files[row["file"]].warnings.append(_warning(row))


def _short_months_sql(db: str, stage: str, files: list[str]) -> str:
    amortized = (f"SELECT DISTINCT {KEY} FROM {db}.{FOCUS_TABLE} WHERE x_SourceDataset = 'AmortizedCost' "
                 f"AND BillingPeriodStart IN (SELECT DISTINCT BillingPeriodStart FROM {db}.{stage})")
    return (f"SELECT x_SourceFile AS file, formatDateTime(BillingPeriodStart, '%Y-%m') AS month, "
            f"BillingCurrency AS currency, toString(sumIf(BilledCost, {COMMITMENT_PURCHASE})) AS bought, "
            f"countIf(ChargeCategory = 'Usage' AND CommitmentDiscountStatus = 'Used') AS covered "
            f"FROM {db}.{stage} WHERE x_SourceFile IN ({', '.join(quote(f) for f in files)}) "
            f"AND {KEY} NOT IN ({amortized}) "
            f"GROUP BY file, month, currency HAVING bought != '0' OR covered > 0 ORDER BY file, month, currency")


def _warning(row: dict) -> str:
    bought = Decimal(row["bought"])
    missing = [f"the {bought.normalize():f} {row['currency']} of commitment purchases (reservations, savings plans)"
               if bought else "", f"the cost of the usage they cover ({row['covered']} rows at 0 in actual data)"
               if int(row["covered"]) else ""]
    return (f"{row['file']}: billing month {row['month']} holds actual cost only (days of subscriptions no amortized "
            f"data covers): EffectiveCost leaves out {' and '.join(m for m in missing if m)}; BilledCost is complete. "
            "Load the month's amortized export too (EffectiveCost then amortizes them)")
