"""The consumption APIs declared as Moose ``Api``s: ``GET /api/<name>?…`` in ``moose dev`` / ``moose prod``.

Moose validates the query string into the ``*Query`` model (HTTP 400 with pydantic's message naming the
parameter), then calls the handler with its ``MooseClient``. The handler answers the response model (JSON) or,
with ``format=csv``, CSV text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Union

from moose_lib import Api, ApiConfig
from pydantic import BaseModel

from app.apis import service
from app.apis.params import (
    CommitmentUtilizationQuery,
    CostBreakdownQuery,
    CostTrendQuery,
    DataFreshnessQuery,
    PeriodComparisonQuery,
    TopResourcesQuery,
)
from app.apis.results import (
    CommitmentUtilizationResponse,
    CostBreakdownResponse,
    CostTrendResponse,
    DataFreshnessResponse,
    PeriodComparisonResponse,
    Table,
    TopResourcesResponse,
    to_csv,
)

Answer = Callable[[service.Execute, Any], Table]


def respond(answer: Answer, execute: service.Execute, params: BaseModel) -> Union[Table, str]:
    """The response model, or its main table as CSV text when ``format=csv``."""
    result = answer(execute, params)
    return to_csv(*result.csv_table()) if getattr(params, "format", "json") == "csv" else result


def handler(answer: Answer) -> Callable[..., Union[Table, str]]:
    """A Moose API handler: Moose calls it with its client, the validated params (and a JWT payload if any)."""

    def run(client: Any, params: BaseModel, *_jwt: Any) -> Union[Table, str]:
        return respond(answer, service.moose_execute(client), params)

    run.answer = answer  # type: ignore[attr-defined] - lets other runners execute the same answer
    return run


def _api(name: str, query: type, response: type, answer: Answer, description: str) -> Api:
    return Api[query, response](name, query_function=handler(answer),
                                config=ApiConfig(metadata={"description": description}))


cost_breakdown = _api(
    "cost-breakdown", CostBreakdownQuery, CostBreakdownResponse, service.cost_breakdown,
    "A metric grouped by one or two dimensions (or a tag), filtered, sorted, limited, with an others row.")
cost_trend = _api(
    "cost-trend", CostTrendQuery, CostTrendResponse, service.cost_trend,
    "A metric as a daily or monthly series, optionally one series per value of a dimension.")
top_resources = _api(
    "top-resources", TopResourcesQuery, TopResourcesResponse, service.top_resources,
    "The resources with the largest metric, with their service, subscription, resource group and region.")
period_comparison = _api(
    "period-comparison", PeriodComparisonQuery, PeriodComparisonResponse, service.period_comparison,
    "A month against the month before per value of a dimension, with deltas.")
commitment_utilization = _api(
    "commitment-utilization", CommitmentUtilizationQuery, CommitmentUtilizationResponse,
    service.commitment_utilization, "Reservations and savings plans: used vs unused amortized cost, purchases.")
data_freshness = _api(
    "data-freshness", DataFreshnessQuery, DataFreshnessResponse, service.data_freshness,
    "Latest charge period per billing account and source, rows per ingestion, aggregate coverage per month.")

APIS = (cost_breakdown, cost_trend, top_resources, period_comparison, commitment_utilization, data_freshness)
