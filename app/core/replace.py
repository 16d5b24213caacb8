"""Atomic, idempotent publication of staged FOCUS rows: replace each touched billing month's scopes.

A scope is (billing month, source dataset, billing account, sub account). Inside every month partition the
batch touches, the rows of the batch's scopes on the charge days it covers (from its first to its last day of each
scope) are replaced and every other row survives: a month-to-date export replaces the earlier run's days, a file
of one day or one week (Cost Details "small datasets", a daily export) replaces that day or week only, and a billing
period that does not start on a month's 1st (a pay-as-you-go subscription's, from its anniversary day) keeps its
other days. Each month is swapped in with ``REPLACE PARTITION`` (atomic per partition). Rows of a file the load
refused (``kept``: a damaged part of a split export loaded again) are never replaced: nothing of the load holds
them again. When actual and amortized Azure data of the same account and day are both present, actual rows other
than commitment purchases and refunds are superseded (Microsoft's rule): they are left out of the batch, never
deleted from it afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.core import journal, schema
from app.core.staging import STAGE_SETTINGS
from app.core.warehouse import Warehouse, quote
from app.models.names import FOCUS_TABLE
from app.views.refresh import refresh_aggregates

SCOPE = "(toYYYYMM(BillingPeriodStart), x_SourceDataset, BillingAccountId, ifNull(SubAccountId, ''))"
DAY = "toDate(ChargePeriodStart)"
ACCOUNT_SCOPE = "(toYYYYMM(BillingPeriodStart), BillingAccountId, ifNull(SubAccountId, ''))"
SUPERSEDED = (
    "x_SourceDataset = 'ActualCost' AND x_SourceFormat = 'azure-cost' "
    "AND NOT (ChargeCategory = 'Purchase' AND (CommitmentDiscountId IS NOT NULL OR PricingCategory = 'Committed' "
    "OR replaceAll(lower(ifNull(x_PricingModel, '')), ' ', '') IN ('reservation', 'savingsplan'))) "
    f"AND ({ACCOUNT_SCOPE}, {DAY}) IN (SELECT scope, day FROM {{amortized}})"
)
"""Actual rows amortized data replaces: of its accounts on the days it holds (an amortized file of one day
supersedes that day's actual usage only), but never a commitment purchase or refund (``Committed`` in rows loaded
before FOCUS 1.1's ``Standard`` for purchases; by its pricing model when the file names no commitment id)."""


@dataclass
class Published:
    """What a publication did: rows superseded per source file (staged or published earlier), and the rows of
    earlier loads it took out (``earlier``: ``{"path", "ingestion_id", "rows_replaced", "rows_superseded"}`` each)."""

    superseded: dict[str, int] = field(default_factory=dict)
    earlier: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Earlier files replaced in part (``partly_replaced``)."""


def publish(wh: Warehouse, batch: str, stages: list[str], kept: Sequence[str] = ()) -> Published:
    """Publish the staged FOCUS tables ``stages`` through the empty table ``batch``, keeping the rows of the files
    ``kept`` (paths the load refused). Superseded rows are never written: a stage without any is attached whole,
    one with some is copied without them (no mutation rewrites a month), and so are the surviving rows of the
    target."""
    if not stages:
        return Published()
    journal.recover(wh)  # a dead process's publication (one runs at a time), left by a path that opened the
    db = wh.database  # warehouse without drop_stale_stages (a connector sync): completed before this one reads
    target, full_batch = f"{db}.{FOCUS_TABLE}", f"{db}.{batch}"
    staged = " UNION ALL ".join(f"SELECT * FROM {db}.{t}" for t in stages)
    partitions = [r["p"] for r in wh.rows(  # partition ids: toYYYYMM(BillingPeriodStart) as text
        f"SELECT DISTINCT toString(toYYYYMM(BillingPeriodStart)) AS p FROM ({staged}) ORDER BY p")]
    if not partitions:
        return Published()
    keys, amortized, days = f"{full_batch}_keys", f"{full_batch}_amortized", f"{full_batch}_days"
    loading = {r["f"]: r["d"] for r in wh.rows(f"SELECT DISTINCT x_SourceFile AS f, x_SourceDataset AS d FROM "
                                               f"({staged})")}
    try:
        wh.command(f"CREATE TABLE {days} ENGINE = Memory AS SELECT DISTINCT {SCOPE} AS scope, {DAY} AS day "
                   f"FROM ({staged})")
        wh.command(f"CREATE TABLE {keys} ENGINE = Memory AS SELECT scope, min(day) AS first, max(day) AS last "
                   f"FROM {days} GROUP BY scope")
        replaced = _replaced(keys, kept, list(loading.items()))
        surviving = f"SELECT * FROM {target} WHERE _partition_id IN {_tuple(partitions)} AND NOT ({replaced})"
        wh.command(f"CREATE TABLE {amortized} ENGINE = Memory AS SELECT DISTINCT {ACCOUNT_SCOPE} AS scope, "
                   f"{DAY} AS day FROM ({staged} UNION ALL {surviving}) WHERE x_SourceDataset = 'AmortizedCost'")
        condition = SUPERSEDED.format(amortized=amortized)
        published = Published({r["file"]: int(r["n"]) for r in wh.rows(
            f"SELECT x_SourceFile AS file, count() AS n FROM ({staged} UNION ALL {surviving}) "
            f"WHERE {condition} GROUP BY file")}, _earlier_rows(wh, partitions, (replaced, days), condition))
        for stage in stages:
            _add_stage(wh, full_batch, f"{db}.{stage}", condition)
        wh.command(f"INSERT INTO {full_batch} {surviving} AND NOT ifNull({condition}, false)")
    finally:
        for table in (keys, amortized, days):
            wh.command(f"DROP TABLE IF EXISTS {table}")
    published.warnings = partly_replaced(published.earlier, list(loading))
    _swap(wh, target, full_batch, partitions)
    return published


def _swap(wh: Warehouse, target: str, batch: str, partitions: list[str]) -> None:
    """Each month of ``partitions`` of ``target`` set to the batch's rows, journaled (a process killed from here on
    is completed by the next one: ``journal``), then the aggregates rebuilt."""
    journal.begin(wh, batch, partitions)
    for partition in partitions:
        wh.command(f"ALTER TABLE {target} REPLACE PARTITION ID '{partition}' FROM {batch}")
    refresh_aggregates(wh, partitions)  # materialized views do not see partition replacements
    journal.end(wh)


def _earlier_rows(wh: Warehouse, partitions: list[str], replaced: tuple[str, str], condition: str) -> list[dict]:
    """Rows of earlier loads in ``partitions`` that the publication takes out, per file and ingestion: ``replaced``
    (``_replaced``, with the table of the days the load holds rows of) or superseded (actual rows of a scope now
    amortized); ``rows_kept``: the others; ``apart``: those replaced on days the load holds no row of."""
    replaced, days = replaced
    return [{"path": r["file"], "ingestion_id": r["ingestion"], "rows_replaced": int(r["replaced"]),
             "rows_superseded": int(r["superseded"]), "rows_kept": int(r["kept"]), "apart": int(r["apart"])}
            for r in wh.rows(
        f"SELECT x_SourceFile AS file, x_IngestionId AS ingestion, countIf({replaced}) AS replaced, "
        f"countIf(NOT ({replaced}) AND ifNull({condition}, false)) AS superseded, "
        f"count() - replaced - superseded AS kept, countIf({replaced} AND ({SCOPE}, {DAY}) NOT IN "
        f"(SELECT scope, day FROM {days})) AS apart FROM {wh.database}.{FOCUS_TABLE} "
        f"WHERE _partition_id IN {_tuple(partitions)} GROUP BY file, ingestion HAVING replaced + superseded > 0 "
        "ORDER BY file, ingestion")]


def partly_replaced(earlier: list[dict], loading: list[str]) -> list[str]:
    """Warnings for files loaded earlier (none of the ``loading`` files: those are replaced whole) whose rows this
    publication replaces in part, or on days between its first and last that it holds no row of: rather than an
    earlier run of the same report, they are likely increments of one delivery (OCI's cost reports, each with late
    rows of earlier days) or files of other days (a row dated apart, as a monthly credit dated the 1st, widens the
    days a file replaces); such files only add up when loaded together."""
    warnings = []
    for e in (e for e in earlier if e["rows_replaced"] and e["path"] not in loading):
        if e["rows_kept"]:
            warnings.append(f"{e['path']} (loaded earlier): {e['rows_replaced']} of its rows replaced by this load "
                            f"(the same dataset, accounts and charge days), {e['rows_kept']} kept")
        elif e["apart"]:
            warnings.append(f"{e['path']} (loaded earlier): {e['apart']} of its rows replaced on days this load "
                            f"holds no row of (between its first and last day of their accounts)")
        else:
            continue
        warnings[-1] += ("; if the files are increments of one delivery or files of other days rather than runs "
                         "of one report, load all of their month's files together")
    return warnings


def _replaced(keys: str, kept: Sequence[str], loading: Sequence[tuple[str, str]]) -> str:
    """Rows that a publication replaces: of the scopes in ``keys`` on the charge days from the batch's first to its
    last of each, and every row of the files ``loading`` (a file loaded again replaces what it brought before);
    never those of the files ``kept``."""
    days = "arrayJoin(arrayMap(i -> first + i, range(toUInt32(last - first) + 1)))"
    pairs = ", ".join(f"({quote(path)}, {quote(dataset)})" for path, dataset in loading)
    again = f" OR (x_SourceFile, x_SourceDataset) IN ({pairs})" if loading else ""
    files = f" AND x_SourceFile NOT IN ({', '.join(map(quote, kept))})" if kept else ""
    return f"((({SCOPE}, {DAY}) IN (SELECT scope, {days} FROM {keys}){again}){files})"


def _add_stage(wh: Warehouse, batch: str, stage: str, condition: str) -> None:
    """A stage's rows into the batch: its parts as they are, or copied without the superseded rows."""
    if wh.scalar(f"SELECT count() FROM {stage} WHERE {condition}"):
        wh.command(f"INSERT INTO {batch} SELECT * FROM {stage} WHERE NOT ifNull({condition}, false)")
        return
    for pid in [r["p"] for r in wh.rows(f"SELECT DISTINCT _partition_id AS p FROM {stage}")]:
        wh.command(f"ALTER TABLE {batch} ATTACH PARTITION ID '{pid}' FROM {stage}")


def _tuple(values: list[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def create_batch(wh: Warehouse, name: str) -> None:
    """The empty batch table, written like a stage (compact parts, never merged: ``STAGE_SETTINGS``)."""
    wh.command(schema.create_table_sql(FOCUS_TABLE, wh.database, name=name, settings=STAGE_SETTINGS))
