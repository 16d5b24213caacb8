"""Operational APIs over the workflows' records: ``data-quality``, ``anomalies``, ``workflow-runs``.

Same style as the cost APIs: a validated query model, a pure SQL builder returning a :class:`Query` (every value
bound), an answer function ``(execute, query) → response`` that Moose, the loopback server, the CLI and tests share.
"""


from datetime import date
from typing import Literal, Optional

from moose_lib import Api, ApiConfig
from pydantic import BaseModel, Field, field_validator

from app.apis.dimensions import Sql, iso_time
from app.apis.endpoints import handler
from app.apis.params import Format
from app.apis.queries import Query
from app.apis.results import Row, Table, money_row
from app.apis.service import Execute
from app.workflows.tables import ANOMALIES_TABLE, QUALITY_TABLE, RUNS_TABLE, TASKS_TABLE

CHECKS = ("reconciliation", "freshness", "quarantine_rate", "completeness")
STATUSES = ("pass", "warn", "fail")
RUN_STATUSES = ("running", "completed", "failed", "cancelled")


def _allowed(name: str, values: list[str], allowed: tuple[str, ...]) -> list[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(f"{name}: unknown value(s) {bad}; expected {', '.join(allowed)}")
    return values


class DataQualityQuery(BaseModel):
    connector: list[str] = Field(default_factory=list, description="connector name(s)")
    check: list[str] = Field(default_factory=list, description=f"one of {', '.join(CHECKS)}")
    status: list[str] = Field(default_factory=list, description="pass, warn or fail")
    billing_period: Optional[str] = Field(None, pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM")
    run_id: Optional[str] = Field(None, description="results of one workflow run")
    latest: Optional[bool] = Field(True, description="only the latest result per check, connector, period, subject")
    limit: Optional[int] = Field(200, ge=1, le=5000)
    format: Optional[Format] = Field("json", description="json (default) or csv")

    @field_validator("check")
    @classmethod
    def _checks(cls, values: list[str]) -> list[str]:
        return _allowed("check", values, CHECKS)

    @field_validator("status")
    @classmethod
    def _statuses(cls, values: list[str]) -> list[str]:
        return _allowed("status", values, STATUSES)


class AnomaliesQuery(BaseModel):
    start: Optional[date] = Field(None, description="first day (YYYY-MM-DD)")
    end: Optional[date] = Field(None, description="last day (YYYY-MM-DD)")
    sub_account: list[str] = Field(default_factory=list, description="SubAccountId(s)")
    service: list[str] = Field(default_factory=list, description="ServiceName(s)")
    direction: Optional[Literal["up", "down"]] = None
    min_change: Optional[float] = Field(None, ge=0, description="smallest |cost − baseline| returned")
    limit: Optional[int] = Field(200, ge=1, le=5000)
    format: Optional[Format] = Field("json", description="json (default) or csv")


class WorkflowRunsQuery(BaseModel):
    workflow: list[str] = Field(default_factory=list, description="daily-extraction, backfill, data-quality")
    connector: list[str] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list, description=", ".join(RUN_STATUSES))
    run_id: Optional[str] = Field(None, description="one run, with its months (tasks)")
    limit: Optional[int] = Field(50, ge=1, le=1000)
    format: Optional[Format] = Field("json", description="json (default) or csv")

    @field_validator("status")
    @classmethod
    def _statuses(cls, values: list[str]) -> list[str]:
        return _allowed("status", values, RUN_STATUSES)


class DataQualityResponse(Table):
    summary: dict[str, int] = Field(description="results per status")
    rows: list[Row]

    def csv_table(self) -> tuple[list[str], list[Row]]:
        return list(QUALITY_COLUMNS), self.rows


class AnomaliesResponse(Table):
    rows: list[Row]

    def csv_table(self) -> tuple[list[str], list[Row]]:
        return list(ANOMALY_COLUMNS), self.rows


class WorkflowRunsResponse(Table):
    runs: list[Row]
    tasks: list[Row] = Field(description="months of the run asked for with run_id (all attempts)")

    def csv_table(self) -> tuple[list[str], list[Row]]:
        return list(RUN_COLUMNS), self.runs


QUALITY_COLUMNS = ("check", "connector", "billing_period", "subject", "status", "source_value", "focus_value",
                   "difference", "value", "threshold", "details", "run_id", "checked_at")
ANOMALY_COLUMNS = ("day", "billing_account_id", "sub_account_id", "sub_account_name", "service_name", "currency",
                   "cost", "baseline", "change", "z_score", "method", "direction", "window_days", "run_id",
                   "detected_at")
ANOMALY_KEY = "billing_account_id, sub_account_id, service_name, currency"
"""What tells apart two anomalies of one day (their order when their changes are equal)."""
RUN_COLUMNS = ("run_id", "workflow", "connector", "status", "started_at", "ended_at", "rows_processed", "error",
               "parameters", "temporal_run_id")
LATEST = "argMax(tuple(q_{c}), q_checked_at).1 AS `{c}`"
"""The latest check's value (the inner columns are prefixed ``q_``: an alias never shadows the column it is made
from, whatever the server's ``prefer_column_name_to_alias``)."""


def data_quality(q: DataQualityQuery) -> Query:
    sql = Sql(aggregated=False)
    conds = [sql.one_of(f"`{col}`", getattr(q, col)) for col in ("connector", "check", "status") if getattr(q, col)]
    if q.billing_period:
        conds.append(f"billing_period = {sql.bind('period', q.billing_period)}")
    if q.run_id:
        conds.append(f"run_id = {sql.bind('run', q.run_id)}")
    where = " AND ".join(conds) or "1"
    text = {"source_value", "focus_value", "difference"}
    cols = [f"{'toString' if c in text else ''}(`{c}`) AS q_{c}" for c in QUALITY_COLUMNS if c != "checked_at"]
    cols.append(f"{iso_time('checked_at')} AS q_checked_at")
    inner = f"SELECT {', '.join(cols)} FROM {QUALITY_TABLE} WHERE {where}"
    keys = ("check", "connector", "billing_period", "subject")
    if q.latest:
        picked = [f"q_{c} AS `{c}`" if c in keys else LATEST.format(c=c) for c in QUALITY_COLUMNS if c != "checked_at"]
        inner = (f"SELECT {', '.join(picked)}, max(q_checked_at) AS checked_at FROM ({inner}) "
                 f"GROUP BY {', '.join(f'q_{k}' for k in keys)}")
    else:
        inner = f"SELECT {', '.join(f'q_{c} AS `{c}`' for c in QUALITY_COLUMNS)} FROM ({inner})"
    top = sql.bind("limit", q.limit, "UInt32")
    return Query(f"SELECT * FROM ({inner}) ORDER BY checked_at DESC, `check`, connector, billing_period, subject "
                 f"LIMIT {top}", sql.params, QUALITY_TABLE)


def anomalies(q: AnomaliesQuery) -> Query:
    sql = Sql(aggregated=False)
    conds = []
    if q.start:
        conds.append(f"a.day >= {sql.bind('start', q.start, 'Date')}")
    if q.end:
        conds.append(f"a.day <= {sql.bind('end', q.end, 'Date')}")
    conds += [sql.one_of(f"a.{col}", vals)
              for col, vals in (("sub_account_id", q.sub_account), ("service_name", q.service)) if vals]
    if q.direction:
        conds.append(f"a.direction = {sql.bind('direction', q.direction)}")
    if q.min_change is not None:
        conds.append(f"abs(a.change) >= {sql.bind('change', q.min_change, 'Float64')}")
    text = {"day": "toString({})", "cost": "toString({})", "baseline": "toString({})", "change": "toString({})",
            "detected_at": iso_time("{}")}
    cols = ", ".join(f"{text[c].format(c)} AS {c}" if c in text else c for c in ANOMALY_COLUMNS)
    top = sql.bind("limit", q.limit, "UInt32")
    # filters name the table's columns (``a.``): the SELECT's text aliases would shadow them on a ClickHouse client
    # without ``prefer_column_name_to_alias`` (Moose's)
    return Query(f"SELECT {cols} FROM {ANOMALIES_TABLE} AS a WHERE {' AND '.join(conds) or '1'} "
                 f"ORDER BY day DESC, abs(toFloat64(change)) DESC, {ANOMALY_KEY} LIMIT {top}", sql.params,
                 ANOMALIES_TABLE)


def workflow_runs(q: WorkflowRunsQuery) -> Query:
    """Each run's latest state (runs are append-only events); newest first."""
    sql = Sql(aggregated=False)
    conds = [sql.one_of(f"r.{col}", getattr(q, col)) for col in ("workflow", "connector") if getattr(q, col)]
    if q.run_id:  # ``r.``: the table's columns, not the aggregates named alike (Moose's client)
        conds.append(f"r.run_id = {sql.bind('run', q.run_id)}")
    outer = sql.one_of("status", q.status) if q.status else "1"
    top = sql.bind("limit", q.limit, "UInt32")
    last = "argMax(tuple({c}), (recorded_at, r.status != 'running')).1"  # ends recorded in the ms it started
    return Query(
        f"SELECT * FROM (SELECT run_id, any(workflow) AS workflow, any(connector) AS connector, "
        f"{last.format(c='status')} AS status, {iso_time('min(started_at)')} AS started_at, "
        f"{iso_time(last.format(c='ended_at'))} AS ended_at, {last.format(c='rows_processed')} AS rows_processed, "
        f"{last.format(c='error')} AS error, argMin(parameters, recorded_at) AS parameters, "
        f"{last.format(c='temporal_run_id')} AS temporal_run_id FROM {RUNS_TABLE} AS r "
        f"WHERE {' AND '.join(conds) or '1'} GROUP BY run_id) WHERE {outer} "
        f"ORDER BY started_at DESC, run_id LIMIT {top}", sql.params, RUNS_TABLE)


def run_tasks(run_id: str) -> Query:
    """Every attempt at every month of a run (and of runs resuming it)."""
    return Query(f"SELECT run_id, month, status, attempt, rows_read, rows_loaded, rows_quarantined, error, "
                 f"{iso_time('finished_at')} AS finished_at FROM {TASKS_TABLE} WHERE run_id = {{run:String}} "
                 "OR run_key = {run:String} OR startsWith(run_key, concat({run:String}, '/')) "
                 "ORDER BY month, finished_at, run_id, connector, attempt", {"run": run_id}, TASKS_TABLE)


QUALITY_MONEY = ("source_value", "focus_value", "difference")
ANOMALY_MONEY = ("cost", "baseline", "change")


def data_quality_answer(execute: Execute, q: DataQualityQuery) -> DataQualityResponse:
    rows = [money_row(r, (), QUALITY_MONEY) for r in execute(data_quality(q))]
    summary = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    return DataQualityResponse(summary=summary, rows=rows)


def anomalies_answer(execute: Execute, q: AnomaliesQuery) -> AnomaliesResponse:
    return AnomaliesResponse(rows=[money_row(r, (), ANOMALY_MONEY) for r in execute(anomalies(q))])


def workflow_runs_answer(execute: Execute, q: WorkflowRunsQuery) -> WorkflowRunsResponse:
    return WorkflowRunsResponse(runs=execute(workflow_runs(q)), tasks=execute(run_tasks(q.run_id)) if q.run_id else [])


def _api(name: str, query: type, response: type, answer, description: str) -> Api:
    return Api[query, response](name, query_function=handler(answer),
                                config=ApiConfig(metadata={"description": description}))


data_quality_api = _api("data-quality", DataQualityQuery, DataQualityResponse, data_quality_answer,
                        "Reconciliation, freshness and quarantine-rate results of the workflows (latest by default).")
anomalies_api = _api("anomalies", AnomaliesQuery, AnomaliesResponse, anomalies_answer,
                     "Daily cost anomalies per sub account and service, largest change first.")
workflow_runs_api = _api("workflow-runs", WorkflowRunsQuery, WorkflowRunsResponse, workflow_runs_answer,
                         "Workflow runs (latest state of each), or one run with its months.")
OPERATION_APIS = (data_quality_api, anomalies_api, workflow_runs_api)
