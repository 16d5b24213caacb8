"""Pure SQL builders of the consumption APIs: validated query model in, ``Query`` (SQL + bound parameters) out.

The same ``Query`` runs through Moose's client (``execute_raw``) or the embedded warehouse. Requests that the
daily aggregate can answer read ``focus_daily_cost``; resource- and tag-level ones read ``focus_cost``. Sums are
exact Decimals in ClickHouse and leave it as decimal text (``results`` makes numbers of them); dimension values
come back as strings (null when missing). Queries name tables without a database: the client's database applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Optional

from app.apis.dimensions import OTHERS, Sql, iso_time, needs_focus
from app.apis.params import (
    CommitmentUtilizationQuery,
    CostBreakdownQuery,
    CostTrendQuery,
    DateRange,
    Filters,
    PeriodComparisonQuery,
    TopResourcesQuery,
)
from app.ingest.tables import FOCUS_TABLE, INGESTION_LOG_TABLE
from app.views.daily_cost import DAILY_COST_TABLE

ORDERS = {"value_desc": "m0 DESC, {keys}", "value_asc": "m0 ASC, {keys}", "key_asc": "{keys}", "key_desc": "{desc}"}


@dataclass(frozen=True)
class Query:
    """One SQL statement with ``{name:Type}`` placeholders, its parameter values and the table it reads."""

    sql: str
    params: dict[str, object] = field(default_factory=dict)
    source: str = ""


def where(sql: Sql, filters: Filters, dates: Optional[DateRange] = None, extra: tuple[str, ...] = ()) -> str:
    """The WHERE condition of the filters (every value bound)."""
    conds = list(extra)
    if dates is not None and dates.start is not None:
        conds.append(since(sql, sql.bind("start", dates.start, "Date")))
    if dates is not None and dates.end is not None:
        conds.append(f"NOT {since(sql, sql.bind('end', dates.end, 'Date'))}")
    columns = {"billing_account": "BillingAccountId", "sub_account": "SubAccountId", "service": "ServiceName",
               "charge_category": "ChargeCategory", "currency": "BillingCurrency"}
    conds += [sql.one_of(col, getattr(filters, name)) for name, col in columns.items() if getattr(filters, name)]
    if filters.region:
        conds.append(f"({sql.one_of('RegionId', filters.region)} OR {sql.one_of('RegionName', filters.region)})")
    conds += [f"{sql.tag(key)} = {sql.bind('v', value)}" for key, value in filters.tags]
    return " AND ".join(conds) or "1"


def since(sql: Sql, day: str) -> str:
    """Rows charged on or after a (placeholder) UTC day; written on the raw column so indexes apply."""
    return f"ChargeDate >= {day}" if sql.aggregated else f"ChargePeriodStart >= toDateTime({day}, 'UTC')"


def fold_others(sql: Sql, inner: str, n_keys: int, measures: dict[str, str], order: str, limit: int) -> str:
    """Keep the first ``limit`` groups of each currency of ``inner`` (columns k0…, m0…, cur) in ``order``; fold the
    rest into one row per currency whose dimension values are ``(others)`` (amounts of two currencies are never
    ranked together: yen would outrank every euro group). Output: d0…, the measures, currency, groups, by position
    then currency."""
    top = sql.bind("limit", limit, "UInt32")
    dims = [f"if(bucket > {top}, '{OTHERS}', nullIf(any(k{i}), '')) AS d{i}" for i in range(n_keys)]
    values = [f"toString({expr}) AS {name}" for name, expr in measures.items()]
    return (f"SELECT {', '.join(dims + values)}, cur AS currency, count() AS groups, bucket AS position\n"
            f"FROM (SELECT *, row_number() OVER (PARTITION BY cur ORDER BY {order}) AS pos FROM (\n{inner}\n))\n"
            f"GROUP BY least(pos, {top} + 1) AS bucket, cur ORDER BY bucket, cur")


def _grouped(sql: Sql, keys: list[str], sums: list[str], cond: str, metric: str) -> str:
    """Sums per keys and billing currency (amounts in two currencies never add; quantities per unit): columns k0…,
    m0…, cur."""
    key_sql = [f"{k} AS k{i}" for i, k in enumerate(keys)]
    sum_sql = [f"{s} AS m{i}" for i, s in enumerate(sums)]
    group = ", ".join(f"k{i}" for i in range(len(keys)))
    return (f"SELECT {', '.join(key_sql + sum_sql)}, {sql.amount_key(metric)} AS cur "
            f"FROM {sql.table} WHERE {cond} GROUP BY {group}, cur")


def cost_breakdown(q: CostBreakdownQuery) -> Query:
    """The metric per one or two dimensions, ordered, limited, with an others row."""
    sql = Sql(aggregated=not needs_focus(q.group_by, q.tags, q.metric))
    keys = [sql.key(d) for d in q.group_by]
    inner = _grouped(sql, keys, [f"sum({sql.metric(q.metric)})"], where(sql, q, q), q.metric)
    names = [f"k{i}" for i in range(len(keys))]
    order = ORDERS[q.sort].format(keys=", ".join(names), desc=", ".join(f"{n} DESC" for n in names))
    return Query(fold_others(sql, inner, len(keys), {"value": "sum(m0)"}, order, q.limit), sql.params, sql.table)


def cost_trend(q: CostTrendQuery) -> Query:
    """The metric per day or month, optionally one series per value of ``split_by`` (top ``limit`` + others)."""
    sql = Sql(aggregated=not needs_focus([q.split_by] if q.split_by else [], q.tags, q.metric))
    period = f"toDate({sql.day()})" if q.granularity == "daily" else f"toStartOfMonth({sql.day()})"  # Date: as FILL
    cond = where(sql, q, q)
    if q.split_by is None:
        fill = _fill(sql, q)
        return Query(f"SELECT period, toString(m0) AS value, currency FROM (\nSELECT {period} AS period, "
                     f"sum({sql.metric(q.metric)}) AS m0, {sql.amount_key(q.metric)} AS currency FROM {sql.table} "
                     f"WHERE {cond} "
                     f"GROUP BY period, currency ORDER BY currency, period{fill}\n) ORDER BY period, currency",
                     sql.params, sql.table)
    top = sql.bind("limit", q.limit, "UInt32")
    inner = (f"SELECT {period} AS period, {sql.key(q.split_by)} AS k0, sum({sql.metric(q.metric)}) AS m0, "
             f"{sql.amount_key(q.metric)} AS cur FROM {sql.table} WHERE {cond} GROUP BY period, k0, cur")
    ranked = (f"SELECT period, k0, m0, cur, dense_rank() OVER (PARTITION BY cur ORDER BY total DESC, k0) AS pos "
              f"FROM (SELECT *, sum(m0) OVER (PARTITION BY k0, cur) AS total FROM (\n{inner}\n))")
    return Query(f"SELECT period, if(pos > {top}, '{OTHERS}', nullIf(k0, '')) AS d0, toString(sum(m0)) AS value, "
                 f"cur AS currency FROM (\n{ranked}\n) GROUP BY period, d0, cur ORDER BY period, min(pos), d0, cur",
                 sql.params, sql.table)


def _fill(sql: Sql, q: CostTrendQuery) -> str:
    """``WITH FILL`` over the requested range: zero rows for days or months without charges, in each currency's
    series (the fill runs within each value of the sort columns before it: a filled row names its currency)."""
    if q.start is None or q.end is None:
        return ""
    start, end = sql.bind("fill", q.start, "Date"), sql.bind("fill", q.end, "Date")
    if q.granularity == "daily":
        return f" WITH FILL FROM {start} TO {end} STEP INTERVAL 1 DAY"
    return f" WITH FILL FROM toStartOfMonth({start}) TO {end} STEP INTERVAL 1 MONTH"


def top_resources(q: TopResourcesQuery) -> Query:
    """The resources with the largest metric (always from focus_cost; grouped on a 64-bit hash of the id, which
    is 2-3x faster than on the long id strings — a collision is negligible below billions of resources), each with
    its attributes on its latest charge (of two values then, the greater)."""
    sql = Sql(aggregated=False)
    cond = where(sql, q, q, extra=("ifNull(ResourceId, '') != ''",))
    attrs = {"ResourceName": "r_name", "ResourceType": "r_type", "ServiceName": "r_service",
             "SubAccountId": "r_sub", "SubAccountName": "r_sub_name", "x_ResourceGroupName": "r_group",
             "RegionName": "r_region"}
    # a resource renamed or moved shows its latest values (``any`` gave the first row read, in no set order)
    inner = ", ".join(f"argMaxIf({col}, (ChargePeriodStart, {col}), {col} IS NOT NULL) AS {alias}"
                      for col, alias in attrs.items())
    outer = ", ".join(f"{alias} AS {col}" for col, alias in attrs.items())
    top = sql.bind("limit", q.limit, "UInt32")
    return Query(f"SELECT r_id AS ResourceId, {outer}, toString(m0) AS value, currency FROM (\n"
                 f"SELECT any(ResourceId) AS r_id, {inner}, sum({sql.metric(q.metric)}) AS m0, "
                 f"{sql.amount_key(q.metric)} AS currency FROM {sql.table} WHERE {cond} "
                 f"GROUP BY cityHash64(ResourceId), currency ORDER BY m0 DESC, r_id, currency LIMIT {top}\n"
                 ") ORDER BY m0 DESC, r_id, currency",
                 sql.params, sql.table)


def months(q: PeriodComparisonQuery, today: Optional[date] = None) -> tuple[date, date, date]:
    """(previous month, requested month, month after) first days; the month defaults to today's (UTC)."""
    current = date.fromisoformat(f"{q.month}-01") if q.month else (today or datetime.now(UTC).date()).replace(day=1)
    previous = (current - timedelta(days=1)).replace(day=1)
    following = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return previous, current, following


