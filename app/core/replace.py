"""Atomic, idempotent publication of staged FOCUS rows: replace each touched billing month's scopes.

A scope is (billing month, source dataset, billing account, sub account). Inside every month partition the
batch touches, rows of the batch's scopes are replaced and every other row survives; the month is swapped in
with ``REPLACE PARTITION`` (atomic per partition). When actual and amortized Azure data of the same scope are
both present, actual rows other than commitment purchases and refunds are superseded (Microsoft's rule).
"""

from __future__ import annotations

from app.core import schema
from app.core.warehouse import Warehouse
from app.models.names import FOCUS_TABLE
from app.views.refresh import refresh_aggregates

SCOPE = "(toYYYYMM(BillingPeriodStart), x_SourceDataset, BillingAccountId, ifNull(SubAccountId, ''))"
ACCOUNT_SCOPE = "(toYYYYMM(BillingPeriodStart), BillingAccountId, ifNull(SubAccountId, ''))"
SUPERSEDED = (
    "x_SourceDataset = 'ActualCost' AND x_SourceFormat = 'azure-cost' "
    "AND NOT (ChargeCategory = 'Purchase' AND PricingCategory = 'Committed') "
    f"AND {ACCOUNT_SCOPE} IN (SELECT scope FROM {{amortized}})"
)


def publish(wh: Warehouse, batch: str) -> dict[str, int]:
    """Publish table ``batch`` into the FOCUS table; returns rows superseded per source file."""
    db = wh.database
    target, full_batch = f"{db}.{FOCUS_TABLE}", f"{db}.{batch}"
    partitions = [r["partition_id"] for r in wh.rows(
        f"SELECT DISTINCT _partition_id AS partition_id FROM {full_batch} ORDER BY partition_id")]
    if not partitions:
        return {}
    keys = f"{db}.{batch}_keys"
    wh.command(f"CREATE TABLE {keys} ENGINE = Memory AS SELECT DISTINCT {SCOPE} AS scope FROM {full_batch}")
    try:
        wh.command(f"INSERT INTO {full_batch} SELECT * FROM {target} "
                   f"WHERE _partition_id IN {_tuple(partitions)} AND {SCOPE} NOT IN (SELECT scope FROM {keys})")
    finally:
        wh.command(f"DROP TABLE IF EXISTS {keys}")
    superseded = _supersede(wh, full_batch)
    for partition in partitions:
        wh.command(f"ALTER TABLE {target} REPLACE PARTITION ID '{partition}' FROM {full_batch}")
    refresh_aggregates(wh, partitions)  # materialized views do not see partition replacements
    return superseded


def _supersede(wh: Warehouse, full_batch: str) -> dict[str, int]:
    amortized = f"{full_batch}_amortized"
    wh.command(f"CREATE TABLE {amortized} ENGINE = Memory AS SELECT DISTINCT {ACCOUNT_SCOPE} AS scope "
               f"FROM {full_batch} WHERE x_SourceDataset = 'AmortizedCost'")
    try:
        condition = SUPERSEDED.format(amortized=amortized)
        counts = {r["file"]: int(r["n"]) for r in wh.rows(
            f"SELECT x_SourceFile AS file, count() AS n FROM {full_batch} WHERE {condition} GROUP BY file")}
        if counts:
            wh.command(f"ALTER TABLE {full_batch} DELETE WHERE {condition}")
    finally:
        wh.command(f"DROP TABLE IF EXISTS {amortized}")
    return counts


def _tuple(values: list[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def create_batch(wh: Warehouse, name: str) -> None:
    wh.command(schema.create_table_sql(FOCUS_TABLE, wh.database, name=name))
