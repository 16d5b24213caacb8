"""The consumption APIs as plain functions: (execute, validated query) → response model.

``execute`` runs a :class:`~app.apis.queries.Query` and returns its rows as dicts: :func:`moose_execute` inside
the Moose runtime (its ClickHouse client), :func:`warehouse_execute` on ABI's warehouse (tests, benchmark,
the loopback server).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, Optional

from clickhouse_connect.driver.binding import format_bind_value

from app.apis import queries
from app.apis.params import (
    CommitmentUtilizationQuery,
    CostBreakdownQuery,
    CostTrendQuery,
    DataFreshnessQuery,
    PeriodComparisonQuery,
    TopResourcesQuery,
)
from app.apis.queries import Query
from app.apis.results import (
    CommitmentUtilizationResponse,
    ComparisonTotal,
    CostBreakdownResponse,
    CostTrendResponse,
    DataFreshnessResponse,
    PeriodComparisonResponse,
    TopResourcesResponse,
    currency_totals,
    money_row,
    renamed,
)
from app.core.warehouse import Warehouse

Execute = Callable[[Query], list[dict[str, Any]]]


def warehouse_execute(wh: Warehouse) -> Execute:
    """Run queries on an ABI warehouse (parameters rendered as ClickHouse's HTTP interface expects them)."""
    return lambda q: wh.rows(q.sql, {k: format_bind_value(v) for k, v in q.params.items()})


def moose_execute(client: Any) -> Execute:
    """Run queries through Moose's ``MooseClient`` (clickhouse-connect binds the parameters server-side)."""
    return lambda q: client.query.execute_raw(q.sql, q.params)


def cost_breakdown(execute: Execute, q: CostBreakdownQuery) -> CostBreakdownResponse:
    query = queries.cost_breakdown(q)
    raw = execute(query)
    totals = currency_totals(raw, "value")
    rows = [renamed(money_row(r), q.group_by) | {"share": _share(r["value"], totals.get(r["currency"]))} for r in raw]
    return CostBreakdownResponse(metric=q.metric, group_by=q.group_by, source=query.source,
                                 total=_single(totals, float, 0.0), totals={c: float(t) for c, t in totals.items()},
                                 rows=rows)


def _single(totals: dict, convert, empty):
    """The one currency's total converted, ``empty`` when there is none, None when there are several."""
    return empty if not totals else convert(next(iter(totals.values()))) if len(totals) == 1 else None


def _share(value: Optional[str], total: Optional[Decimal]) -> Optional[float]:
    return None if value is None or not total else float(Decimal(value) / total)


def cost_trend(execute: Execute, q: CostTrendQuery) -> CostTrendResponse:
    query = queries.cost_trend(q)
    names = [q.split_by] if q.split_by else []
    rows = [renamed(money_row(r) | {"period": str(r["period"])}, names) for r in execute(query)]
    return CostTrendResponse(metric=q.metric, granularity=q.granularity, split_by=q.split_by, source=query.source,
                             rows=rows)


def top_resources(execute: Execute, q: TopResourcesQuery) -> TopResourcesResponse:
    query = queries.top_resources(q)
    return TopResourcesResponse(metric=q.metric, source=query.source, rows=[money_row(r) for r in execute(query)])


def period_comparison(execute: Execute, q: PeriodComparisonQuery, today: Optional[date] = None
                      ) -> PeriodComparisonResponse:
    query = queries.period_comparison(q, today)
    previous, current, _ = queries.months(q, today)
    raw = execute(query)
    cur, prev = currency_totals(raw, "current"), currency_totals(raw, "previous")
    totals = {c: _compared(cur[c], prev[c]) for c in cur}
    return PeriodComparisonResponse(
        metric=q.metric, group_by=q.group_by, month=f"{current:%Y-%m}", previous_month=f"{previous:%Y-%m}",
        source=query.source, total=_single(totals, lambda t: t, _compared(Decimal(0), Decimal(0))), totals=totals,
        rows=[renamed(money_row(r), [q.group_by]) for r in raw])


def _compared(cur: Decimal, prev: Decimal) -> ComparisonTotal:
    return ComparisonTotal(current=float(cur), previous=float(prev), delta=float(cur - prev),
                           delta_ratio=float((cur - prev) / abs(prev)) if prev else None)


def commitment_utilization(execute: Execute, q: CommitmentUtilizationQuery) -> CommitmentUtilizationResponse:
    query = queries.commitment_utilization(q)
    return CommitmentUtilizationResponse(source=query.source, rows=[money_row(r) for r in execute(query)])


def data_freshness(execute: Execute, q: DataFreshnessQuery) -> DataFreshnessResponse:
    want = {"sources", "ingestions"} if q.part == "all" else {q.part}
    sources = execute(queries.freshness_sources(q.billing_account)) if "sources" in want else []
    ingestions = execute(queries.freshness_ingestions(q.billing_account, q.limit)) if "ingestions" in want else []
    partitions = execute(queries.freshness_partitions()) if q.part == "all" else []
    return DataFreshnessResponse(sources=sources, ingestions=ingestions, partitions=partitions)