def period_comparison(q: PeriodComparisonQuery, today: Optional[date] = None) -> Query:
    """The metric of a month and of the month before, per value of a dimension, with deltas."""
    sql = Sql(aggregated=not needs_focus([q.group_by], q.tags, q.metric))
    previous, current, following = months(q, today)
    cur = sql.bind("month", current, "Date")
    metric = sql.metric(q.metric)
    window = DateRange(start=previous, end=following)
    inner = _grouped(sql, [sql.key(q.group_by)], [f"sumIf({metric}, {since(sql, cur)})",
                                                   f"sumIf({metric}, NOT {since(sql, cur)})"], where(sql, q, window),
                     q.metric)
    measures = {"current": "sum(m0)", "previous": "sum(m1)", "delta": "sum(m0) - sum(m1)"}
    folded = fold_others(sql, inner, 1, measures, "m0 DESC, m1 DESC, k0", q.limit)
    ratio = "if(toFloat64(previous) = 0, NULL, toFloat64(delta) / abs(toFloat64(previous)))"
    return Query(f"SELECT *, {ratio} AS delta_ratio FROM (\n{folded}\n) ORDER BY position, currency",
                 sql.params, sql.table)


def commitment_utilization(q: CommitmentUtilizationQuery) -> Query:
    """Used and unused amortized cost, purchases and savings per commitment discount (from the aggregate)."""
    sql = Sql(aggregated=True)
    extra = ("CommitmentDiscountId != ''",) + (
        (sql.one_of("CommitmentDiscountType", list(q.commitment_type)),) if q.commitment_type else ())
    cond = where(sql, Filters(billing_account=q.billing_account), q, extra=extra)
    used, unused = "CommitmentDiscountStatus = 'Used'", "CommitmentDiscountStatus = 'Unused'"
    return Query(
        "SELECT c_id AS CommitmentDiscountId, c_name AS CommitmentDiscountName, c_type AS CommitmentDiscountType, "
        "toString(used) AS used_cost, toString(unused) AS unused_cost, "
        "if(used + unused = 0, NULL, toFloat64(used) / toFloat64(used + unused)) AS utilization, "
        "toString(purchased) AS purchased_cost, toString(savings) AS savings, currency FROM (\n"
        f"SELECT CommitmentDiscountId AS c_id, max(CommitmentDiscountName) AS c_name, "
        f"max(CommitmentDiscountType) AS c_type, sumIf(EffectiveCost, {used}) AS used, "
        f"sumIf(EffectiveCost, {unused}) AS unused, sumIf(BilledCost, ChargeCategory = 'Purchase') AS purchased, "
        f"sumIf(ContractedCost - EffectiveCost, {used}) AS savings, "
        "BillingCurrency AS currency "
        f"FROM {sql.table} WHERE {cond} GROUP BY c_id, currency\n) ORDER BY c_type, c_name, c_id, currency",
        sql.params, sql.table)


def freshness_sources(billing_account: list[str]) -> Query:
    """Latest charge period, rows and last ingestion per billing account and source dataset."""
    sql = Sql(aggregated=False)
    cond = where(sql, Filters(billing_account=billing_account))
    return Query(
        f"SELECT a AS BillingAccountId, d AS x_SourceDataset, {iso_time('first_start')} AS first_charge_start, "
        f"{iso_time('last_end')} AS last_charge_end, {iso_time('last_period')} AS last_billing_period_start, "
        f"n AS row_count, {iso_time('ingested')} AS last_ingested_at FROM (\n"
        "SELECT BillingAccountId AS a, x_SourceDataset AS d, min(ChargePeriodStart) AS first_start, "
        "max(ChargePeriodEnd) AS last_end, max(BillingPeriodStart) AS last_period, count() AS n, "
        f"max(x_IngestedAt) AS ingested FROM {FOCUS_TABLE} WHERE {cond} GROUP BY a, d\n) ORDER BY a, d",
        sql.params, FOCUS_TABLE)


def freshness_ingestions(billing_account: list[str], limit: int) -> Query:
    """Per ingestion: rows present in FOCUS now, and what the ingestion log recorded (files, rows)."""
    sql = Sql(aggregated=False)
    cond = where(sql, Filters(billing_account=billing_account))
    join = "LEFT JOIN" if billing_account else "FULL OUTER JOIN"
    top = sql.bind("limit", limit, "UInt32")
    return Query(
        f"SELECT ingestion_id, {iso_time('greatest(p_at, l_started)')} AS ingested_at, datasets, "
        "rows_present, files, files_refused, rows_read, rows_loaded, rows_quarantined, rows_superseded FROM (\n"
        "SELECT x_IngestionId AS ingestion_id, count() AS rows_present, min(x_IngestedAt) AS p_at, "
        f"arraySort(groupUniqArray(x_SourceDataset)) AS datasets FROM {FOCUS_TABLE} WHERE {cond} "
        f"GROUP BY ingestion_id\n) AS p {join} (\n"
        "SELECT ingestion_id, countIf(status IN ('loaded', 'skipped', 'refused')) AS files, "
        "countIf(status = 'refused') AS files_refused, "
        "sum(rows_read) AS rows_read, sum(rows_loaded) AS rows_loaded, sum(rows_quarantined) AS rows_quarantined, "
        f"sum(rows_superseded) AS rows_superseded, min(started_at) AS l_started FROM {INGESTION_LOG_TABLE} "
        f"GROUP BY ingestion_id\n) AS l USING ingestion_id ORDER BY ingested_at DESC, ingestion_id LIMIT {top} "
        "SETTINGS join_use_nulls = 0",
        sql.params, FOCUS_TABLE)


def freshness_partitions() -> Query:
    """Rows per month partition in focus_cost and in the daily aggregate (equal when the aggregate is current)."""
    return Query(
        "SELECT partition, sum(f) AS focus_rows, sum(a) AS aggregated_rows, focus_rows = aggregated_rows AS in_sync "
        f"FROM (SELECT _partition_id AS partition, toInt64(count()) AS f, toInt64(0) AS a FROM {FOCUS_TABLE} "
        "GROUP BY partition UNION ALL SELECT _partition_id AS partition, toInt64(0) AS f, "
        f"toInt64(sum(RowCount)) AS a FROM {DAILY_COST_TABLE} GROUP BY partition) "
        "GROUP BY partition ORDER BY partition", {}, DAILY_COST_TABLE)
